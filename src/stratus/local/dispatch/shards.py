"""Shard readers for stream event sources: Kinesis streams and DynamoDB table streams.

Both look the same to the dispatcher: a set of shards (with parents, so children wait for
their parents to be read to the end), and records after a position, each with a sequence
number and an arrival time, already in the shape Lambda delivers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

from stratus.local.cloud import LocalCloud

#: The single shard id a table stream is read as (its log is one totally ordered sequence).
TABLE_SHARD = "shardId-00000001"


@dataclass(frozen=True)
class ShardInfo:
    shard_id: str
    parents: tuple[str, ...]
    closed: bool


@dataclass(frozen=True)
class StreamRecord:
    sequence: str
    arrival: float
    record: dict[str, Any]


class ShardSource(Protocol):
    arn: str

    def shards(self) -> list[ShardInfo]: ...

    def read(self, shard_id: str, after: str | None, limit: int) -> tuple[list[StreamRecord], bool]:
        """Records after ``after`` (None = from the oldest retained); and whether a closed shard is exhausted."""
        ...

    def latest(self, shard_id: str) -> str | None:
        """The newest sequence number in the shard now (where LATEST starts)."""
        ...


class KinesisShards:
    def __init__(self, stream: Any, cloud: LocalCloud) -> None:
        self.stream = stream
        self.cloud = cloud
        self.arn = cloud.arn("kinesis", f"stream/{stream.qualified_name}")

    def shards(self) -> list[ShardInfo]:
        out = []
        for shard in self.stream.list_shards():
            parents = tuple(p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p)
            out.append(ShardInfo(shard.shard_id, parents, not shard.is_open))
        return out

    def read(self, shard_id: str, after: str | None, limit: int) -> tuple[list[StreamRecord], bool]:
        if after is None:
            iterator = self.stream.get_shard_iterator(shard_id, "TRIM_HORIZON")
        else:
            iterator = self.stream.get_shard_iterator(shard_id, "AFTER_SEQUENCE_NUMBER", sequence_number=after)
        result = self.stream.get_records(iterator, min(limit, 10000))
        records = [
            StreamRecord(r.sequence_number, r.approximate_arrival_timestamp, self._record(shard_id, r))
            for r in result.records
        ]
        exhausted = result.next_shard_iterator is None and not result.records
        return records, exhausted

    def latest(self, shard_id: str) -> str | None:
        last = None
        after = None
        while True:
            records, _ = self.read(shard_id, after, 10000)
            if not records:
                return last
            last = after = records[-1].sequence

    def _record(self, shard_id: str, r: Any) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r.partition_key,
                "sequenceNumber": r.sequence_number,
                "data": base64.b64encode(r.data).decode(),
                "approximateArrivalTimestamp": r.approximate_arrival_timestamp,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{r.sequence_number}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.cloud.arn("iam", "role/stratus-local"),
            "awsRegion": self.cloud.region,
            "eventSourceARN": self.arn,
        }


class TableStreamShards:
    def __init__(self, table: Any, cloud: LocalCloud) -> None:
        self.table = table
        self.backend = table.backend
        self.cloud = cloud
        self.arn = table.backend.stream_arn

    def shards(self) -> list[ShardInfo]:
        return [ShardInfo(TABLE_SHARD, (), False)]

    def read(self, shard_id: str, after: str | None, limit: int) -> tuple[list[StreamRecord], bool]:
        out = []
        for record in self.backend.stream_read(after, min(limit, 10000)):
            item = dict(record)
            item["eventSourceARN"] = self.arn
            dynamodb = item.get("dynamodb", {})
            arrival = float(dynamodb.get("ApproximateCreationDateTime", 0))
            out.append(StreamRecord(str(dynamodb["SequenceNumber"]), arrival, item))
        return out, False

    def latest(self, shard_id: str) -> str | None:
        value = self.backend.stream_latest_sequence()
        return None if value is None else str(value)
