"""Bucket: put and get of 64 KB objects through the handle, against boto3 on moto in-process.

moto runs in the same process (``mock_aws``), so the comparison is the local adapter
against emulating S3 behind botocore's request/response machinery, with no network.
Both runs are bounded in operation count and wall time.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from bench.common import Figures, Row, measure

SIZE = 64 * 1024
TARGET = ">= 30x moto"


def _stratus(count: int, parent: str | None = None) -> tuple[Figures, Figures]:
    from stratus import App
    from stratus.local.cloud import LocalCloud

    state = tempfile.mkdtemp(prefix="stratus-bench-bucket-", dir=parent)
    try:
        app = App("bench")
        bucket = app.bucket("objects")
        body = os.urandom(SIZE)
        with LocalCloud(state) as cloud:
            cloud.bind(app)
            put = measure(lambda i: bucket.put(f"obj/{i:07}", body), count, max_seconds=8)
            written = max(put.ops, min(50, count))
            get = measure(lambda i: bucket.get(f"obj/{i % written:07}"), count, max_seconds=8)
        return put, get
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _moto(count: int) -> tuple[Figures, Figures]:
    import boto3
    from moto import mock_aws

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench-objects")
        body = os.urandom(SIZE)
        put = measure(
            lambda i: s3.put_object(Bucket="bench-objects", Key=f"obj/{i:07}", Body=body),
            count,
            warmup=10,
            max_seconds=8,
        )
        written = max(put.ops, 10)
        get = measure(
            lambda i: s3.get_object(Bucket="bench-objects", Key=f"obj/{i % written:07}")["Body"].read(),
            count,
            warmup=10,
            max_seconds=8,
        )
    return put, get


def run() -> list[Row]:
    put, get = _stratus(3000)
    other_put, other_get = _moto(300)
    rows = [
        Row("bucket", "put 64 KB", put, other_put, target=TARGET),
        Row("bucket", "get 64 KB", get, other_get, target=TARGET),
    ]
    # The same with the state folder in memory (tmpfs), when there is one: the adapter's own
    # cost without the disk's, since moto keeps every object in memory.
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        put, get = _stratus(3000, "/dev/shm")
        rows += [
            Row("bucket", "put 64 KB (state on tmpfs)", put, other_put, target=TARGET),
            Row("bucket", "get 64 KB (state on tmpfs)", get, other_get, target=TARGET),
        ]
    return rows
