"""The stream port (Amazon Kinesis Data Streams): ordered, replayable records in shards.

``app.stream("locations", shards=2)`` declares a stream. A record goes to the open
shard whose hash key range holds the MD5 of its partition key (a 128-bit integer) or
its explicit hash key, so one key always lands on one shard and keeps its order there.
Sequence numbers are decimal strings that compare as integers and strictly increase
per shard. Consumers read a shard through iterators (TRIM_HORIZON, LATEST,
AT/AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP) that expire after five minutes. Resharding
(split and merge) closes parents and opens children whose sequence numbers start
after their parents' last one; a consumer that reaches the end of a closed shard is
handed its children. Each shard takes 1,000 records and 1 MiB per second of clock
time, as on Kinesis: ``put`` raises :class:`ProvisionedThroughputExceeded` beyond that
and ``put_records`` reports the records it could not take, so producers need the same
retry they need on AWS.

The handle validates every limit Kinesis enforces (partition key length, record and
request sizes, 500 records per PutRecords, hash key ranges, iterator arguments) with
Kinesis's error codes, so a backend receives only well-formed requests.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from stratus.errors import StratusError, Throttled, ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

# --- limits (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html)

MAX_RECORD_BYTES = 1_048_576  # data plus partition key
MAX_PUT_RECORDS = 500
MAX_PUT_RECORDS_BYTES = 5 * 1_048_576
MAX_GET_LIMIT = 10_000
MAX_GET_BYTES = 10 * 1_048_576
MAX_PARTITION_KEY = 256
MIN_RETENTION_HOURS, MAX_RETENTION_HOURS = 24, 8760
ITERATOR_TTL = 300
SHARD_WRITE_RECORDS = 1000  # per shard per second
SHARD_WRITE_BYTES = 1_048_576  # per shard per second
HASH_KEY_MAX = 2**128 - 1

IteratorType = Literal["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"]
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP")

_STREAM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_SHARD_ID = re.compile(r"^shardId-\d{12}$")
_DIGITS = re.compile(r"^\d{1,128}$")


# --- errors (codes as Kinesis returns them)


class InvalidArgument(ValidationError):
    code = "InvalidArgumentException"


class ExpiredIterator(StratusError):
    code = "ExpiredIteratorException"


class ProvisionedThroughputExceeded(Throttled):
    code = "ProvisionedThroughputExceededException"


# --- values


@dataclass(frozen=True)
class PutEntry:
    """One record of :meth:`Stream.put_records`."""

    data: bytes | str
    partition_key: str
    explicit_hash_key: str | int | None = None


@dataclass(frozen=True)
class PutRecordResult:
    shard_id: str
    sequence_number: str


@dataclass(frozen=True)
class PutRecordsResultEntry:
    """Either ``shard_id``/``sequence_number`` or ``error_code``/``error_message``."""

    shard_id: str | None = None
    sequence_number: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class PutRecordsResult:
    failed_record_count: int
    records: list[PutRecordsResultEntry]


@dataclass(frozen=True)
class HashKeyRange:
    starting_hash_key: str
    ending_hash_key: str


@dataclass(frozen=True)
class SequenceNumberRange:
    starting_sequence_number: str
    ending_sequence_number: str | None = None


@dataclass(frozen=True)
class Shard:
    shard_id: str
    hash_key_range: HashKeyRange
    sequence_number_range: SequenceNumberRange
    parent_shard_id: str | None = None
    adjacent_parent_shard_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.sequence_number_range.ending_sequence_number is None


@dataclass(frozen=True)
class ChildShard:
    shard_id: str
    parent_shards: list[str]
    hash_key_range: HashKeyRange


@dataclass(frozen=True)
class Record:
    sequence_number: str
    approximate_arrival_timestamp: float
    data: bytes
    partition_key: str


@dataclass(frozen=True)
class GetRecordsResult:
    records: list[Record]
    next_shard_iterator: str | None
    millis_behind_latest: int
    child_shards: list[ChildShard] = field(default_factory=list)


@dataclass(frozen=True)
class StreamDescription:
    name: str
    arn: str
    status: str
    retention_hours: int
    open_shard_count: int
    shard_count: int
    created_at: float


@dataclass(frozen=True)
class OutgoingRecord:
    """A validated record on its way to a backend."""

    data: bytes
    partition_key: str
    hash_key: int


# --- validation


def hash_key_of(partition_key: str) -> int:
    """The 128-bit integer Kinesis routes a partition key by: the MD5 of its UTF-8 bytes."""
    return int.from_bytes(hashlib.md5(partition_key.encode(), usedforsecurity=False).digest(), "big")


def _record(data: object, partition_key: object, explicit_hash_key: object, where: str = "") -> OutgoingRecord:
    if isinstance(data, str):
        raw = data.encode()
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise ValidationError(f"{where}data must be bytes or str, got {type(data).__name__}")
    if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= MAX_PARTITION_KEY:
        raise ValidationError(
            f"{where}1 validation error detected: Value {partition_key!r} at 'partitionKey' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_PARTITION_KEY}"
        )
    size = len(raw) + len(partition_key.encode())
    if size > MAX_RECORD_BYTES:
        raise ValidationError(
            f"{where}a record can be at most {MAX_RECORD_BYTES} bytes of data and partition key; this one is {size}"
        )
    if explicit_hash_key is None:
        key = hash_key_of(partition_key)
    else:
        key = _hash_key("ExplicitHashKey", explicit_hash_key, where)
    return OutgoingRecord(raw, partition_key, key)


def _hash_key(name: str, value: object, where: str = "") -> int:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DIGITS.match(text) or int(text) > HASH_KEY_MAX:
        raise InvalidArgument(
            f"{where}Invalid {name}. {name} must be in the range: [0, 2^128-1]. Specified value was {value!r}"
        )
    return int(text)


def _shard_id(value: object) -> str:
    if not isinstance(value, str) or not _SHARD_ID.match(value):
        raise ValidationError(f"shard id {value!r} is invalid: expected 'shardId-' followed by 12 digits")
    return value


def _sequence_number(name: str, value: object) -> str:
    if not isinstance(value, str) or not _DIGITS.match(value):
        raise InvalidArgument(f"{name} {value!r} is invalid: a sequence number is a string of decimal digits")
    return value


# --- the backend contract


class StreamBackend(ABC):
    """What an adapter implements. Inputs arrive validated."""

    @abstractmethod
    def put(self, records: list[OutgoingRecord]) -> list[PutRecordResult | StratusError]:
        """Append every record that its shard's throughput allows; an error in the list fails that record."""

    @abstractmethod
    def list_shards(self) -> list[Shard]: ...

    @abstractmethod
    def get_shard_iterator(
        self, shard_id: str, iterator_type: str, sequence_number: str | None, timestamp: float | None
    ) -> str: ...

    @abstractmethod
    def get_records(self, iterator: str, limit: int) -> GetRecordsResult: ...

    @abstractmethod
    def split_shard(self, shard_id: str, new_starting_hash_key: int) -> None: ...

    @abstractmethod
    def merge_shards(self, shard_id: str, adjacent_shard_id: str) -> None: ...

    @abstractmethod
    def describe(self) -> StreamDescription: ...

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after records are appended; returns an unsubscribe function."""
        return lambda: None


# --- the handle


class Stream(Resource[StreamBackend]):
    """A declared Kinesis data stream."""

    kind = "stream"
    max_name_length = 128

    def __init__(self, app: App, name: str, *, shards: int = 1, retention_hours: int = 24) -> None:
        if not isinstance(name, str) or not _STREAM_NAME.match(name):
            raise ValidationError(f"stream name {name!r} is invalid: 1-128 letters, digits, '_', '-' or '.'")
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValidationError(f"stream {name!r}: shards must be an integer of at least 1, got {shards!r}")
        if (
            isinstance(retention_hours, bool)
            or not isinstance(retention_hours, int)
            or not MIN_RETENTION_HOURS <= retention_hours <= MAX_RETENTION_HOURS
        ):
            raise ValidationError(
                f"stream {name!r}: retention_hours must be an integer from {MIN_RETENTION_HOURS} to "
                f"{MAX_RETENTION_HOURS}, got {retention_hours!r}"
            )
        self.shards = shards
        self.retention_hours = retention_hours
        super().__init__(app, name)

    def settings(self) -> dict[str, Any]:
        return {"shards": self.shards, "retention_hours": self.retention_hours}

    def put(
        self,
        data: bytes | str,
        partition_key: str,
        *,
        explicit_hash_key: str | int | None = None,
        sequence_number_for_ordering: str | None = None,
    ) -> PutRecordResult:
        """Append one record; it is committed before this returns."""
        record = _record(data, partition_key, explicit_hash_key)
        if sequence_number_for_ordering is not None:
            # Every sequence number here is larger than any earlier one of the shard, which is the guarantee.
            _sequence_number("SequenceNumberForOrdering", sequence_number_for_ordering)
        outcome = self.backend.put([record])[0]
        if isinstance(outcome, StratusError):
            raise outcome
        return outcome

    def put_records(self, records: Sequence[PutEntry]) -> PutRecordsResult:
        """Append up to 500 records; a record its shard can't take now fails alone (check failed_record_count)."""
        records = list(records)
        if not 1 <= len(records) <= MAX_PUT_RECORDS:
            raise ValidationError(
                f"1 validation error detected: Value with {len(records)} records at 'records' failed to satisfy "
                f"constraint: Member must have length between 1 and {MAX_PUT_RECORDS}"
            )
        outgoing = []
        for i, entry in enumerate(records):
            if not isinstance(entry, PutEntry):
                raise ValidationError(f"records[{i}] must be a PutEntry, got {type(entry).__name__}")
            outgoing.append(_record(entry.data, entry.partition_key, entry.explicit_hash_key, f"records[{i}]: "))
        total = sum(len(r.data) + len(r.partition_key.encode()) for r in outgoing)
        if total > MAX_PUT_RECORDS_BYTES:
            raise InvalidArgument(
                f"Records size exceeds {MAX_PUT_RECORDS_BYTES} bytes limit: a PutRecords request carried {total} "
                "bytes of data and partition keys"
            )
        entries = []
        for outcome in self.backend.put(outgoing):
            if isinstance(outcome, StratusError):
                entries.append(PutRecordsResultEntry(error_code=outcome.code, error_message=outcome.message))
            else:
                entries.append(PutRecordsResultEntry(outcome.shard_id, outcome.sequence_number))
        return PutRecordsResult(sum(1 for e in entries if e.error_code), entries)

    def list_shards(self) -> list[Shard]:
        """Every shard within the retention period, open and closed, in creation order."""
        return self.backend.list_shards()

    def get_shard_iterator(
        self,
        shard_id: str,
        iterator_type: IteratorType = "TRIM_HORIZON",
        *,
        sequence_number: str | None = None,
        timestamp: float | datetime | None = None,
    ) -> str:
        """An opaque position in a shard, valid for five minutes of clock time."""
        _shard_id(shard_id)
        if iterator_type not in ITERATOR_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value {iterator_type!r} at 'shardIteratorType' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]"
            )
        needs_sequence = iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
        if needs_sequence:
            if sequence_number is None:
                raise InvalidArgument(f"Must specify a StartingSequenceNumber for {iterator_type}")
            _sequence_number("StartingSequenceNumber", sequence_number)
        elif sequence_number is not None:
            raise InvalidArgument(f"StartingSequenceNumber is not allowed with {iterator_type}")
        epoch: float | None = None
        if iterator_type == "AT_TIMESTAMP":
            if timestamp is None:
                raise InvalidArgument("Must specify a Timestamp for AT_TIMESTAMP")
            if isinstance(timestamp, datetime):
                epoch = timestamp.timestamp()
            elif isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
                epoch = float(timestamp)
            else:
                raise InvalidArgument(f"Timestamp must be a datetime or epoch seconds, got {timestamp!r}")
        elif timestamp is not None:
            raise InvalidArgument(f"Timestamp is not allowed with {iterator_type}")
        return self.backend.get_shard_iterator(shard_id, iterator_type, sequence_number, epoch)

    def get_records(self, iterator: str, limit: int = MAX_GET_LIMIT) -> GetRecordsResult:
        """Records from the iterator's position on, and the iterator to continue from."""
        if not isinstance(iterator, str) or not 1 <= len(iterator) <= 512:
            raise InvalidArgument(f"Invalid ShardIterator {iterator!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_GET_LIMIT:
            raise ValidationError(
                f"1 validation error detected: Value {limit!r} at 'limit' failed to satisfy constraint: "
                f"Member must have value between 1 and {MAX_GET_LIMIT}"
            )
        return self.backend.get_records(iterator, limit)

    def split_shard(self, shard_id: str, new_starting_hash_key: str | int) -> None:
        """Close ``shard_id`` and open two children split at ``new_starting_hash_key``."""
        _shard_id(shard_id)
        self.backend.split_shard(shard_id, _hash_key("NewStartingHashKey", new_starting_hash_key))

    def merge_shards(self, shard_id: str, adjacent_shard_id: str) -> None:
        """Close two adjacent open shards and open one child covering both hash key ranges."""
        _shard_id(shard_id)
        _shard_id(adjacent_shard_id)
        if shard_id == adjacent_shard_id:
            raise InvalidArgument(f"Shards {shard_id} and {adjacent_shard_id} are the same shard; merge needs two")
        self.backend.merge_shards(shard_id, adjacent_shard_id)

    def describe(self) -> StreamDescription:
        return self.backend.describe()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """For the dispatcher: call ``listener`` after records are appended. Returns unsubscribe."""
        return self.backend.subscribe(listener)
