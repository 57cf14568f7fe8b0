"""The embedded bucket adapter: SQLite metadata (``buckets.db``) and one immutable file per body.

Modules: ``adapter`` (LocalBucket), ``blobs`` (body files), ``listing`` (ListObjectsV2 /
ListObjectVersions), ``multipart``, ``events`` (the notification log), ``signing``
(presigned URLs), ``schema``.
"""

from stratus.local.bucket.adapter import LocalBucket

__all__ = ["LocalBucket"]
