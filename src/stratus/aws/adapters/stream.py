"""AwsStream: the stream port on Amazon Kinesis Data Streams, through boto3.

The handle validates records (sizes, partition keys, hash keys) and iterator arguments and
computes each record's 128-bit hash key; this adapter sends it as ``ExplicitHashKey`` so
Kinesis routes exactly as the handle did, and maps Kinesis's error codes onto the port's
errors. Throughput limits, retention and resharding are Kinesis's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import LimitExceeded, ResourceInUse, ResourceNotFound, StratusError, ValidationError
from stratus.resources import stream as port
from stratus.resources.stream import (
    ChildShard,
    GetRecordsResult,
    HashKeyRange,
    OutgoingRecord,
    PutRecordResult,
    Record,
    SequenceNumberRange,
    Shard,
    StreamBackend,
    StreamDescription,
)

if TYPE_CHECKING:
    from stratus.resources.stream import Stream

_ERRORS: dict[str, type[StratusError]] = {
    "InvalidArgumentException": port.InvalidArgument,
    "ExpiredIteratorException": port.ExpiredIterator,
    "ProvisionedThroughputExceededException": port.ProvisionedThroughputExceeded,
    "ResourceNotFoundException": ResourceNotFound,
    "ResourceInUseException": ResourceInUse,
    "LimitExceededException": LimitExceeded,
    "ValidationException": ValidationError,
}


def error_for(code: str, message: str) -> StratusError:
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def translate(error: ClientError) -> StratusError:
    return error_for(_context.error_code(error), _context.error_message(error))


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def _shard(raw: dict[str, Any]) -> Shard:
    hashes = raw["HashKeyRange"]
    sequences = raw["SequenceNumberRange"]
    return Shard(
        raw["ShardId"],
        HashKeyRange(hashes["StartingHashKey"], hashes["EndingHashKey"]),
        SequenceNumberRange(sequences["StartingSequenceNumber"], sequences.get("EndingSequenceNumber")),
        raw.get("ParentShardId"),
        raw.get("AdjacentParentShardId"),
    )


class AwsStream(StreamBackend):
    """One Kinesis data stream, named by ``STRATUS_STREAM_<NAME>``."""

    def __init__(self, resource: Stream, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.stream_name = _context.physical_id(resource, cloud)
        self.client = _context.client("kinesis", cloud)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(StreamName=self.stream_name, **params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    def put(self, records: list[OutgoingRecord]) -> list[PutRecordResult | StratusError]:
        entries = [
            {"Data": r.data, "PartitionKey": r.partition_key, "ExplicitHashKey": str(r.hash_key)} for r in records
        ]
        response = self._call("put_records", Records=entries)
        out: list[PutRecordResult | StratusError] = []
        for answer in response.get("Records", []):
            if answer.get("ErrorCode"):
                out.append(error_for(answer["ErrorCode"], answer.get("ErrorMessage", "")))
            else:
                out.append(PutRecordResult(answer["ShardId"], answer["SequenceNumber"]))
        return out

    def list_shards(self) -> list[Shard]:
        shards: list[Shard] = []
        token: str | None = None
        while True:
            if token is None:
                response = self._call("list_shards")
            else:
                try:
                    response = self.client.list_shards(NextToken=token)
                except ClientError as error:
                    raise translate(error) from None
            shards.extend(_shard(s) for s in response.get("Shards", []))
            token = response.get("NextToken")
            if not token:
                return shards

    def get_shard_iterator(
        self, shard_id: str, iterator_type: str, sequence_number: str | None, timestamp: float | None
    ) -> str:
        params: dict[str, Any] = {"ShardId": shard_id, "ShardIteratorType": iterator_type}
        if sequence_number is not None:
            params["StartingSequenceNumber"] = sequence_number
        if timestamp is not None:
            params["Timestamp"] = datetime.fromtimestamp(timestamp, UTC)
        return str(self._call("get_shard_iterator", **params)["ShardIterator"])

    def get_records(self, iterator: str, limit: int) -> GetRecordsResult:
        try:
            response = self.client.get_records(ShardIterator=iterator, Limit=limit)
        except ClientError as error:
            raise translate(error) from None
        return GetRecordsResult(
            [
                Record(
                    r["SequenceNumber"],
                    _epoch(r.get("ApproximateArrivalTimestamp")),
                    bytes(r["Data"]),
                    r["PartitionKey"],
                )
                for r in response.get("Records", [])
            ],
            response.get("NextShardIterator"),
            int(response.get("MillisBehindLatest", 0)),
            [
                ChildShard(
                    c["ShardId"],
                    list(c.get("ParentShards", [])),
                    HashKeyRange(c["HashKeyRange"]["StartingHashKey"], c["HashKeyRange"]["EndingHashKey"]),
                )
                for c in response.get("ChildShards", []) or []
            ],
        )

    def split_shard(self, shard_id: str, new_starting_hash_key: int) -> None:
        self._call("split_shard", ShardToSplit=shard_id, NewStartingHashKey=str(new_starting_hash_key))

    def merge_shards(self, shard_id: str, adjacent_shard_id: str) -> None:
        self._call("merge_shards", ShardToMerge=shard_id, AdjacentShardToMerge=adjacent_shard_id)

    def describe(self) -> StreamDescription:
        summary = self._call("describe_stream_summary")["StreamDescriptionSummary"]
        shards = self.list_shards()
        # The port names a stream as it was declared (the ARN carries the physical name).
        return StreamDescription(
            self.resource.name,
            summary["StreamARN"],
            summary["StreamStatus"],
            int(summary["RetentionPeriodHours"]),
            int(summary.get("OpenShardCount", 0)),
            len(shards),
            _epoch(summary.get("StreamCreationTimestamp")),
        )
