"""FIFO queues: order per group, group blocking, deduplication window, sequence numbers."""

from __future__ import annotations

import hashlib

import pytest

from stratus.resources.queue import InvalidParameterValue, MissingParameter, Queue, SendEntry


def drain(q: Queue) -> list[str]:
    bodies = []
    while True:
        got = q.receive(10)
        if not got:
            return bodies
        for m in got:
            bodies.append(m.body)
            q.delete(m.receipt_handle)


def test_order_is_kept_per_group(fifo: Queue) -> None:
    for i in range(12):
        fifo.send(f"{'ab'[i % 2]}{i}", group_id="ab"[i % 2], deduplication_id=str(i))
    bodies = drain(fifo)
    assert [b for b in bodies if b[0] == "a"] == [f"a{i}" for i in range(0, 12, 2)]
    assert [b for b in bodies if b[0] == "b"] == [f"b{i}" for i in range(1, 12, 2)]


def test_a_group_is_blocked_while_one_of_its_messages_is_in_flight(harness) -> None:
    q = harness.queue("jobs.fifo", fifo=True, visibility_timeout=30)
    harness.start()
    q.send("a1", group_id="a", deduplication_id="1")
    q.send("a2", group_id="a", deduplication_id="2")
    q.send("b1", group_id="b", deduplication_id="3")
    [first] = q.receive()
    assert first.body == "a1"
    # a1 is in flight: a2 must wait; b1 is free.
    assert [m.body for m in q.receive(10)] == ["b1"]
    assert q.receive(10) == []
    harness.advance(30)
    # a1 was not deleted: it comes back first, before a2.
    assert [m.body for m in q.receive(1)] == ["a1"]
    # b1's timeout passed too; a2 still waits behind the in-flight a1.
    assert [m.body for m in q.receive(10)] == ["b1"]


def test_deleting_the_head_unblocks_the_group(fifo: Queue) -> None:
    fifo.send("a1", group_id="a", deduplication_id="1")
    fifo.send("a2", group_id="a", deduplication_id="2")
    [m] = fifo.receive()
    assert fifo.receive() == []
    fifo.delete(m.receipt_handle)
    assert [x.body for x in fifo.receive()] == ["a2"]


def test_one_receive_returns_several_messages_of_a_group_in_order(fifo: Queue) -> None:
    for i in range(5):
        fifo.send(f"a{i}", group_id="a", deduplication_id=str(i))
    assert [m.body for m in fifo.receive(10)] == [f"a{i}" for i in range(5)]


def test_duplicates_within_five_minutes_are_not_enqueued(harness) -> None:
    q = harness.queue("jobs.fifo", fifo=True)
    harness.start()
    first = q.send("pay", group_id="g", deduplication_id="order-1")
    harness.advance(299)
    again = q.send("pay (retry)", group_id="g", deduplication_id="order-1")
    assert again.message_id == first.message_id
    assert again.sequence_number == first.sequence_number
    assert [m.body for m in q.peek()] == ["pay"]
    # Deleting the original does not reopen the window.
    [m] = q.receive()
    q.delete(m.receipt_handle)
    assert q.send("pay", group_id="g", deduplication_id="order-1").message_id == first.message_id
    assert q.peek() == []
    harness.advance(1)  # the window is measured from the first send
    later = q.send("pay", group_id="g", deduplication_id="order-1")
    assert later.message_id != first.message_id
    assert [m.body for m in q.peek()] == ["pay"]


def test_content_based_deduplication_uses_the_body_hash(harness) -> None:
    q = harness.queue("jobs.fifo", fifo=True, content_based_deduplication=True)
    harness.start()
    a = q.send("same", group_id="g")
    b = q.send("same", group_id="other-group")
    c = q.send("different", group_id="g")
    assert a.message_id == b.message_id != c.message_id
    [m] = q.receive(attribute_names=["MessageDeduplicationId"])
    assert m.attributes["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    # An explicit id wins over the content hash.
    assert q.send("same", group_id="g", deduplication_id="explicit").message_id != a.message_id


def test_fifo_requires_a_group_id_and_a_deduplication_id(fifo: Queue) -> None:
    with pytest.raises(MissingParameter, match="MessageGroupId"):
        fifo.send("x", deduplication_id="d")
    with pytest.raises(InvalidParameterValue, match="ContentBasedDeduplication"):
        fifo.send("x", group_id="g")
    with pytest.raises(InvalidParameterValue, match="MessageGroupId"):
        fifo.send("x", group_id="", deduplication_id="d")
    with pytest.raises(InvalidParameterValue, match="MessageGroupId"):
        fifo.send("x", group_id="g" * 129, deduplication_id="d")
    with pytest.raises(InvalidParameterValue, match="MessageDeduplicationId"):
        fifo.send("x", group_id="g", deduplication_id="with space")
    assert fifo.peek() == []


def test_fifo_rejects_a_per_message_delay(fifo: Queue) -> None:
    with pytest.raises(InvalidParameterValue, match="DelaySeconds"):
        fifo.send("x", group_id="g", deduplication_id="d", delay=5)
    assert fifo.peek() == []


def test_fifo_queue_delay_applies_and_keeps_order(harness) -> None:
    q = harness.queue("slow.fifo", fifo=True, delay=10)
    harness.start()
    q.send("a1", group_id="a", deduplication_id="1")
    harness.advance(5)
    q.send("a2", group_id="a", deduplication_id="2")
    assert q.receive() == []
    harness.advance(5)
    assert [m.body for m in q.receive(10)] == ["a1"]


def test_sequence_numbers_increase_and_attributes_are_reported(fifo: Queue) -> None:
    results = [fifo.send(f"m{i}", group_id=f"g{i % 3}", deduplication_id=str(i)) for i in range(6)]
    numbers = [int(r.sequence_number or "0") for r in results]
    assert numbers == sorted(numbers) and len(set(numbers)) == 6
    m = fifo.receive()[0]
    assert m.attributes["MessageGroupId"] == "g0"
    assert m.attributes["MessageDeduplicationId"] == "0"
    assert m.attributes["SequenceNumber"] == results[0].sequence_number


def test_fifo_delete_with_an_expired_handle_fails(harness) -> None:
    q = harness.queue("jobs.fifo", fifo=True, visibility_timeout=10)
    harness.start()
    q.send("x", group_id="g", deduplication_id="1")
    [m] = q.receive()
    harness.advance(10)
    with pytest.raises(InvalidParameterValue, match="receipt handle has expired"):
        q.delete(m.receipt_handle)
    [again] = q.receive()
    q.delete(again.receipt_handle)
    assert q.peek() == []


def test_fifo_batch_keeps_order_and_dedupes(fifo: Queue) -> None:
    result = fifo.send_batch(
        [
            SendEntry("1", "a", group_id="g", deduplication_id="1"),
            SendEntry("2", "b", group_id="g", deduplication_id="2"),
            SendEntry("3", "a-dup", group_id="g", deduplication_id="1"),
            SendEntry("4", "no-group", deduplication_id="4"),
        ]
    )
    assert [s.id for s in result.successful] == ["1", "2", "3"]
    assert [(f.id, f.code) for f in result.failed] == [("4", "MissingParameter")]
    assert result.successful[2].result and result.successful[0].result
    assert result.successful[2].result.message_id == result.successful[0].result.message_id
    assert drain(fifo) == ["a", "b"]


def test_a_group_stays_blocked_while_a_later_message_of_it_is_in_flight(fifo: Queue) -> None:
    fifo.send("a1", group_id="a", deduplication_id="1")
    fifo.send("a2", group_id="a", deduplication_id="2")
    first, second = fifo.receive(10)
    fifo.change_visibility(first.receipt_handle, 0)
    assert fifo.receive(10) == []  # a2 is still in flight
    fifo.delete(second.receipt_handle)
    assert [m.body for m in fifo.receive(10)] == ["a1"]
