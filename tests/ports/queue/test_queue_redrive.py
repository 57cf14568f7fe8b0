"""Dead-letter queues: moving after max_receive_count receives, and redrive back (StartMessageMoveTask)."""

from __future__ import annotations

import pytest

from stratus import ResourceNotFound
from stratus.resources.queue import DeadLetter, InvalidParameterValue, Queue, UnsupportedOperation


def fail_once(harness, q: Queue, timeout: int = 30) -> None:
    assert len(q.receive()) == 1
    harness.advance(timeout)


def test_message_moves_to_the_dead_letter_queue_after_max_receives(harness) -> None:
    dlq = harness.queue("dead")
    q = harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=3))
    harness.start()
    sent = q.send("poison", attributes={"kind": "order"})
    harness.advance(5)
    for _ in range(3):
        fail_once(harness, q)
    assert q.receive() == []  # the fourth receive moves it instead of delivering it
    assert q.attributes()["ApproximateNumberOfMessages"] == 0
    [m] = dlq.receive()
    assert (m.message_id, m.body, m.md5_of_body) == (sent.message_id, "poison", sent.md5_of_body)
    assert m.message_attributes["kind"].value == "order"
    assert m.md5_of_message_attributes == sent.md5_of_attributes
    assert m.attributes["SentTimestamp"] == str(int((harness.env.clock.now() - 95) * 1000))
    assert m.attributes["DeadLetterQueueSourceArn"].endswith(":qtest-work")


def test_a_receive_skips_moved_messages_and_fills_up_with_good_ones(harness) -> None:
    dlq = harness.queue("dead")
    q = harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    q.send("bad")
    fail_once(harness, q)
    q.send("good")
    assert [m.body for m in q.receive(10)] == ["good"]
    assert [m.body for m in dlq.peek()] == ["bad"]


def test_standard_dead_letter_retention_counts_from_the_original_enqueue(harness) -> None:
    dlq = harness.queue("dead", retention=100)
    q = harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    q.send("x")
    fail_once(harness, q, 60)
    q.receive()  # moves it, 60 s after it was first sent
    assert dlq.attributes()["ApproximateAgeOfOldestMessage"] == 0
    harness.advance(39)
    assert len(dlq.peek()) == 1
    harness.advance(1)
    assert dlq.peek() == []


def test_fifo_dead_letter_retention_restarts_on_move(harness) -> None:
    dlq = harness.queue("dead.fifo", fifo=True, retention=100)
    q = harness.queue("work.fifo", fifo=True, dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    q.send("x", group_id="g", deduplication_id="1")
    fail_once(harness, q, 60)
    q.receive()
    harness.advance(99)
    [m] = dlq.peek()
    assert m.attributes["MessageGroupId"] == "g"
    harness.advance(1)
    assert dlq.peek() == []


def test_fifo_group_continues_after_its_head_is_dead_lettered(harness) -> None:
    dlq = harness.queue("dead.fifo", fifo=True)
    q = harness.queue("work.fifo", fifo=True, dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    q.send("a1", group_id="a", deduplication_id="1")
    q.send("a2", group_id="a", deduplication_id="2")
    fail_once(harness, q)
    assert [m.body for m in q.receive(10)] == ["a2"]
    assert [m.body for m in dlq.peek()] == ["a1"]


def test_redrive_moves_messages_back_to_their_source(harness) -> None:
    dlq = harness.queue("dead")
    q1 = harness.queue("one", dead_letter=DeadLetter(dlq, max_receive_count=1))
    q2 = harness.queue("two", dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    q1.send("from-one")
    q2.send("from-two")
    fail_once(harness, q1)
    fail_once(harness, q2)
    q1.receive()
    q2.receive()
    assert len(dlq.peek()) == 2
    task = dlq.redrive()
    assert task.wait(5) and task.status == "COMPLETED"
    assert (task.moved, task.to_move) == (2, 2)
    assert dlq.peek() == []
    [m1] = q1.receive()
    [m2] = q2.receive()
    assert (m1.body, m2.body) == ("from-one", "from-two")
    assert m1.attributes["ApproximateReceiveCount"] == "1"  # a fresh start after redrive


def test_redrive_to_another_queue(harness) -> None:
    dlq = harness.queue("dead")
    harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=1))
    other = harness.queue("other")
    harness.start()
    dlq.send("parked")
    task = dlq.redrive(to=other)
    assert task.status == "COMPLETED" and task.destination == other.qualified_name
    assert [m.body for m in other.receive()] == ["parked"]


def test_redrive_with_a_rate_moves_that_many_per_clock_second(harness) -> None:
    dlq = harness.queue("dead")
    q = harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    for i in range(5):
        dlq.send(f"m{i}")
    task = dlq.redrive(to=q, max_per_second=2)
    assert task.moved == 2 and task.status == "RUNNING"
    with pytest.raises(UnsupportedOperation, match="already a message movement task"):
        dlq.redrive()
    harness.advance(3)
    assert task.wait(10)
    assert (task.status, task.moved) == ("COMPLETED", 5)
    assert len(q.receive(10)) == 5


def test_redrive_needs_a_dead_letter_queue_and_valid_parameters(harness) -> None:
    plain = harness.queue("plain")
    dlq = harness.queue("dead")
    harness.queue("work", dead_letter=DeadLetter(dlq))
    fifo = harness.queue("f.fifo", fifo=True)
    harness.start()
    with pytest.raises(UnsupportedOperation, match="dead-letter queue"):
        plain.redrive()
    with pytest.raises(InvalidParameterValue, match="MaxNumberOfMessagesPerSecond"):
        dlq.redrive(max_per_second=501)
    with pytest.raises(InvalidParameterValue, match="same queue type"):
        dlq.redrive(to=fifo)
    with pytest.raises(InvalidParameterValue, match="differ"):
        dlq.redrive(to=dlq)


def test_a_running_redrive_can_be_cancelled(harness) -> None:
    dlq = harness.queue("dead")
    q = harness.queue("work", dead_letter=DeadLetter(dlq, max_receive_count=1))
    harness.start()
    for i in range(6):
        dlq.send(f"m{i}")
    task = dlq.redrive(to=q, max_per_second=2)
    task.cancel()
    assert task.wait(10)
    assert (task.status, task.moved) == ("CANCELLED", 2)
    harness.advance(5)
    assert len(dlq.peek()) == 4 and len(q.peek()) == 2
    with pytest.raises(ResourceNotFound, match="not running"):
        task.cancel()
    assert dlq.redrive().status == "COMPLETED"  # a new task may start once the old one stopped
