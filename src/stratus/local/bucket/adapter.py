"""LocalBucket: the bucket port on SQLite metadata and bodies (inline in SQLite when small, files otherwise).

Order of a write: a large body goes to a new file first (flushed, renamed into place);
then one SQLite transaction checks the preconditions, stores a small body inline,
records the version and appends the notification message; then files no longer
referenced are unlinked. So an acknowledged put is complete, a failed or crashed one
leaves no visible trace (at worst an orphan file, removed on the next open), and a
reader never sees half an object: it reads an inline body, or opens the body file, under
the same lock that guards the metadata, and an unlinked file stays readable through an
open descriptor.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from stratus.local.bucket import events, listing
from stratus.local.bucket.blobs import INLINE_PREFIX, Blob, BlobStore, is_inline
from stratus.local.bucket.multipart import Multipart
from stratus.local.bucket.schema import MIGRATIONS
from stratus.local.bucket.signing import Signer
from stratus.resources.bucket.backend import Body, BucketBackend, NotificationLog
from stratus.resources.bucket.errors import (
    InvalidArgument,
    InvalidRequest,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
)
from stratus.resources.bucket.rules import (
    DEFAULT_CONTENT_TYPE,
    MAX_PUT_SIZE,
    ByteRange,
    check_conditions,
    etag_matches,
    resolve_range,
)
from stratus.resources.bucket.types import (
    Conditions,
    CopyResult,
    DeleteResult,
    Listing,
    MultipartUpload,
    Object,
    ObjectHead,
    PutResult,
    VersionListing,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.storage import Database
    from stratus.resources.bucket.handle import Bucket

NULL = "null"
_COLUMNS = (
    "seq, key, version_id, is_latest, delete_marker, blob, size, etag, content_type, cache_control, metadata, "
    "last_modified"
)


_WITH_BODY = (
    f"SELECT {_COLUMNS}, data FROM bucket_objects LEFT JOIN bucket_bodies ON id = blob WHERE bucket = ? AND key = ?"
)
_SELECT_LATEST_WITH_BODY = _WITH_BODY + " AND is_latest = 1"
_SELECT_VERSION_WITH_BODY = _WITH_BODY + " AND version_id = ?"


#: WAL pages between checkpoints (SQLite's default is 1,000): a checkpoint copies the bodies written since
#: the last one into the database file and syncs both files, and its cost is mostly per checkpoint, not
#: per page; at 1,000 pages (about 45 puts of 64 KB) a put paid ~0.7 ms of checkpoint on average on disk.
CHECKPOINT_PAGES = 8192
#: Address space mapped over ``buckets.db`` for reads.
MMAP_BYTES = 1 << 30


def _tune(db: Database) -> bool:
    """Settings of ``buckets.db`` for this process (once per cloud)."""
    with db.lock:
        db.hold_file_lock()
        db.connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        # Bodies are read straight from the mapped database file instead of a read() per 4 KB page
        # (pages still in the WAL are read as before); the mapping grows with the file up to this size.
        db.connection.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    return True


def _metadata(text: str | None) -> dict[str, str]:
    if not text or text == "{}":
        return {}
    metadata: dict[str, str] = json.loads(text)
    return metadata


def new_version_id() -> str:
    return secrets.token_urlsafe(24)


def _ms(epoch: float) -> float:
    return int(epoch * 1000) / 1000


class _Row:
    __slots__ = (
        "blob", "cache_control", "content_type", "delete_marker", "etag", "is_latest", "key",
        "last_modified", "metadata", "seq", "size", "version_id",
    )  # fmt: skip

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.seq, self.key, self.version_id, self.is_latest, self.delete_marker, self.blob, self.size,
         self.etag, self.content_type, self.cache_control, self.metadata, self.last_modified) = row  # fmt: skip


class LocalBucket(BucketBackend, NotificationLog):
    """The embedded adapter of one declared bucket."""

    def __init__(self, resource: Bucket, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.clock = cloud.clock
        self.name = resource.qualified_name
        self.versioning = resource.versioning
        self.db = cloud.storage.database("buckets")
        cloud.shared("buckets-database", lambda: _tune(self.db))
        self.db.migrate("bucket", MIGRATIONS)
        self.blobs = BlobStore(cloud.storage.root / "buckets" / self.name, fsync=cloud.storage.durability == "fsync")
        self.signer = cloud.shared("bucket-signer", lambda: Signer(cloud.storage.folder("buckets")))
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        self.multipart = Multipart(self)
        with self.db.transaction() as conn:
            self._oldest_event = events.trim(conn, self.name, self.clock.now())
            referenced = {
                r[0]
                for r in conn.execute(
                    "SELECT blob FROM bucket_objects WHERE bucket = ? AND blob IS NOT NULL AND blob NOT LIKE '@%' "
                    "UNION ALL SELECT p.blob FROM bucket_parts p JOIN bucket_uploads u USING (upload_id) "
                    "WHERE u.bucket = ?",
                    (self.name, self.name),
                )
            }
            self.blobs.clean(referenced)

    @property
    def notify(self) -> bool:
        """Whether changes are logged: only buckets with notification rules emit events, as in S3."""
        return bool(self.resource.notifications)

    # Shared write machinery

    def _fetch(self, conn: sqlite3.Connection, key: str, version_id: str | None) -> _Row | None:
        if version_id is None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM bucket_objects WHERE bucket = ? AND key = ? AND is_latest = 1",
                (self.name, key),
            ).fetchone()
        else:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM bucket_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (self.name, key, version_id),
            ).fetchone()
        return _Row(row) if row else None

    def _public_version(self, version_id: str) -> str | None:
        return None if version_id == NULL and not self.versioning else version_id

    def _event(self, conn: sqlite3.Connection, now: float, name: str, key: str, **fields: Any) -> None:
        if not self.notify:
            return
        vid = fields.pop("version_id", None)
        record = events.build_record(
            event_name=name,
            bucket=self.name,
            region=self.cloud.region,
            account_id=self.cloud.account_id,
            now=now,
            key=key,
            version_id=vid if self.versioning else None,
            **fields,
        )
        events.append(conn, self.name, now, record)
        if self._oldest_event is None:
            self._oldest_event = now
        elif self._oldest_event < now - events.RETENTION_SECONDS:
            self._oldest_event = events.trim(conn, self.name, now)

    def _announce(self) -> None:
        if not self.notify:
            return
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        wake = getattr(self.cloud, "wake", None)
        if callable(wake):
            wake()

    def _insert_version(
        self,
        conn: sqlite3.Connection,
        key: str,
        *,
        now: float,
        blob: str | None,
        size: int,
        etag: str | None,
        content_type: str | None,
        cache_control: str | None,
        metadata: dict[str, str] | None,
        garbage: list[str | None],
    ) -> str:
        """Make a new latest version of ``key`` (the null version when unversioned); returns its id."""
        if self.versioning:
            version_id = new_version_id()
        else:
            version_id = NULL
            old = conn.execute(
                "DELETE FROM bucket_objects WHERE bucket = ? AND key = ? AND version_id = ? RETURNING blob",
                (self.name, key, NULL),
            ).fetchone()
            if old:
                garbage.append(old[0])
        conn.execute(
            "UPDATE bucket_objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1", (self.name, key)
        )
        conn.execute(
            "INSERT INTO bucket_objects (bucket, key, version_id, is_latest, delete_marker, blob, size, etag, "
            "content_type, cache_control, metadata, last_modified) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.name,
                key,
                version_id,
                1 if blob is None else 0,
                blob,
                size,
                etag,
                content_type,
                cache_control,
                None if metadata is None else (json.dumps(metadata) if metadata else "{}"),
                now,
            ),
        )
        return version_id

    def _release(self, conn: sqlite3.Connection, garbage: builtins.list[str | None]) -> builtins.list[str]:
        """Delete the inline bodies among ``garbage`` (in this transaction); return the files to unlink after it."""
        inline = [(name,) for name in garbage if name and is_inline(name)]
        if inline:
            conn.executemany("DELETE FROM bucket_bodies WHERE id = ?", inline)
        return [name for name in garbage if name and not is_inline(name)]

    def commit_object(
        self,
        key: str,
        *,
        blob: Blob,
        etag: str,
        content_type: str,
        cache_control: str | None,
        metadata: dict[str, str],
        event_name: str,
        if_match: str | None = None,
        if_none_match: str | None = None,
        before: Callable[[sqlite3.Connection], list[str | None]] | None = None,
    ) -> tuple[PutResult, float]:
        """Record a body already written as ``blob`` as the new version of ``key``.

        On any failure the blob is removed and nothing is recorded. ``before`` runs first in
        the same transaction (multipart completion checks and consumes its upload there).
        """
        garbage: list[str | None] = []
        try:
            with self.db.transaction() as conn:
                if before is not None:
                    garbage += before(conn)
                if if_match is not None or if_none_match is not None:
                    current = self._fetch(conn, key, None)
                    exists = current is not None and not current.delete_marker
                    if if_none_match is not None and exists:
                        raise PreconditionFailed(condition="If-None-Match")
                    if if_match is not None:
                        if current is None or not exists:
                            raise NoSuchKey(key=key)
                        if not etag_matches(if_match, current.etag):
                            raise PreconditionFailed(condition="If-Match")
                now = _ms(self.clock.now())
                if blob.data is not None:
                    conn.execute("INSERT INTO bucket_bodies (id, data) VALUES (?, ?)", (blob.name, blob.data))
                version_id = self._insert_version(
                    conn,
                    key,
                    now=now,
                    blob=blob.name,
                    size=blob.size,
                    etag=etag,
                    content_type=content_type,
                    cache_control=cache_control,
                    metadata=metadata,
                    garbage=garbage,
                )
                self._event(conn, now, event_name, key, size=blob.size, etag=etag, version_id=version_id)
                files = self._release(conn, garbage)
        except BaseException:
            self.blobs.remove([blob.name])
            raise
        self.blobs.remove(files)
        self._announce()
        return PutResult(etag=etag, version_id=self._public_version(version_id)), now

    # Objects

    def put(
        self,
        key: str,
        body: Body,
        *,
        content_type: str,
        metadata: dict[str, str],
        cache_control: str | None,
        if_match: str | None,
        if_none_match: str | None,
    ) -> PutResult:
        blob = self.blobs.write(body, limit=MAX_PUT_SIZE)
        result, _ = self.commit_object(
            key,
            blob=blob,
            etag=f'"{blob.md5}"',
            content_type=content_type,
            cache_control=cache_control,
            metadata=metadata,
            event_name="ObjectCreated:Put",
            if_match=if_match,
            if_none_match=if_none_match,
        )
        return result

    def _read(
        self, key: str, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None, body: bool
    ) -> tuple[ObjectHead, bytes | BinaryIO | None, int]:
        """The headers, and when ``body``: the selected bytes (inline) or the open body file and where to start."""
        whole = body and byte_range is None
        with self.db.read() as conn:
            inline_body: bytes | None = None
            if whole:
                # A whole-object read fetches an inline body in the same statement as its metadata.
                found = conn.execute(
                    _SELECT_LATEST_WITH_BODY if version_id is None else _SELECT_VERSION_WITH_BODY,
                    (self.name, key) if version_id is None else (self.name, key, version_id),
                ).fetchone()
                row = None if found is None else _Row(found[:-1])
                inline_body = None if found is None else found[-1]
            else:
                row = self._fetch(conn, key, version_id)
            if row is None:
                if version_id is not None:
                    raise NoSuchVersion(key=key)
                raise NoSuchKey(key=key)
            if row.delete_marker:
                if version_id is not None:
                    raise MethodNotAllowed()
                raise NoSuchKey(key=key, delete_marker=True, version_id=self._public_version(row.version_id))
            modified = datetime.fromtimestamp(int(row.last_modified), tz=UTC)
            check_conditions(conditions, row.etag, modified)
            start, end = (0, row.size - 1) if byte_range is None else resolve_range(byte_range, row.size)
            length = max(0, end - start + 1)
            data: bytes | BinaryIO | None = None
            if body and length == 0:
                data = b""
            elif body and is_inline(row.blob):
                if inline_body is not None:
                    data = inline_body
                else:
                    data = conn.execute(
                        "SELECT substr(data, ?, ?) FROM bucket_bodies WHERE id = ?", (start + 1, length, row.blob)
                    ).fetchone()[0]
            elif body:
                data = open(self.blobs.path(row.blob), "rb")  # noqa: SIM115 - read after unlocking
        head = ObjectHead(
            key=key,
            content_type=row.content_type or DEFAULT_CONTENT_TYPE,
            content_length=length,
            metadata=_metadata(row.metadata),
            etag=row.etag,
            last_modified=modified,
            version_id=self._public_version(row.version_id),
            content_range=None if byte_range is None else f"bytes {start}-{end}/{row.size}",
            cache_control=row.cache_control,
            size=row.size,
        )
        return head, data, start

    def get(self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None) -> Object:
        head, data, start = self._read(key, byte_range, conditions, version_id, True)
        if not isinstance(data, bytes):
            assert data is not None
            with data:
                if start:
                    data.seek(start)
                data = data.read(head.content_length)
        return Object(
            key=head.key,
            content_type=head.content_type,
            content_length=head.content_length,
            metadata=head.metadata,
            etag=head.etag,
            last_modified=head.last_modified,
            version_id=head.version_id,
            content_range=head.content_range,
            cache_control=head.cache_control,
            size=head.size,
            body=data or b"",
        )

    def head(
        self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None
    ) -> ObjectHead:
        return self._read(key, byte_range, conditions, version_id, False)[0]

    def _delete_in(
        self, conn: sqlite3.Connection, key: str, version_id: str | None, now: float, garbage: list[str | None]
    ) -> DeleteResult:
        if version_id is not None:
            row = conn.execute(
                "DELETE FROM bucket_objects WHERE bucket = ? AND key = ? AND version_id = ? "
                "RETURNING blob, is_latest, delete_marker",
                (self.name, key, version_id),
            ).fetchone()
            if row is None:
                return DeleteResult(key=key, version_id=version_id)
            blob, was_latest, was_marker = row
            garbage.append(blob)
            if was_latest:
                conn.execute(
                    "UPDATE bucket_objects SET is_latest = 1 WHERE seq = (SELECT MAX(seq) FROM bucket_objects "
                    "WHERE bucket = ? AND key = ?)",
                    (self.name, key),
                )
            self._event(conn, now, "ObjectRemoved:Delete", key, version_id=version_id)
            return DeleteResult(key=key, version_id=version_id, delete_marker=bool(was_marker))
        if not self.versioning:
            old = conn.execute(
                "DELETE FROM bucket_objects WHERE bucket = ? AND key = ? AND version_id = ? RETURNING blob",
                (self.name, key, NULL),
            ).fetchone()
            if old:
                garbage.append(old[0])
            others = conn.execute(
                "SELECT 1 FROM bucket_objects WHERE bucket = ? AND key = ? LIMIT 1", (self.name, key)
            ).fetchone()
            if not others:  # a plain unversioned delete: idempotent
                if old:
                    self._event(conn, now, "ObjectRemoved:Delete", key)
                return DeleteResult(key=key)
        # Versioning enabled (or suspended over older versions): a delete marker becomes the latest version.
        marker_id = self._insert_version(
            conn,
            key,
            now=now,
            blob=None,
            size=0,
            etag=None,
            content_type=None,
            cache_control=None,
            metadata=None,
            garbage=garbage,
        )
        self._event(conn, now, "ObjectRemoved:DeleteMarkerCreated", key, version_id=marker_id)
        return DeleteResult(key=key, version_id=marker_id, delete_marker=True)

    def delete(self, key: str, *, version_id: str | None) -> DeleteResult:
        garbage: list[str | None] = []
        with self.db.transaction() as conn:
            result = self._delete_in(conn, key, version_id, _ms(self.clock.now()), garbage)
            files = self._release(conn, garbage)
        self.blobs.remove(files)
        self._announce()
        return result

    def delete_many(self, items: list[tuple[str, str | None]]) -> list[DeleteResult]:
        garbage: list[str | None] = []
        with self.db.transaction() as conn:
            now = _ms(self.clock.now())
            results = [self._delete_in(conn, key, vid, now, garbage) for key, vid in items]
            files = self._release(conn, garbage)
        self.blobs.remove(files)
        self._announce()
        return results

    def copy(
        self,
        source_key: str,
        dest_key: str,
        *,
        source_bucket: Bucket | None,
        source_version_id: str | None,
        metadata: dict[str, str] | None,
        content_type: str | None,
        cache_control: str | None,
    ) -> CopyResult:
        source = self if source_bucket is None else source_bucket.backend
        if not isinstance(source, LocalBucket):
            raise InvalidArgument(f"source bucket {source_bucket!r} is not served by the local adapter")
        if source is self and source_key == dest_key and source_version_id is None and metadata is None:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes."
            )
        with source.db.read() as conn:
            row = source._fetch(conn, source_key, source_version_id)
            if row is None:
                if source_version_id is not None:
                    raise NoSuchVersion(key=source_key)
                raise NoSuchKey(key=source_key)
            if row.delete_marker:
                if source_version_id is not None:
                    raise InvalidRequest(
                        "The source of a copy request may not specifically refer to a delete marker by version id."
                    )
                raise NoSuchKey(key=source_key, delete_marker=True)
            if is_inline(row.blob):
                data = conn.execute("SELECT data FROM bucket_bodies WHERE id = ?", (row.blob,)).fetchone()[0]
                blob = Blob(INLINE_PREFIX + uuid.uuid4().hex, row.size, "", data)
            else:
                blob = Blob(self.blobs.adopt(source.blobs.path(row.blob)), row.size, "")
        etag = row.etag
        if "-" in etag:  # a multipart source becomes a single-part copy, whose ETag is the MD5 of the body
            digest = _md5_bytes(blob.data) if blob.data is not None else _md5_file(self.blobs.path(blob.name))
            etag = f'"{digest}"'
        if metadata is None:
            new_meta = _metadata(row.metadata)
            new_type, new_cache = row.content_type or DEFAULT_CONTENT_TYPE, row.cache_control
        else:
            new_meta, new_type, new_cache = metadata, content_type or DEFAULT_CONTENT_TYPE, cache_control
        result, modified = self.commit_object(
            dest_key,
            blob=blob,
            etag=etag,
            content_type=new_type,
            cache_control=new_cache,
            metadata=new_meta,
            event_name="ObjectCreated:Copy",
        )
        return CopyResult(
            etag=etag,
            last_modified=datetime.fromtimestamp(modified, tz=UTC),
            version_id=result.version_id,
            source_version_id=source._public_version(row.version_id),
        )

    # Listing

    def list(
        self,
        *,
        prefix: str,
        delimiter: str | None,
        max_keys: int,
        continuation_token: str | None,
        start_after: str | None,
    ) -> Listing:
        with self.db.read() as conn:
            return listing.list_objects(
                conn,
                self.name,
                prefix=prefix,
                delimiter=delimiter,
                max_keys=max_keys,
                continuation_token=continuation_token,
                start_after=start_after,
            )

    def list_versions(
        self, *, prefix: str, max_keys: int, key_marker: str | None, version_id_marker: str | None
    ) -> VersionListing:
        with self.db.read() as conn:
            return listing.list_versions(
                conn,
                self.name,
                prefix=prefix,
                max_keys=max_keys,
                key_marker=key_marker,
                version_id_marker=version_id_marker,
            )

    # Multipart (see multipart.py)

    def create_multipart_upload(
        self, key: str, *, content_type: str, metadata: dict[str, str], cache_control: str | None
    ) -> str:
        return self.multipart.create(key, content_type=content_type, metadata=metadata, cache_control=cache_control)

    def upload_part(self, upload_id: str, part_number: int, body: Body) -> str:
        return self.multipart.upload_part(upload_id, part_number, body)

    def complete_multipart_upload(self, upload_id: str, parts: builtins.list[tuple[int, str]]) -> PutResult:
        return self.multipart.complete(upload_id, parts)

    def abort_multipart_upload(self, upload_id: str) -> None:
        self.multipart.abort(upload_id)

    def list_multipart_uploads(self, *, prefix: str) -> builtins.list[MultipartUpload]:
        return self.multipart.list(prefix)

    # Presigned URLs

    def presigned_url(self, method: str, key: str, *, expires_in: int, content_type: str | None) -> str:
        return self.signer.url(
            self.cloud.base_url,
            method,
            self.name,
            key,
            expires_in=expires_in,
            now=self.clock.now(),
            content_type=content_type,
        )

    def verify_presigned(self, method: str, key: str, query: dict[str, str], *, content_type: str | None) -> None:
        """Check a presigned request (bucket_http.py); raises SignatureDoesNotMatch or AccessDenied."""
        self.signer.verify(method, self.name, key, query, now=self.clock.now(), content_type=content_type)

    # Notification log

    def events_after(self, position: int, limit: int) -> builtins.list[tuple[int, dict]]:
        with self.db.read() as conn:
            return events.read_after(conn, self.name, position, limit, self.clock.now())

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        with self._listeners_lock:
            self._listeners.clear()


def _md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _md5_file(path: Any) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
