"""Object bodies: small ones inside SQLite, larger ones as immutable files, never half-visible.

A body of at most ``INLINE_MAX`` bytes is kept in the ``bucket_bodies`` table and
committed in the same transaction as its metadata: on this kind of workload SQLite
reads and writes small blobs faster than the file system creates files (creating a file
costs more than a whole commit), and a transaction cannot leave an orphan.

A larger body is streamed into ``tmp/``, hashed (MD5, for the ETag) as it goes, flushed (and
fsynced when the cloud's durability is ``fsync``) and renamed to a fresh, never-reused
name. Only then does the adapter commit the metadata that points at it; a file is never
overwritten, so a crash leaves at worst an unreferenced file, which :meth:`BlobStore.clean`
removes when the adapter next opens.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from stratus.resources.bucket.errors import EntityTooLarge, InvalidArgument

CHUNK = 1024 * 1024
#: Bodies up to this size live in SQLite (SQLite's own measurements put the crossover near 100 KB).
INLINE_MAX = 128 * 1024
INLINE_PREFIX = "@"


def is_inline(name: str | None) -> bool:
    return bool(name) and name.startswith(INLINE_PREFIX)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Blob:
    """A stored body: its name (``@...`` when inline), size, MD5 hex, and the bytes when inline."""

    name: str
    size: int
    md5: str
    data: bytes | None = None


class BlobStore:
    """The files of one bucket: ``<state>/buckets/<qualified name>/<ab>/<abcdef...>``."""

    def __init__(self, root: Path, *, fsync: bool) -> None:
        self.root = root
        self.fsync = fsync
        self.tmp = root / "tmp"
        self._folders: set[str] = set()  # created lazily: a bucket of small objects needs none

    def _temp(self, name: str) -> Path:
        if "tmp" not in self._folders:
            self.tmp.mkdir(parents=True, exist_ok=True)
            self._folders.add("tmp")
        return self.tmp / name

    def path(self, name: str) -> Path:
        return self.root / name[:2] / name

    def write(self, body: bytes | BinaryIO, *, limit: int, inline: bool = True) -> Blob:
        """Store a body, inline when small. Nothing is left behind on failure."""
        if isinstance(body, bytes):
            if inline and len(body) <= INLINE_MAX:
                md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
                return Blob(INLINE_PREFIX + uuid.uuid4().hex, len(body), md5, body)
            return self._write_file([body], None, limit)
        head = _read_some(body, INLINE_MAX + 1 if inline else CHUNK)
        if inline and len(head) <= INLINE_MAX:
            md5 = hashlib.md5(head, usedforsecurity=False).hexdigest()
            return Blob(INLINE_PREFIX + uuid.uuid4().hex, len(head), md5, head)
        return self._write_file([head], body, limit)

    def _write_file(self, first: list[bytes], rest: BinaryIO | None, limit: int) -> Blob:
        name = uuid.uuid4().hex
        tmp = self._temp(name)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with open(tmp, "wb") as f:
                chunks = iter(first) if rest is None else _chain(first, rest)
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise EntityTooLarge(
                            f"Your proposed upload exceeds the maximum allowed object size (more than {limit} bytes)"
                        )
                    digest.update(chunk)
                    f.write(chunk)
                self._sync(f)
            self._publish(tmp, name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Blob(name, size, digest.hexdigest())

    def concat(self, names: Iterable[str]) -> tuple[str, int]:
        """A new blob holding the given blobs end to end (multipart completion)."""
        name = uuid.uuid4().hex
        tmp = self._temp(name)
        size = 0
        try:
            with open(tmp, "wb") as out:
                for part in names:
                    with open(self.path(part), "rb") as f:
                        size += _copy(f, out)
                self._sync(out)
            self._publish(tmp, name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return name, size

    def adopt(self, source: Path) -> str:
        """A new blob with the content of ``source`` (another blob, maybe of another bucket): a hard link."""
        name = uuid.uuid4().hex
        tmp = self._temp(name)
        try:
            try:
                os.link(source, tmp)
            except OSError:
                shutil.copyfile(source, tmp)
                if self.fsync:
                    with open(tmp, "rb+") as f:
                        os.fsync(f.fileno())
            self._publish(tmp, name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return name

    def remove(self, names: Iterable[str | None]) -> None:
        """Unlink body files (inline bodies are deleted with their metadata, not here)."""
        for name in names:
            if name and not is_inline(name):
                with contextlib.suppress(FileNotFoundError):
                    self.path(name).unlink()

    def clean(self, referenced: set[str]) -> int:
        """Delete temporary files and blobs no metadata refers to (left by a crash); returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for entry in self.tmp.iterdir() if self.tmp.is_dir() else ():
            entry.unlink(missing_ok=True)
            removed += 1
        for folder in self.root.iterdir():
            if folder.name == "tmp" or not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name not in referenced:
                    entry.unlink(missing_ok=True)
                    removed += 1
        return removed

    def _sync(self, f: BinaryIO) -> None:
        f.flush()
        if self.fsync:
            os.fsync(f.fileno())

    def _publish(self, tmp: Path, name: str) -> None:
        final = self.path(name)
        if name[:2] not in self._folders:
            final.parent.mkdir(exist_ok=True)
            self._folders.add(name[:2])
        os.replace(tmp, final)
        if self.fsync:
            fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _read_some(f: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = f.read(n - got)
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise InvalidArgument(f"body.read() returned {type(chunk).__name__}, not bytes; open files in binary mode")
        parts.append(bytes(chunk))
        got += len(chunk)
    return b"".join(parts)


def _chain(first: list[bytes], rest: BinaryIO) -> Iterable[bytes]:
    yield from first
    while True:
        chunk = _read_some(rest, CHUNK)
        if not chunk:
            return
        yield chunk


def _copy(src: BinaryIO, dst: BinaryIO) -> int:
    n = 0
    while chunk := src.read(CHUNK):
        dst.write(chunk)
        n += len(chunk)
    return n
