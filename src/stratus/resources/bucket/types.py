"""What the bucket port's methods return: plain frozen records, as S3's responses carry them.

Timestamps are aware UTC datetimes. ETags are quoted, as S3 returns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class PutResult:
    etag: str
    #: The new version's id; ``None`` when the bucket is not versioned (S3's null version).
    version_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CopyResult:
    etag: str
    last_modified: datetime
    version_id: str | None = None
    source_version_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ObjectHead:
    """An object's headers: what ``head`` returns and ``get`` returns along with the body."""

    key: str
    content_type: str
    #: Bytes returned (the range's length for a ranged get).
    content_length: int
    metadata: dict[str, str]
    etag: str
    #: Second precision, as the HTTP Last-Modified header carries it.
    last_modified: datetime
    version_id: str | None = None
    #: ``"bytes 0-99/1000"`` for a ranged get.
    content_range: str | None = None
    cache_control: str | None = None
    #: The whole object's size (equals content_length unless ranged).
    size: int = 0


@dataclass(frozen=True, kw_only=True)
class Object(ObjectHead):
    body: bytes = b""


@dataclass(frozen=True, kw_only=True)
class DeleteResult:
    key: str
    #: The version removed, or the id of the delete marker created.
    version_id: str | None = None
    #: True when a delete marker was created, or the version removed was a delete marker.
    delete_marker: bool = False
    #: S3's per-key error code and message in a multi-object delete; ``None`` when deleted.
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, kw_only=True)
class ObjectSummary:
    key: str
    size: int
    etag: str
    last_modified: datetime


@dataclass(frozen=True, kw_only=True)
class Listing:
    objects: list[ObjectSummary] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    is_truncated: bool = False
    next_continuation_token: str | None = None

    @property
    def key_count(self) -> int:
        return len(self.objects) + len(self.common_prefixes)


@dataclass(frozen=True, kw_only=True)
class VersionSummary:
    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime
    size: int = 0
    etag: str | None = None


@dataclass(frozen=True, kw_only=True)
class VersionListing:
    versions: list[VersionSummary] = field(default_factory=list)
    is_truncated: bool = False
    next_key_marker: str | None = None
    next_version_id_marker: str | None = None


@dataclass(frozen=True, kw_only=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """A read's preconditions (HTTP If-* headers), evaluated in RFC 7232's order."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    def __bool__(self) -> bool:
        return (
            self.if_match is not None
            or self.if_none_match is not None
            or self.if_modified_since is not None
            or self.if_unmodified_since is not None
        )
