"""Reading: iterators of every type, expiry, limits, retention, restart and kill -9."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import stratus.testing
from stratus import App, ResourceNotFound, ValidationError, VirtualClock
from stratus.resources.stream import ExpiredIterator, InvalidArgument, PutEntry, Stream

SHARD = "shardId-000000000000"


def fill(s: Stream, n: int, key: str = "k") -> list[str]:
    return [s.put(f"r{i}".encode(), key).sequence_number for i in range(n)]


def test_trim_horizon_reads_everything_in_order(stream: Stream, read_all) -> None:
    numbers = fill(stream, 25)
    records = read_all(stream, SHARD)
    assert [r.sequence_number for r in records] == numbers
    assert [r.data for r in records] == [f"r{i}".encode() for i in range(25)]
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)


def test_limit_pages_through_the_shard(stream: Stream) -> None:
    fill(stream, 7)
    iterator = stream.get_shard_iterator(SHARD, "TRIM_HORIZON")
    pages = []
    while True:
        result = stream.get_records(iterator, limit=3)
        if not result.records:
            break
        pages.append([r.data for r in result.records])
        assert result.next_shard_iterator is not None
        iterator = result.next_shard_iterator
    assert [len(p) for p in pages] == [3, 3, 1]


def test_latest_reads_only_what_arrives_afterwards(stream: Stream) -> None:
    fill(stream, 3)
    iterator = stream.get_shard_iterator(SHARD, "LATEST")
    empty = stream.get_records(iterator)
    assert empty.records == [] and empty.next_shard_iterator
    stream.put(b"new", "k")
    assert [r.data for r in stream.get_records(empty.next_shard_iterator).records] == [b"new"]
    # The first LATEST iterator, not yet used, also starts before "new".
    assert [r.data for r in stream.get_records(iterator).records] == [b"new"]


def test_at_and_after_sequence_number(stream: Stream, read_all) -> None:
    numbers = fill(stream, 5)
    at = read_all(stream, SHARD, "AT_SEQUENCE_NUMBER", sequence_number=numbers[2])
    after = read_all(stream, SHARD, "AFTER_SEQUENCE_NUMBER", sequence_number=numbers[2])
    assert [r.sequence_number for r in at] == numbers[2:]
    assert [r.sequence_number for r in after] == numbers[3:]


def test_at_timestamp_starts_at_the_first_record_arriving_then_or_later(harness, read_all) -> None:
    s = harness.stream("events")
    harness.start()
    s.put(b"early", "k")
    harness.advance(10)
    middle = harness.now()
    s.put(b"middle", "k")
    harness.advance(10)
    s.put(b"late", "k")
    assert [r.data for r in read_all(s, SHARD, "AT_TIMESTAMP", timestamp=middle)] == [b"middle", b"late"]
    as_datetime = datetime.fromtimestamp(middle - 5, tz=UTC)
    assert [r.data for r in read_all(s, SHARD, "AT_TIMESTAMP", timestamp=as_datetime)] == [b"middle", b"late"]
    future = s.get_shard_iterator(SHARD, "AT_TIMESTAMP", timestamp=harness.now() + 100)
    s.put(b"after", "k")
    assert [r.data for r in s.get_records(future).records] == [b"after"]
    assert read_all(s, SHARD)[1].approximate_arrival_timestamp == middle


def test_millis_behind_latest(harness) -> None:
    s = harness.stream("events")
    harness.start()
    fill(s, 3)
    harness.advance(2)
    result = s.get_records(s.get_shard_iterator(SHARD), limit=1)
    assert result.millis_behind_latest == 2000
    rest = s.get_records(result.next_shard_iterator or "", limit=10)
    assert rest.millis_behind_latest == 0


def test_iterators_expire_after_five_minutes(harness) -> None:
    s = harness.stream("events")
    harness.start()
    iterator = s.get_shard_iterator(SHARD)
    harness.advance(300)
    result = s.get_records(iterator)  # still valid at exactly five minutes
    harness.advance(300.001)
    with pytest.raises(ExpiredIterator, match="Iterator expired"):
        s.get_records(result.next_shard_iterator or "")
    with pytest.raises(ExpiredIterator):
        s.get_records(iterator)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("shardId-000000000000", "SOMEWHERE"), {}, ValidationError, "shardIteratorType"),
        (("shard-0",), {}, ValidationError, "shard id"),
        (("shardId-000000000009",), {}, ResourceNotFound, "shardId-000000000009"),
        ((SHARD, "AT_SEQUENCE_NUMBER"), {}, InvalidArgument, "StartingSequenceNumber"),
        ((SHARD, "AFTER_SEQUENCE_NUMBER"), {"sequence_number": "abc"}, InvalidArgument, "decimal digits"),
        ((SHARD, "TRIM_HORIZON"), {"sequence_number": "1"}, InvalidArgument, "not allowed"),
        ((SHARD, "AT_TIMESTAMP"), {}, InvalidArgument, "Timestamp"),
        ((SHARD, "AT_TIMESTAMP"), {"timestamp": "yesterday"}, InvalidArgument, "Timestamp"),
        ((SHARD, "LATEST"), {"timestamp": 1.0}, InvalidArgument, "not allowed"),
        ((SHARD, "AT_SEQUENCE_NUMBER"), {"sequence_number": "12"}, InvalidArgument, "invalid"),
    ],
)
def test_bad_iterator_requests(stream: Stream, args: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        stream.get_shard_iterator(*args, **kwargs)


def test_a_sequence_number_of_another_shard_is_rejected(four: Stream) -> None:
    number = four.put(b"x", "k", explicit_hash_key="0").sequence_number
    with pytest.raises(InvalidArgument, match="shardId-000000000000"):
        four.get_shard_iterator("shardId-000000000001", "AT_SEQUENCE_NUMBER", sequence_number=number)


def test_bad_get_records_requests(harness) -> None:
    s = harness.stream("events")
    other = harness.stream("other")
    harness.start()
    with pytest.raises(InvalidArgument, match="Invalid ShardIterator"):
        s.get_records("not-an-iterator")
    with pytest.raises(InvalidArgument, match="does not belong"):
        s.get_records(other.get_shard_iterator(SHARD))
    iterator = s.get_shard_iterator(SHARD)
    with pytest.raises(ValidationError, match="between 1 and 10000"):
        s.get_records(iterator, limit=10_001)
    with pytest.raises(ValidationError, match="between 1 and 10000"):
        s.get_records(iterator, limit=0)


def test_records_expire_after_the_retention_period(harness, read_all) -> None:
    s = harness.stream("events", retention_hours=24)
    harness.start()
    s.put(b"old", "k")
    harness.advance(12 * 3600)
    s.put(b"newer", "k")
    harness.advance(12 * 3600 - 1)
    iterator = s.get_shard_iterator(SHARD)
    assert [r.data for r in s.get_records(iterator).records] == [b"old", b"newer"]
    harness.advance(1)
    assert [r.data for r in s.get_records(iterator).records] == [b"newer"]  # "old" is 24 hours old now
    s.put(b"trigger", "k")  # writes sweep expired records from storage
    assert [r.data for r in read_all(s, SHARD)] == [b"newer", b"trigger"]
    harness.advance(24 * 3600)
    assert read_all(s, SHARD) == []


def test_records_and_shards_survive_a_restart(harness, read_all) -> None:
    s = harness.stream("events", shards=2)
    harness.start()
    written = {s.put(f"r{i}".encode(), f"k{i}").sequence_number for i in range(10)}
    s.split_shard("shardId-000000000000", 2**126)
    harness.restart()
    shards = s.list_shards()
    assert len(shards) == 4 and not shards[0].is_open
    assert {r.sequence_number for sh in shards for r in read_all(s, sh.shard_id)} == written
    # Sequence numbers keep growing after the restart.
    later = s.put(b"later", "k0")
    assert int(later.sequence_number) > max(int(n) for n in written)


def test_listeners_hear_about_new_records(stream: Stream) -> None:
    calls: list[int] = []
    unsubscribe = stream.subscribe(lambda: calls.append(1))
    stream.put(b"x", "k")
    stream.put_records([PutEntry(b"y", "k"), PutEntry(b"z", "k")])
    assert len(calls) == 2
    unsubscribe()
    stream.put(b"w", "k")
    assert len(calls) == 2


def test_describe_summarises_the_stream(four: Stream) -> None:
    d = four.describe()
    assert (d.name, d.status, d.retention_hours, d.open_shard_count, d.shard_count) == ("sharded", "ACTIVE", 24, 4, 4)
    assert d.arn.startswith("arn:aws:kinesis:") and d.arn.endswith(":stream/stest-sharded")


_KILLED_PRODUCER = """
import os, signal, sys
from stratus import App
from stratus.local.cloud import LocalCloud
from stratus.resources.stream import PutEntry

app = App("stest")
s = app.stream("events", shards=2)
cloud = LocalCloud(sys.argv[1])
cloud.bind(app)
for i in range(300):
    s.put(f"r{i}".encode(), f"k{i % 7}")
s.put_records([PutEntry(f"b{i}".encode(), f"k{i % 7}") for i in range(100)])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_nothing_acknowledged_is_lost_when_the_process_is_killed(harness, tmp_path: Path, read_all) -> None:
    if harness.adapter != "local":
        pytest.skip("kill -9 durability is a property of the embedded adapter")
    script = tmp_path / "producer.py"
    script.write_text(textwrap.dedent(_KILLED_PRODUCER))
    state = tmp_path / "state"
    proc = subprocess.run([sys.executable, str(script), str(state)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    app = App("stest")
    s = app.stream("events", shards=2)
    with stratus.testing.local(app, state_dir=state, clock=VirtualClock(start=time.time() + 1)):
        by_key: dict[str, list[bytes]] = {}
        for sh in s.list_shards():
            for r in read_all(s, sh.shard_id):
                by_key.setdefault(r.partition_key, []).append(r.data)
        assert sum(len(v) for v in by_key.values()) == 400
        # Per partition key, order is the order of the puts.
        expected: dict[str, list[bytes]] = {}
        for i in range(300):
            expected.setdefault(f"k{i % 7}", []).append(f"r{i}".encode())
        for i in range(100):
            expected.setdefault(f"k{i % 7}", []).append(f"b{i}".encode())
        assert by_key == expected


def test_a_failing_listener_does_not_fail_the_committed_put(stream: Stream, read_all) -> None:
    def broken() -> None:
        raise RuntimeError("consumer bug")

    stream.subscribe(broken)
    result = stream.put(b"kept", "k")
    assert [r.sequence_number for r in read_all(stream, SHARD)] == [result.sequence_number]


def test_one_get_records_returns_at_most_ten_mebibytes(harness) -> None:
    s = harness.stream("events")
    harness.start()
    for i in range(11):
        s.put(bytes([i]) * (1_048_576 - 1), "k")
        harness.advance(1)  # one mebibyte per shard per second
    first = s.get_records(s.get_shard_iterator(SHARD))
    assert len(first.records) == 10 and first.millis_behind_latest > 0
    rest = s.get_records(first.next_shard_iterator or "")
    assert [r.data[0] for r in rest.records] == [10]


def test_an_iterator_survives_a_restart(harness) -> None:
    s = harness.stream("events")
    harness.start()
    s.put(b"before", "k")
    result = s.get_records(s.get_shard_iterator(SHARD))
    harness.restart()
    s.put(b"after", "k")
    assert [r.data for r in s.get_records(result.next_shard_iterator or "").records] == [b"after"]


def test_put_records_keeps_the_order_of_a_partition_key(four: Stream, read_all) -> None:
    result = four.put_records([PutEntry(f"{i}", "same-key") for i in range(50)])
    [shard] = {r.shard_id for r in result.records}
    assert [r.data for r in read_all(four, shard)] == [f"{i}".encode() for i in range(50)]
    numbers = [int(r.sequence_number or "0") for r in result.records]
    assert numbers == sorted(numbers)
