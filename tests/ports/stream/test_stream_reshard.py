"""Resharding: split and merge close parents, open children, and hand readers on to them."""

from __future__ import annotations

import pytest

from stratus import ResourceNotFound, ValidationError
from stratus.errors import ResourceInUse
from stratus.resources.stream import InvalidArgument, Stream

HALF = 2**127
S0, S1, S2, S3 = (f"shardId-00000000000{i}" for i in range(4))


def by_id(s: Stream) -> dict:
    return {sh.shard_id: sh for sh in s.list_shards()}


def test_split_then_merge(stream: Stream, read_all) -> None:
    before = [stream.put(f"b{i}".encode(), f"k{i}").sequence_number for i in range(6)]
    stream.split_shard(S0, HALF)
    shards = by_id(stream)
    parent, low, high = shards[S0], shards[S1], shards[S2]
    assert not parent.is_open
    assert (low.hash_key_range.starting_hash_key, low.hash_key_range.ending_hash_key) == ("0", str(HALF - 1))
    assert (high.hash_key_range.starting_hash_key, high.hash_key_range.ending_hash_key) == (
        str(HALF),
        str(2**128 - 1),
    )
    assert low.parent_shard_id == high.parent_shard_id == S0
    assert low.adjacent_parent_shard_id is None
    parent_end = int(parent.sequence_number_range.ending_sequence_number or "0")
    assert parent_end >= max(int(n) for n in before)
    assert int(low.sequence_number_range.starting_sequence_number) > parent_end
    assert int(high.sequence_number_range.starting_sequence_number) > parent_end

    # Records before the split are still read from the parent; new ones go to the children.
    assert [r.sequence_number for r in read_all(stream, S0)] == before
    after = {stream.put(b"x", "k", explicit_hash_key=key).shard_id for key in ("0", str(HALF - 1), str(HALF))}
    assert after == {S1, S2}
    assert int(stream.put(b"y", "k").sequence_number) > parent_end

    stream.merge_shards(S1, S2)
    shards = by_id(stream)
    merged = shards[S3]
    assert not shards[S1].is_open and not shards[S2].is_open and merged.is_open
    assert (merged.parent_shard_id, merged.adjacent_parent_shard_id) == (S1, S2)
    assert (merged.hash_key_range.starting_hash_key, merged.hash_key_range.ending_hash_key) == ("0", str(2**128 - 1))
    ends = [int(shards[s].sequence_number_range.ending_sequence_number or "0") for s in (S1, S2)]
    assert int(merged.sequence_number_range.starting_sequence_number) > max(ends)
    assert stream.put(b"z", "k").shard_id == S3
    assert stream.describe().open_shard_count == 1


def test_reading_a_closed_shard_to_its_end_hands_over_the_children(stream: Stream) -> None:
    stream.put(b"a", "k")
    stream.put(b"b", "k")
    iterator = stream.get_shard_iterator(S0)
    stream.split_shard(S0, HALF)
    first = stream.get_records(iterator, limit=1)
    assert [r.data for r in first.records] == [b"a"]
    assert first.next_shard_iterator is not None and first.child_shards == []
    last = stream.get_records(first.next_shard_iterator)
    assert [r.data for r in last.records] == [b"b"]
    assert last.next_shard_iterator is None
    assert sorted(c.shard_id for c in last.child_shards) == [S1, S2]
    assert all(c.parent_shards == [S0] for c in last.child_shards)
    # LATEST on a closed shard is its end: nothing more, and the children.
    end = stream.get_records(stream.get_shard_iterator(S0, "LATEST"))
    assert end.records == [] and end.next_shard_iterator is None and len(end.child_shards) == 2


def test_merged_child_names_both_parents(four: Stream) -> None:
    four.merge_shards("shardId-000000000001", "shardId-000000000000")
    result = four.get_records(four.get_shard_iterator("shardId-000000000000"))
    [child] = result.child_shards
    assert child.shard_id == "shardId-000000000004"
    assert child.parent_shards == ["shardId-000000000001", "shardId-000000000000"]
    assert (child.hash_key_range.starting_hash_key, child.hash_key_range.ending_hash_key) == ("0", str(HALF - 1))


def test_split_needs_a_key_inside_the_shard(four: Stream) -> None:
    shard = by_id(four)[S1]
    start, end = int(shard.hash_key_range.starting_hash_key), int(shard.hash_key_range.ending_hash_key)
    with pytest.raises(InvalidArgument, match="NewStartingHashKey"):
        four.split_shard(S1, start)  # the lower child would be empty
    with pytest.raises(InvalidArgument, match="NewStartingHashKey"):
        four.split_shard(S1, end + 1)
    with pytest.raises(InvalidArgument, match="2\\^128-1"):
        four.split_shard(S1, 2**128)
    with pytest.raises(ValidationError, match="shard id"):
        four.split_shard("nope", start + 1)
    with pytest.raises(ResourceNotFound):
        four.split_shard("shardId-000000000042", start + 1)
    assert all(sh.is_open for sh in four.list_shards()) and len(four.list_shards()) == 4
    four.split_shard(S1, end)  # the upper child holds one hash key
    assert by_id(four)["shardId-000000000005"].hash_key_range.starting_hash_key == str(end)


def test_closed_and_non_adjacent_shards_cannot_be_resharded(four: Stream) -> None:
    with pytest.raises(InvalidArgument, match="adjacent"):
        four.merge_shards(S0, S2)
    with pytest.raises(InvalidArgument, match="same shard"):
        four.merge_shards(S0, S0)
    four.merge_shards(S0, S1)
    with pytest.raises(ResourceInUse, match="closed"):
        four.split_shard(S0, 1)
    with pytest.raises(ResourceInUse, match="closed"):
        four.merge_shards(S1, S2)
    assert four.describe().open_shard_count == 3


def test_closed_shards_disappear_after_the_retention_period(harness) -> None:
    s = harness.stream("events")
    harness.start()
    s.put(b"x", "k")
    s.split_shard(S0, HALF)
    harness.advance(24 * 3600 - 1)
    assert S0 in by_id(s)
    harness.advance(1)
    assert S0 not in by_id(s)
    with pytest.raises(ResourceNotFound, match=S0):
        s.get_shard_iterator(S0)
    assert s.describe().shard_count == 2
