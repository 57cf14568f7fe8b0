"""LocalBucket reads: a whole get (metadata and inline body in one statement), a ranged get and a head
agree, for inline and file-backed bodies, current and older versions, before and after a restart."""

from __future__ import annotations

import os

import pytest

from stratus import App
from stratus.local.bucket.blobs import INLINE_MAX
from stratus.resources.bucket import NoSuchKey, NoSuchVersion, NotModified, PreconditionFailed
from stratus.testing import local

SIZES = [0, 1, 1000, INLINE_MAX, INLINE_MAX + 1]


@pytest.mark.parametrize("size", SIZES)
def test_whole_ranged_and_head_reads_agree(size: int) -> None:
    app = App("reads")
    bucket = app.bucket("objects", versioning=True)
    first, second = os.urandom(size), os.urandom(size + 7)
    with local(app) as env:
        old = bucket.put("k", first, metadata={"n": "1"}, content_type="text/plain")
        new = bucket.put("k", second)
        for _ in range(2):
            got = bucket.get("k")
            assert (got.body, got.size, got.content_length, got.etag) == (second, size + 7, size + 7, new.etag)
            assert (got.metadata, got.content_type, got.content_range) == ({}, "binary/octet-stream", None)
            ranged = bucket.get("k", range=(1, 5))
            assert ranged.body == second[1:6] and ranged.content_range == f"bytes 1-5/{size + 7}"
            head = bucket.head("k")
            assert (head.size, head.etag, head.version_id) == (size + 7, new.etag, new.version_id)
            older = bucket.get("k", version_id=old.version_id)
            assert (older.body, older.etag, older.metadata, older.content_type) == (
                first,
                old.etag,
                {"n": "1"},
                "text/plain",
            )
            with pytest.raises(NotModified):
                bucket.get("k", if_none_match=new.etag)
            with pytest.raises(PreconditionFailed):
                bucket.get("k", version_id=old.version_id, if_match=new.etag)
            env.restart()


def test_whole_reads_of_what_is_not_there() -> None:
    app = App("reads")
    bucket = app.bucket("objects", versioning=True)
    with local(app):
        version = bucket.put("k", b"body").version_id
        with pytest.raises(NoSuchKey):
            bucket.get("absent")
        with pytest.raises(NoSuchVersion):
            bucket.get("k", version_id="no-such-version")
        marker = bucket.delete("k")
        with pytest.raises(NoSuchKey) as caught:
            bucket.get("k")
        assert caught.value.delete_marker and caught.value.version_id == marker.version_id
        assert version is not None and bucket.get("k", version_id=version).body == b"body"
