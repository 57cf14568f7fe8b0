"""Sending: bodies, typed attributes, digests, limits, batches, and declarations."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from stratus import App, ValidationError
from stratus.resources.queue import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    DeadLetter,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MessageAttribute,
    MissingParameter,
    Queue,
    SendEntry,
    TooManyEntriesInBatchRequest,
)


def count(q: Queue) -> int:
    a = q.attributes()
    return (
        a["ApproximateNumberOfMessages"]
        + a["ApproximateNumberOfMessagesNotVisible"]
        + a["ApproximateNumberOfMessagesDelayed"]
    )


def test_send_receive_delete_round_trip(queue: Queue) -> None:
    sent = queue.send("hello")
    assert sent.md5_of_body == hashlib.md5(b"hello").hexdigest()
    assert sent.md5_of_attributes is None and sent.sequence_number is None
    [m] = queue.receive()
    assert (m.message_id, m.body, m.md5_of_body) == (sent.message_id, "hello", sent.md5_of_body)
    assert m.attributes["ApproximateReceiveCount"] == "1"
    assert m.attributes["SentTimestamp"] == m.attributes["ApproximateFirstReceiveTimestamp"]
    queue.delete(m.receipt_handle)
    assert queue.receive() == []
    assert count(queue) == 0


def test_receive_returns_at_most_max_messages(queue: Queue) -> None:
    for i in range(15):
        queue.send(f"m{i}")
    first = queue.receive(10)
    second = queue.receive(10)
    assert len(first) == 10 and len(second) == 5
    assert {m.body for m in first + second} == {f"m{i}" for i in range(15)}


def test_typed_message_attributes_round_trip_with_sqs_digest(queue: Queue) -> None:
    sent = queue.send(
        "hello",
        attributes={
            "a": "x",
            "n": 5,
            "b": b"\x01",
            "c": MessageAttribute("String.custom", "héllo"),
            "d": Decimal("1.50"),
        },
    )
    # SQS's digest: sorted names, each length-prefixed name, type, transport byte, value.
    expected = hashlib.md5()
    for name, dtype, transport, value in [
        ("a", "String", 1, b"x"),
        ("b", "Binary", 2, b"\x01"),
        ("c", "String.custom", 1, "héllo".encode()),
        ("d", "Number", 1, b"1.50"),
        ("n", "Number", 1, b"5"),
    ]:
        for part in (name.encode(), dtype.encode()):
            expected.update(len(part).to_bytes(4, "big") + part)
        expected.update(bytes([transport]) + len(value).to_bytes(4, "big") + value)
    assert sent.md5_of_attributes == expected.hexdigest()
    [m] = queue.receive()
    assert m.message_attributes == {
        "a": MessageAttribute("String", "x"),
        "n": MessageAttribute("Number", "5"),
        "b": MessageAttribute("Binary", b"\x01"),
        "c": MessageAttribute("String.custom", "héllo"),
        "d": MessageAttribute("Number", "1.50"),
    }
    assert m.md5_of_message_attributes == sent.md5_of_attributes


def test_receive_can_select_message_attributes_and_system_attributes(queue: Queue) -> None:
    queue.send("x", attributes={"trace.id": "1", "trace.span": "2", "other": "3"})
    [m] = queue.receive(message_attribute_names=["trace.*"], attribute_names=["SentTimestamp"])
    assert set(m.message_attributes) == {"trace.id", "trace.span"}
    assert set(m.attributes) == {"SentTimestamp"}
    assert m.md5_of_message_attributes != queue.peek()[0].md5_of_message_attributes


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        ("", MissingParameter, "MessageBody"),
        ("bad \x00 char", InvalidMessageContents, "Invalid characters"),
        ("bad \x1f char", InvalidMessageContents, "position 4"),
        ("lone \ud800 surrogate", InvalidMessageContents, "Invalid characters"),
        ("bad \ufffe", InvalidMessageContents, "Invalid characters"),
        (b"bytes", InvalidParameterValue, "must be a string"),
    ],
)
def test_bad_bodies_are_rejected_and_nothing_is_sent(queue: Queue, body: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        queue.send(body)  # type: ignore[arg-type]
    assert count(queue) == 0


def test_allowed_characters_pass(queue: Queue) -> None:
    body = "tab\t nl\n cr\r \u00e9 \ud7ff \ue000 \ufffd \U0001f600 \U0010ffff"
    queue.send(body)
    assert queue.receive()[0].body == body


def test_size_limit_counts_body_and_attributes(harness) -> None:
    q = harness.queue("small", max_message_size=1024)
    harness.start()
    q.send("x" * 1024)
    with pytest.raises(InvalidParameterValue, match="shorter than 1024 bytes"):
        q.send("x" * 1025)
    with pytest.raises(InvalidParameterValue, match="shorter than 1024 bytes"):
        q.send("x" * 1000, attributes={"name": "y" * 20})  # 1000 + 4 + 6 + 20
    with pytest.raises(InvalidParameterValue, match="1025 bytes"):
        q.send("é" * 512 + "x")  # two bytes per é: size is in UTF-8 bytes
    assert count(q) == 1


def test_default_size_limit_is_256_kib(queue: Queue) -> None:
    queue.send("x" * 262_144)
    with pytest.raises(InvalidParameterValue, match="262144"):
        queue.send("x" * 262_145)
    assert count(queue) == 1


@pytest.mark.parametrize(
    ("attributes", "match"),
    [
        ({f"a{i}": "v" for i in range(11)}, "exceeds the allowed maximum"),
        ({"AWS.thing": "v"}, "reserved"),
        ({"amazon.thing": "v"}, "reserved"),
        ({".lead": "v"}, "can't start or end"),
        ({"a..b": "v"}, "can't start or end"),
        ({"sp ace": "v"}, "name 'sp ace' is invalid"),
        ({"x" * 257: "v"}, "is invalid"),
        ({"e": ""}, "non-empty value of type 'String'"),
        ({"e": b""}, "non-empty value of type 'Binary'"),
        ({"flag": True}, "bool"),
        ({"obj": object()}, "unsupported type"),
        ({"n": MessageAttribute("Number", "abc")}, "invalid Number"),
        ({"n": MessageAttribute("Number", "1" * 39)}, "38 digits"),
        ({"n": MessageAttribute("Number", "1e200")}, "10\\^126"),
        ({"t": MessageAttribute("Integer", "1")}, "invalid data type"),
        ({"t": MessageAttribute("Binary", "text")}, "needs a bytes value"),
    ],
)
def test_bad_attributes_are_rejected_and_nothing_is_sent(queue: Queue, attributes: dict, match: str) -> None:
    with pytest.raises(InvalidParameterValue, match=match):
        queue.send("x", attributes=attributes)
    assert count(queue) == 0


def test_ten_attributes_are_allowed(queue: Queue) -> None:
    queue.send("x", attributes={f"a{i}": i for i in range(10)})
    assert len(queue.receive()[0].message_attributes) == 10


def test_per_message_delay_overrides_the_queue_delay(harness) -> None:
    q = harness.queue("delayed", delay=10)
    harness.start()
    q.send("queue-delay")
    q.send("own-delay", delay=0)
    q.send("long", delay=900)

    def take() -> list[str]:
        got = q.receive(10)
        for m in got:
            q.delete(m.receipt_handle)
        return [m.body for m in got]

    assert take() == ["own-delay"]
    assert q.attributes()["ApproximateNumberOfMessagesDelayed"] == 2
    harness.advance(9.5)
    assert take() == []
    harness.advance(0.5)
    assert take() == ["queue-delay"]
    harness.advance(889)
    assert take() == []
    harness.advance(1)
    assert take() == ["long"]
    with pytest.raises(InvalidParameterValue, match="DelaySeconds"):
        q.send("x", delay=901)
    with pytest.raises(InvalidParameterValue, match="DelaySeconds"):
        q.send("x", delay=-1)


def test_standard_queue_rejects_deduplication_ids(queue: Queue) -> None:
    with pytest.raises(InvalidParameterValue, match="MessageDeduplicationId"):
        queue.send("x", deduplication_id="d")
    assert count(queue) == 0


def test_send_batch_sends_good_entries_and_reports_bad_ones(queue: Queue) -> None:
    result = queue.send_batch(
        [
            SendEntry("a", "first", attributes={"k": "v"}),
            SendEntry("b", "bad \x00"),
            SendEntry("c", "third", delay=5),
            SendEntry("d", "x", delay=1000),
            SendEntry("e", "x", attributes={"AWS.x": "v"}),
        ]
    )
    assert [s.id for s in result.successful] == ["a", "c"]
    assert result.successful[0].result is not None
    assert result.successful[0].result.md5_of_body == hashlib.md5(b"first").hexdigest()
    assert [(f.id, f.code, f.sender_fault) for f in result.failed] == [
        ("b", "InvalidMessageContents", True),
        ("d", "InvalidParameterValue", True),
        ("e", "InvalidParameterValue", True),
    ]
    assert "DelaySeconds" in result.failed[1].message
    assert [m.body for m in queue.peek()] == ["first", "third"]


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([], EmptyBatchRequest),
        ([SendEntry(f"e{i}", "x") for i in range(11)], TooManyEntriesInBatchRequest),
        ([SendEntry("same", "x"), SendEntry("same", "y")], BatchEntryIdsNotDistinct),
        ([SendEntry("bad id", "x")], InvalidBatchEntryId),
        ([SendEntry("x" * 81, "x")], InvalidBatchEntryId),
        ([SendEntry(f"e{i}", "x" * 30_000) for i in range(9)], BatchRequestTooLong),
        ([SendEntry("ok", "x"), SendEntry("huge", "x" * 262_145)], BatchRequestTooLong),
    ],
)
def test_malformed_batches_send_nothing(queue: Queue, entries: list[SendEntry], error: type) -> None:
    with pytest.raises(error):
        queue.send_batch(entries)
    assert count(queue) == 0


def test_batch_of_ten_is_allowed(queue: Queue) -> None:
    result = queue.send_batch([SendEntry(f"e{i}", f"m{i}") for i in range(10)])
    assert len(result.successful) == 10 and not result.failed
    assert len({s.result.message_id for s in result.successful if s.result}) == 10


# --- declarations


def test_settings_are_returned_with_the_dead_letter_queue_by_name() -> None:
    app = App("decl")
    dlq = app.queue("dead")
    q = app.queue("work", visibility_timeout=60, delay=5, dead_letter=DeadLetter(dlq, max_receive_count=3))
    assert q.settings() == {
        "fifo": False,
        "visibility_timeout": 60,
        "delay": 5,
        "retention": 345_600,
        "max_message_size": 262_144,
        "receive_wait": 0,
        "dead_letter": {"queue": "dead", "max_receive_count": 3},
        "content_based_deduplication": False,
    }


@pytest.mark.parametrize(
    ("name", "settings", "match"),
    [
        ("jobs.fifo", {}, "needs fifo=True"),
        ("jobs", {"fifo": True}, "must end with '.fifo'"),
        ("bad name", {}, "is invalid"),
        ("x" * 81, {}, "is invalid"),
        ("jobs", {"visibility_timeout": 43_201}, "visibility_timeout"),
        ("jobs", {"delay": 901}, "delay"),
        ("jobs", {"retention": 59}, "retention"),
        ("jobs", {"retention": 1_209_601}, "retention"),
        ("jobs", {"max_message_size": 1023}, "max_message_size"),
        ("jobs", {"max_message_size": 1_048_577}, "max_message_size"),
        ("jobs", {"receive_wait": 21}, "receive_wait"),
        ("jobs", {"content_based_deduplication": True}, "FIFO queues only"),
    ],
)
def test_bad_declarations_fail_naming_the_setting(name: str, settings: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        App("decl").queue(name, **settings)


def test_dead_letter_queue_must_match_the_queue_type() -> None:
    app = App("decl")
    standard = app.queue("dead")
    fifo = app.queue("dead.fifo", fifo=True)
    with pytest.raises(ValidationError, match="must also be FIFO"):
        app.queue("work.fifo", fifo=True, dead_letter=DeadLetter(standard))
    with pytest.raises(ValidationError, match="must also be standard"):
        app.queue("work", dead_letter=DeadLetter(fifo))
    with pytest.raises(ValidationError, match="max_receive_count"):
        app.queue("work", dead_letter=DeadLetter(standard, max_receive_count=0))
    # A failed declaration does not reserve the name.
    app.queue("work", dead_letter=DeadLetter(standard))


def test_standard_queue_accepts_a_group_id_for_fair_queuing(queue: Queue) -> None:
    queue.send("tenant work", group_id="tenant-1")
    [m] = queue.receive()
    assert m.attributes["MessageGroupId"] == "tenant-1"
    assert "SequenceNumber" not in m.attributes and "MessageDeduplicationId" not in m.attributes
    with pytest.raises(InvalidParameterValue, match="MessageGroupId"):
        queue.send("x", group_id="bad group")
