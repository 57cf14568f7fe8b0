"""The bucket adapter's tables in ``buckets.db`` (one database for every bucket of a cloud).

``bucket_objects`` holds every version (the null version of an unversioned bucket too);
the partial index on the latest version of each key is what listings scan. Small bodies
live in ``bucket_bodies``; larger ones are files (see blobs.py).
"""

from __future__ import annotations

MIGRATIONS = [
    """
    CREATE TABLE bucket_objects (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        version_id TEXT NOT NULL,
        is_latest INTEGER NOT NULL,
        delete_marker INTEGER NOT NULL,
        blob TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        content_type TEXT,
        cache_control TEXT,
        metadata TEXT,
        last_modified REAL NOT NULL
    );
    CREATE UNIQUE INDEX bucket_objects_version ON bucket_objects (bucket, key, version_id);
    CREATE UNIQUE INDEX bucket_objects_latest ON bucket_objects (bucket, key) WHERE is_latest = 1;
    CREATE TABLE bucket_uploads (
        upload_id TEXT PRIMARY KEY,
        bucket TEXT NOT NULL,
        key TEXT NOT NULL,
        content_type TEXT NOT NULL,
        cache_control TEXT,
        metadata TEXT NOT NULL,
        initiated REAL NOT NULL
    );
    CREATE INDEX bucket_uploads_key ON bucket_uploads (bucket, key, initiated);
    CREATE TABLE bucket_parts (
        upload_id TEXT NOT NULL REFERENCES bucket_uploads (upload_id) ON DELETE CASCADE,
        part_number INTEGER NOT NULL,
        blob TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
    );
    CREATE TABLE bucket_events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        bucket TEXT NOT NULL,
        time REAL NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX bucket_events_bucket ON bucket_events (bucket, position);
    CREATE INDEX bucket_events_time ON bucket_events (bucket, time)
    """,
    # Small bodies inline (see blobs.py), referenced by bucket_objects.blob = '@<id>'.
    """
    CREATE TABLE bucket_bodies (
        id TEXT PRIMARY KEY,
        data BLOB NOT NULL
    )
    """,
]
