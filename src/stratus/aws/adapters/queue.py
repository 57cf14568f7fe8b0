"""AwsQueue: the queue port on Amazon SQS, through boto3.

The handle validates bodies, attributes, batch ids and limits before calling; this adapter
turns the checked requests into SQS calls (``SendMessage``/``SendMessageBatch``,
``ReceiveMessage``, ``DeleteMessage[Batch]``, ``ChangeMessageVisibility[Batch]``,
``PurgeQueue``, ``GetQueueAttributes``, ``StartMessageMoveTask``) and maps SQS error codes
onto the port's errors. Waiting (long polls) is SQS's own.

What SQS cannot do: ``peek`` (SQS has no way to list messages without receiving them) raises
UnsupportedOperation, and ``attributes()`` carries no ``ApproximateAgeOfOldestMessage`` (a
CloudWatch metric on AWS, not a queue attribute).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import StratusError, Throttled
from stratus.resources import queue as port
from stratus.resources.queue import Message, MessageAttribute, MoveTask, OutgoingMessage, QueueBackend, SendResult

if TYPE_CHECKING:
    from stratus.resources.queue import Queue

#: SQS error codes (JSON and query protocol spellings) -> the port's errors.
_ERRORS: dict[str, type[StratusError]] = {
    "AWS.SimpleQueueService.NonExistentQueue": port.QueueDoesNotExist,
    "QueueDoesNotExist": port.QueueDoesNotExist,
    "InvalidParameterValue": port.InvalidParameterValue,
    "MissingParameter": port.MissingParameter,
    "InvalidMessageContents": port.InvalidMessageContents,
    "InvalidAttributeName": port.InvalidAttributeName,
    "ReceiptHandleIsInvalid": port.ReceiptHandleIsInvalid,
    "InvalidReceiptHandle": port.ReceiptHandleIsInvalid,
    "AWS.SimpleQueueService.MessageNotInflight": port.MessageNotInflight,
    "MessageNotInflight": port.MessageNotInflight,
    "AWS.SimpleQueueService.PurgeQueueInProgress": port.PurgeQueueInProgress,
    "PurgeQueueInProgress": port.PurgeQueueInProgress,
    "AWS.SimpleQueueService.UnsupportedOperation": port.UnsupportedOperation,
    "UnsupportedOperation": port.UnsupportedOperation,
    "AWS.SimpleQueueService.EmptyBatchRequest": port.EmptyBatchRequest,
    "EmptyBatchRequest": port.EmptyBatchRequest,
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest": port.TooManyEntriesInBatchRequest,
    "TooManyEntriesInBatchRequest": port.TooManyEntriesInBatchRequest,
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct": port.BatchEntryIdsNotDistinct,
    "BatchEntryIdsNotDistinct": port.BatchEntryIdsNotDistinct,
    "AWS.SimpleQueueService.BatchRequestTooLong": port.BatchRequestTooLong,
    "BatchRequestTooLong": port.BatchRequestTooLong,
    "AWS.SimpleQueueService.InvalidBatchEntryId": port.InvalidBatchEntryId,
    "InvalidBatchEntryId": port.InvalidBatchEntryId,
    "ResourceNotFoundException": port.ResourceNotFound,
    "RequestThrottled": Throttled,
    "ThrottlingException": Throttled,
}

_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "VisibilityTimeout",
    "DelaySeconds",
    "MessageRetentionPeriod",
    "MaximumMessageSize",
)


def error_for(code: str, message: str) -> StratusError:
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def translate(error: ClientError) -> StratusError:
    return error_for(_context.error_code(error), _context.error_message(error))


def _attribute_out(attribute: MessageAttribute) -> dict[str, Any]:
    if attribute.data_type.startswith("Binary"):
        return {"DataType": attribute.data_type, "BinaryValue": attribute.value}
    return {"DataType": attribute.data_type, "StringValue": attribute.value}


def _attribute_in(raw: dict[str, Any]) -> MessageAttribute:
    if "BinaryValue" in raw:
        return MessageAttribute(raw["DataType"], bytes(raw["BinaryValue"]))
    return MessageAttribute(raw["DataType"], raw.get("StringValue", ""))


def _entry(message: OutgoingMessage) -> dict[str, Any]:
    entry: dict[str, Any] = {"MessageBody": message.body}
    if message.attributes:
        entry["MessageAttributes"] = {n: _attribute_out(a) for n, a in message.attributes.items()}
    if message.delay is not None:
        entry["DelaySeconds"] = message.delay
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    if message.deduplication_id is not None:
        entry["MessageDeduplicationId"] = message.deduplication_id
    return entry


def _result(response: dict[str, Any]) -> SendResult:
    return SendResult(
        response["MessageId"],
        response["MD5OfMessageBody"],
        response.get("MD5OfMessageAttributes"),
        response.get("SequenceNumber"),
    )


class AwsQueue(QueueBackend):
    """One SQS queue, addressed by the URL in ``STRATUS_QUEUE_<NAME>``."""

    def __init__(self, resource: Queue, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.queue_url = _context.physical_id(resource, cloud)
        self.client = _context.client("sqs", cloud)
        self._arn: str | None = None

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    @property
    def queue_arn(self) -> str:
        if self._arn is None:
            attributes = self._call("get_queue_attributes", QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._arn = str(attributes["Attributes"]["QueueArn"])
        return self._arn

    # -- sending ----------------------------------------------------------------------------

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        if len(messages) == 1:
            return [_result(self._call("send_message", QueueUrl=self.queue_url, **_entry(messages[0])))]
        entries = [{"Id": str(i), **_entry(m)} for i, m in enumerate(messages)]
        response = self._call("send_message_batch", QueueUrl=self.queue_url, Entries=entries)
        failed = response.get("Failed") or []
        if failed:
            raise error_for(failed[0].get("Code", ""), failed[0].get("Message", ""))
        by_id = {s["Id"]: _result(s) for s in response.get("Successful", [])}
        return [by_id[str(i)] for i in range(len(messages))]

    # -- receiving --------------------------------------------------------------------------

    def receive(
        self,
        max_messages: int,
        wait_seconds: int,
        visibility_timeout: int | None,
        attribute_names: frozenset[str],
        message_attribute_names: frozenset[str],
    ) -> list[Message]:
        params: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": wait_seconds,
        }
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = visibility_timeout
        if attribute_names:
            params["MessageSystemAttributeNames"] = sorted(attribute_names)
        if message_attribute_names:
            params["MessageAttributeNames"] = sorted(message_attribute_names)
        response = self._call("receive_message", **params)
        return [
            Message(
                raw["MessageId"],
                raw["ReceiptHandle"],
                raw["Body"],
                raw["MD5OfBody"],
                raw.get("MD5OfMessageAttributes"),
                dict(raw.get("Attributes", {})),
                {n: _attribute_in(a) for n, a in raw.get("MessageAttributes", {}).items()},
            )
            for raw in response.get("Messages", [])
        ]

    def peek(self, limit: int) -> list[Message]:
        raise port.UnsupportedOperation(
            "peek lists messages without receiving them, which SQS cannot do; receive them instead"
        )

    # -- acknowledging ----------------------------------------------------------------------

    def _per_entry(self, single: Any, batch: str, entries: list[dict[str, Any]]) -> list[StratusError | None]:
        if len(entries) == 1:
            try:
                single(QueueUrl=self.queue_url, **entries[0])
            except ClientError as error:
                return [translate(error)]
            return [None]
        numbered = [{"Id": str(i), **e} for i, e in enumerate(entries)]
        response = self._call(batch, QueueUrl=self.queue_url, Entries=numbered)
        outcome: list[StratusError | None] = [None] * len(entries)
        for failure in response.get("Failed") or []:
            outcome[int(failure["Id"])] = error_for(failure.get("Code", ""), failure.get("Message", ""))
        return outcome

    def delete(self, receipt_handles: list[str]) -> list[StratusError | None]:
        return self._per_entry(
            self.client.delete_message, "delete_message_batch", [{"ReceiptHandle": h} for h in receipt_handles]
        )

    def change_visibility(self, entries: list[tuple[str, int]]) -> list[StratusError | None]:
        return self._per_entry(
            self.client.change_message_visibility,
            "change_message_visibility_batch",
            [{"ReceiptHandle": h, "VisibilityTimeout": s} for h, s in entries],
        )

    # -- managing ---------------------------------------------------------------------------

    def purge(self) -> None:
        self._call("purge_queue", QueueUrl=self.queue_url)

    def attributes(self) -> dict[str, int]:
        response = self._call("get_queue_attributes", QueueUrl=self.queue_url, AttributeNames=["All"])
        raw = response.get("Attributes", {})
        return {name: int(raw[name]) for name in _COUNTS if name in raw}

    def redrive(self, to: Queue | None, max_per_second: int | None) -> MoveTask:
        params: dict[str, Any] = {"SourceArn": self.queue_arn}
        destination = None
        if to is not None:
            destination = _queue_arn(to)
            params["DestinationArn"] = destination
        if max_per_second is not None:
            params["MaxNumberOfMessagesPerSecond"] = max_per_second
        handle = str(self._call("start_message_move_task", **params)["TaskHandle"])
        task = MoveTask(handle, self.queue_arn, destination, 0)
        clock = _context.clock(self.cloud)

        def refresh() -> None:
            listed = self._call("list_message_move_tasks", SourceArn=self.queue_arn, MaxResults=10)
            for result in listed.get("Results", []):
                if result.get("TaskHandle", handle) == handle or result.get("Status") != "RUNNING":
                    task.status = str(result.get("Status", task.status))
                    task.moved = int(result.get("ApproximateNumberOfMessagesMoved", task.moved))
                    task.to_move = int(result.get("ApproximateNumberOfMessagesToMove", task.to_move))
                    task.failure_reason = result.get("FailureReason")
                    return

        def done(timeout: float | None) -> bool:
            deadline = None if timeout is None else clock.now() + timeout
            while True:
                refresh()
                if task.status not in ("RUNNING", "CANCELLING"):
                    return True
                if deadline is not None and clock.now() >= deadline:
                    return False
                clock.sleep(1.0)

        def cancel() -> None:
            self._call("cancel_message_move_task", TaskHandle=handle)

        task._done = done
        task._cancel = cancel
        return task


def _queue_arn(queue: Queue) -> str:
    arn = getattr(queue.backend, "queue_arn", None)
    if not isinstance(arn, str):
        raise port.InvalidParameterValue(f"queue {queue.name!r} is not bound to SQS")
    return arn
