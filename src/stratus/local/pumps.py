"""Background work as pumps: components that do what is due now and say when more will be due.

Why: the dispatcher (queue polling, stream shards, topic fan-out, async invocations,
schedules) must run in background threads under ``stratus up`` but deterministically
under test. Each component is a :class:`Pump`; ``stratus up`` runs every pump on its own
thread, sleeping until its next due time or a wake-up, and the test harness runs them all
inline with :func:`settle`, skipping virtual time to the next due moment (the way
Temporal's test environment skips time while a workflow waits).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from stratus.clock import Clock, VirtualClock

log = logging.getLogger("stratus.pumps")


@dataclass(frozen=True)
class PumpResult:
    """What one call of :meth:`Pump.pump` did: whether it worked, and when it next has work."""

    worked: bool
    next_due: float | None = None


IDLE = PumpResult(False, None)


class Pump(Protocol):
    """A unit of background work."""

    name: str

    def pump(self) -> PumpResult:
        """Do everything due at the clock's current time; never block waiting for more."""
        ...


class PumpRunner:
    """Runs each registered pump on its own daemon thread until stopped."""

    #: Longest real sleep between checks, so missed wake-ups cost at most this much latency.
    MAX_IDLE_SLEEP = 0.5

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._generation = 0

    def wake(self) -> None:
        """Tell every pump thread that new work may have arrived."""
        with self._wake:
            self._generation += 1
            self._wake.notify_all()

    def start(self, pumps: list[Pump]) -> None:
        for pump in pumps:
            thread = threading.Thread(target=self._loop, args=(pump,), name=f"pump-{pump.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, pump: Pump) -> None:
        while not self._stopping.is_set():
            with self._wake:
                seen = self._generation
            try:
                result = pump.pump()
            except Exception:  # a pump must never die: log and retry after a pause
                log.exception("pump %s failed", pump.name)
                result = PumpResult(False, self.clock.now() + 1.0)
            if result.worked:
                continue
            delay = self.MAX_IDLE_SLEEP
            if result.next_due is not None:
                delay = max(0.0, min(delay, result.next_due - self.clock.now()))
            with self._wake:
                if self._generation == seen and not self._stopping.is_set():
                    self._wake.wait(delay if not isinstance(self.clock, VirtualClock) else min(delay, 0.01))

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()


def settle(pumps: list[Pump], clock: VirtualClock, *, max_seconds: float = 86400.0, max_rounds: int = 100_000) -> int:
    """Run ``pumps`` inline until nothing is due within ``max_seconds`` of virtual time.

    Returns the number of rounds in which some pump worked. Time only moves forward, to
    the earliest next-due moment, when a whole round did no work.
    """
    limit = clock.now() + max_seconds
    rounds = 0
    for _ in range(max_rounds):
        results = [p.pump() for p in pumps]
        if any(r.worked for r in results):
            rounds += 1
            continue
        due = [r.next_due for r in results if r.next_due is not None]
        if not due:
            return rounds
        target = min(due)
        if target > limit:
            return rounds
        # Something due "now" that did no work (e.g. a lease expiring this instant): nudge time forward.
        clock.set(max(target, clock.now() + 0.001))
    raise RuntimeError(f"settle: still busy after {max_rounds} rounds (a pump that always has work?)")
