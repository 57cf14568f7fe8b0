"""Stream round trips (put -> get_records) on the embedded adapter and on boto3 + moto in process.

Each operation puts one record and reads it back through the shard's iterator. The
records rotate over 32 shards (explicit hash keys) so that neither side reaches
Kinesis's per-shard write limit of 1,000 records per second, which the embedded
adapter enforces on the clock as AWS does.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable

from bench.common import Figures, Row, measure
from stratus import App
from stratus.local.cloud import LocalCloud

SHARDS = 32
STRATUS_COUNT, MOTO_COUNT, MAX_SECONDS, ROUNDS = 3000, 200, 3.0, 3


def _best(op: Callable[[int], object], count: int, warmup: int = 50) -> Figures:
    """The best of a few rounds: both sides get the same treatment, and a busy machine's stalls weigh less."""
    return max((measure(op, count, warmup=warmup, max_seconds=MAX_SECONDS) for _ in range(ROUNDS)), key=_rate)


def _rate(figures: Figures) -> float:
    return figures.ops_per_s


_SPAN = 2**128 // SHARDS


def _stratus() -> Figures:
    folder = tempfile.mkdtemp(prefix="bench-stream-")
    app = App("bench")
    s = app.stream("events", shards=SHARDS)
    cloud = LocalCloud(folder)
    cloud.bind(app)
    try:
        shard_ids = [sh.shard_id for sh in s.list_shards()]
        iterators = [s.get_shard_iterator(sid, "LATEST") for sid in shard_ids]
        payload = b"x" * 100

        def op(i: int) -> None:
            n = i % SHARDS
            s.put(payload, f"key-{i}", explicit_hash_key=n * _SPAN)
            result = s.get_records(iterators[n])
            assert len(result.records) == 1
            iterators[n] = result.next_shard_iterator or ""

        return _best(op, STRATUS_COUNT)
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def _moto() -> Figures:
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
        starts = [int(sh["HashKeyRange"]["StartingHashKey"]) for sh in shards]
        payload = b"x" * 100

        def op(i: int) -> None:
            n = i % SHARDS
            client.put_record(
                StreamName="events", Data=payload, PartitionKey=f"key-{i}", ExplicitHashKey=str(starts[n])
            )
            result = client.get_records(ShardIterator=iterators[n])
            assert len(result["Records"]) == 1
            iterators[n] = result["NextShardIterator"]

        return _best(op, MOTO_COUNT, warmup=20)


def run() -> list[Row]:
    return [Row("stream", "put→get_records", _stratus(), _moto(), target=">= 30x")]
