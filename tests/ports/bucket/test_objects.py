"""Put, get, head and delete: bodies, headers, ETags and S3's limits, with nothing written on failure."""

from __future__ import annotations

import hashlib
import io

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.errors import LimitExceeded, ResourceNotFound, ValidationError
from stratus.resources.bucket import (
    Bucket,
    EntityTooLarge,
    InvalidArgument,
    KeyTooLong,
    MalformedXML,
    MetadataTooLarge,
    NoSuchKey,
)


def md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def test_put_then_get_returns_body_headers_and_quoted_md5_etag(bucket: Bucket) -> None:
    result = bucket.put(
        "docs/readme.txt",
        b"hello world",
        content_type="text/plain",
        metadata={"Owner": "ana"},
        cache_control="max-age=60",
    )
    assert result.etag == md5(b"hello world")
    assert result.version_id is None
    obj = bucket.get("docs/readme.txt")
    assert obj.body == b"hello world"
    assert obj.content_type == "text/plain"
    assert obj.content_length == 11
    assert obj.metadata == {"owner": "ana"}  # S3 stores metadata keys in lower case
    assert obj.etag == result.etag
    assert obj.cache_control == "max-age=60"
    assert obj.content_range is None
    assert obj.version_id is None
    assert obj.last_modified.tzinfo is not None


def test_body_may_be_str_bytearray_or_binary_file(bucket: Bucket) -> None:
    bucket.put("s", "héllo")
    assert bucket.get("s").body == "héllo".encode()
    bucket.put("ba", bytearray(b"abc"))
    assert bucket.get("ba").body == b"abc"
    data = bytes(range(256)) * 5000
    bucket.put("f", io.BytesIO(data))
    assert bucket.get("f").body == data
    assert bucket.head("f").etag == md5(data)


def test_text_file_and_other_types_are_refused(bucket: Bucket) -> None:
    with pytest.raises(InvalidArgument, match="binary mode"):
        bucket.put("t", io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="body must be bytes"):
        bucket.put("t", 42)  # type: ignore[arg-type]
    assert not bucket.exists("t")


def test_default_content_type_is_binary_octet_stream(bucket: Bucket) -> None:
    bucket.put("k", b"x")
    assert bucket.head("k").content_type == "binary/octet-stream"


def test_empty_object(bucket: Bucket) -> None:
    bucket.put("empty", b"")
    obj = bucket.get("empty")
    assert obj.body == b"" and obj.content_length == 0
    assert obj.etag == md5(b"")


def test_put_replaces(bucket: Bucket) -> None:
    bucket.put("k", b"one", metadata={"a": "1"})
    bucket.put("k", b"two")
    obj = bucket.get("k")
    assert obj.body == b"two"
    assert obj.metadata == {}


def test_head_has_headers_and_no_body(bucket: Bucket) -> None:
    bucket.put("k", b"12345", content_type="image/png", metadata={"x": "y"})
    head = bucket.head("k")
    assert head.content_length == 5 and head.size == 5
    assert head.content_type == "image/png"
    assert head.metadata == {"x": "y"}
    assert not hasattr(head, "body")


def test_missing_key_is_no_such_key(bucket: Bucket) -> None:
    with pytest.raises(NoSuchKey) as err:
        bucket.get("nope")
    assert err.value.code == "NoSuchKey"
    assert err.value.status == 404
    assert isinstance(err.value, ResourceNotFound)
    with pytest.raises(NoSuchKey):
        bucket.head("nope")
    assert bucket.exists("nope") is False


def test_delete_removes_and_is_idempotent(bucket: Bucket) -> None:
    bucket.put("k", b"x")
    result = bucket.delete("k")
    assert result.key == "k" and not result.delete_marker
    with pytest.raises(NoSuchKey):
        bucket.get("k")
    bucket.delete("k")  # deleting a missing key succeeds, as in S3


def test_keys_are_any_utf8_up_to_1024_bytes(bucket: Bucket) -> None:
    odd = "dir with spaces/ünïcødé/日本語/a+b=c&d?e#f%20 ~!.txt"
    bucket.put(odd, b"odd")
    assert bucket.get(odd).body == b"odd"
    longest = "é" * 512  # 1024 bytes
    bucket.put(longest, b"x")
    assert bucket.exists(longest)


def test_key_too_long_writes_nothing(bucket: Bucket) -> None:
    key = "a" * 1025
    with pytest.raises(KeyTooLong, match="1025 bytes") as err:
        bucket.put(key, b"x")
    assert err.value.code == "KeyTooLongError"
    assert isinstance(err.value, ValidationError)
    assert bucket.list().objects == []


def test_empty_or_non_string_key_is_refused(bucket: Bucket) -> None:
    with pytest.raises(InvalidArgument, match="key must not be empty"):
        bucket.put("", b"x")
    with pytest.raises(InvalidArgument, match="key must be a string"):
        bucket.put(5, b"x")  # type: ignore[arg-type]
    assert bucket.list().objects == []


def test_metadata_limit_is_2kb_of_keys_and_values(bucket: Bucket) -> None:
    bucket.put("ok", b"x", metadata={"k": "v" * 2047})  # 1 + 2047 bytes
    with pytest.raises(MetadataTooLarge, match="2049 bytes") as err:
        bucket.put("big", b"x", metadata={"k": "v" * 2048})
    assert err.value.code == "MetadataTooLarge"
    assert isinstance(err.value, LimitExceeded)
    with pytest.raises(NoSuchKey):
        bucket.head("big")


def test_metadata_values_count_in_utf8_bytes(bucket: Bucket) -> None:
    with pytest.raises(MetadataTooLarge):
        bucket.put("big", b"x", metadata={"k": "é" * 1024})  # 1 + 2048 bytes
    bucket.put("ok", b"x", metadata={"k": "é" * 1023})
    assert bucket.head("ok").metadata == {"k": "é" * 1023}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"bad key": "v"}, "metadata key 'bad key'"),
        ({"ключ": "v"}, "US-ASCII"),
        ({"k": "line\nbreak"}, "control character"),
        ({"k": 1}, "strings"),
        ({"A": "1", "a": "2"}, "given twice"),
    ],
)
def test_bad_metadata_is_refused(bucket: Bucket, metadata: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        bucket.put("k", b"x", metadata=metadata)
    assert not bucket.exists("k")


def test_bad_content_type_is_refused(bucket: Bucket) -> None:
    with pytest.raises(InvalidArgument, match="content_type"):
        bucket.put("k", b"x", content_type="text/plain\r\nX-Evil: 1")
    assert not bucket.exists("k")


def test_objects_over_5_gb_are_entity_too_large(bucket: Bucket, tmp_path) -> None:
    sparse = tmp_path / "huge"
    with open(sparse, "wb") as f:
        f.truncate(5 * 1024**3 + 1)  # a sparse file: no disk used, nothing read
    with open(sparse, "rb") as f, pytest.raises(EntityTooLarge) as err:
        bucket.put("huge", f)
    assert err.value.code == "EntityTooLarge"
    assert not bucket.exists("huge")


def test_delete_many_reports_each_key(bucket: Bucket) -> None:
    for k in ("a", "b", "c"):
        bucket.put(k, b"x")
    results = bucket.delete_many(["a", "b", "missing"])
    assert [r.key for r in results] == ["a", "b", "missing"]
    assert all(r.error_code is None for r in results)
    assert [o.key for o in bucket.list().objects] == ["c"]


def test_delete_many_limits(bucket: Bucket) -> None:
    bucket.put("keep", b"x")
    with pytest.raises(MalformedXML, match="at most 1000"):
        bucket.delete_many([f"k{i}" for i in range(1001)])
    with pytest.raises(MalformedXML, match="at least one"):
        bucket.delete_many([])
    with pytest.raises(KeyTooLong):
        bucket.delete_many(["keep", "a" * 2000])
    assert bucket.exists("keep")  # a bad request deletes nothing


def test_state_survives_restart(harness: BucketHarness) -> None:
    harness.plain.put("a/1", b"one", metadata={"m": "v"}, content_type="text/plain")
    harness.plain.put("a/2", b"two")
    harness.plain.delete("a/2")
    harness.restart()
    obj = harness.plain.get("a/1")
    assert (obj.body, obj.metadata, obj.content_type) == (b"one", {"m": "v"}, "text/plain")
    assert [o.key for o in harness.plain.list().objects] == ["a/1"]
