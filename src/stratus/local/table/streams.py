"""The change stream of an embedded table, in DynamoDB Streams' record shape.

A record is appended in the same SQLite transaction as the write it describes, so a
committed change always has its record and a rolled-back one never does. Records
are stored compactly (event kind, keys and the images the view type keeps, as
msgpack) and rendered into the DynamoDB Streams shape — typed images, ``eventName``
INSERT/MODIFY/REMOVE, an increasing numeric ``SequenceNumber`` — only when read.
Records older than 24 hours of clock time are not returned and are trimmed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.local.table.codec import pack, unpack
from stratus.resources.table.values import item_size, to_image

if TYPE_CHECKING:
    from stratus.local.table.adapter import LocalTable

#: How long DynamoDB Streams keeps a record.
RETENTION_SECONDS = 24 * 3600.0
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")
_OLD_VIEWS = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_NEW_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_INSERT = "INSERT INTO tbl_stream (tid, at, event, service, size, keys, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def label(created: float) -> str:
    """The stream label (its creation time, as DynamoDB writes it: 2024-01-02T03:04:05.678)."""
    return datetime.fromtimestamp(created, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def sequence_text(seq: int) -> str:
    """Fixed width, so sequence numbers order the same as text and as numbers."""
    return f"{seq:021d}"


def append(
    table: LocalTable,
    conn: Any,
    old: dict[str, Any] | None,
    old_row: Any,
    new: dict[str, Any] | None,
    new_blob: bytes | None,
    new_size: int,
    service: bool,
) -> None:
    """Record the change from ``old`` to ``new`` (inside the write's transaction)."""
    event = 0 if old is None else 2 if new is None else 1
    source = new if new is not None else old
    assert source is not None
    keys = table.key_of(source)
    view = table.stream_view
    size = item_size(keys)
    old_blob = None
    if old is not None and view in _OLD_VIEWS:
        old_blob = old_row[0]
        size += old_row[1]
    kept_new = None
    if new is not None and view in _NEW_VIEWS:
        kept_new = new_blob
        size += new_size
    conn.execute(
        _INSERT, (table.tid, table.clock.now(), event, 1 if service else 0, size, pack(keys), old_blob, kept_new)
    )


def _render(table: LocalTable, row: tuple[Any, ...]) -> dict[str, Any]:
    seq, at, event, service, size, keys, old, new = row
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": int(at),
        "Keys": to_image(unpack(keys)),
    }
    if new is not None:
        dynamodb["NewImage"] = to_image(unpack(new))
    if old is not None:
        dynamodb["OldImage"] = to_image(unpack(old))
    dynamodb["SequenceNumber"] = sequence_text(seq)
    dynamodb["SizeBytes"] = size
    dynamodb["StreamViewType"] = table.stream_view
    record: dict[str, Any] = {
        "eventID": hashlib.md5(f"{table.stream_arn}/{seq}".encode(), usedforsecurity=False).hexdigest(),
        "eventName": EVENT_NAMES[event],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": table.region,
        "dynamodb": dynamodb,
        "eventSourceARN": table.stream_arn,
    }
    if service:
        record["userIdentity"] = dict(_SERVICE)
    return record


def read(table: LocalTable, after_sequence: str | None, limit: int) -> list[dict[str, Any]]:
    if table.stream_view is None:
        raise ValidationError(f"table {table.name} has no stream (declare it with stream=...)")
    if after_sequence is None:
        after = 0
    elif isinstance(after_sequence, str) and after_sequence.isdigit():
        after = int(after_sequence)
    else:
        raise ValidationError(f"a sequence number is a numeric string, got {after_sequence!r}")
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError(f"limit must be a positive integer, got {limit!r}")
    now = table.clock.now()
    cutoff = now - RETENTION_SECONDS
    if now - table.trimmed_at >= 3600:
        table.trimmed_at = now
        with table.db.transaction() as conn:
            trim(table, conn, now)
    rows = table.db.execute(
        "SELECT seq, at, event, service, size, keys, old, new FROM tbl_stream "
        "WHERE tid = ? AND seq > ? AND at >= ? ORDER BY seq LIMIT ?",
        (table.tid, after, cutoff, limit),
    )
    return [_render(table, row) for row in rows]


def latest(table: LocalTable) -> str | None:
    rows = table.db.execute("SELECT MAX(seq) FROM tbl_stream WHERE tid = ?", (table.tid,))
    seq = rows[0][0] if rows else None
    return sequence_text(seq) if seq is not None else None


def trim(table: LocalTable, conn: Any, now: float) -> None:
    """Drop records past the retention period."""
    conn.execute("DELETE FROM tbl_stream WHERE tid = ? AND at < ?", (table.tid, now - RETENTION_SECONDS))
