"""The one clock everything that waits reads.

Visibility timeouts, delays, TTLs, Wait states, retries and schedules all ask a
:class:`Clock` for the time and for their sleeps. The runtime uses :class:`SystemClock`;
the test harness uses :class:`VirtualClock`, whose time moves only when a test (or the
harness, when everything is idle) advances it, so an hour-long workflow runs in
milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What every waiting component needs from time."""

    def now(self) -> float:
        """Seconds since the Unix epoch (UTC), as ``time.time()``."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block until ``seconds`` of this clock's time have passed."""
        ...

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        """Wait on ``condition`` (held by the caller) for at most ``seconds`` of clock time."""
        ...

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever this clock jumps (virtual clocks only; no-op otherwise)."""
        ...


def utc_datetime(clock: Clock) -> datetime:
    """The clock's current time as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.now(), tz=UTC)


def iso8601(epoch: float) -> str:
    """AWS's timestamp text: ``2024-01-02T03:04:05Z`` (second precision, as EventBridge writes it)."""
    return _iso_second(int(epoch // 1))


@lru_cache(maxsize=4096)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        condition.wait(max(0.0, seconds))

    def subscribe(self, listener: Callable[[], None]) -> None:
        return None


class VirtualClock:
    """Time that moves only when told to.

    ``sleep`` blocks the calling thread until another thread advances the clock past
    the wake-up time, so background workers (the dispatcher, the workflow engine) can
    sleep on it while the test thread skips time with :meth:`advance`.
    """

    def __init__(self, start: float | datetime = 1_700_000_000.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._changed = threading.Condition()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake everything waiting on this clock."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        self.set(self._now + seconds)

    def set(self, epoch: float | datetime) -> None:
        """Jump to an absolute time (never backwards)."""
        target = epoch.timestamp() if isinstance(epoch, datetime) else float(epoch)
        if target < self._now:
            raise ValueError("a clock cannot go backwards")
        with self._changed:
            self._now = target
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener()

    def sleep(self, seconds: float) -> None:
        deadline = self._now + seconds
        with self._changed:
            while self._now < deadline:
                self._changed.wait(0.05)

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        # Virtual time does not pass while waiting; a real short wait lets other threads
        # notify ``condition`` or advance the clock.
        condition.wait(min(max(0.0, seconds), 0.01))

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
