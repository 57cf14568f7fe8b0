"""PumpRunner: a wake-up reaches the pump it names, and only that one; a bare wake reaches all."""

from __future__ import annotations

import threading
import time

from stratus.clock import SystemClock
from stratus.local.pumps import IDLE, PumpResult, PumpRunner


class CountingPump:
    """Counts its rounds; idle (sleeps until woken or the runner's longest sleep)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rounds = 0
        self.round_done = threading.Event()

    def pump(self) -> PumpResult:
        self.rounds += 1
        self.round_done.set()
        return IDLE


def _started(*pumps: CountingPump) -> PumpRunner:
    runner = PumpRunner(SystemClock())
    runner.MAX_IDLE_SLEEP = 30.0  # no round by timeout during the test: only wake-ups
    runner.start(list(pumps))
    for pump in pumps:
        assert pump.round_done.wait(5), f"{pump.name} never ran its first round"
    return runner


def _wait_for(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_a_wake_for_one_pump_runs_that_pump_only() -> None:
    queue, stream = CountingPump("queue"), CountingPump("stream")
    runner = _started(queue, stream)
    try:
        before_queue, before_stream = queue.rounds, stream.rounds
        for _ in range(5):
            queue.round_done.clear()
            runner.wake(queue)
            assert queue.round_done.wait(5)
        assert _wait_for(lambda: queue.rounds >= before_queue + 5)
        time.sleep(0.05)  # give a wrongly woken thread time to show itself
        assert stream.rounds == before_stream
    finally:
        runner.stop()


def test_a_bare_wake_runs_every_pump() -> None:
    queue, stream = CountingPump("queue"), CountingPump("stream")
    runner = _started(queue, stream)
    try:
        before = (queue.rounds, stream.rounds)
        runner.wake()
        assert _wait_for(lambda: queue.rounds > before[0] and stream.rounds > before[1])
    finally:
        runner.stop()


def test_waking_a_pump_the_runner_does_not_run_is_harmless() -> None:
    runner = _started(queue := CountingPump("queue"))
    try:
        runner.wake(CountingPump("elsewhere"))
        time.sleep(0.05)
        assert queue.rounds == 1
    finally:
        runner.stop()


def test_stop_ends_every_thread_even_while_they_sleep() -> None:
    pumps = [CountingPump(f"p{i}") for i in range(3)]
    runner = _started(*pumps)
    started = time.monotonic()
    runner.stop(timeout=5)
    assert time.monotonic() - started < 5
    assert not [t for t in threading.enumerate() if t.name.startswith("pump-p")]
