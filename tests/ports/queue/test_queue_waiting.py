"""Long polling, wake-ups for the dispatcher, restart and kill -9 durability."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import stratus.testing
from stratus import App, VirtualClock
from stratus.resources.queue import Message, Queue


def poll_in_thread(q: Queue, **kwargs) -> tuple[threading.Thread, list[list[Message]]]:
    out: list[list[Message]] = []
    thread = threading.Thread(target=lambda: out.append(q.receive(**kwargs)), daemon=True)
    thread.start()
    return thread, out


def test_long_poll_returns_as_soon_as_a_message_is_sent(queue: Queue) -> None:
    thread, out = poll_in_thread(queue, wait_seconds=20)
    thread.join(0.2)
    assert thread.is_alive()  # nothing yet, and virtual time has not passed
    queue.send("wake up")
    thread.join(10)
    assert not thread.is_alive()
    assert [m.body for m in out[0]] == ["wake up"]


def test_long_poll_returns_empty_when_the_clock_passes_the_wait(harness) -> None:
    q = harness.queue("work")
    harness.start()
    thread, out = poll_in_thread(q, wait_seconds=20)
    harness.advance(10)
    thread.join(0.2)
    assert thread.is_alive()
    harness.advance(10)
    thread.join(10)
    assert out == [[]]


def test_long_poll_wakes_when_a_delayed_message_becomes_visible(harness) -> None:
    q = harness.queue("work")
    harness.start()
    q.send("later", delay=5)
    thread, out = poll_in_thread(q, wait_seconds=20)
    harness.advance(5)
    thread.join(10)
    assert [m.body for m in out[0]] == ["later"]


def test_queue_receive_wait_setting_is_the_default_wait(harness) -> None:
    q = harness.queue("work", receive_wait=20)
    harness.start()
    thread, out = poll_in_thread(q)
    thread.join(0.2)
    assert thread.is_alive()
    q.send("x")
    thread.join(10)
    assert [m.body for m in out[0]] == ["x"]
    assert q.receive(wait_seconds=0) == []


def test_listeners_are_told_when_messages_may_be_receivable(harness) -> None:
    q = harness.queue("work")
    harness.start()
    calls: list[int] = []
    unsubscribe = q.subscribe(lambda: calls.append(1))
    q.send("x")
    assert calls
    [m] = q.receive()
    assert q.next_visible_at() == harness.env.clock.now() + 30
    before = len(calls)
    q.change_visibility(m.receipt_handle, 0)
    assert len(calls) > before
    unsubscribe()
    before = len(calls)
    q.send("y")
    assert len(calls) == before


def test_messages_and_in_flight_state_survive_a_restart(harness) -> None:
    q = harness.queue("work", visibility_timeout=60)
    f = harness.queue("work.fifo", fifo=True)
    harness.start()
    q.send("a")
    q.send("b")
    [inflight] = q.receive()
    f.send("f1", group_id="g", deduplication_id="1")
    harness.restart()
    assert [m.body for m in q.receive(10)] == ["b"]
    harness.advance(60)
    [again] = q.receive()
    assert again.message_id == inflight.message_id
    assert again.attributes["ApproximateReceiveCount"] == "2"
    # The deduplication window survives too.
    assert f.send("f1", group_id="g", deduplication_id="1").message_id == f.peek()[0].message_id
    assert len(f.peek()) == 1


_KILLED_SENDER = """
import os, signal, sys
from stratus import App
from stratus.local.cloud import LocalCloud
from stratus.resources.queue import SendEntry

app = App("qtest")
q = app.queue("work")
cloud = LocalCloud(sys.argv[1])
cloud.bind(app)
for i in range(200):
    q.send(f"m{i}")
q.send_batch([SendEntry(f"e{i}", f"b{i}") for i in range(10)])
m = q.receive(visibility_timeout=30)[0]
print(m.body, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_nothing_acknowledged_is_lost_when_the_process_is_killed(harness, tmp_path: Path) -> None:
    if harness.adapter != "local":
        pytest.skip("kill -9 durability is a property of the embedded adapter")
    script = tmp_path / "sender.py"
    script.write_text(textwrap.dedent(_KILLED_SENDER))
    state = tmp_path / "state"
    proc = subprocess.run([sys.executable, str(script), str(state)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    in_flight_body = proc.stdout.strip()
    app = App("qtest")
    q = app.queue("work")
    clock = VirtualClock(start=time.time() + 1)  # just after the killed process's wall-clock sends
    with stratus.testing.local(app, state_dir=state, clock=clock) as env:
        a = q.attributes()
        assert a["ApproximateNumberOfMessages"] + a["ApproximateNumberOfMessagesNotVisible"] == 210
        env.advance(30)  # the message in flight when the process died becomes visible again
        bodies = [m.body for m in q.peek(1000)]
        assert bodies[:200] == [f"m{i}" for i in range(200)]
        assert bodies[200:] == [f"b{i}" for i in range(10)]
        assert in_flight_body in bodies
        assert q.attributes()["ApproximateNumberOfMessages"] == 210


def test_a_failing_listener_does_not_fail_the_committed_send(queue: Queue) -> None:
    def broken() -> None:
        raise RuntimeError("dispatcher bug")

    queue.subscribe(broken)
    sent = queue.send("still sent")
    assert [m.message_id for m in queue.peek()] == [sent.message_id]


def test_concurrent_senders_and_receivers_see_every_message_once(queue: Queue) -> None:
    senders, per_sender = 4, 50
    received: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def send(n: int) -> None:
        for i in range(per_sender):
            queue.send(f"{n}-{i}")

    def receive() -> None:
        for _ in range(10_000):  # a bound, not a timing: stops as soon as everything has arrived
            if done.is_set():
                return
            for m in queue.receive(10):
                queue.delete(m.receipt_handle)
                with lock:
                    received.append(m.body)
                    if len(received) == senders * per_sender:
                        done.set()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    threads += [threading.Thread(target=receive) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(received) == sorted(f"{n}-{i}" for n in range(senders) for i in range(per_sender))
    assert queue.attributes()["ApproximateNumberOfMessages"] == 0
