"""What the port suites' harnesses share: bind a test's app to the adapter under test.

``local`` is the embedded runtime (``stratus.testing.local``). ``aws`` binds the app's resources to the
boto3 adapters on moto; each suite says how in ``_aws``. On ``aws`` anything that needs the local
runtime (moving virtual time, restarting, reading its state folder) skips with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

import pytest

import stratus.testing
from stratus import App

MOVES_TIME = "moves time: needs the local adapter's virtual clock"


class AwsEnv:
    """The slice of ``LocalEnv`` the suites use, on moto."""

    #: Why ``settle`` cannot run on moto; None when moto delivers within the call itself.
    settle_skip: ClassVar[str | None] = None

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def settle(self, **kwargs: Any) -> None:
        if self.settle_skip is not None:
            pytest.skip(self.settle_skip)

    def restart(self) -> None:
        pytest.skip("restarts the process state: local adapter only")

    def advance(self, seconds: float) -> None:
        pytest.skip(MOVES_TIME)

    @property
    def clock(self) -> Any:
        pytest.skip(MOVES_TIME)

    @property
    def state_dir(self) -> Any:
        pytest.skip("local-only inspection: reads the local runtime's state directory")


class PortHarness:
    #: Settings of ``stratus.testing.local`` that an ``aws`` run may ignore (others skip the test).
    aws_ignores: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, adapter: str) -> None:
        self.adapter = adapter

    @contextmanager
    def bind(self, app: App, **settings: Any) -> Iterator[Any]:
        """Bind the app's resources to the adapter under test (settings go to ``stratus.testing.local``)."""
        if self.adapter == "local":
            with stratus.testing.local(app, **settings) as env:
                yield env
            return
        unknown = set(settings) - self.aws_ignores
        if unknown:
            pytest.skip(f"local runtime settings {sorted(unknown)}: local adapter only")
        with self._aws(app) as env:
            yield env

    def _aws(self, app: App) -> AbstractContextManager[Any]:
        raise NotImplementedError
