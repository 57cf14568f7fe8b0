"""AwsTable: the table port on DynamoDB, through boto3's low-level client.

The handle has already checked and parsed every request, so this adapter only renders the
parsed expressions with placeholders (``expression.render(Placeholders)``: user data never
enters expression text), converts values with boto3's ``TypeSerializer``/``TypeDeserializer``
(numbers stay ``Decimal``; ``Binary`` wrappers become ``bytes``, as the port promises) and
maps DynamoDB's error codes onto the port's errors. Capacity, retries and signing are boto3's.

The change stream and TTL are DynamoDB's own (Streams and the TTL sweeper); ``stream_read``
reads DynamoDB Streams for the single-shard tables tests and tools create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ConditionalCheckFailed, ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.table.backend import Read, ReadResult, TableBackend, Write
from stratus.resources.table.errors import (
    CancellationReason,
    IdempotentParameterMismatch,
    TransactionCanceled,
    TransactionConflict,
)
from stratus.resources.table.expressions import Placeholders

if TYPE_CHECKING:
    from stratus.resources.table.port import Table
    from stratus.resources.table.transactions import TxAction, TxGet

#: How many times a batch write retries the requests DynamoDB left unprocessed.
BATCH_RETRIES = 4

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """boto3's ``Binary`` wrappers unwrapped to ``bytes``, recursively."""
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-Python item as DynamoDB attribute values."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def deserialize(image: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as a plain-Python item."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in image.items()}


def translate(error: ClientError) -> StratusError:
    """The port's error for a DynamoDB error code."""
    code = _context.error_code(error)
    message = _context.error_message(error)
    if code == "ConditionalCheckFailedException":
        item = error.response.get("Item")
        return ConditionalCheckFailed(item=deserialize(item) if item else None)
    if code == "TransactionCanceledException":
        reasons = []
        for reason in error.response.get("CancellationReasons", []) or []:
            reason_code = reason.get("Code")
            reasons.append(
                CancellationReason(
                    None if reason_code in (None, "None") else reason_code,
                    reason.get("Message"),
                    deserialize(reason["Item"]) if reason.get("Item") else None,
                )
            )
        return TransactionCanceled(reasons)
    if code == "ResourceNotFoundException":
        return ResourceNotFound(message)
    if code == "IdempotentParameterMismatchException":
        return IdempotentParameterMismatch(message)
    if code == "TransactionConflictException":
        return TransactionConflict(message)
    if code in ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"):
        return Throttled(message)
    if code == "ValidationException":
        return ValidationError(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def _expressions(params: dict[str, Any], ph: Placeholders) -> dict[str, Any]:
    """Add the placeholders' name and value maps to ``params`` (only when used, as DynamoDB requires)."""
    if ph.names:
        params["ExpressionAttributeNames"] = dict(ph.names)
    if ph.values:
        params["ExpressionAttributeValues"] = serialize(ph.values)
    return params


class AwsTable(TableBackend):
    """One DynamoDB table, named by ``STRATUS_TABLE_<NAME>``."""

    def __init__(self, resource: Table, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.table_name = _context.physical_id(resource, cloud)
        self.client = _context.client("dynamodb", cloud)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    # -- single items -----------------------------------------------------------------------

    def write(self, request: Write) -> dict[str, Any] | None:
        ph = Placeholders()
        params: dict[str, Any] = {"TableName": self.table_name}
        if request.kind == "put":
            params["Item"] = serialize(request.item or request.key)
            operation = "put_item"
        else:
            params["Key"] = serialize(request.key)
            operation = "update_item" if request.kind == "update" else "delete_item"
            if request.kind == "update":
                text = request.update.render(ph)
                if text:
                    params["UpdateExpression"] = text
        if request.condition is not None:
            params["ConditionExpression"] = request.condition.render(ph)
        if request.returns != "NONE":
            params["ReturnValues"] = request.returns
        if request.return_old_on_condition_failure:
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        response = self._call(operation, **_expressions(params, ph))
        attributes = response.get("Attributes")
        if request.returns == "NONE":
            return None
        return deserialize(attributes) if attributes else None

    def get(self, key: dict[str, Any], projection: Any, consistent: bool) -> dict[str, Any] | None:
        ph = Placeholders()
        params: dict[str, Any] = {"TableName": self.table_name, "Key": serialize(key), "ConsistentRead": consistent}
        if projection is not None:
            params["ProjectionExpression"] = projection.render(ph)
        item = self._call("get_item", **_expressions(params, ph)).get("Item")
        return deserialize(item) if item is not None else None

    # -- queries and scans ------------------------------------------------------------------

    def read(self, request: Read) -> ReadResult:
        ph = Placeholders()
        params: dict[str, Any] = {"TableName": self.table_name}
        if request.index is not None:
            params["IndexName"] = request.index.name
        if request.key_condition is not None:
            params["KeyConditionExpression"] = request.key_condition.render(ph)
            params["ScanIndexForward"] = request.forward
        if request.filter is not None:
            params["FilterExpression"] = request.filter.render(ph)
        if request.projection is not None:
            params["ProjectionExpression"] = request.projection.render(ph)
        if request.count_only:
            params["Select"] = "COUNT"
        if request.limit is not None:
            params["Limit"] = request.limit
        if request.start_key is not None:
            params["ExclusiveStartKey"] = serialize(request.start_key)
        if request.consistent:
            params["ConsistentRead"] = True
        if request.total_segments is not None:
            params["Segment"] = request.segment
            params["TotalSegments"] = request.total_segments
        operation = "query" if request.key_condition is not None else "scan"
        response = self._call(operation, **_expressions(params, ph))
        last = response.get("LastEvaluatedKey")
        return ReadResult(
            items=[deserialize(i) for i in response.get("Items", [])],
            last_key=deserialize(last) if last else None,
            count=int(response.get("Count", 0)),
            scanned_count=int(response.get("ScannedCount", 0)),
        )

    # -- batches ----------------------------------------------------------------------------

    def batch_get(self, keys: list[dict[str, Any]], projection: Any, consistent: bool) -> tuple[list, list]:
        ph = Placeholders()
        request: dict[str, Any] = {"Keys": [serialize(k) for k in keys], "ConsistentRead": consistent}
        if projection is not None:
            request["ProjectionExpression"] = projection.render(ph)
            if ph.names:
                request["ExpressionAttributeNames"] = dict(ph.names)
        response = self._call("batch_get_item", RequestItems={self.table_name: request})
        found = [deserialize(i) for i in response.get("Responses", {}).get(self.table_name, [])]
        left = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return found, [deserialize(k) for k in left]

    def batch_write(self, puts: list[tuple[dict[str, Any], int]], deletes: list[dict[str, Any]]) -> list[Any]:
        requests: list[dict[str, Any]] = [{"PutRequest": {"Item": serialize(item)}} for item, _ in puts]
        requests += [{"DeleteRequest": {"Key": serialize(key)}} for key in deletes]
        clock = _context.clock(self.cloud)
        # DynamoDB may leave requests unprocessed under throttling: retry them a few times with
        # backoff (as boto3's batch_writer does), then hand back what is still left.
        for attempt in range(BATCH_RETRIES + 1):
            response = self._call("batch_write_item", RequestItems={self.table_name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if not requests or attempt == BATCH_RETRIES:
                break
            clock.sleep(0.05 * 2**attempt)
        unprocessed: list[Any] = []
        for left in requests:
            if "PutRequest" in left:
                unprocessed.append({"put": deserialize(left["PutRequest"]["Item"])})
            else:
                unprocessed.append({"delete": deserialize(left["DeleteRequest"]["Key"])})
        return unprocessed

    # -- transactions -----------------------------------------------------------------------

    def transact_write(self, actions: list[TxAction], client_token: str | None, fingerprint: str) -> None:
        items = [_tx_item(_table_name(action.table), action.write) for action in actions]
        params: dict[str, Any] = {"TransactItems": items}
        if client_token is not None:
            params["ClientRequestToken"] = client_token
        self._call("transact_write_items", **params)

    def transact_get(self, gets: list[TxGet]) -> list[dict[str, Any] | None]:
        items = []
        for get in gets:
            ph = Placeholders()
            entry: dict[str, Any] = {"TableName": _table_name(get.table), "Key": serialize(get.key)}
            if get.projection is not None:
                entry["ProjectionExpression"] = get.projection.render(ph)
                if ph.names:
                    entry["ExpressionAttributeNames"] = dict(ph.names)
            items.append({"Get": entry})
        response = self._call("transact_get_items", TransactItems=items)
        out: list[dict[str, Any] | None] = []
        for result in response.get("Responses", []):
            item = result.get("Item")
            out.append(deserialize(item) if item is not None else None)
        return out

    # -- the change stream (DynamoDB Streams) -------------------------------------------------

    def _stream_arn(self) -> str | None:
        table = self._call("describe_table", TableName=self.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        return str(arn) if arn and table.get("StreamSpecification", {}).get("StreamEnabled", True) else None

    def stream_read(self, after_sequence: str | None, limit: int) -> list[dict[str, Any]]:
        arn = self._stream_arn()
        if arn is None:
            return []
        streams = _context.client("dynamodbstreams", self.cloud)
        records: list[dict[str, Any]] = []
        try:
            shards = streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", [])
            for shard in shards:
                if after_sequence is None:
                    start: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
                else:
                    start = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after_sequence}
                iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **start)["ShardIterator"]
                while iterator and len(records) < limit:
                    page = streams.get_records(ShardIterator=iterator, Limit=min(1000, limit - len(records)))
                    if not page.get("Records"):
                        break
                    records.extend(page["Records"])
                    iterator = page.get("NextShardIterator")
        except ClientError as error:
            raise translate(error) from None
        return [_event_shape(r) for r in records[:limit]]

    def stream_latest_sequence(self) -> str | None:
        records = self.stream_read(None, 1_000_000)
        return str(records[-1]["dynamodb"]["SequenceNumber"]) if records else None

    def subscribe(self, listener: Callable[[], None]) -> None:
        raise NotImplementedError("on AWS, DynamoDB Streams reach functions through event-source mappings")


def _event_shape(record: dict[str, Any]) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda delivers (creation time in epoch seconds, not datetime)."""
    change = dict(record.get("dynamodb", {}))
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change}


def _table_name(table: Table) -> str:
    """The physical name of a table taking part in a transaction (bound to this adapter or not)."""
    name = getattr(table.backend, "table_name", None)
    if not isinstance(name, str):
        raise ValidationError(f"table {table.name!r} is not bound to DynamoDB; a transaction spans DynamoDB tables")
    return name


def _tx_item(table_name: str, write: Write) -> dict[str, Any]:
    ph = Placeholders()
    entry: dict[str, Any] = {"TableName": table_name}
    if write.kind == "put":
        entry["Item"] = serialize(write.item or write.key)
        kind = "Put"
    else:
        entry["Key"] = serialize(write.key)
        kind = {"update": "Update", "delete": "Delete", "check": "ConditionCheck"}[write.kind]
        if write.kind == "update":
            entry["UpdateExpression"] = write.update.render(ph)
    if write.condition is not None:
        entry["ConditionExpression"] = write.condition.render(ph)
    if write.return_old_on_condition_failure:
        entry["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {kind: _expressions(entry, ph)}
