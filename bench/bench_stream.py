"""Stream round trips (put -> get_records) on the embedded adapter and on boto3 + moto in process.

Each operation puts one record and reads it back through the shard's iterator. The
records rotate over 32 shards (explicit hash keys) so that neither side reaches
Kinesis's per-shard write limit of 1,000 records per second, which the embedded
adapter enforces on the clock as AWS does. Rounds alternate between the two sides
(see bench_queue.compare).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from bench.bench_queue import Op, compare
from bench.common import Row
from stratus import App
from stratus.local.cloud import LocalCloud

SHARDS = 32
_SPAN = 2**128 // SHARDS
_PAYLOAD = b"x" * 100


@contextmanager
def _stratus() -> Iterator[Op]:
    folder = tempfile.mkdtemp(prefix="bench-stream-")
    app = App("bench")
    s = app.stream("events", shards=SHARDS)
    cloud = LocalCloud(folder)
    cloud.bind(app)
    iterators = [s.get_shard_iterator(sh.shard_id, "LATEST") for sh in s.list_shards()]

    def op(i: int) -> None:
        n = i % SHARDS
        s.put(_PAYLOAD, f"key-{i}", explicit_hash_key=n * _SPAN)
        result = s.get_records(iterators[n])
        assert len(result.records) == 1
        iterators[n] = result.next_shard_iterator or ""

    try:
        yield op
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _moto() -> Iterator[Op]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="events", ShardCount=SHARDS)
        shards = client.list_shards(StreamName="events")["Shards"]
        iterators = [
            client.get_shard_iterator(StreamName="events", ShardId=sh["ShardId"], ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            for sh in shards
        ]
        starts = [sh["HashKeyRange"]["StartingHashKey"] for sh in shards]

        def op(i: int) -> None:
            n = i % SHARDS
            client.put_record(StreamName="events", Data=_PAYLOAD, PartitionKey=f"key-{i}", ExplicitHashKey=starts[n])
            result = client.get_records(ShardIterator=iterators[n])
            assert len(result["Records"]) == 1
            iterators[n] = result["NextShardIterator"]

        yield op


def run() -> list[Row]:
    with _stratus() as ours, _moto() as theirs:
        stratus, moto = compare(ours, theirs)
    return [Row("stream", "put→get_records", stratus, moto, target=">= 30x")]
