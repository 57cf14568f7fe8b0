"""The Bucket handle: S3's object API, typed and validated, delegating to the bound adapter.

Every argument is checked here, before the adapter sees it, so bad input fails the same
way on every adapter and nothing is written.
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from stratus.errors import ValidationError
from stratus.observability.client_spans import traced
from stratus.resources.base import Resource
from stratus.resources.bucket.backend import Body, BucketBackend
from stratus.resources.bucket.errors import (
    EntityTooLarge,
    InvalidArgument,
    InvalidPartOrder,
    MalformedXML,
    NoSuchKey,
)
from stratus.resources.bucket.notifications import BucketNotification, validate_notifications
from stratus.resources.bucket.rules import (
    DEFAULT_CONTENT_TYPE,
    MAX_DELETE_KEYS,
    MAX_LIST_KEYS,
    MAX_PART_NUMBER,
    MAX_PART_SIZE,
    MAX_PRESIGN_EXPIRY,
    MAX_PUT_SIZE,
    MIN_PRESIGN_EXPIRY,
    normalize_metadata,
    normalize_version_id,
    parse_range,
    validate_bucket_name,
    validate_conditions,
    validate_header_text,
    validate_key,
)
from stratus.resources.bucket.types import (
    CopyResult,
    DeleteResult,
    Listing,
    MultipartUpload,
    Object,
    ObjectHead,
    ObjectSummary,
    PutResult,
    VersionListing,
)

if TYPE_CHECKING:
    from stratus.app import App


def _body(body: object, limit: int, what: str) -> Body:
    """bytes as they are, str as UTF-8, a binary file-like object as is (its size checked when knowable)."""
    if isinstance(body, bytes):
        data: bytes = body
    elif isinstance(body, bytearray | memoryview):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, io.TextIOBase):
        raise InvalidArgument(f"{what} is a text file; open it in binary mode ('rb')")
    elif callable(getattr(body, "read", None)):
        remaining = _remaining(body)
        if remaining is not None and remaining > limit:
            raise EntityTooLarge(
                f"Your proposed upload exceeds the maximum allowed object size: {remaining} bytes, "
                f"the maximum is {limit}"
            )
        return body  # type: ignore[return-value]
    else:
        raise InvalidArgument(f"{what} must be bytes, str or a binary file-like object, got {type(body).__name__}")
    if len(data) > limit:
        raise EntityTooLarge(
            f"Your proposed upload exceeds the maximum allowed object size: {len(data)} bytes, the maximum is {limit}"
        )
    return data


def _remaining(f: Any) -> int | None:
    """Bytes left to read in a file-like object, when it can tell without reading."""
    try:
        if hasattr(f, "fileno"):
            size = os.fstat(f.fileno()).st_size
            return int(size - f.tell())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        if f.seekable():
            here = f.tell()
            end = f.seek(0, io.SEEK_END)
            f.seek(here)
            return int(end - here)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return None


class Bucket(Resource[BucketBackend]):
    """An S3 bucket: objects by key, optional versioning, multipart uploads, presigned URLs, notifications."""

    kind: ClassVar[str] = "bucket"
    max_name_length: ClassVar[int] = 63

    def __init__(
        self,
        app: App,
        name: str,
        *,
        versioning: bool = False,
        notifications: list[BucketNotification] | tuple[BucketNotification, ...] | None = None,
    ) -> None:
        # Everything is checked before registering, so a refused declaration leaves the app unchanged.
        if not isinstance(name, str):
            raise ValidationError(f"bucket name must be a string, got {name!r}")
        validate_bucket_name(name)
        validate_bucket_name(f"{app.name}-{name}", what=f"bucket {name!r}: physical name")
        if not isinstance(versioning, bool):
            raise ValidationError(f"bucket {name!r}: versioning must be True or False, got {versioning!r}")
        rules = validate_notifications(name, notifications)
        super().__init__(app, name)
        self.versioning = versioning
        self.notifications: list[BucketNotification] = rules

    def settings(self) -> dict[str, Any]:
        return {
            "versioning": self.versioning,
            "notifications": [
                {"id": n.id, "events": list(n.events), "prefix": n.prefix, "suffix": n.suffix}
                for n in self.notifications
            ],
        }

    # Objects

    @traced("PutObject", "S3")
    def put(
        self,
        key: str,
        body: bytes | bytearray | memoryview | str | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        cache_control: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> PutResult:
        """Store ``body`` at ``key`` (PutObject).

        ``if_none_match="*"`` creates only; ``if_match`` replaces only the object with that ETag.
        """
        validate_key(key)
        if if_none_match is not None and if_none_match != "*":
            raise InvalidArgument(f"if_none_match on a write accepts only '*', got {if_none_match!r}")
        if if_match is not None and (not isinstance(if_match, str) or not if_match.strip('" ')):
            raise InvalidArgument(f"if_match must be an ETag string, got {if_match!r}")
        return self.backend.put(
            key,
            _body(body, MAX_PUT_SIZE, "body"),
            content_type=validate_header_text("content_type", content_type) or DEFAULT_CONTENT_TYPE,
            metadata=normalize_metadata(metadata),
            cache_control=validate_header_text("cache_control", cache_control),
            if_match=if_match,
            if_none_match=if_none_match,
        )

    @traced("GetObject", "S3")
    def get(
        self,
        key: str,
        *,
        range: str | tuple[int, int] | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        version_id: str | None = None,
    ) -> Object:
        """Read an object (GetObject) or a byte range of it.

        A failed precondition raises PreconditionFailed (412) or NotModified (304).
        """
        validate_key(key)
        return self.backend.get(
            key,
            byte_range=parse_range(range),
            conditions=validate_conditions(if_match, if_none_match, if_modified_since, if_unmodified_since),
            version_id=normalize_version_id(version_id),
        )

    @traced("HeadObject", "S3")
    def head(
        self,
        key: str,
        *,
        range: str | tuple[int, int] | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        version_id: str | None = None,
    ) -> ObjectHead:
        """An object's headers without its body (HeadObject)."""
        validate_key(key)
        return self.backend.head(
            key,
            byte_range=parse_range(range),
            conditions=validate_conditions(if_match, if_none_match, if_modified_since, if_unmodified_since),
            version_id=normalize_version_id(version_id),
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` has a current object."""
        try:
            self.head(key)
        except NoSuchKey:
            return False
        return True

    @traced("DeleteObject", "S3")
    def delete(self, key: str, *, version_id: str | None = None) -> DeleteResult:
        """Delete (DeleteObject).

        In a versioned bucket this adds a delete marker; with ``version_id`` it removes that version.
        """
        validate_key(key)
        return self.backend.delete(key, version_id=normalize_version_id(version_id))

    @traced("DeleteObjects", "S3")
    def delete_many(self, keys: Sequence[str | tuple[str, str | None]]) -> list[DeleteResult]:
        """Delete up to 1000 keys (or (key, version_id) pairs) in one request (DeleteObjects)."""
        if not isinstance(keys, list | tuple):
            raise InvalidArgument(f"keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise MalformedXML("delete_many needs at least one key")
        if len(keys) > MAX_DELETE_KEYS:
            raise MalformedXML(f"delete_many accepts at most {MAX_DELETE_KEYS} keys, got {len(keys)}")
        items: list[tuple[str, str | None]] = []
        for i, item in enumerate(keys):
            if isinstance(item, tuple):
                if len(item) != 2:
                    raise InvalidArgument(f"keys[{i}] must be a key or a (key, version_id) pair")
                items.append((validate_key(item[0], what=f"keys[{i}]"), normalize_version_id(item[1])))
            else:
                items.append((validate_key(item, what=f"keys[{i}]"), None))
        return self.backend.delete_many(items)

    @traced("CopyObject", "S3")
    def copy(
        self,
        source_key: str,
        dest_key: str,
        *,
        source_bucket: Bucket | None = None,
        source_version_id: str | None = None,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
    ) -> CopyResult:
        """Copy an object (CopyObject). With ``metadata`` (or content_type / cache_control) the copy's
        headers are replaced (REPLACE directive); otherwise they are copied from the source (COPY)."""
        validate_key(source_key, what="source_key")
        validate_key(dest_key, what="dest_key")
        if source_bucket is not None and not isinstance(source_bucket, Bucket):
            raise InvalidArgument(f"source_bucket must be a Bucket, got {type(source_bucket).__name__}")
        replace = metadata is not None or content_type is not None or cache_control is not None
        return self.backend.copy(
            source_key,
            dest_key,
            source_bucket=source_bucket,
            source_version_id=normalize_version_id(source_version_id),
            metadata=normalize_metadata(metadata) if replace else None,
            content_type=validate_header_text("content_type", content_type),
            cache_control=validate_header_text("cache_control", cache_control),
        )

    # Listing

    @traced("ListObjectsV2", "S3")
    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        max_keys: int = MAX_LIST_KEYS,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> Listing:
        """One page of keys in UTF-8 binary order (ListObjectsV2); common prefixes roll up at ``delimiter``."""
        if not isinstance(prefix, str):
            raise InvalidArgument(f"prefix must be a string, got {prefix!r}")
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise InvalidArgument(f"delimiter must be a non-empty string, got {delimiter!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 0 <= max_keys <= MAX_LIST_KEYS:
            raise InvalidArgument(f"max_keys must be an int from 0 to {MAX_LIST_KEYS}, got {max_keys!r}")
        if continuation_token is not None and (not isinstance(continuation_token, str) or not continuation_token):
            raise InvalidArgument("The continuation token provided is incorrect")
        if start_after is not None and not isinstance(start_after, str):
            raise InvalidArgument(f"start_after must be a string, got {start_after!r}")
        return self.backend.list(
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=continuation_token,
            start_after=start_after or None,
        )

    def iterate(self, prefix: str = "", *, page_size: int = MAX_LIST_KEYS) -> Iterator[ObjectSummary]:
        """Every object under ``prefix``, page after page."""
        token: str | None = None
        while True:
            page = self.list(prefix, max_keys=page_size, continuation_token=token)
            yield from page.objects
            if not page.is_truncated or not page.next_continuation_token:
                return
            token = page.next_continuation_token

    def list_versions(
        self,
        prefix: str = "",
        *,
        max_keys: int = MAX_LIST_KEYS,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
    ) -> VersionListing:
        """Every version and delete marker (ListObjectVersions): keys in order, newest version first."""
        if not isinstance(prefix, str):
            raise InvalidArgument(f"prefix must be a string, got {prefix!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 1 <= max_keys <= MAX_LIST_KEYS:
            raise InvalidArgument(f"max_keys must be an int from 1 to {MAX_LIST_KEYS}, got {max_keys!r}")
        if version_id_marker is not None and key_marker is None:
            raise InvalidArgument("A version-id marker cannot be specified without a key marker.")
        return self.backend.list_versions(
            prefix=prefix,
            max_keys=max_keys,
            key_marker=key_marker or None,
            version_id_marker=normalize_version_id(version_id_marker),
        )

    # Multipart uploads

    def create_multipart_upload(
        self,
        key: str,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        cache_control: str | None = None,
    ) -> str:
        """Start a multipart upload (CreateMultipartUpload); returns its upload id."""
        validate_key(key)
        return self.backend.create_multipart_upload(
            key,
            content_type=validate_header_text("content_type", content_type) or DEFAULT_CONTENT_TYPE,
            metadata=normalize_metadata(metadata),
            cache_control=validate_header_text("cache_control", cache_control),
        )

    def upload_part(
        self, upload_id: str, part_number: int, body: bytes | bytearray | memoryview | str | BinaryIO
    ) -> str:
        """Upload part ``part_number`` (1..10000) of an upload; returns the part's ETag."""
        _validate_upload_id(upload_id)
        _validate_part_number(part_number)
        return self.backend.upload_part(upload_id, part_number, _body(body, MAX_PART_SIZE, "part body"))

    @traced("CompleteMultipartUpload", "S3")
    def complete_multipart_upload(self, upload_id: str, parts: Sequence[tuple[int, str]]) -> PutResult:
        """Assemble the listed parts, in ascending part order, into the object."""
        _validate_upload_id(upload_id)
        if not isinstance(parts, list | tuple) or not parts:
            raise MalformedXML("complete_multipart_upload needs at least one (part_number, etag) pair")
        checked: builtins.list[tuple[int, str]] = []
        for i, part in enumerate(parts):
            if not isinstance(part, tuple | list) or len(part) != 2 or not isinstance(part[1], str):
                raise MalformedXML(f"parts[{i}] must be a (part_number, etag) pair, got {part!r}")
            _validate_part_number(part[0])
            if checked and part[0] <= checked[-1][0]:
                raise InvalidPartOrder(
                    "The list of parts was not in ascending order. The parts list must be specified in order "
                    f"by part number (part {part[0]} follows part {checked[-1][0]})."
                )
            checked.append((part[0], part[1]))
        return self.backend.complete_multipart_upload(upload_id, checked)

    def abort_multipart_upload(self, upload_id: str) -> None:
        """Abort an upload and discard its parts."""
        _validate_upload_id(upload_id)
        self.backend.abort_multipart_upload(upload_id)

    def list_multipart_uploads(self, prefix: str = "") -> builtins.list[MultipartUpload]:
        """Uploads in progress, by key then initiation time."""
        if not isinstance(prefix, str):
            raise InvalidArgument(f"prefix must be a string, got {prefix!r}")
        return self.backend.list_multipart_uploads(prefix=prefix)

    # Presigned URLs

    def presigned_url(self, method: str, key: str, *, expires_in: int = 3600, content_type: str | None = None) -> str:
        """A URL that lets its holder GET or PUT ``key`` without credentials until it expires."""
        if method not in ("GET", "PUT"):
            raise InvalidArgument(f"presigned_url method must be 'GET' or 'PUT', got {method!r}")
        validate_key(key)
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not MIN_PRESIGN_EXPIRY <= expires_in <= MAX_PRESIGN_EXPIRY
        ):
            raise InvalidArgument(
                f"expires_in must be whole seconds from {MIN_PRESIGN_EXPIRY} to {MAX_PRESIGN_EXPIRY} (7 days), "
                f"got {expires_in!r}"
            )
        return self.backend.presigned_url(
            method, key, expires_in=expires_in, content_type=validate_header_text("content_type", content_type)
        )


def _validate_upload_id(upload_id: object) -> None:
    if not isinstance(upload_id, str) or not upload_id:
        raise InvalidArgument(f"upload_id must be a non-empty string, got {upload_id!r}")


def _validate_part_number(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PART_NUMBER:
        raise InvalidArgument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive (got {n!r})")
