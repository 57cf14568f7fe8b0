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
    """A unit of background work.

    A pump may also have an ``idle_sleep`` (seconds of real time): how long its thread sleeps when it
    has nothing due, instead of :attr:`PumpRunner.MAX_IDLE_SLEEP`. Buffers flushed in the background
    use it to flush little and often, so no flush holds the GIL long enough to stall serving.
    """

    name: str

    def pump(self) -> PumpResult:
        """Do everything due at the clock's current time; never block waiting for more."""
        ...


class _Signal:
    """One pump thread's wake-up: a generation counter under a condition of its own."""

    __slots__ = ("condition", "generation")

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.generation = 0

    def set(self) -> None:
        with self.condition:
            self.generation += 1
            self.condition.notify()


class PumpRunner:
    """Runs each registered pump on its own daemon thread until stopped.

    Each thread sleeps on a signal of its own, so work for one pump (a message on its queue,
    a record on its stream) wakes that pump's thread only: waking every thread on every write
    made each one run a round for nothing, which cost more than the work itself.
    """

    #: Longest real sleep between checks, so missed wake-ups cost at most this much latency.
    MAX_IDLE_SLEEP = 0.5

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._signals: dict[int, _Signal] = {}

    def wake(self, pump: Pump | None = None) -> None:
        """Tell ``pump``'s thread (every pump thread, if None) that new work may have arrived."""
        if pump is not None:
            signal = self._signals.get(id(pump))
            if signal is not None:
                signal.set()
            return
        for signal in list(self._signals.values()):
            signal.set()

    def start(self, pumps: list[Pump]) -> None:
        for pump in pumps:
            signal = self._signals.setdefault(id(pump), _Signal())
            thread = threading.Thread(target=self._loop, args=(pump, signal), name=f"pump-{pump.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, pump: Pump, signal: _Signal) -> None:
        condition = signal.condition
        while not self._stopping.is_set():
            with condition:
                seen = signal.generation
            try:
                result = pump.pump()
            except Exception:  # a pump must never die: log and retry after a pause
                log.exception("pump %s failed", pump.name)
                result = PumpResult(False, self.clock.now() + 1.0)
            if result.worked:
                continue
            delay = getattr(pump, "idle_sleep", self.MAX_IDLE_SLEEP)
            if result.next_due is not None:
                delay = max(0.0, min(delay, result.next_due - self.clock.now()))
            with condition:
                if signal.generation == seen and not self._stopping.is_set():
                    condition.wait(delay if not isinstance(self.clock, VirtualClock) else min(delay, 0.01))

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
