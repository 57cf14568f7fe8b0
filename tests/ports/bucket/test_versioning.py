"""Versioning as S3 does it: a version per put, delete markers, reads and deletes by version id."""

from __future__ import annotations

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.resources.bucket import (
    Bucket,
    InvalidArgument,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
)


def test_each_put_is_a_new_version(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"one").version_id
    v2 = versioned.put("k", b"two").version_id
    assert v1 and v2 and v1 != v2
    assert versioned.get("k").body == b"two"
    assert versioned.get("k").version_id == v2
    assert versioned.get("k", version_id=v1).body == b"one"
    assert versioned.head("k", version_id=v1).version_id == v1


def test_delete_adds_a_marker_and_hides_the_key(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"one").version_id
    result = versioned.delete("k")
    assert result.delete_marker and result.version_id and result.version_id != v1
    with pytest.raises(NoSuchKey) as err:
        versioned.get("k")
    assert err.value.delete_marker is True
    assert err.value.version_id == result.version_id
    assert versioned.list().objects == []
    assert versioned.get("k", version_id=v1).body == b"one"  # the old version is still there


def test_get_of_a_delete_marker_version_is_method_not_allowed(versioned: Bucket) -> None:
    versioned.put("k", b"one")
    marker = versioned.delete("k").version_id
    with pytest.raises(MethodNotAllowed) as err:
        versioned.get("k", version_id=marker)
    assert err.value.status == 405


def test_deleting_the_marker_restores_the_object(versioned: Bucket) -> None:
    versioned.put("k", b"one")
    marker = versioned.delete("k").version_id
    result = versioned.delete("k", version_id=marker)
    assert result.delete_marker is True and result.version_id == marker
    assert versioned.get("k").body == b"one"


def test_deleting_a_version_removes_it_for_good(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"one").version_id
    v2 = versioned.put("k", b"two").version_id
    result = versioned.delete("k", version_id=v2)
    assert result.version_id == v2 and not result.delete_marker
    assert versioned.get("k").body == b"one"  # the previous version is current again
    with pytest.raises(NoSuchVersion) as err:
        versioned.get("k", version_id=v2)
    assert err.value.code == "NoSuchVersion"
    versioned.delete("k", version_id=v1)
    with pytest.raises(NoSuchKey) as missing:
        versioned.get("k")
    assert missing.value.delete_marker is False


def test_version_of_another_key_is_no_such_version(versioned: Bucket) -> None:
    va = versioned.put("a", b"a").version_id
    versioned.put("b", b"b")
    with pytest.raises(NoSuchVersion):
        versioned.get("b", version_id=va)


def test_list_versions_newest_first_with_markers(versioned: Bucket) -> None:
    v1 = versioned.put("k", b"one").version_id
    v2 = versioned.put("k", b"two").version_id
    marker = versioned.delete("k").version_id
    va = versioned.put("a", b"a").version_id
    listing = versioned.list_versions()
    rows = [(v.key, v.version_id, v.is_latest, v.is_delete_marker) for v in listing.versions]
    assert rows == [
        ("a", va, True, False),
        ("k", marker, True, True),
        ("k", v2, False, False),
        ("k", v1, False, False),
    ]
    assert listing.versions[2].size == 3 and listing.versions[2].etag
    assert listing.versions[1].etag is None
    assert [v.key for v in versioned.list_versions("a").versions] == ["a"]


def test_list_versions_pages(versioned: Bucket) -> None:
    ids = [versioned.put("k", str(i)).version_id for i in range(5)]
    versioned.put("z", b"z")
    first = versioned.list_versions(max_keys=2)
    assert [v.version_id for v in first.versions] == ids[::-1][:2]
    assert first.is_truncated and first.next_key_marker == "k"
    rest = versioned.list_versions(
        max_keys=10, key_marker=first.next_key_marker, version_id_marker=first.next_version_id_marker
    )
    assert [v.version_id for v in rest.versions] == [*ids[::-1][2:], rest.versions[-1].version_id]
    assert rest.versions[-1].key == "z" and not rest.is_truncated
    with pytest.raises(InvalidArgument, match="key marker"):
        versioned.list_versions(version_id_marker=ids[0])


def test_unversioned_bucket_has_null_versions(bucket: Bucket) -> None:
    assert bucket.put("k", b"one").version_id is None
    bucket.put("k", b"two")
    versions = bucket.list_versions().versions
    assert [(v.key, v.version_id, v.is_latest) for v in versions] == [("k", "null", True)]
    assert bucket.get("k", version_id="null").body == b"two"
    assert bucket.delete("k").delete_marker is False
    assert bucket.list_versions().versions == []


def test_versions_survive_restart(harness: BucketHarness) -> None:
    v1 = harness.versioned.put("k", b"one").version_id
    harness.versioned.put("k", b"two")
    harness.versioned.delete("k")
    harness.restart()
    assert harness.versioned.get("k", version_id=v1).body == b"one"
    with pytest.raises(NoSuchKey):
        harness.versioned.get("k")
    assert len(harness.versioned.list_versions().versions) == 3


def test_delete_many_with_versions(versioned: Bucket) -> None:
    v1 = versioned.put("a", b"1").version_id
    versioned.put("b", b"2")
    results = versioned.delete_many([("a", v1), "b"])
    assert results[0].version_id == v1 and not results[0].delete_marker
    assert results[1].delete_marker and results[1].version_id
    assert versioned.list().objects == []
    assert [v.key for v in versioned.list_versions().versions] == ["b", "b"]
