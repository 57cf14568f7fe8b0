"""Visibility timeouts, receipt handles, deletes, counts, purge, retention and peek."""

from __future__ import annotations

import pytest

from stratus.resources.queue import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidParameterValue,
    MessageNotInflight,
    PurgeQueueInProgress,
    Queue,
    ReceiptHandleIsInvalid,
)


def test_unacknowledged_message_is_delivered_again_after_the_timeout(harness) -> None:
    q = harness.queue("work", visibility_timeout=30)
    harness.start()
    q.send("job")
    [first] = q.receive()
    harness.advance(29.9)
    assert q.receive() == []
    harness.advance(0.1)
    [second] = q.receive()
    assert second.message_id == first.message_id
    assert second.receipt_handle != first.receipt_handle
    assert second.attributes["ApproximateReceiveCount"] == "2"
    assert second.attributes["ApproximateFirstReceiveTimestamp"] == first.attributes["ApproximateFirstReceiveTimestamp"]


def test_receive_can_override_the_visibility_timeout(queue: Queue) -> None:
    queue.send("job")
    queue.receive(visibility_timeout=0)
    [again] = queue.receive(visibility_timeout=100)
    assert again.attributes["ApproximateReceiveCount"] == "2"
    assert queue.receive() == []


def test_only_the_latest_receipt_handle_deletes_on_a_standard_queue(harness) -> None:
    q = harness.queue("work", visibility_timeout=10)
    harness.start()
    q.send("job")
    [old] = q.receive()
    harness.advance(10)
    [new] = q.receive()
    q.delete(old.receipt_handle)  # succeeds, as SQS documents, but deletes nothing
    assert q.attributes()["ApproximateNumberOfMessagesNotVisible"] == 1
    q.delete(new.receipt_handle)
    assert q.attributes()["ApproximateNumberOfMessagesNotVisible"] == 0
    q.delete(new.receipt_handle)  # deleting again succeeds


def test_delete_after_the_timeout_still_deletes_when_nobody_received_it_since(harness) -> None:
    q = harness.queue("work", visibility_timeout=10)
    harness.start()
    q.send("job")
    [m] = q.receive()
    harness.advance(20)
    q.delete(m.receipt_handle)
    assert q.receive() == []


@pytest.mark.parametrize("handle", ["garbage", "", "Zm9vCjEKMg==", "!!!"])
def test_garbage_receipt_handles_are_invalid(queue: Queue, handle: str) -> None:
    queue.send("job")
    with pytest.raises(ReceiptHandleIsInvalid, match="not a valid receipt handle"):
        queue.delete(handle)
    with pytest.raises(ReceiptHandleIsInvalid):
        queue.change_visibility(handle, 10)
    assert len(queue.peek()) == 1


def test_a_handle_of_another_queue_is_invalid(harness) -> None:
    a, b = harness.queue("a"), harness.queue("b")
    harness.start()
    a.send("x")
    b.send("y")
    [m] = a.receive()
    with pytest.raises(ReceiptHandleIsInvalid):
        b.delete(m.receipt_handle)
    assert a.attributes()["ApproximateNumberOfMessagesNotVisible"] == 1


def test_change_visibility_to_zero_makes_the_message_visible_now(queue: Queue) -> None:
    queue.send("job")
    [m] = queue.receive()
    queue.change_visibility(m.receipt_handle, 0)
    [again] = queue.receive()
    assert again.message_id == m.message_id


def test_change_visibility_extends_from_now(harness) -> None:
    q = harness.queue("work", visibility_timeout=30)
    harness.start()
    q.send("job")
    [m] = q.receive()
    harness.advance(20)
    q.change_visibility(m.receipt_handle, 60)
    harness.advance(59)
    assert q.receive() == []
    harness.advance(1)
    assert len(q.receive()) == 1


def test_visibility_cannot_exceed_twelve_hours_from_the_receive(harness) -> None:
    q = harness.queue("work", visibility_timeout=43_200)
    harness.start()
    q.send("job")
    [m] = q.receive()
    q.change_visibility(m.receipt_handle, 43_200)
    harness.advance(100)
    with pytest.raises(InvalidParameterValue, match=r"beyond the limit \[43200 seconds\]"):
        q.change_visibility(m.receipt_handle, 43_200)
    q.change_visibility(m.receipt_handle, 43_100)
    with pytest.raises(InvalidParameterValue, match="VisibilityTimeout"):
        q.change_visibility(m.receipt_handle, 43_201)
    with pytest.raises(InvalidParameterValue, match="VisibilityTimeout"):
        q.change_visibility(m.receipt_handle, -1)


def test_change_visibility_of_a_visible_message_is_not_in_flight(harness) -> None:
    q = harness.queue("work", visibility_timeout=10)
    harness.start()
    q.send("job")
    [m] = q.receive()
    harness.advance(10)
    with pytest.raises(MessageNotInflight):
        q.change_visibility(m.receipt_handle, 30)


def test_change_visibility_with_a_stale_handle_is_rejected(harness) -> None:
    q = harness.queue("work", visibility_timeout=10)
    harness.start()
    q.send("job")
    [old] = q.receive()
    harness.advance(10)
    [new] = q.receive()
    with pytest.raises(InvalidParameterValue, match="receipt handle has expired"):
        q.change_visibility(old.receipt_handle, 0)
    q.delete(new.receipt_handle)
    with pytest.raises(InvalidParameterValue, match="receipt handle has expired"):
        q.change_visibility(new.receipt_handle, 0)


def test_delete_batch_reports_each_entry(queue: Queue) -> None:
    for i in range(3):
        queue.send(f"m{i}")
    got = queue.receive(3)
    result = queue.delete_batch([("a", got[0].receipt_handle), ("b", "garbage"), ("c", got[2].receipt_handle)])
    assert [s.id for s in result.successful] == ["a", "c"]
    assert [(f.id, f.code) for f in result.failed] == [("b", "ReceiptHandleIsInvalid")]
    assert [m.body for m in queue.peek()] == [got[1].body]
    with pytest.raises(EmptyBatchRequest):
        queue.delete_batch([])
    with pytest.raises(BatchEntryIdsNotDistinct):
        queue.delete_batch([("a", got[1].receipt_handle), ("a", got[1].receipt_handle)])
    assert len(queue.peek()) == 1


def test_change_visibility_batch_reports_each_entry(queue: Queue) -> None:
    queue.send("a")
    queue.send("b")
    got = queue.receive(2)
    result = queue.change_visibility_batch(
        [("one", got[0].receipt_handle, 0), ("two", got[1].receipt_handle, 50_000), ("three", "nope", 5)]
    )
    assert [s.id for s in result.successful] == ["one"]
    assert [(f.id, f.code) for f in result.failed] == [
        ("two", "InvalidParameterValue"),
        ("three", "ReceiptHandleIsInvalid"),
    ]
    assert [m.body for m in queue.receive(10)] == [got[0].body]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_messages": 0}, InvalidParameterValue, "MaxNumberOfMessages"),
        ({"max_messages": 11}, InvalidParameterValue, "Must be between 1 and 10"),
        ({"wait_seconds": 21}, InvalidParameterValue, "WaitTimeSeconds"),
        ({"wait_seconds": -1}, InvalidParameterValue, "WaitTimeSeconds"),
        ({"visibility_timeout": 43_201}, InvalidParameterValue, "VisibilityTimeout"),
        ({"attribute_names": ["Nope"]}, InvalidAttributeName, "Unknown Attribute Nope"),
        ({"attribute_names": "All"}, InvalidParameterValue, "list of names"),
    ],
)
def test_bad_receive_parameters_change_nothing(queue: Queue, kwargs: dict, error: type, match: str) -> None:
    queue.send("job")
    with pytest.raises(error, match=match):
        queue.receive(**kwargs)
    assert queue.attributes()["ApproximateNumberOfMessages"] == 1


def test_attributes_count_visible_in_flight_and_delayed(harness) -> None:
    q = harness.queue("work")
    harness.start()
    assert q.attributes()["ApproximateAgeOfOldestMessage"] == 0
    q.send("a")
    q.send("b")
    harness.advance(100)
    q.send("c", delay=60)
    q.receive()
    a = q.attributes()
    assert (
        a["ApproximateNumberOfMessages"],
        a["ApproximateNumberOfMessagesNotVisible"],
        a["ApproximateNumberOfMessagesDelayed"],
        a["ApproximateAgeOfOldestMessage"],
    ) == (1, 1, 1, 100)


def test_purge_deletes_everything_once_a_minute(harness) -> None:
    q = harness.queue("work")
    harness.start()
    for i in range(5):
        q.send(f"m{i}")
    q.receive()
    q.purge()
    assert q.peek() == [] and q.receive() == []
    q.send("after")
    with pytest.raises(PurgeQueueInProgress, match="every 60 seconds"):
        q.purge()
    assert [m.body for m in q.peek()] == ["after"]
    harness.advance(60)
    q.purge()
    assert q.peek() == []


def test_messages_expire_after_the_retention_period(harness) -> None:
    q = harness.queue("work", retention=60)
    harness.start()
    q.send("old")
    harness.advance(30)
    q.send("newer")
    harness.advance(30)
    assert [m.body for m in q.peek()] == ["newer"]
    [m] = q.receive()
    assert m.body == "newer"
    harness.advance(30)
    assert q.receive() == [] and q.peek() == []
    assert q.attributes()["ApproximateNumberOfMessagesNotVisible"] == 0


def test_peek_lists_without_receiving(queue: Queue) -> None:
    queue.send("a", attributes={"k": "v"})
    queue.send("b")
    peeked = queue.peek()
    assert [m.body for m in peeked] == ["a", "b"]
    assert peeked[0].receipt_handle == "" and peeked[0].message_attributes["k"].value == "v"
    assert peeked[0].attributes["ApproximateReceiveCount"] == "0"
    assert queue.attributes()["ApproximateNumberOfMessages"] == 2
    assert len(queue.peek(limit=1)) == 1
    with pytest.raises(InvalidParameterValue):
        queue.peek(limit=0)
