"""Multipart uploads: parts, S3's completion rules and ETag, abort, listing uploads."""

from __future__ import annotations

import hashlib

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.resources.bucket import (
    Bucket,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
    NoSuchKey,
    NoSuchUpload,
)

MIB = 1024 * 1024
PART1 = b"a" * (5 * MIB)
PART2 = b"b" * (5 * MIB)
LAST = b"tail"


def multipart_etag(*parts: bytes) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def test_upload_and_complete(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("big.bin", content_type="video/mp4", metadata={"Source": "cam"})
    e1 = bucket.upload_part(upload, 1, PART1)
    e2 = bucket.upload_part(upload, 2, PART2)
    e3 = bucket.upload_part(upload, 3, LAST)
    assert e1 == '"' + hashlib.md5(PART1).hexdigest() + '"'
    result = bucket.complete_multipart_upload(upload, [(1, e1), (2, e2), (3, e3)])
    assert result.etag == multipart_etag(PART1, PART2, LAST)
    obj = bucket.get("big.bin")
    assert obj.body == PART1 + PART2 + LAST
    assert obj.etag == result.etag
    assert obj.content_type == "video/mp4"
    assert obj.metadata == {"source": "cam"}
    assert bucket.get("big.bin", range=(5 * MIB - 2, 5 * MIB + 1)).body == b"aabb"
    assert bucket.list_multipart_uploads() == []
    with pytest.raises(NoSuchUpload):
        bucket.upload_part(upload, 4, b"x")


def test_single_small_part_is_allowed(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("small")
    etag = bucket.upload_part(upload, 1, b"tiny")
    assert bucket.complete_multipart_upload(upload, [(1, etag)]).etag == multipart_etag(b"tiny")
    assert bucket.get("small").body == b"tiny"


def test_parts_below_5_mib_except_the_last_are_entity_too_small(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    e1 = bucket.upload_part(upload, 1, PART1[:-1])
    e2 = bucket.upload_part(upload, 2, LAST)
    with pytest.raises(EntityTooSmall) as err:
        bucket.complete_multipart_upload(upload, [(1, e1), (2, e2)])
    assert err.value.code == "EntityTooSmall"
    assert not bucket.exists("k")
    # The upload is still open: fix the part and complete.
    e1 = bucket.upload_part(upload, 1, PART1)
    bucket.complete_multipart_upload(upload, [(1, e1), (2, e2)])
    assert bucket.head("k").size == len(PART1) + len(LAST)


def test_wrong_etag_or_missing_part_is_invalid_part(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    e1 = bucket.upload_part(upload, 1, PART1)
    with pytest.raises(InvalidPart) as err:
        bucket.complete_multipart_upload(upload, [(1, '"0000"')])
    assert err.value.code == "InvalidPart"
    with pytest.raises(InvalidPart):
        bucket.complete_multipart_upload(upload, [(1, e1), (2, e1)])
    assert not bucket.exists("k")
    assert [u.upload_id for u in bucket.list_multipart_uploads()] == [upload]


def test_parts_must_ascend(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    e1 = bucket.upload_part(upload, 1, PART1)
    e2 = bucket.upload_part(upload, 2, LAST)
    with pytest.raises(InvalidPartOrder) as err:
        bucket.complete_multipart_upload(upload, [(2, e2), (1, e1)])
    assert err.value.code == "InvalidPartOrder"
    with pytest.raises(InvalidPartOrder):
        bucket.complete_multipart_upload(upload, [(1, e1), (1, e1)])
    with pytest.raises(MalformedXML):
        bucket.complete_multipart_upload(upload, [])
    assert not bucket.exists("k")


def test_part_numbers_are_1_to_10000(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    for bad in (0, 10001, -1, True):
        with pytest.raises(InvalidArgument, match="between 1 and 10000"):
            bucket.upload_part(upload, bad, b"x")
    bucket.upload_part(upload, 10000, b"x")


def test_reuploading_a_part_replaces_it(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    bucket.upload_part(upload, 1, b"first")
    e1 = bucket.upload_part(upload, 1, b"second")
    bucket.complete_multipart_upload(upload, [(1, e1)])
    assert bucket.get("k").body == b"second"


def test_only_listed_parts_are_used(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    e1 = bucket.upload_part(upload, 1, PART1)
    bucket.upload_part(upload, 2, b"unused")
    e3 = bucket.upload_part(upload, 3, LAST)
    bucket.complete_multipart_upload(upload, [(1, e1), (3, e3)])
    assert bucket.get("k").body == PART1 + LAST


def test_abort_discards_the_upload(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("k")
    e1 = bucket.upload_part(upload, 1, b"x")
    bucket.abort_multipart_upload(upload)
    with pytest.raises(NoSuchUpload) as err:
        bucket.complete_multipart_upload(upload, [(1, e1)])
    assert err.value.code == "NoSuchUpload"
    with pytest.raises(NoSuchUpload):
        bucket.abort_multipart_upload(upload)
    with pytest.raises(NoSuchKey):
        bucket.get("k")


def test_unknown_upload_is_no_such_upload(bucket: Bucket) -> None:
    with pytest.raises(NoSuchUpload):
        bucket.upload_part("no-such-upload", 1, b"x")


def test_list_multipart_uploads(harness: BucketHarness) -> None:
    bucket = harness.plain
    u1 = bucket.create_multipart_upload("b/2")
    harness.advance(1)
    u2 = bucket.create_multipart_upload("a/1")
    harness.advance(1)
    u3 = bucket.create_multipart_upload("b/2")
    uploads = bucket.list_multipart_uploads()
    assert [(u.key, u.upload_id) for u in uploads] == [("a/1", u2), ("b/2", u1), ("b/2", u3)]
    assert uploads[1].initiated < uploads[2].initiated
    assert [u.upload_id for u in bucket.list_multipart_uploads("b/")] == [u1, u3]
    assert harness.other.list_multipart_uploads() == []


def test_uploads_survive_restart(harness: BucketHarness) -> None:
    upload = harness.plain.create_multipart_upload("k")
    e1 = harness.plain.upload_part(upload, 1, PART1)
    harness.restart()
    e2 = harness.plain.upload_part(upload, 2, LAST)
    harness.plain.complete_multipart_upload(upload, [(1, e1), (2, e2)])
    assert harness.plain.get("k").body == PART1 + LAST


def test_completing_in_a_versioned_bucket_makes_a_version(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"old").version_id
    upload = versioned.create_multipart_upload("k")
    etag = versioned.upload_part(upload, 1, b"new")
    result = versioned.complete_multipart_upload(upload, [(1, etag)])
    assert result.version_id and result.version_id != v1
    assert versioned.get("k").body == b"new"
    assert versioned.get("k", version_id=v1).body == b"old"
