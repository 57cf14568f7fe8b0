"""S3's input rules and HTTP precondition logic, as pure functions shared by every adapter.

Why by hand: these are a few dozen lines of S3-specific rules (bucket naming, the 1024-byte
key limit, the 2 KB user-metadata limit, the byte-range forms S3 accepts, RFC 7232's
precondition order as S3 applies it) that no library packages on their own. Every adapter
and the presigned-URL server use them, so a request fails the same way everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from stratus.errors import ValidationError
from stratus.resources.bucket.errors import (
    InvalidArgument,
    InvalidRange,
    KeyTooLong,
    MetadataTooLarge,
    NotModified,
    PreconditionFailed,
)
from stratus.resources.bucket.types import Conditions

#: S3's largest single PUT (5 GB) and a part's bounds.
MAX_PUT_SIZE = 5 * 1024**3
MAX_PART_SIZE = 5 * 1024**3
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_NUMBER = 10_000
MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2 * 1024
MAX_DELETE_KEYS = 1000
MAX_LIST_KEYS = 1000
MIN_PRESIGN_EXPIRY = 1
MAX_PRESIGN_EXPIRY = 7 * 24 * 3600
DEFAULT_CONTENT_TYPE = "binary/octet-stream"

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# RFC 7230 token characters: what an HTTP header name (x-amz-meta-<key>) may contain.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

#: A parsed byte range: ``(start, end)`` inclusive, ``(start, None)`` open-ended, ``(None, n)`` the last n bytes.
ByteRange = tuple[int | None, int | None]


def validate_bucket_name(name: str, *, what: str = "bucket name") -> str:
    """S3's bucket naming rules (general purpose buckets)."""
    if not _BUCKET_NAME.match(name):
        raise ValidationError(
            f"{what} {name!r} must be 3-63 characters of lower-case letters, digits, '.' and '-', "
            "beginning and ending with a letter or digit"
        )
    if ".." in name:
        raise ValidationError(f"{what} {name!r} must not contain two adjacent periods")
    if _IP_ADDRESS.match(name):
        raise ValidationError(f"{what} {name!r} must not be formatted as an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            raise ValidationError(f"{what} {name!r} must not start with {prefix!r}")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            raise ValidationError(f"{what} {name!r} must not end with {suffix!r}")
    return name


def validate_key(key: object, *, what: str = "key") -> str:
    """An object key: a non-empty string of at most 1024 bytes in UTF-8."""
    if not isinstance(key, str):
        raise InvalidArgument(f"{what} must be a string, got {type(key).__name__}")
    if not key:
        raise InvalidArgument(f"{what} must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} {key!r} is not valid Unicode (lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise KeyTooLong(f"Your key is too long: {what} is {size} bytes in UTF-8, the maximum is {MAX_KEY_BYTES}")
    return key


def normalize_metadata(metadata: object) -> dict[str, str]:
    """User metadata as S3 stores it: keys lower-cased, at most 2 KB of keys and values in UTF-8."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidArgument(f"metadata must be a dict of str to str, got {type(metadata).__name__}")
    out: dict[str, str] = {}
    total = 0
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InvalidArgument(f"metadata {k!r}: keys and values must be strings")
        if not k.isascii() or not _TOKEN.match(k):
            raise InvalidArgument(
                f"metadata key {k!r} must be non-empty US-ASCII without spaces or separators "
                "(it becomes an x-amz-meta- HTTP header)"
            )
        if _CONTROL.search(v):
            raise InvalidArgument(f"metadata {k!r} has a control character in its value")
        lower = k.lower()
        if lower in out:
            raise InvalidArgument(f"metadata key {k!r} is given twice (keys are case-insensitive)")
        out[lower] = v
        total += len(lower.encode()) + len(v.encode("utf-8"))
    if total > MAX_METADATA_BYTES:
        raise MetadataTooLarge(
            f"Your metadata headers exceed the maximum allowed metadata size: {total} bytes of keys and values, "
            f"the maximum is {MAX_METADATA_BYTES}"
        )
    return out


def validate_header_text(name: str, value: object) -> str | None:
    """An optional header value (content type, cache control): a string without control characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value) or not value.isascii():
        raise InvalidArgument(f"{name} must be a non-empty US-ASCII string without control characters, got {value!r}")
    return value


def parse_range(value: object) -> ByteRange | None:
    """``"bytes=0-99"``, ``"bytes=-100"``, ``"bytes=100-"`` or an inclusive ``(start, end)`` tuple."""
    if value is None:
        return None
    if isinstance(value, tuple):
        if (
            len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or value[0] < 0
            or value[1] < value[0]
        ):
            raise InvalidArgument(f"range {value!r} must be a (start, end) pair of ints with 0 <= start <= end")
        return (value[0], value[1])
    if isinstance(value, str):
        m = _RANGE.match(value.strip())
        if m and (m.group(1) or m.group(2)):
            first, last = m.group(1), m.group(2)
            if not first:
                return (None, int(last))
            start = int(first)
            if not last:
                return (start, None)
            if int(last) >= start:
                return (start, int(last))
    raise InvalidArgument(
        f"range {value!r} must be 'bytes=start-end', 'bytes=start-', 'bytes=-suffix_length' "
        "or a (start, end) tuple (one range only)"
    )


def range_header(spec: ByteRange) -> str:
    """The HTTP Range header for a parsed range."""
    start, end = spec
    if start is None:
        return f"bytes=-{end}"
    return f"bytes={start}-{'' if end is None else end}"


def resolve_range(spec: ByteRange, size: int) -> tuple[int, int]:
    """The inclusive byte positions a range selects in an object of ``size`` bytes, or InvalidRange."""
    start, end = spec
    if start is None:
        assert end is not None
        if end == 0 or size == 0:
            raise InvalidRange(size=size)
        return (max(0, size - end), size - 1)
    if start >= size:
        raise InvalidRange(size=size)
    return (start, size - 1 if end is None else min(end, size - 1))


def _etags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def etag_matches(header: str, etag: str) -> bool:
    """Does an If-Match / If-None-Match header (``*`` or a list of quoted ETags) match ``etag``?"""
    tags = _etags(header)
    return "*" in tags or etag.strip('"') in tags


def check_conditions(conditions: Conditions, etag: str, last_modified: datetime) -> None:
    """Raise PreconditionFailed (412) or NotModified (304) as S3 evaluates a GET's If-* headers.

    If-Match decides alone when given (If-Unmodified-Since is then ignored); If-None-Match
    decides alone when given (If-Modified-Since is then ignored). Dates compare at the
    second precision of HTTP dates.
    """
    if not conditions:
        return
    modified = int(last_modified.timestamp())
    if conditions.if_match is not None:
        if not etag_matches(conditions.if_match, etag):
            raise PreconditionFailed(condition="If-Match")
    elif conditions.if_unmodified_since is not None and modified > int(conditions.if_unmodified_since.timestamp()):
        raise PreconditionFailed(condition="If-Unmodified-Since")
    if conditions.if_none_match is not None:
        if etag_matches(conditions.if_none_match, etag):
            raise NotModified(etag=etag)
    elif conditions.if_modified_since is not None and modified <= int(conditions.if_modified_since.timestamp()):
        raise NotModified(etag=etag)


def validate_conditions(
    if_match: object, if_none_match: object, if_modified_since: object, if_unmodified_since: object
) -> Conditions:
    for name, value in (("if_match", if_match), ("if_none_match", if_none_match)):
        if value is not None and (not isinstance(value, str) or not _etags(value)):
            raise InvalidArgument(f"{name} must be an ETag string or '*', got {value!r}")
    for name, value in (("if_modified_since", if_modified_since), ("if_unmodified_since", if_unmodified_since)):
        if value is not None and not isinstance(value, datetime):
            raise InvalidArgument(f"{name} must be a datetime, got {type(value).__name__}")
    return Conditions(
        if_match=if_match,  # type: ignore[arg-type]
        if_none_match=if_none_match,  # type: ignore[arg-type]
        if_modified_since=_aware(if_modified_since),  # type: ignore[arg-type]
        if_unmodified_since=_aware(if_unmodified_since),  # type: ignore[arg-type]
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def normalize_version_id(version_id: object) -> str | None:
    if version_id is None:
        return None
    if not isinstance(version_id, str) or not version_id or len(version_id) > 1024:
        raise InvalidArgument(f"Invalid version id specified: {version_id!r}")
    return version_id
