"""ListObjectsV2 and ListObjectVersions over the metadata tables, in UTF-8 binary key order.

SQLite compares TEXT with memcmp over UTF-8, which is S3's order. A prefix becomes the
key range [prefix, successor(prefix)), so a listing reads only the keys it returns (plus
one probe per common prefix, which jumps past every key under it). Continuation tokens
are opaque: the last key or common prefix returned, base64-encoded.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import UTC, datetime

from stratus.resources.bucket.errors import InvalidArgument
from stratus.resources.bucket.types import Listing, ObjectSummary, VersionListing, VersionSummary

_MAX_CODE_POINT = 0x10FFFF


def successor(s: str) -> str | None:
    """The least string greater than every string that starts with ``s`` (None: there is none)."""
    chars = list(s)
    while chars:
        c = ord(chars.pop())
        if c < _MAX_CODE_POINT:
            c += 1
            if 0xD800 <= c <= 0xDFFF:  # surrogates are not characters; UTF-8 order skips them
                c = 0xE000
            return "".join(chars) + chr(c)
    return None


def timestamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def encode_token(after: str, is_prefix: bool) -> str:
    raw = json.dumps({"a": after, "p": is_prefix}, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str) -> tuple[str, bool]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["a"]), bool(data["p"])
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("The continuation token provided is incorrect") from None


def list_objects(
    conn: sqlite3.Connection,
    bucket: str,
    *,
    prefix: str,
    delimiter: str | None,
    max_keys: int,
    continuation_token: str | None,
    start_after: str | None,
) -> Listing:
    lower: str | None = prefix
    inclusive = True
    if continuation_token is not None:
        after, is_prefix = decode_token(continuation_token)
        lower, inclusive = (successor(after), True) if is_prefix else (after, False)
    elif start_after is not None:
        lower, inclusive = start_after, False
    if lower is not None and lower < prefix:
        lower, inclusive = prefix, True
    upper = successor(prefix) if prefix else None
    if max_keys == 0 or lower is None:
        return Listing()

    objects: list[ObjectSummary] = []
    prefixes: list[str] = []
    last: tuple[str, bool] | None = None
    truncated = False
    batch = max_keys + 1
    while not truncated:
        sql = (
            "SELECT key, size, etag, last_modified FROM bucket_objects "
            f"WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0 AND key {'>=' if inclusive else '>'} ?"
        )
        params: list[object] = [bucket, lower]
        if upper is not None:
            sql += " AND key < ?"
            params.append(upper)
        sql += " ORDER BY key LIMIT ?"
        params.append(batch)
        rows = conn.execute(sql, params).fetchall()
        jumped = False
        for key, size, etag, modified in rows:
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    if len(objects) + len(prefixes) == max_keys:
                        truncated = True
                        break
                    common = key[: cut + len(delimiter)]
                    prefixes.append(common)
                    last = (common, True)
                    lower, inclusive, jumped = successor(common), True, True
                    break
            if len(objects) + len(prefixes) == max_keys:
                truncated = True
                break
            objects.append(ObjectSummary(key=key, size=size, etag=etag, last_modified=timestamp(modified)))
            last = (key, False)
        if truncated or lower is None:
            break
        if not jumped:
            if len(rows) < batch:
                break
            lower, inclusive = rows[-1][0], False
    return Listing(
        objects=objects,
        common_prefixes=prefixes,
        is_truncated=truncated,
        next_continuation_token=encode_token(*last) if truncated and last else None,
    )


def list_versions(
    conn: sqlite3.Connection,
    bucket: str,
    *,
    prefix: str,
    max_keys: int,
    key_marker: str | None,
    version_id_marker: str | None,
) -> VersionListing:
    sql = (
        "SELECT key, version_id, is_latest, delete_marker, last_modified, size, etag, seq FROM bucket_objects "
        "WHERE bucket = ? AND key >= ?"
    )
    params: list[object] = [bucket, prefix]
    upper = successor(prefix) if prefix else None
    if upper is not None:
        sql += " AND key < ?"
        params.append(upper)
    if key_marker is not None:
        if version_id_marker is not None:
            row = conn.execute(
                "SELECT seq FROM bucket_objects WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key_marker, version_id_marker),
            ).fetchone()
            if row is None:
                raise InvalidArgument(
                    f"Invalid version id specified: {version_id_marker!r} is not a version of {key_marker!r}"
                )
            sql += " AND (key > ? OR (key = ? AND seq < ?))"
            params += [key_marker, key_marker, row[0]]
        else:
            sql += " AND key > ?"
            params.append(key_marker)
    sql += " ORDER BY key, seq DESC LIMIT ?"
    params.append(max_keys + 1)
    rows = conn.execute(sql, params).fetchall()
    truncated = len(rows) > max_keys
    rows = rows[:max_keys]
    versions = [
        VersionSummary(
            key=key,
            version_id=vid,
            is_latest=bool(latest),
            is_delete_marker=bool(marker),
            last_modified=timestamp(modified),
            size=size if not marker else 0,
            etag=etag if not marker else None,
        )
        for key, vid, latest, marker, modified, size, etag, _seq in rows
    ]
    return VersionListing(
        versions=versions,
        is_truncated=truncated,
        next_key_marker=versions[-1].key if truncated else None,
        next_version_id_marker=versions[-1].version_id if truncated else None,
    )
