"""The test harness: run Apps in-process on a temporary state folder and a virtual clock.

    with stratus.testing.local(app) as env:
        orders.put({"id": "o1"})
        env.clock.advance(3600)      # an hour passes, instantly
        env.restart()                # as after kill -9: state is reopened from disk

Everything that waits reads ``env.clock``, so time-dependent behaviour is tested
without sleeping.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stratus.app import App
from stratus.clock import VirtualClock
from stratus.local.cloud import LocalCloud
from stratus.local.pumps import settle
from stratus.local.storage import Durability


class LocalEnv:
    """A running local cloud for tests: the clock, the state folder, and restart."""

    def __init__(
        self,
        apps: tuple[App, ...],
        state_dir: Path,
        clock: VirtualClock,
        durability: Durability,
        adapters: dict[str, str] | None,
    ) -> None:
        self.apps = apps
        self.state_dir = state_dir
        self.clock = clock
        self._durability: Durability = durability
        self._adapters = adapters
        self.cloud = self._start()

    def _start(self) -> LocalCloud:
        cloud = LocalCloud(self.state_dir, clock=self.clock, durability=self._durability, adapters=self._adapters)
        for app in self.apps:
            cloud.bind(app)
        return cloud

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass."""
        self.clock.advance(seconds)

    def settle(self, max_seconds: float = 86400.0) -> int:
        """Deliver everything that is due, skipping virtual time up to ``max_seconds`` ahead.

        Queue and stream deliveries, async invocations and retries, schedules and workflow
        waits all run inline, deterministically, until nothing more is due within the window.
        Returns how many rounds did work.
        """
        return settle(self.cloud.pumps, self.clock, max_seconds=max_seconds)

    def startup(self) -> None:
        """Run the apps' startup hooks (stand-in services...) without starting background pumps."""
        self.cloud.run_startup_hooks()

    def restart(self) -> None:
        """Close everything and reopen from the state folder, as a new process would."""
        self.cloud.close()
        self.cloud = self._start()

    def close(self) -> None:
        self.cloud.close()


@contextmanager
def local(
    *apps: App,
    state_dir: Path | str | None = None,
    clock: VirtualClock | None = None,
    durability: Durability = "process",
    adapters: dict[str, str] | None = None,
) -> Iterator[LocalEnv]:
    """Bind ``apps`` to the embedded adapters for the duration of the block.

    Without ``state_dir`` a temporary folder is used and removed afterwards.
    """
    temporary = state_dir is None
    folder = Path(tempfile.mkdtemp(prefix="stratus-test-")) if temporary else Path(str(state_dir))
    env = LocalEnv(apps, folder, clock or VirtualClock(), durability, adapters)
    try:
        yield env
    finally:
        env.close()
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
