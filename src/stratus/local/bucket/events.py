"""The notification log: S3 event messages appended in the same transaction as the change.

Each object created or removed in a bucket that declares notifications appends one
message in the shape S3 sends (``{"Records": [{"eventVersion": "2.1", ...}]}``). The
notification dispatcher reads them in order with ``events_after`` and fills in
``configurationId`` for each rule that matches; the ``sequencer`` is the log position,
so it increases with every change as S3's does for one key. Messages older than 24 hours
(by the cloud's clock) are trimmed.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

RETENTION_SECONDS = 24 * 3600


def event_time(epoch: float) -> str:
    """S3's eventTime: ``2024-01-02T03:04:05.678Z``."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def encode_key(key: str) -> str:
    """The key as S3 writes it in event messages: form-URL-encoded (spaces as '+'), '/' kept."""
    return quote_plus(key, safe="/*").replace("~", "%7E")


def build_record(
    *,
    event_name: str,
    bucket: str,
    region: str,
    account_id: str,
    now: float,
    key: str,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": encode_key(key)}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag.strip('"')
    if version_id is not None:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time(now),
        "eventName": event_name,
        "userIdentity": {"principalId": f"AWS:{account_id}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": account_id}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def append(conn: sqlite3.Connection, bucket: str, now: float, record: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO bucket_events (bucket, time, message) VALUES (?, ?, ?)",
        (bucket, now, json.dumps(record, separators=(",", ":"))),
    )


def read_after(conn: sqlite3.Connection, bucket: str, position: int, limit: int, now: float) -> list[tuple[int, dict]]:
    rows = conn.execute(
        "SELECT position, message FROM bucket_events WHERE bucket = ? AND position > ? AND time >= ? "
        "ORDER BY position LIMIT ?",
        (bucket, position, now - RETENTION_SECONDS, limit),
    ).fetchall()
    out: list[tuple[int, dict]] = []
    for pos, text in rows:
        record = json.loads(text)
        record["s3"]["object"]["sequencer"] = f"{pos:016X}"
        out.append((pos, {"Records": [record]}))
    return out


def trim(conn: sqlite3.Connection, bucket: str, now: float) -> float | None:
    """Drop messages older than the retention; returns the oldest remaining message's time."""
    conn.execute("DELETE FROM bucket_events WHERE bucket = ? AND time < ?", (bucket, now - RETENTION_SECONDS))
    row = conn.execute("SELECT MIN(time) FROM bucket_events WHERE bucket = ?", (bucket,)).fetchone()
    return row[0] if row else None
