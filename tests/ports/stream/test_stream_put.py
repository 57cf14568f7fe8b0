"""Writing: shard routing, sequence numbers, limits, put_records partial failures, declarations."""

from __future__ import annotations

import hashlib

import pytest

from stratus import App, ValidationError
from stratus.resources.stream import (
    InvalidArgument,
    ProvisionedThroughputExceeded,
    PutEntry,
    Stream,
)

HASH_MAX = 2**128 - 1


def total_records(s: Stream, read_all) -> int:
    return sum(len(read_all(s, sh.shard_id)) for sh in s.list_shards())


def test_put_returns_the_shard_and_an_increasing_sequence_number(stream: Stream, read_all) -> None:
    first = stream.put(b"one", "k")
    second = stream.put("two", "k")
    assert first.shard_id == second.shard_id == "shardId-000000000000"
    assert int(second.sequence_number) > int(first.sequence_number)
    records = read_all(stream, first.shard_id)
    assert [(r.data, r.partition_key, r.sequence_number) for r in records] == [
        (b"one", "k", first.sequence_number),
        (b"two", "k", second.sequence_number),
    ]


def test_initial_shards_split_the_hash_space_evenly(four: Stream) -> None:
    shards = four.list_shards()
    assert [s.shard_id for s in shards] == [f"shardId-00000000000{i}" for i in range(4)]
    ranges = [(int(s.hash_key_range.starting_hash_key), int(s.hash_key_range.ending_hash_key)) for s in shards]
    assert ranges[0][0] == 0 and ranges[-1][1] == HASH_MAX
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(3))
    assert ranges[1][0] == 2**126
    assert all(s.is_open and s.parent_shard_id is None for s in shards)


def test_a_partition_key_always_lands_on_the_shard_holding_its_md5(four: Stream) -> None:
    shards = four.list_shards()

    def owner(key: str) -> str:
        h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
        return next(
            s.shard_id
            for s in shards
            if int(s.hash_key_range.starting_hash_key) <= h <= int(s.hash_key_range.ending_hash_key)
        )

    seen = set()
    for i in range(40):
        key = f"device-{i}"
        results = {four.put(b"x", key).shard_id for _ in range(3)}
        assert results == {owner(key)}
        seen |= results
    assert len(seen) == 4  # 40 keys spread over every shard


def test_explicit_hash_key_overrides_the_partition_key(four: Stream) -> None:
    assert four.put(b"x", "any", explicit_hash_key="0").shard_id == "shardId-000000000000"
    assert four.put(b"x", "any", explicit_hash_key=2**126).shard_id == "shardId-000000000001"
    assert four.put(b"x", "any", explicit_hash_key=str(2**126 - 1)).shard_id == "shardId-000000000000"
    assert four.put(b"x", "any", explicit_hash_key=str(HASH_MAX)).shard_id == "shardId-000000000003"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"data": b"x", "partition_key": ""}, ValidationError, "partitionKey"),
        ({"data": b"x", "partition_key": "k" * 257}, ValidationError, "between 1 and 256"),
        ({"data": 5, "partition_key": "k"}, ValidationError, "bytes or str"),
        ({"data": b"x" * 1_048_576, "partition_key": "k"}, ValidationError, "1048577"),
        ({"data": b"x", "partition_key": "k", "explicit_hash_key": str(2**128)}, InvalidArgument, "2\\^128-1"),
        ({"data": b"x", "partition_key": "k", "explicit_hash_key": "-1"}, InvalidArgument, "ExplicitHashKey"),
        ({"data": b"x", "partition_key": "k", "explicit_hash_key": "abc"}, InvalidArgument, "ExplicitHashKey"),
        ({"data": b"x", "partition_key": "k", "sequence_number_for_ordering": "x1"}, InvalidArgument, "Ordering"),
    ],
)
def test_bad_records_are_rejected_and_nothing_is_written(
    stream: Stream, read_all, kwargs: dict, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        stream.put(**kwargs)
    assert total_records(stream, read_all) == 0


def test_a_record_of_exactly_one_mebibyte_with_its_key_is_accepted(harness, stream: Stream, read_all) -> None:
    stream.put(b"x" * (1_048_576 - 1), "k")
    harness.advance(1)  # that record used the shard's whole second of write capacity
    before = stream.put(b"y", "k")
    assert int(stream.put(b"z", "k", sequence_number_for_ordering=before.sequence_number).sequence_number) > int(
        before.sequence_number
    )
    assert len(read_all(stream, "shardId-000000000000")[0].data) == 1_048_575


def test_put_records_returns_one_result_per_record_in_order(four: Stream, read_all) -> None:
    entries = [PutEntry(f"r{i}".encode(), f"key-{i}") for i in range(20)]
    result = four.put_records(entries)
    assert result.failed_record_count == 0 and len(result.records) == 20
    for i, entry in enumerate(result.records):
        assert entry.error_code is None and entry.shard_id is not None
        assert four.put(b"again", f"key-{i}").shard_id == entry.shard_id
    stored = {r.data for sh in four.list_shards() for r in read_all(four, sh.shard_id)}
    assert {f"r{i}".encode() for i in range(20)} <= stored


@pytest.mark.parametrize(
    ("records", "error", "match"),
    [
        ([], ValidationError, "between 1 and 500"),
        ([PutEntry(b"x", "k")] * 501, ValidationError, "between 1 and 500"),
        ([PutEntry(b"x" * 1_000_000, f"k{i}") for i in range(6)], InvalidArgument, "5242880"),
        ([PutEntry(b"ok", "k"), PutEntry(b"bad", "")], ValidationError, r"records\[1\]"),
        ([PutEntry(b"ok", "k"), PutEntry(b"bad", "k", explicit_hash_key="-5")], InvalidArgument, r"records\[1\]"),
        ([PutEntry(b"ok", "k"), ("raw", "tuple")], ValidationError, "PutEntry"),
    ],
)
def test_malformed_put_records_write_nothing(stream: Stream, read_all, records: list, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        stream.put_records(records)
    assert total_records(stream, read_all) == 0


def test_put_records_reports_throttled_records_and_writes_the_rest(harness, read_all) -> None:
    s = harness.stream("busy", shards=2)
    harness.start()
    low, high = "0", str(HASH_MAX)
    # 1,000 records per shard per second: fill shard 0 to 999 within this clock second.
    first = s.put_records([PutEntry(b"a", "k", explicit_hash_key=low) for _ in range(500)])
    second = s.put_records([PutEntry(b"b", "k", explicit_hash_key=low) for _ in range(499)])
    assert first.failed_record_count == second.failed_record_count == 0
    mixed = s.put_records(
        [
            PutEntry(b"last-fits", "k", explicit_hash_key=low),
            PutEntry(b"too-many", "k", explicit_hash_key=low),
            PutEntry(b"other-shard", "k", explicit_hash_key=high),
        ]
    )
    assert mixed.failed_record_count == 1
    ok, throttled, other = mixed.records
    assert ok.shard_id == "shardId-000000000000" and ok.error_code is None
    assert throttled.error_code == "ProvisionedThroughputExceededException"
    assert throttled.shard_id is None and throttled.sequence_number is None
    assert "Rate exceeded for shard shardId-000000000000" in (throttled.error_message or "")
    assert other.shard_id == "shardId-000000000001" and other.error_code is None
    with pytest.raises(ProvisionedThroughputExceeded):
        s.put(b"single", "k", explicit_hash_key=low)
    harness.advance(1)
    s.put(b"next-second", "k", explicit_hash_key=low)
    data = [r.data for r in read_all(s, "shardId-000000000000")]
    assert len(data) == 1001 and b"too-many" not in data and data[-1] == b"next-second"


def test_a_shard_takes_one_mebibyte_per_second(stream: Stream) -> None:
    stream.put(b"x" * 600_000, "k")
    with pytest.raises(ProvisionedThroughputExceeded, match="Rate exceeded"):
        stream.put(b"x" * 600_000, "k")


# --- declarations


def test_settings_and_bad_declarations() -> None:
    app = App("decl")
    assert app.stream("ok", shards=3, retention_hours=48).settings() == {"shards": 3, "retention_hours": 48}
    with pytest.raises(ValidationError, match="shards"):
        app.stream("s1", shards=0)
    with pytest.raises(ValidationError, match="retention_hours"):
        app.stream("s2", retention_hours=23)
    with pytest.raises(ValidationError, match="retention_hours"):
        app.stream("s3", retention_hours=8761)
    with pytest.raises(ValidationError, match="stream name"):
        app.stream("bad name")
    with pytest.raises(ValidationError, match="stream name"):
        app.stream("x" * 129)
