"""The queue port (Amazon SQS): standard and FIFO queues with AWS's delivery semantics.

``app.queue("orders")`` declares a standard queue (at-least-once, best-effort order);
``app.queue("payments.fifo", fifo=True)`` a FIFO queue (strict order per message group,
5-minute deduplication, a group blocked while one of its messages is in flight). A
message received and not deleted within its visibility timeout is delivered again;
after ``DeadLetter.max_receive_count`` receives it moves to the dead-letter queue, and
:meth:`Queue.redrive` moves it back (StartMessageMoveTask).

The handle validates everything SQS validates before a request leaves the client or
reaches a queue (body characters, sizes, attribute names and types, batch structure,
parameter ranges), with SQS's error codes, so a backend receives only well-formed
requests. A batch with a bad entry fails that entry alone, as SQS reports it.

MD5 digests of bodies and message attributes follow SQS's documented encoding
(written by hand: no library implements SQS's attribute digest).
"""

from __future__ import annotations

import hashlib
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from stratus.errors import ResourceNotFound, StratusError, ValidationError
from stratus.observability.context import current_header
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

# --- limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)

MAX_BATCH = 10
MAX_ATTRIBUTES = 10
MAX_VISIBILITY = 43_200
MAX_DELAY = 900
MAX_WAIT = 20
MIN_RETENTION, MAX_RETENTION, DEFAULT_RETENTION = 60, 1_209_600, 345_600
MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE, DEFAULT_MESSAGE_SIZE = 1024, 1_048_576, 262_144
MAX_RECEIVE_COUNT = 1000
DEDUPLICATION_WINDOW = 300
MAX_MOVE_RATE = 500

#: Attributes a receive can ask for (MessageSystemAttributeName); "All" asks for every one.
SYSTEM_ATTRIBUTES = frozenset(
    {
        "All",
        "ApproximateFirstReceiveTimestamp",
        "ApproximateReceiveCount",
        "AWSTraceHeader",
        "SenderId",
        "SentTimestamp",
        "SqsManagedSseEnabled",
        "MessageDeduplicationId",
        "MessageGroupId",
        "SequenceNumber",
        "DeadLetterQueueSourceArn",
    }
)

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_INVALID_BODY_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_GROUP_CHARS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[^\s]{1,250})?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# --- errors (codes as SQS returns them)


class QueueDoesNotExist(ResourceNotFound):
    code = "AWS.SimpleQueueService.NonExistentQueue"


class InvalidParameterValue(ValidationError):
    code = "InvalidParameterValue"


class MissingParameter(ValidationError):
    code = "MissingParameter"


class InvalidMessageContents(ValidationError):
    code = "InvalidMessageContents"


class InvalidAttributeName(ValidationError):
    code = "InvalidAttributeName"


class ReceiptHandleIsInvalid(ValidationError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(StratusError):
    code = "AWS.SimpleQueueService.MessageNotInflight"


class PurgeQueueInProgress(StratusError):
    code = "AWS.SimpleQueueService.PurgeQueueInProgress"


class UnsupportedOperation(StratusError):
    code = "AWS.SimpleQueueService.UnsupportedOperation"


class EmptyBatchRequest(ValidationError):
    code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(ValidationError):
    code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(ValidationError):
    code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class BatchRequestTooLong(ValidationError):
    code = "AWS.SimpleQueueService.BatchRequestTooLong"


class InvalidBatchEntryId(ValidationError):
    code = "AWS.SimpleQueueService.InvalidBatchEntryId"


# --- values


@dataclass(frozen=True)
class MessageAttribute:
    """A typed message attribute: ``String``, ``Number`` or ``Binary`` (optionally ``Type.label``)."""

    data_type: str
    value: str | bytes

    @property
    def size(self) -> int:
        raw = self.value if isinstance(self.value, bytes) else self.value.encode()
        return len(self.data_type.encode()) + len(raw)


@dataclass(frozen=True)
class DeadLetter:
    """Where messages go after ``max_receive_count`` receives without a delete (a RedrivePolicy)."""

    queue: Queue
    max_receive_count: int = 5


@dataclass(frozen=True)
class SendEntry:
    """One entry of :meth:`Queue.send_batch`."""

    id: str
    body: str
    attributes: Mapping[str, Any] | None = None
    delay: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True)
class BatchSuccess:
    id: str
    result: SendResult | None = None


@dataclass(frozen=True)
class BatchFailure:
    id: str
    code: str
    message: str
    sender_fault: bool = True


@dataclass(frozen=True)
class BatchResult:
    successful: list[BatchSuccess] = field(default_factory=list)
    failed: list[BatchFailure] = field(default_factory=list)


@dataclass(frozen=True)
class Message:
    """A received (or peeked) message. ``attributes`` holds SQS's system attributes as strings."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    md5_of_message_attributes: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    message_attributes: dict[str, MessageAttribute] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    """A validated message on its way to a backend."""

    body: str
    attributes: dict[str, MessageAttribute]
    delay: int | None
    group_id: str | None
    deduplication_id: str | None
    md5_of_body: str
    md5_of_attributes: str | None
    #: The X-Ray trace header of the sender (SQS's AWSTraceHeader system attribute).
    trace_header: str | None = None


class MoveTask:
    """A redrive (StartMessageMoveTask): ``status`` is RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED."""

    def __init__(self, handle: str, source: str, destination: str | None, to_move: int) -> None:
        self.handle = handle
        self.source = source
        self.destination = destination
        self.to_move = to_move
        self.moved = 0
        self.status = "RUNNING"
        self.failure_reason: str | None = None
        self._done: Callable[[float | None], bool] = lambda timeout: True
        self._cancel: Callable[[], None] = lambda: None

    def wait(self, timeout: float | None = None) -> bool:
        """Block (real time) until the task has finished; True if it has."""
        return self._done(timeout)

    def cancel(self) -> None:
        """Stop moving (CancelMessageMoveTask); messages already moved stay where they are."""
        if self.status != "RUNNING":
            raise ResourceNotFound(f"Message movement task {self.handle} is not running (status {self.status})")
        self.status = "CANCELLING"
        self._cancel()

    def __repr__(self) -> str:
        return f"<MoveTask {self.source} -> {self.destination or 'sources'}: {self.moved}/{self.to_move} {self.status}>"


# --- digests


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: Mapping[str, MessageAttribute]) -> str | None:
    """SQS's digest of message attributes: names sorted, each as length-prefixed name, type, transport, value."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        attr = attributes[name]
        encoded_name, encoded_type = name.encode(), attr.data_type.encode()
        digest.update(struct.pack(">I", len(encoded_name)) + encoded_name)
        digest.update(struct.pack(">I", len(encoded_type)) + encoded_type)
        if isinstance(attr.value, bytes):
            digest.update(b"\x02" + struct.pack(">I", len(attr.value)) + attr.value)
        else:
            raw = attr.value.encode()
            digest.update(b"\x01" + struct.pack(">I", len(raw)) + raw)
    return digest.hexdigest()


# --- validation helpers


def _int_param(name: str, value: object, low: int, high: int, reason: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        why = reason or f"Must be an integer from {low} to {high}."
        raise InvalidParameterValue(f"Value {value!r} for parameter {name} is invalid. Reason: {why}")
    return value


def validate_body(body: object) -> str:
    if not isinstance(body, str):
        raise InvalidParameterValue(f"The message body must be a string, got {type(body).__name__}")
    if not body:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    bad = _INVALID_BODY_CHAR.search(body)
    if bad:
        raise InvalidMessageContents(
            f"Invalid characters found in the message body: {bad.group()!r} at position {bad.start()}. "
            "Valid values: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )
    return body


def _number_text(name: str, value: object) -> str:
    text = str(value)
    if not _NUMBER.match(text.strip()):
        raise InvalidParameterValue(f"Message attribute {name!r} has an invalid Number value {value!r}")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidParameterValue(f"Message attribute {name!r} has an invalid Number value {value!r}") from None
    digits = number.as_tuple().digits
    if len(str(int("".join(map(str, digits))))) > 38:
        raise InvalidParameterValue(f"Message attribute {name!r}: a Number can have at most 38 digits of precision")
    if number != 0 and not Decimal("1e-128") <= abs(number) <= Decimal("1e126"):
        raise InvalidParameterValue(f"Message attribute {name!r}: a Number must be between 10^-128 and 10^126")
    return text


def validate_attribute(name: object, value: object) -> MessageAttribute:
    """Turn a Python value (or an explicit :class:`MessageAttribute`) into a checked typed attribute."""
    if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
        raise InvalidParameterValue(
            f"Message attribute name {name!r} is invalid: 1-256 characters of letters, digits, '_', '-' and '.'"
        )
    lowered = name.lower()
    if lowered.startswith(("aws.", "amazon.")):
        raise InvalidParameterValue(
            f"Message attribute name {name!r} is reserved (names can't start with AWS. or Amazon.)"
        )
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise InvalidParameterValue(f"Message attribute name {name!r} can't start or end with '.' or contain '..'")
    if isinstance(value, MessageAttribute):
        attr = value
    elif isinstance(value, bool):
        raise InvalidParameterValue(
            f"Message attribute {name!r}: a bool has no SQS type; send it as a str or a Number (0/1)"
        )
    elif isinstance(value, str):
        attr = MessageAttribute("String", value)
    elif isinstance(value, int | Decimal | float):
        attr = MessageAttribute("Number", str(value))
    elif isinstance(value, bytes | bytearray | memoryview):
        attr = MessageAttribute("Binary", bytes(value))
    else:
        raise InvalidParameterValue(
            f"Message attribute {name!r} has unsupported type {type(value).__name__} "
            "(use str, int, Decimal, bytes or MessageAttribute)"
        )
    if not isinstance(attr.data_type, str) or not _DATA_TYPE.match(attr.data_type) or len(attr.data_type) > 256:
        raise InvalidParameterValue(
            f"Message attribute {name!r} has invalid data type {attr.data_type!r} "
            "(String, Number or Binary, optionally followed by '.label', at most 256 characters)"
        )
    base = attr.data_type.split(".", 1)[0]
    if base == "Binary":
        if not isinstance(attr.value, bytes):
            raise InvalidParameterValue(f"Message attribute {name!r} of type Binary needs a bytes value")
        if not attr.value:
            raise InvalidParameterValue(
                f"Message (user) attribute {name!r} must contain a non-empty value of type 'Binary'"
            )
        return attr
    if not isinstance(attr.value, str):
        raise InvalidParameterValue(f"Message attribute {name!r} of type {base} needs a str value")
    if not attr.value:
        raise InvalidParameterValue(
            f"Message (user) attribute {name!r} must contain a non-empty value of type {base!r}"
        )
    if base == "Number":
        _number_text(name, attr.value)
    elif _INVALID_BODY_CHAR.search(attr.value):
        raise InvalidMessageContents(f"Message attribute {name!r} contains characters SQS does not allow")
    return attr


def validate_attributes(attributes: Mapping[str, Any] | None) -> dict[str, MessageAttribute]:
    if not attributes:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValue("Message attributes must be a mapping of name to value")
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    return {name: validate_attribute(name, value) for name, value in attributes.items()}


def message_size(body: str, attributes: Mapping[str, MessageAttribute]) -> int:
    return len(body.encode()) + sum(len(n.encode()) + a.size for n, a in attributes.items())


def _validate_message_id_param(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _GROUP_CHARS.match(value):
        raise InvalidParameterValue(
            f"Value {value!r} for parameter {kind} is invalid. Reason: it must be 1-128 alphanumeric or "
            "punctuation characters."
        )
    return value


def _check_batch(entries: Sequence[Any], ids: list[object]) -> None:
    if not entries:
        raise EmptyBatchRequest("There should be at least one entry in the request.")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    seen: set[object] = set()
    for entry_id in ids:
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise InvalidBatchEntryId(
                f"A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                f"It can be at most 80 letters long. Got {entry_id!r}."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)


def _failure(entry_id: str, error: StratusError) -> BatchFailure:
    sender = not (error.code.startswith("Internal") or error.code == "InternalFailure")
    return BatchFailure(entry_id, error.code, error.message, sender)


# --- the backend contract


class QueueBackend(ABC):
    """What an adapter implements. Inputs arrive validated; receipt handles are the adapter's own."""

    @abstractmethod
    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        """Enqueue every message (all or nothing, committed before returning)."""

    @abstractmethod
    def receive(
        self,
        max_messages: int,
        wait_seconds: int,
        visibility_timeout: int | None,
        attribute_names: frozenset[str],
        message_attribute_names: frozenset[str],
    ) -> list[Message]: ...

    @abstractmethod
    def delete(self, receipt_handles: list[str]) -> list[StratusError | None]:
        """Delete per handle; an error in the list fails that entry alone."""

    @abstractmethod
    def change_visibility(self, entries: list[tuple[str, int]]) -> list[StratusError | None]: ...

    @abstractmethod
    def purge(self) -> None: ...

    @abstractmethod
    def attributes(self) -> dict[str, int]: ...

    @abstractmethod
    def peek(self, limit: int) -> list[Message]: ...

    @abstractmethod
    def redrive(self, to: Queue | None, max_per_second: int | None) -> MoveTask: ...

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when messages may have become receivable; returns an unsubscribe function."""
        return lambda: None

    def next_visible_at(self) -> float | None:
        """When the earliest invisible (delayed or in-flight) message becomes visible, if any."""
        return None


# --- the handle


class Queue(Resource[QueueBackend]):
    """A declared SQS queue.

    ``receive`` returns every system attribute and message attribute unless told
    otherwise (SQS returns none by default; asking for all costs nothing here and is
    what handlers want). ``redrive`` works on a queue that another declared queue names
    as its dead-letter queue.
    """

    kind = "queue"
    max_name_length = 80

    def __init__(
        self,
        app: App,
        name: str,
        *,
        fifo: bool = False,
        visibility_timeout: int = 30,
        delay: int = 0,
        retention: int = DEFAULT_RETENTION,
        max_message_size: int = DEFAULT_MESSAGE_SIZE,
        receive_wait: int = 0,
        dead_letter: DeadLetter | None = None,
        content_based_deduplication: bool = False,
    ) -> None:
        pattern = _FIFO_NAME if fifo else _QUEUE_NAME
        if not (isinstance(name, str) and pattern.match(name)):
            rule = (
                "a FIFO queue name must end with '.fifo' after 1-75 letters, digits, '-' or '_'"
                if fifo
                else "a queue name is 1-80 letters, digits, '-' or '_' (a name ending in '.fifo' needs fifo=True)"
            )
            raise ValidationError(f"queue name {name!r} is invalid: {rule}")
        if not isinstance(fifo, bool):
            raise ValidationError(f"queue {name!r}: fifo must be a bool")
        self.fifo = fifo
        self.visibility_timeout = _setting(name, "visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY)
        self.delay = _setting(name, "delay", delay, 0, MAX_DELAY)
        self.retention = _setting(name, "retention", retention, MIN_RETENTION, MAX_RETENTION)
        self.max_message_size = _setting(name, "max_message_size", max_message_size, MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE)
        self.receive_wait = _setting(name, "receive_wait", receive_wait, 0, MAX_WAIT)
        if not isinstance(content_based_deduplication, bool):
            raise ValidationError(f"queue {name!r}: content_based_deduplication must be a bool")
        if content_based_deduplication and not fifo:
            raise ValidationError(f"queue {name!r}: content_based_deduplication applies to FIFO queues only")
        self.content_based_deduplication = content_based_deduplication
        if dead_letter is not None:
            if not isinstance(dead_letter, DeadLetter) or not isinstance(dead_letter.queue, Queue):
                raise ValidationError(
                    f"queue {name!r}: dead_letter must be DeadLetter(queue_handle, max_receive_count)"
                )
            if dead_letter.queue.fifo != fifo:
                raise ValidationError(
                    f"queue {name!r}: the dead-letter queue of a {'FIFO' if fifo else 'standard'} queue must also be "
                    f"{'FIFO' if fifo else 'standard'} ({dead_letter.queue.name!r} is not)"
                )
            _setting(name, "dead_letter.max_receive_count", dead_letter.max_receive_count, 1, MAX_RECEIVE_COUNT)
        self.dead_letter = dead_letter
        super().__init__(app, name)

    def settings(self) -> dict[str, Any]:
        return {
            "fifo": self.fifo,
            "visibility_timeout": self.visibility_timeout,
            "delay": self.delay,
            "retention": self.retention,
            "max_message_size": self.max_message_size,
            "receive_wait": self.receive_wait,
            "dead_letter": (
                {"queue": self.dead_letter.queue.name, "max_receive_count": self.dead_letter.max_receive_count}
                if self.dead_letter
                else None
            ),
            "content_based_deduplication": self.content_based_deduplication,
        }

    # -- sending

    def _outgoing(
        self,
        body: object,
        attributes: Mapping[str, Any] | None,
        delay: int | None,
        group_id: str | None,
        deduplication_id: str | None,
    ) -> OutgoingMessage:
        body = validate_body(body)
        attrs = validate_attributes(attributes)
        size = message_size(body, attrs)
        if size > self.max_message_size:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than "
                f"{self.max_message_size} bytes (this one is {size} bytes, body and attributes)."
            )
        if delay is not None:
            if self.fifo:
                raise InvalidParameterValue(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include parameter "
                    "that is not valid for this queue type (FIFO queues support a per-queue delay only)."
                )
            _int_param("DelaySeconds", delay, 0, MAX_DELAY)
        if group_id is not None:
            _validate_message_id_param("MessageGroupId", group_id)
        if self.fifo:
            if group_id is None:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            if deduplication_id is None:
                if not self.content_based_deduplication:
                    raise InvalidParameterValue(
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly"
                    )
                deduplication_id = hashlib.sha256(body.encode()).hexdigest()
            else:
                _validate_message_id_param("MessageDeduplicationId", deduplication_id)
        elif deduplication_id is not None:
            raise InvalidParameterValue(
                "Value for parameter MessageDeduplicationId is invalid. Reason: The request include parameter "
                "that is not valid for this queue type."
            )
        return OutgoingMessage(
            body,
            attrs,
            delay,
            group_id,
            deduplication_id,
            md5_of_body(body),
            md5_of_attributes(attrs),
            current_header(),
        )

    def send(
        self,
        body: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        delay: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> SendResult:
        """Send one message; it is committed before this returns."""
        message = self._outgoing(body, attributes, delay, group_id, deduplication_id)
        return self.backend.send([message])[0]

    def send_batch(self, entries: Sequence[SendEntry]) -> BatchResult:
        """Send up to 10 messages; a bad entry fails alone, the others are sent."""
        entries = list(entries)
        for entry in entries:
            if not isinstance(entry, SendEntry):
                raise InvalidParameterValue(f"send_batch takes SendEntry values, got {type(entry).__name__}")
        _check_batch(entries, [e.id for e in entries])
        failed: dict[str, BatchFailure] = {}
        valid: list[tuple[str, OutgoingMessage]] = []
        total = 0
        for entry in entries:
            try:
                message = self._outgoing(
                    entry.body, entry.attributes, entry.delay, entry.group_id, entry.deduplication_id
                )
            except StratusError as error:
                failed[entry.id] = _failure(entry.id, error)
                # The request carried the entry all the same: its body counts towards the batch size.
                total += len(entry.body.encode("utf-8", "surrogatepass")) if isinstance(entry.body, str) else 0
                continue
            total += message_size(message.body, message.attributes)
            valid.append((entry.id, message))
        if total > self.max_message_size:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {self.max_message_size} bytes. You have sent {total} bytes."
            )
        results = self.backend.send([m for _, m in valid]) if valid else []
        by_id = {entry_id: result for (entry_id, _), result in zip(valid, results, strict=True)}
        return BatchResult(
            successful=[BatchSuccess(e.id, by_id[e.id]) for e in entries if e.id in by_id],
            failed=[failed[e.id] for e in entries if e.id in failed],
        )

    # -- receiving

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        attribute_names: Iterable[str] = ("All",),
        message_attribute_names: Iterable[str] = ("All",),
    ) -> list[Message]:
        """Receive up to ``max_messages``; with ``wait_seconds`` (or the queue's receive_wait) long-poll the clock."""
        _int_param("MaxNumberOfMessages", max_messages, 1, MAX_BATCH, "Must be between 1 and 10, if provided.")
        wait = self.receive_wait if wait_seconds is None else wait_seconds
        _int_param("WaitTimeSeconds", wait, 0, MAX_WAIT, "Must be >= 0 and <= 20, if provided.")
        if visibility_timeout is not None:
            _int_param("VisibilityTimeout", visibility_timeout, 0, MAX_VISIBILITY)
        if isinstance(attribute_names, str) or isinstance(message_attribute_names, str):
            raise InvalidParameterValue("attribute_names and message_attribute_names take a list of names")
        names = frozenset(attribute_names)
        unknown = sorted(names - SYSTEM_ATTRIBUTES)
        if unknown:
            raise InvalidAttributeName(f"Unknown Attribute {unknown[0]}.")
        wanted = frozenset(message_attribute_names)
        for name in wanted:
            if not isinstance(name, str) or not name or len(name) > 256:
                raise InvalidAttributeName(f"Message attribute name {name!r} is invalid")
        return self.backend.receive(max_messages, wait, visibility_timeout, names, wanted)

    def peek(self, limit: int = 10) -> list[Message]:
        """List messages without receiving them (for the console): no receipt handles, no state change."""
        _int_param("limit", limit, 1, 1000)
        return self.backend.peek(limit)

    # -- acknowledging

    def delete(self, receipt_handle: str) -> None:
        """Delete the message received with ``receipt_handle`` (AWS: an older handle may not delete it)."""
        _check_handle(receipt_handle)
        error = self.backend.delete([receipt_handle])[0]
        if error is not None:
            raise error

    def delete_batch(self, entries: Sequence[tuple[str, str]]) -> BatchResult:
        """Delete up to 10 messages given as ``(entry_id, receipt_handle)`` pairs."""
        rows: list[tuple[Any, ...]] = [tuple(e) for e in entries]
        _check_batch(rows, [e[0] if e else None for e in rows])

        def check(entry: tuple[Any, ...]) -> None:
            if len(entry) != 2:
                raise InvalidParameterValue("delete_batch entries are (id, receipt_handle)")
            _check_handle(entry[1])

        return self._per_entry(rows, lambda valid: self.backend.delete([e[1] for e in valid]), check)

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        """Set the message's visibility timeout to ``seconds`` from now (0: visible now; 12 h total at most)."""
        _check_handle(receipt_handle)
        _int_param("VisibilityTimeout", seconds, 0, MAX_VISIBILITY)
        error = self.backend.change_visibility([(receipt_handle, seconds)])[0]
        if error is not None:
            raise error

    def change_visibility_batch(self, entries: Sequence[tuple[str, str, int]]) -> BatchResult:
        """Change up to 10 visibility timeouts given as ``(entry_id, receipt_handle, seconds)``."""
        rows: list[tuple[Any, ...]] = [tuple(e) for e in entries]
        _check_batch(rows, [e[0] if e else None for e in rows])

        def check(entry: tuple[Any, ...]) -> None:
            if len(entry) != 3:
                raise InvalidParameterValue("change_visibility_batch entries are (id, receipt_handle, seconds)")
            _check_handle(entry[1])
            _int_param("VisibilityTimeout", entry[2], 0, MAX_VISIBILITY)

        return self._per_entry(rows, lambda valid: self.backend.change_visibility([(e[1], e[2]) for e in valid]), check)

    def _per_entry(
        self,
        entries: list[tuple[Any, ...]],
        call: Callable[[list[tuple[Any, ...]]], list[StratusError | None]],
        check: Callable[[tuple[Any, ...]], None],
    ) -> BatchResult:
        failed: dict[str, BatchFailure] = {}
        valid = []
        for entry in entries:
            try:
                check(entry)
            except StratusError as error:
                failed[entry[0]] = _failure(entry[0], error)
            else:
                valid.append(entry)
        outcomes = call(valid) if valid else []
        for entry, outcome in zip(valid, outcomes, strict=True):
            if outcome is not None:
                failed[entry[0]] = _failure(entry[0], outcome)
        return BatchResult(
            successful=[BatchSuccess(e[0]) for e in entries if e[0] not in failed],
            failed=[failed[e[0]] for e in entries if e[0] in failed],
        )

    # -- managing

    def purge(self) -> None:
        """Delete every message (once per 60 seconds, as SQS allows)."""
        self.backend.purge()

    def attributes(self) -> dict[str, int]:
        """Approximate counts: visible, in flight (not visible), delayed, and the oldest message's age in seconds."""
        return self.backend.attributes()

    def redrive(self, to: Queue | None = None, max_per_second: int | None = None) -> MoveTask:
        """Move messages from this dead-letter queue back to their source queues (or to ``to``)."""
        if to is not None:
            if not isinstance(to, Queue):
                raise InvalidParameterValue("redrive(to=...) takes a Queue handle")
            if to is self:
                raise InvalidParameterValue("redrive destination must differ from the source queue")
            if to.fifo != self.fifo:
                raise InvalidParameterValue("redrive destination must be the same queue type as the source")
        if max_per_second is not None:
            _int_param("MaxNumberOfMessagesPerSecond", max_per_second, 1, MAX_MOVE_RATE)
        return self.backend.redrive(to, max_per_second)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """For the dispatcher: call ``listener`` when messages may be receivable. Returns unsubscribe."""
        return self.backend.subscribe(listener)

    def next_visible_at(self) -> float | None:
        return self.backend.next_visible_at()


def _setting(queue: str, name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"queue {queue!r}: {name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_handle(handle: object) -> None:
    if not isinstance(handle, str) or not handle:
        raise ReceiptHandleIsInvalid(f"The input receipt handle {handle!r} is not a valid receipt handle.")
