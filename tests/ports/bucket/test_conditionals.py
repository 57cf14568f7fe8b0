"""Conditional writes (If-None-Match: *, If-Match) and reads (If-* headers), and byte ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.errors import ConditionalCheckFailed
from stratus.resources.bucket import (
    Bucket,
    InvalidArgument,
    InvalidRange,
    NoSuchKey,
    NotModified,
    PreconditionFailed,
)

BODY = bytes(range(100)) * 10  # 1000 bytes


def test_if_none_match_star_creates_only(bucket: Bucket) -> None:
    first = bucket.put("k", b"first", if_none_match="*")
    with pytest.raises(PreconditionFailed) as err:
        bucket.put("k", b"second", if_none_match="*")
    assert err.value.status == 412 and err.value.code == "PreconditionFailed"
    assert isinstance(err.value, ConditionalCheckFailed)
    assert bucket.get("k").body == b"first"
    assert bucket.get("k").etag == first.etag


def test_if_none_match_accepts_only_star(bucket: Bucket) -> None:
    with pytest.raises(InvalidArgument, match="only '\\*'"):
        bucket.put("k", b"x", if_none_match='"abc"')
    assert not bucket.exists("k")


def test_if_match_replaces_only_that_etag(bucket: Bucket) -> None:
    first = bucket.put("k", b"one")
    second = bucket.put("k", b"two", if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        bucket.put("k", b"three", if_match=first.etag)
    assert bucket.get("k").body == b"two"
    bucket.put("k", b"four", if_match=second.etag.strip('"'))  # quotes are optional
    assert bucket.get("k").body == b"four"


def test_if_match_on_missing_key_is_no_such_key(bucket: Bucket) -> None:
    with pytest.raises(NoSuchKey):
        bucket.put("k", b"x", if_match='"0123"')
    assert not bucket.exists("k")


def test_create_only_after_delete_marker_succeeds(versioned: Bucket) -> None:
    versioned.put("k", b"one")
    versioned.delete("k")
    versioned.put("k", b"two", if_none_match="*")
    assert versioned.get("k").body == b"two"


def test_get_if_match(bucket: Bucket) -> None:
    etag = bucket.put("k", BODY).etag
    assert bucket.get("k", if_match=etag).body == BODY
    assert bucket.get("k", if_match="*").body == BODY
    assert bucket.get("k", if_match=f'"nope", {etag}').body == BODY
    with pytest.raises(PreconditionFailed) as err:
        bucket.get("k", if_match='"nope"')
    assert err.value.status == 412


def test_get_if_none_match(bucket: Bucket) -> None:
    etag = bucket.put("k", BODY).etag
    with pytest.raises(NotModified) as err:
        bucket.get("k", if_none_match=etag)
    assert err.value.status == 304 and err.value.code == "NotModified"
    assert not isinstance(err.value, PreconditionFailed)
    with pytest.raises(NotModified):
        bucket.head("k", if_none_match="*")
    assert bucket.get("k", if_none_match='"other"').body == BODY


def test_get_if_modified_since(harness: BucketHarness) -> None:
    bucket = harness.plain
    bucket.put("k", BODY)
    modified = bucket.head("k").last_modified
    with pytest.raises(NotModified):
        bucket.get("k", if_modified_since=modified)
    with pytest.raises(NotModified):
        bucket.get("k", if_modified_since=modified + timedelta(hours=1))
    assert bucket.get("k", if_modified_since=modified - timedelta(seconds=1)).body == BODY


def test_get_if_unmodified_since(bucket: Bucket) -> None:
    bucket.put("k", BODY)
    modified = bucket.head("k").last_modified
    assert bucket.get("k", if_unmodified_since=modified).body == BODY
    with pytest.raises(PreconditionFailed):
        bucket.get("k", if_unmodified_since=modified - timedelta(seconds=1))


def test_if_match_true_overrides_if_unmodified_since_false(bucket: Bucket) -> None:
    etag = bucket.put("k", BODY).etag
    past = bucket.head("k").last_modified - timedelta(days=1)
    assert bucket.get("k", if_match=etag, if_unmodified_since=past).body == BODY


def test_if_none_match_false_and_if_modified_since_true_is_not_modified(bucket: Bucket) -> None:
    etag = bucket.put("k", BODY).etag
    past = bucket.head("k").last_modified - timedelta(days=1)
    with pytest.raises(NotModified):
        bucket.get("k", if_none_match=etag, if_modified_since=past)


def test_naive_datetimes_are_utc(bucket: Bucket) -> None:
    bucket.put("k", BODY)
    modified = bucket.head("k").last_modified
    naive = modified.astimezone(UTC).replace(tzinfo=None)
    with pytest.raises(NotModified):
        bucket.get("k", if_modified_since=naive)


def test_bad_condition_types_are_refused(bucket: Bucket) -> None:
    bucket.put("k", BODY)
    with pytest.raises(InvalidArgument, match="if_modified_since must be a datetime"):
        bucket.get("k", if_modified_since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="if_match"):
        bucket.get("k", if_match="")


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, 999),
        ("bytes=-100", 900, 999),
        ("bytes=990-2000", 990, 999),
        ("bytes=-5000", 0, 999),
        ((10, 19), 10, 19),
        ((999, 999), 999, 999),
    ],
)
def test_ranges(bucket: Bucket, spec, start: int, end: int) -> None:
    bucket.put("k", BODY)
    obj = bucket.get("k", range=spec)
    assert obj.body == BODY[start : end + 1]
    assert obj.content_length == end - start + 1
    assert obj.content_range == f"bytes {start}-{end}/1000"
    assert obj.size == 1000
    head = bucket.head("k", range=spec)
    assert head.content_range == obj.content_range


@pytest.mark.parametrize("spec", ["bytes=1000-", "bytes=1000-1001", "bytes=-0", (5000, 6000)])
def test_unsatisfiable_range_is_invalid_range(bucket: Bucket, spec) -> None:
    bucket.put("k", BODY)
    with pytest.raises(InvalidRange) as err:
        bucket.get("k", range=spec)
    assert err.value.status == 416 and err.value.code == "InvalidRange"


def test_any_range_of_an_empty_object_is_invalid(bucket: Bucket) -> None:
    bucket.put("k", b"")
    with pytest.raises(InvalidRange):
        bucket.get("k", range="bytes=0-")


@pytest.mark.parametrize("spec", ["0-99", "bytes=5-2", "bytes=0-1,5-6", "bytes=", "bits=0-1", (5, 2), (-1, 3), (1,)])
def test_malformed_range_is_refused(bucket: Bucket, spec) -> None:
    bucket.put("k", BODY)
    with pytest.raises(InvalidArgument, match="range"):
        bucket.get("k", range=spec)


def test_conditions_are_checked_before_the_range(bucket: Bucket) -> None:
    etag = bucket.put("k", BODY).etag
    with pytest.raises(NotModified):
        bucket.get("k", range="bytes=5000-", if_none_match=etag)


def test_last_modified_follows_the_clock(harness: BucketHarness) -> None:
    harness.plain.put("a", b"x")
    harness.advance(3600)
    harness.plain.put("b", b"x")
    a, b = harness.plain.head("a").last_modified, harness.plain.head("b").last_modified
    assert b - a == timedelta(hours=1)
    assert abs(b.timestamp() - harness.now()) < 1
    assert isinstance(a, datetime)
