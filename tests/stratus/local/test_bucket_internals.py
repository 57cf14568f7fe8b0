"""LocalBucket's parts: body files, listing key ranges, the URL signing secret."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from stratus import App
from stratus.local.bucket.blobs import INLINE_MAX, BlobStore, is_inline
from stratus.local.bucket.listing import decode_token, encode_token, successor
from stratus.local.bucket.signing import KEY_FILE, Signer
from stratus.resources.bucket import (
    BucketAccessDenied,
    Conditions,
    EntityTooLarge,
    InvalidArgument,
    SignatureDoesNotMatch,
)
from stratus.testing import local


class Zeros(io.RawIOBase):
    """An endless stream whose length cannot be known in advance."""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        b[: len(b)] = bytes(len(b))
        return len(b)


def test_small_bodies_are_inline_and_large_ones_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False)
    small = store.write(io.BytesIO(b"x" * INLINE_MAX), limit=10**9)
    assert small.data == b"x" * INLINE_MAX and is_inline(small.name)
    large = store.write(io.BytesIO(b"y" * (INLINE_MAX + 1)), limit=10**9)
    assert large.data is None and not is_inline(large.name)
    assert store.path(large.name).read_bytes() == b"y" * (INLINE_MAX + 1)


def test_stream_over_the_limit_is_refused_while_reading(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=False)
    with pytest.raises(EntityTooLarge):
        store.write(io.BufferedReader(Zeros()), limit=3 * 1024 * 1024)
    assert list(store.tmp.iterdir()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_write_hashes_and_publishes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, fsync=True)
    blob = store.write(b"hello", limit=10, inline=False)
    name = blob.name
    assert (blob.size, blob.md5, blob.data) == (5, "5d41402abc4b2a76b9719d911017c592", None)
    assert store.path(name).read_bytes() == b"hello"
    copy = store.adopt(store.path(name))
    store.remove([name])
    assert store.path(copy).read_bytes() == b"hello"
    assert store.clean({copy}) == 0
    assert store.clean(set()) == 1
    assert not store.path(copy).exists()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("a", "b"), ("photos/", "photos0"), ("a\U0010ffff", "b"), ("\ud7ff", "\ue000"), ("\U0010ffff", None)],
)
def test_successor_bounds_every_key_with_the_prefix(prefix: str, expected: str | None) -> None:
    assert successor(prefix) == expected


def test_tokens_round_trip() -> None:
    assert decode_token(encode_token("a/ü", True)) == ("a/ü", True)
    with pytest.raises(InvalidArgument, match="continuation token"):
        decode_token("bm90IGpzb24")


def test_signing_secret_is_private_and_stable(tmp_path: Path) -> None:
    signer = Signer(tmp_path)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "***" in repr(signer) and key_file.read_bytes().hex() not in repr(signer)
    url = signer.url("http://h", "GET", "b", "k", expires_in=60, now=1000.0, content_type=None)
    query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    Signer(tmp_path).verify("GET", "b", "k", query, now=1000.0, content_type=None)  # same secret after reopening
    with pytest.raises(SignatureDoesNotMatch):
        Signer(tmp_path / "elsewhere").verify("GET", "b", "k", query, now=1000.0, content_type=None)
    with pytest.raises(BucketAccessDenied, match="expired"):
        signer.verify("GET", "b", "k", query, now=1061.0, content_type=None)
    with pytest.raises(BucketAccessDenied, match="X-Amz-Signature"):
        signer.verify("GET", "b", "k", {"X-Amz-Expires": "60", "X-Amz-Date": "x"}, now=1000.0, content_type=None)


def test_one_secret_per_state_folder_shared_by_buckets() -> None:
    app = App("sig")
    a, b = app.bucket("aaa"), app.bucket("bbb")
    with local(app) as env:
        assert a.backend.signer is b.backend.signer  # type: ignore[attr-defined]
        assert (env.state_dir / "buckets" / KEY_FILE).exists()


def test_reads_never_see_a_body_removed_after_the_metadata_read() -> None:
    # get() opens the body file under the database lock; a later overwrite unlinks the old
    # file, which stays readable through the open descriptor.
    app = App("race")
    bucket = app.bucket("data")
    with local(app):
        bucket.put("k", b"old" * 100_000)  # large enough to be a file
        backend = bucket.backend
        _, f, _ = backend._read("k", None, Conditions(), None, True)  # type: ignore[attr-defined]
        bucket.put("k", b"new")
        assert f.read() == b"old" * 100_000
        f.close()
        assert bucket.get("k").body == b"new"


def test_concurrent_writers_and_readers_see_whole_objects() -> None:
    import threading

    app = App("conc")
    bucket = app.bucket("data", versioning=True)
    bodies = [bytes([i]) * (1000 if i % 2 else 200_000) for i in range(8)]  # inline and file bodies
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for _ in range(10):
                bucket.put("shared", bodies[i])
                bucket.put(f"own-{i}", bodies[i])
        except BaseException as e:
            errors.append(e)

    def reader() -> None:
        try:
            for _ in range(40):
                if bucket.exists("shared"):
                    body = bucket.get("shared").body
                    assert body in bodies  # never a mix or a prefix of two bodies
        except BaseException as e:
            errors.append(e)

    with local(app):
        threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(bucket.list_versions("shared").versions) == 80
        assert [bucket.get(f"own-{i}").body for i in range(8)] == bodies


def test_fsync_durability_writes_and_reads_back() -> None:
    app = App("sync")
    bucket = app.bucket("data")
    with local(app, durability="fsync") as env:
        bucket.put("small", b"s" * 10)
        bucket.put("large", b"L" * (INLINE_MAX + 10))
        env.restart()
        assert bucket.get("small").body == b"s" * 10
        assert bucket.get("large").body == b"L" * (INLINE_MAX + 10)


def test_a_reader_that_returns_text_is_refused() -> None:
    class Texty:
        def read(self, n: int = -1) -> str:
            return "text"

    app = App("texty")
    bucket = app.bucket("data")
    with local(app):
        with pytest.raises(InvalidArgument, match="binary mode"):
            bucket.put("k", Texty())  # type: ignore[arg-type]
        assert not bucket.exists("k")


def test_a_damaged_secret_is_replaced(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_bytes(b"")
    Signer(tmp_path)
    assert len((tmp_path / KEY_FILE).read_bytes()) == 32
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600
