"""Multipart uploads for LocalBucket: parts as blobs, assembled into one blob on completion.

Completion checks the listed parts (InvalidPart, EntityTooSmall), concatenates their
files into a new blob outside the lock, then in one transaction re-checks that the
upload and its parts are unchanged, records the object and drops the upload. The ETag
is S3's: the MD5 of the concatenated binary part MD5s, a dash, and the part count.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stratus.local.bucket.blobs import Blob
from stratus.resources.bucket.backend import Body
from stratus.resources.bucket.errors import EntityTooSmall, InvalidPart, NoSuchUpload
from stratus.resources.bucket.rules import MAX_PART_SIZE, MIN_PART_SIZE
from stratus.resources.bucket.types import MultipartUpload, PutResult

if TYPE_CHECKING:
    from stratus.local.bucket.adapter import LocalBucket

_INVALID_PART = (
    "One or more of the specified parts could not be found. The part may not have been uploaded, "
    "or the specified entity tag may not match the part's entity tag."
)


class Multipart:
    def __init__(self, bucket: LocalBucket) -> None:
        self.bucket = bucket
        self.db = bucket.db
        self.name = bucket.name

    def _upload(self, conn: sqlite3.Connection, upload_id: str) -> tuple[str, str, str | None, str]:
        row = conn.execute(
            "SELECT key, content_type, cache_control, metadata FROM bucket_uploads WHERE upload_id = ? AND bucket = ?",
            (upload_id, self.name),
        ).fetchone()
        if row is None:
            raise NoSuchUpload()
        return tuple(row)

    def create(self, key: str, *, content_type: str, metadata: dict[str, str], cache_control: str | None) -> str:
        upload_id = secrets.token_urlsafe(48)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO bucket_uploads (upload_id, bucket, key, content_type, cache_control, metadata, initiated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (upload_id, self.name, key, content_type, cache_control, json.dumps(metadata), self.bucket.clock.now()),
            )
        return upload_id

    def upload_part(self, upload_id: str, part_number: int, body: Body) -> str:
        with self.db.read() as conn:
            self._upload(conn, upload_id)  # fail fast, before writing a body
        stored = self.bucket.blobs.write(body, limit=MAX_PART_SIZE, inline=False)
        blob, size, etag = stored.name, stored.size, f'"{stored.md5}"'
        try:
            with self.db.transaction() as conn:
                self._upload(conn, upload_id)
                old = conn.execute(
                    "SELECT blob FROM bucket_parts WHERE upload_id = ? AND part_number = ?", (upload_id, part_number)
                ).fetchone()
                conn.execute(
                    "INSERT OR REPLACE INTO bucket_parts (upload_id, part_number, blob, size, etag) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (upload_id, part_number, blob, size, etag),
                )
        except BaseException:
            self.bucket.blobs.remove([blob])
            raise
        if old:
            self.bucket.blobs.remove([old[0]])
        return etag

    def _chosen_parts(self, conn: sqlite3.Connection, upload_id: str, parts: list[tuple[int, str]]) -> list[tuple]:
        stored = {
            n: (blob, size, etag)
            for n, blob, size, etag in conn.execute(
                "SELECT part_number, blob, size, etag FROM bucket_parts WHERE upload_id = ?", (upload_id,)
            )
        }
        chosen = []
        for number, etag in parts:
            part = stored.get(number)
            if part is None or part[2].strip('"') != etag.strip().strip('"'):
                raise InvalidPart(f"{_INVALID_PART} (part {number})")
            chosen.append((number, *part))
        return chosen

    def complete(self, upload_id: str, parts: list[tuple[int, str]]) -> PutResult:
        with self.db.read() as conn:
            key, content_type, cache_control, metadata = self._upload(conn, upload_id)
            chosen = self._chosen_parts(conn, upload_id, parts)
        for number, _blob, size, _etag in chosen[:-1]:
            if size < MIN_PART_SIZE:
                raise EntityTooSmall(
                    "Your proposed upload is smaller than the minimum allowed object size: part "
                    f"{number} is {size} bytes; every part but the last must be at least {MIN_PART_SIZE} bytes"
                )
        digest = hashlib.md5(usedforsecurity=False)
        for *_, etag in chosen:
            digest.update(bytes.fromhex(etag.strip('"')))
        etag = f'"{digest.hexdigest()}-{len(chosen)}"'
        try:
            blob, size = self.bucket.blobs.concat(b for _, b, _, _ in chosen)
        except FileNotFoundError:  # a part was replaced or the upload aborted meanwhile
            with self.db.read() as conn:
                self._upload(conn, upload_id)
                self._chosen_parts(conn, upload_id, parts)
            raise

        def consume(conn: sqlite3.Connection) -> list[str | None]:
            self._upload(conn, upload_id)
            now_parts = self._chosen_parts(conn, upload_id, parts)
            if [p[1] for p in now_parts] != [p[1] for p in chosen]:
                raise InvalidPart(f"{_INVALID_PART} (a part was replaced while completing)")
            garbage = [r[0] for r in conn.execute("SELECT blob FROM bucket_parts WHERE upload_id = ?", (upload_id,))]
            conn.execute("DELETE FROM bucket_uploads WHERE upload_id = ?", (upload_id,))
            return garbage

        result, _ = self.bucket.commit_object(
            key,
            blob=Blob(blob, size, ""),
            etag=etag,
            content_type=content_type,
            cache_control=cache_control,
            metadata=json.loads(metadata),
            event_name="ObjectCreated:CompleteMultipartUpload",
            before=consume,
        )
        return result

    def abort(self, upload_id: str) -> None:
        with self.db.transaction() as conn:
            self._upload(conn, upload_id)
            garbage = [r[0] for r in conn.execute("SELECT blob FROM bucket_parts WHERE upload_id = ?", (upload_id,))]
            conn.execute("DELETE FROM bucket_uploads WHERE upload_id = ?", (upload_id,))
        self.bucket.blobs.remove(garbage)

    def list(self, prefix: str) -> list[MultipartUpload]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT key, upload_id, initiated FROM bucket_uploads WHERE bucket = ? AND substr(key, 1, ?) = ? "
                "ORDER BY key, initiated",
                (self.name, len(prefix), prefix),
            ).fetchall()
        return [MultipartUpload(key=k, upload_id=u, initiated=datetime.fromtimestamp(t, tz=UTC)) for k, u, t in rows]
