"""The embedded stream adapter: Kinesis shards on SQLite, durable across restarts and kill -9.

Every stream of a cloud lives in ``streams.db``. Records are one table whose
AUTOINCREMENT rowid is a counter shared by every shard: it only grows, so sequence
numbers built from it (``49…`` + counter + shard index, one fixed-width decimal)
strictly increase per shard, compare as integers, and children created by a reshard
start after their parents end. Closing a shard reserves one counter value as its
ending sequence number, so even an empty parent ends before its children begin.

An iterator is the stream, the shard, the counter it reads after, and the clock time
it was issued (base64 of the four, one a line): it expires five minutes later, as on Kinesis. Shard
routing uses an in-memory copy of the open shards' hash ranges, rebuilt from the
database at start. Per-shard write limits (1,000 records and 1 MiB per second) are
counted on the clock, so a burst beyond them fails with
ProvisionedThroughputExceededException as it would on AWS.
"""

from __future__ import annotations

import binascii
import bisect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from stratus.errors import ResourceInUse, ResourceNotFound, StratusError
from stratus.local.queue import tune_event_database
from stratus.resources.stream import (
    HASH_KEY_MAX,
    ITERATOR_TTL,
    MAX_GET_BYTES,
    SHARD_WRITE_BYTES,
    SHARD_WRITE_RECORDS,
    ChildShard,
    ExpiredIterator,
    GetRecordsResult,
    HashKeyRange,
    InvalidArgument,
    OutgoingRecord,
    ProvisionedThroughputExceeded,
    PutRecordResult,
    Record,
    SequenceNumberRange,
    Shard,
    Stream,
    StreamBackend,
    StreamDescription,
)

if TYPE_CHECKING:
    import sqlite3

    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.stream")


def _call(listener: Callable[[], None]) -> None:
    """Tell a listener; its failure is logged, never turned into a failure of the committed write."""
    try:
        listener()
    except Exception:
        log.exception("listener %r failed", listener)


_SCHEMA = [
    """
    CREATE TABLE streams (stream TEXT PRIMARY KEY, created_at REAL NOT NULL);
    CREATE TABLE shards (
        stream TEXT NOT NULL,
        shard_index INTEGER NOT NULL,
        hash_start TEXT NOT NULL,
        hash_end TEXT NOT NULL,
        starting_counter INTEGER NOT NULL,
        ending_counter INTEGER,
        parent INTEGER,
        adjacent_parent INTEGER,
        created_at REAL NOT NULL,
        closed_at REAL,
        PRIMARY KEY (stream, shard_index)
    ) WITHOUT ROWID;
    CREATE TABLE records (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        stream TEXT NOT NULL,
        shard_index INTEGER NOT NULL,
        arrival REAL NOT NULL,
        partition_key TEXT NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX records_by_shard ON records (stream, shard_index, id)
    """
]

_INSERT = "INSERT INTO records (stream, shard_index, arrival, partition_key, data) VALUES (?, ?, ?, ?, ?)"

#: Sequence number = _BASE + counter * _SLOTS + shard index: 56 digits, like Kinesis's.
_BASE = 49 * 10**54
_SLOTS = 10**6
_TRIM_EVERY = 60.0
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


@dataclass
class _Shard:
    index: int
    start: int
    end: int
    starting_counter: int
    ending_counter: int | None
    parent: int | None
    adjacent_parent: int | None
    created_at: float
    closed_at: float | None

    @cached_property
    def shard_id(self) -> str:
        return shard_id(self.index)


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def sequence_number(counter: int, index: int) -> str:
    return str(_BASE + counter * _SLOTS + index)


class LocalStream(StreamBackend):
    """One stream of the local cloud."""

    def __init__(self, resource: Stream, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.name = resource.qualified_name
        self.clock = cloud.clock
        self.db = cloud.storage.database("streams")
        self.db.migrate("stream", _SCHEMA)
        tune_event_database(self.db)
        self._listeners: list[Callable[[], None]] = []
        self._usage: dict[int, list[float]] = {}  # shard -> [second, records, bytes]
        self._trimmed_at = float("-inf")
        with self.db.transaction() as conn:
            row = conn.execute("SELECT created_at FROM streams WHERE stream = ?", (self.name,)).fetchone()
            if row is None:
                now = self.clock.now()
                self.created_at = now
                conn.execute("INSERT INTO streams (stream, created_at) VALUES (?, ?)", (self.name, now))
                first = _counter(conn) + 1
                n = resource.shards
                for i in range(n):
                    start = i * (HASH_KEY_MAX + 1) // n
                    end = (i + 1) * (HASH_KEY_MAX + 1) // n - 1
                    self._insert_shard(conn, _Shard(i, start, end, first, None, None, None, now, None))
            else:
                self.created_at = row[0]
            self._load(conn)

    # -- shards

    def _insert_shard(self, conn: sqlite3.Connection, s: _Shard) -> None:
        conn.execute(
            "INSERT INTO shards (stream, shard_index, hash_start, hash_end, starting_counter, ending_counter, parent, "
            "adjacent_parent, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.name, s.index, str(s.start), str(s.end), s.starting_counter, None, s.parent, s.adjacent_parent,
             s.created_at, None),
        )  # fmt: skip

    def _load(self, conn: sqlite3.Connection) -> None:
        self._shards: dict[int, _Shard] = {}
        for row in conn.execute(
            "SELECT shard_index, hash_start, hash_end, starting_counter, ending_counter, parent, adjacent_parent, "
            "created_at, closed_at FROM shards WHERE stream = ? ORDER BY shard_index",
            (self.name,),
        ):
            s = _Shard(row[0], int(row[1]), int(row[2]), *row[3:])
            self._shards[s.index] = s
        self._route()

    def _route(self) -> None:
        open_shards = sorted((s for s in self._shards.values() if s.ending_counter is None), key=lambda s: s.start)
        self._open = open_shards
        self._starts = [s.start for s in open_shards]

    def _shard_for(self, hash_key: int) -> _Shard:
        return self._open[bisect.bisect_right(self._starts, hash_key) - 1]

    def _visible(self, s: _Shard, now: float) -> bool:
        return s.closed_at is None or s.closed_at + self.resource.retention_hours * 3600 > now

    def _shard(self, sid: str, now: float) -> _Shard:
        return self._shard_at(int(sid.rsplit("-", 1)[1]), now)

    def _shard_at(self, index: int, now: float) -> _Shard:
        s = self._shards.get(index)
        if s is None or not self._visible(s, now):
            raise ResourceNotFound(
                f"Shard {shard_id(index)} in stream {self.resource.name} under account {self.cloud.account_id} "
                "does not exist"
            )
        return s

    def list_shards(self) -> list[Shard]:
        now = self.clock.now()
        with self.db.read():
            return [self._describe(s) for s in self._shards.values() if self._visible(s, now)]

    def _describe(self, s: _Shard) -> Shard:
        return Shard(
            s.shard_id,
            HashKeyRange(str(s.start), str(s.end)),
            SequenceNumberRange(
                sequence_number(s.starting_counter, s.index),
                sequence_number(s.ending_counter, s.index) if s.ending_counter is not None else None,
            ),
            shard_id(s.parent) if s.parent is not None else None,
            shard_id(s.adjacent_parent) if s.adjacent_parent is not None else None,
        )

    def describe(self) -> StreamDescription:
        now = self.clock.now()
        with self.db.read():
            visible = [s for s in self._shards.values() if self._visible(s, now)]
            return StreamDescription(
                name=self.resource.name,
                arn=self.cloud.arn("kinesis", f"stream/{self.name}"),
                status="ACTIVE",
                retention_hours=self.resource.retention_hours,
                open_shard_count=len(self._open),
                shard_count=len(visible),
                created_at=self.created_at,
            )

    # -- writing

    def put(self, records: list[OutgoingRecord]) -> list[PutRecordResult | StratusError]:
        now = self.clock.now()
        if len(records) == 1 and now - self._trimmed_at < _TRIM_EVERY:
            # One record and no sweep due: its INSERT is a transaction by itself (SQLite's autocommit),
            # committed before execute returns, so BEGIN and COMMIT would only add two statements.
            with self.db.lock:
                outcomes = [self._append(self.db.connection, records[0], now)]
        else:
            with self.db.transaction() as conn:
                self._trim(conn, now)
                outcomes = [self._append(conn, r, now) for r in records]
        if any(isinstance(o, PutRecordResult) for o in outcomes):
            for listener in list(self._listeners):
                _call(listener)
        return outcomes

    def _append(self, conn: sqlite3.Connection, r: OutgoingRecord, now: float) -> PutRecordResult | StratusError:
        """Write one record to its shard, unless that shard's write limit for this second is reached."""
        shard = self._shard_for(r.hash_key)
        size = len(r.data) + len(r.partition_key.encode())
        second = float(int(now))
        usage = self._usage.get(shard.index)
        if usage is None or usage[0] != second:
            usage = self._usage[shard.index] = [second, 0, 0]
        if usage[1] + 1 > SHARD_WRITE_RECORDS or usage[2] + size > SHARD_WRITE_BYTES:
            return ProvisionedThroughputExceeded(
                f"Rate exceeded for shard {shard.shard_id} in stream {self.resource.name} under account "
                f"{self.cloud.account_id}."
            )
        usage[1] += 1
        usage[2] += size
        rid = conn.execute(_INSERT, (self.name, shard.index, now, r.partition_key, r.data)).lastrowid
        assert rid is not None
        return PutRecordResult(shard.shard_id, sequence_number(rid, shard.index))

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # -- reading

    def get_shard_iterator(
        self, shard_id: str, iterator_type: str, sequence_number: str | None, timestamp: float | None
    ) -> str:
        now = self.clock.now()
        with self.db.read() as conn:
            s = self._shard(shard_id, now)
            if iterator_type == "TRIM_HORIZON":
                after = s.starting_counter - 1
            elif iterator_type == "LATEST":
                after = s.ending_counter if s.ending_counter is not None else _counter(conn)
            elif iterator_type == "AT_TIMESTAMP":
                assert timestamp is not None
                row = conn.execute(
                    "SELECT MIN(id) FROM records WHERE stream = ? AND shard_index = ? AND arrival >= ?",
                    (self.name, s.index, timestamp),
                ).fetchone()
                if row[0] is not None:
                    after = row[0] - 1
                else:
                    after = s.ending_counter if s.ending_counter is not None else _counter(conn)
            else:
                assert sequence_number is not None
                counter = self._decode(sequence_number, s)
                after = counter - 1 if iterator_type == "AT_SEQUENCE_NUMBER" else counter
        return self._iterator(s.index, after, now)

    def _decode(self, number: str, s: _Shard) -> int:
        value = int(number) - _BASE
        counter, index = divmod(value, _SLOTS)
        if value < 0 or counter < 0:
            raise InvalidArgument(f"StartingSequenceNumber {number} used in GetShardIterator on shard {s.shard_id} "
                                  f"in stream {self.resource.name} is invalid.")  # fmt: skip
        if index != s.index:
            raise InvalidArgument(
                f"Invalid StartingSequenceNumber. It encodes {shard_id(index)}, while it was used in a call to a "
                f"shard with {s.shard_id}"
            )
        return counter

    def _iterator(self, index: int, after: int, issued: float) -> str:
        text = f"{self.name}\n{index}\n{after}\n{issued!r}".encode()
        return binascii.b2a_base64(text, newline=False).translate(_TO_URLSAFE).decode()  # urlsafe_b64encode

    def _parse(self, iterator: str, now: float) -> tuple[_Shard, int, float]:
        try:  # base64.urlsafe_b64decode, without its layers of Python
            payload = binascii.a2b_base64(iterator.encode().translate(_FROM_URLSAFE)).decode()
            if payload.startswith("["):  # the JSON form of earlier versions
                name, index, after, issued = json.loads(payload)
            else:
                name, index, after, issued = payload.split("\n")
            index, after, issued = int(index), int(after), float(issued)
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            raise InvalidArgument(f"Invalid ShardIterator {iterator!r}") from None
        if name != self.name or index not in self._shards:
            raise InvalidArgument(f"Invalid ShardIterator: it does not belong to stream {self.resource.name}")
        if now > issued + ITERATOR_TTL:
            raise ExpiredIterator(
                f"Iterator expired. The iterator was created at time {issued * 1000:.0f} while right now it is "
                f"{now * 1000:.0f} which is further in the future than the tolerated delay of "
                f"{ITERATOR_TTL * 1000} milliseconds."
            )
        return self._shard_at(index, now), after, issued

    def get_records(self, iterator: str, limit: int) -> GetRecordsResult:
        now = self.clock.now()
        cutoff = now - self.resource.retention_hours * 3600
        with self.db.lock:  # one read statement, no transaction to guard: the lock is what db.read() adds here
            s, after, _ = self._parse(iterator, now)
            rows = self.db.connection.execute(
                "SELECT id, arrival, partition_key, data FROM records "
                "WHERE stream = ? AND shard_index = ? AND id > ? AND arrival > ? ORDER BY id LIMIT ?",
                (self.name, s.index, after, cutoff, limit + 1),
            ).fetchall()
        records: list[Record] = []
        size = 0
        last = after
        # One row past the limit tells whether the reader is behind, and by how much.
        following = None
        for rid, arrival, key, data in rows:
            if len(records) == limit or (records and size + len(data) > MAX_GET_BYTES):
                following = (arrival,)
                break
            size += len(data)
            records.append(Record(sequence_number(rid, s.index), arrival, bytes(data), key))
            last = rid
        behind = int(max(0.0, now - following[0]) * 1000) if following else 0
        if s.ending_counter is not None and following is None:
            children = [
                ChildShard(
                    c.shard_id,
                    [shard_id(p) for p in (c.parent, c.adjacent_parent) if p is not None],
                    HashKeyRange(str(c.start), str(c.end)),
                )
                for c in self._shards.values()
                if s.index in (c.parent, c.adjacent_parent)
            ]
            return GetRecordsResult(records, None, behind, children)
        return GetRecordsResult(records, self._iterator(s.index, last, now), behind)

    # -- resharding

    def split_shard(self, shard_id: str, new_starting_hash_key: int) -> None:
        now = self.clock.now()
        with self.db.transaction() as conn:
            parent = self._open_shard(shard_id, now)
            if not parent.start < new_starting_hash_key <= parent.end:
                raise InvalidArgument(
                    f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {shard_id} in stream "
                    f"{self.resource.name} under account {self.cloud.account_id} is not both greater than one plus "
                    f"the shard's StartingHashKey {parent.start} and less than the shard's EndingHashKey {parent.end}."
                )
            first = self._close(conn, parent, now) + 1
            base = max(self._shards) + 1
            for offset, (start, end) in enumerate(
                [(parent.start, new_starting_hash_key - 1), (new_starting_hash_key, parent.end)]
            ):
                child = _Shard(base + offset, start, end, first, None, parent.index, None, now, None)
                self._insert_shard(conn, child)
                self._shards[child.index] = child
            self._route()

    def merge_shards(self, shard_id: str, adjacent_shard_id: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as conn:
            a = self._open_shard(shard_id, now)
            b = self._open_shard(adjacent_shard_id, now)
            if a.end + 1 != b.start and b.end + 1 != a.start:
                raise InvalidArgument(
                    f"Shards {shard_id} and {adjacent_shard_id} in stream {self.resource.name} under account "
                    f"{self.cloud.account_id} are not an adjacent pair of shards eligible for merging"
                )
            self._close(conn, a, now)
            first = self._close(conn, b, now) + 1
            child = _Shard(
                max(self._shards) + 1,
                min(a.start, b.start),
                max(a.end, b.end),
                first,
                None,
                a.index,
                b.index,
                now,
                None,
            )
            self._insert_shard(conn, child)
            self._shards[child.index] = child
            self._route()

    def _open_shard(self, sid: str, now: float) -> _Shard:
        s = self._shard(sid, now)
        if s.ending_counter is not None:
            raise ResourceInUse(
                f"Shard {sid} in stream {self.resource.name} under account {self.cloud.account_id} is closed "
                "and can't be resharded"
            )
        return s

    def _close(self, conn: sqlite3.Connection, s: _Shard, now: float) -> int:
        """Close ``s``, reserving the next counter value as its end; return that value."""
        end = _bump(conn)
        conn.execute(
            "UPDATE shards SET ending_counter = ?, closed_at = ? WHERE stream = ? AND shard_index = ?",
            (end, now, self.name, s.index),
        )
        s.ending_counter, s.closed_at = end, now
        return end

    # -- retention

    def _trim(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._trimmed_at < _TRIM_EVERY:
            return
        self._trimmed_at = now
        cutoff = now - self.resource.retention_hours * 3600
        for index in list(self._shards):
            # Records are in arrival order per shard: delete the expired head, reading only as far as it goes.
            last = None
            cursor = conn.execute(
                "SELECT id, arrival FROM records WHERE stream = ? AND shard_index = ? ORDER BY id",
                (self.name, index),
            )
            for rid, arrival in cursor:
                if arrival > cutoff:
                    break
                last = rid
            cursor.close()
            if last is not None:
                conn.execute(
                    "DELETE FROM records WHERE stream = ? AND shard_index = ? AND id <= ?", (self.name, index, last)
                )

    def close(self) -> None:
        self._listeners.clear()


def _counter(conn: sqlite3.Connection) -> int:
    """The largest counter value handed out so far (records and reserved shard ends)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
    return int(row[0]) if row else 0


def _bump(conn: sqlite3.Connection) -> int:
    value = _counter(conn) + 1
    if conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'records'", (value,)).rowcount == 0:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('records', ?)", (value,))
    return value
