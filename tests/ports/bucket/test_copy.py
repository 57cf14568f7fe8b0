"""CopyObject: COPY and REPLACE metadata directives, versions, across buckets."""

from __future__ import annotations

import hashlib

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.resources.bucket import Bucket, InvalidRequest, NoSuchKey, NoSuchVersion


def test_copy_keeps_body_and_headers(bucket: Bucket) -> None:
    src = bucket.put("src", b"data", content_type="text/csv", metadata={"a": "1"}, cache_control="no-cache")
    result = bucket.copy("src", "dst")
    assert result.etag == src.etag
    obj = bucket.get("dst")
    assert (obj.body, obj.content_type, obj.metadata, obj.cache_control) == (
        b"data",
        "text/csv",
        {"a": "1"},
        "no-cache",
    )
    assert bucket.get("src").body == b"data"


def test_copy_with_metadata_replaces_headers(bucket: Bucket) -> None:
    bucket.put("src", b"data", content_type="text/csv", metadata={"a": "1"})
    bucket.copy("src", "dst", metadata={"b": "2"})
    obj = bucket.get("dst")
    assert obj.metadata == {"b": "2"}
    assert obj.content_type == "binary/octet-stream"
    bucket.copy("src", "dst2", metadata={}, content_type="text/plain")
    assert bucket.head("dst2").content_type == "text/plain"
    assert bucket.head("dst2").metadata == {}


def test_copy_onto_itself_needs_a_change(bucket: Bucket) -> None:
    bucket.put("k", b"data", metadata={"a": "1"})
    with pytest.raises(InvalidRequest, match="copy an object to itself"):
        bucket.copy("k", "k")
    bucket.copy("k", "k", metadata={"a": "2"})
    obj = bucket.get("k")
    assert obj.metadata == {"a": "2"} and obj.body == b"data"


def test_copy_of_missing_source_is_no_such_key(bucket: Bucket) -> None:
    with pytest.raises(NoSuchKey):
        bucket.copy("missing", "dst")
    assert not bucket.exists("dst")


def test_copy_across_buckets(harness: BucketHarness) -> None:
    harness.plain.put("src", b"from plain", metadata={"m": "v"})
    result = harness.other.copy("src", "dst", source_bucket=harness.plain)
    assert harness.other.get("dst").body == b"from plain"
    assert harness.other.get("dst").metadata == {"m": "v"}
    assert result.etag == harness.plain.head("src").etag
    harness.plain.delete("src")
    assert harness.other.get("dst").body == b"from plain"  # the copy is independent


def test_copy_a_specific_version(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"one").version_id
    versioned.put("k", b"two")
    result = versioned.copy("k", "k", source_version_id=v1)
    assert result.source_version_id == v1
    assert result.version_id and result.version_id != v1
    assert versioned.get("k").body == b"one"
    versioned.delete("k", version_id=result.version_id)
    with pytest.raises(NoSuchVersion):
        versioned.copy("k", "x", source_version_id=result.version_id)


def test_copy_of_a_multipart_object_gets_an_md5_etag(bucket: Bucket) -> None:
    upload = bucket.create_multipart_upload("mp")
    etag = bucket.upload_part(upload, 1, b"parts")
    bucket.complete_multipart_upload(upload, [(1, etag)])
    result = bucket.copy("mp", "single")
    assert result.etag == '"' + hashlib.md5(b"parts").hexdigest() + '"'
    assert bucket.get("single").body == b"parts"


def test_copy_returns_last_modified_by_the_clock(harness: BucketHarness) -> None:
    harness.plain.put("src", b"x")
    harness.advance(120)
    result = harness.plain.copy("src", "dst")
    assert abs(result.last_modified.timestamp() - harness.now()) < 1
