"""The contract an adapter implements to serve a :class:`~stratus.resources.bucket.Bucket`.

The handle validates every argument before calling the backend, so a backend receives
well-formed input (a normalized key, metadata, range and conditions) and implements only
storage and S3's state-dependent rules (versions, preconditions against the stored
object, multipart assembly).
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from stratus.resources.bucket.rules import ByteRange
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
    from stratus.resources.bucket.handle import Bucket

#: A body as backends receive it: bytes, or a binary file-like object read to its end.
Body = bytes | BinaryIO


class BucketBackend(ABC):
    @abstractmethod
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
    ) -> PutResult: ...

    @abstractmethod
    def get(
        self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None
    ) -> Object: ...

    @abstractmethod
    def head(
        self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None
    ) -> ObjectHead: ...

    @abstractmethod
    def delete(self, key: str, *, version_id: str | None) -> DeleteResult: ...

    @abstractmethod
    def delete_many(self, items: list[tuple[str, str | None]]) -> list[DeleteResult]: ...

    @abstractmethod
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
        """Copy; ``metadata`` None means S3's COPY directive, else REPLACE with these headers."""

    @abstractmethod
    def list(
        self,
        *,
        prefix: str,
        delimiter: str | None,
        max_keys: int,
        continuation_token: str | None,
        start_after: str | None,
    ) -> Listing: ...

    @abstractmethod
    def list_versions(
        self, *, prefix: str, max_keys: int, key_marker: str | None, version_id_marker: str | None
    ) -> VersionListing: ...

    @abstractmethod
    def create_multipart_upload(
        self, key: str, *, content_type: str, metadata: dict[str, str], cache_control: str | None
    ) -> str: ...

    @abstractmethod
    def upload_part(self, upload_id: str, part_number: int, body: Body) -> str: ...

    @abstractmethod
    def complete_multipart_upload(self, upload_id: str, parts: builtins.list[tuple[int, str]]) -> PutResult: ...

    @abstractmethod
    def abort_multipart_upload(self, upload_id: str) -> None: ...

    @abstractmethod
    def list_multipart_uploads(self, *, prefix: str) -> builtins.list[MultipartUpload]: ...

    @abstractmethod
    def presigned_url(self, method: str, key: str, *, expires_in: int, content_type: str | None) -> str: ...


class NotificationLog(ABC):
    """The event log a local adapter keeps for the notification dispatcher (AWS delivers by itself)."""

    @abstractmethod
    def events_after(self, position: int, limit: int) -> builtins.list[tuple[int, dict]]:
        """Up to ``limit`` event messages after ``position``, oldest first, as (position, message)."""

    @abstractmethod
    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (no arguments) after each commit that appends events; returns an unsubscribe."""
