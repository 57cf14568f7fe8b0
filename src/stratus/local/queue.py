"""The embedded queue adapter: SQS semantics on one SQLite table, durable across restarts and kill -9.

Every queue of a cloud lives in ``queues.db``, one row per message, keyed by an
ever-increasing ``seq`` (AUTOINCREMENT, never reused). A message's state is its
columns, not a separate list: *visible* when ``visible_at <= now``, otherwise *in
flight* if it was received, else *delayed*; *expired* when ``expires_at <= now``
(filtered on every read, swept now and then). So a restart needs no recovery: an
in-flight message simply becomes visible when the clock passes its timeout.

Moving a message to its dead-letter queue (or back, on redrive) rewrites its ``queue``
column in the same transaction as the receive that triggers it, keeping its id, body
and attributes. FIFO ordering is computed on receive from ``seq`` and group ids; the
deduplication window is a second table. A receipt handle names the queue, the row and
a random token that only the latest receive holds.

Waiting: long polls and the dispatcher wait on one condition per cloud, notified after
every commit that can make a message receivable and whenever a virtual clock jumps;
waits themselves go through ``clock.wait`` so they follow virtual time.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack

from stratus.errors import StratusError
from stratus.ids import uuid4_text
from stratus.resources.queue import (
    DEDUPLICATION_WINDOW,
    MAX_VISIBILITY,
    InvalidParameterValue,
    Message,
    MessageAttribute,
    MessageNotInflight,
    MoveTask,
    OutgoingMessage,
    PurgeQueueInProgress,
    Queue,
    QueueBackend,
    ReceiptHandleIsInvalid,
    SendResult,
    UnsupportedOperation,
    md5_of_attributes,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.storage import Database

log = logging.getLogger("stratus.queue")


def _call(listener: Callable[[], None]) -> None:
    """Tell a listener; its failure is logged, never turned into a failure of the committed write."""
    try:
        listener()
    except Exception:
        log.exception("listener %r failed", listener)


_SCHEMA = [
    """
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        attributes BLOB,
        md5_body TEXT NOT NULL,
        md5_attributes TEXT,
        group_id TEXT,
        dedup_id TEXT,
        sent_at REAL NOT NULL,
        enqueued_at REAL NOT NULL,
        arrived_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_received_at REAL,
        received_at REAL,
        receipt TEXT,
        source_queue TEXT
    );
    CREATE INDEX messages_by_queue ON messages (queue, seq);
    CREATE TABLE dedup (
        queue TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (queue, dedup_id)
    ) WITHOUT ROWID;
    CREATE TABLE purges (queue TEXT PRIMARY KEY, at REAL NOT NULL)
    """,
    # Receives read the visible messages in the order they became visible: an index by visibility lets a receive
    # skip messages in flight instead of scanning past them (which made a long backlog quadratic).
    """
    DROP INDEX messages_by_queue;
    CREATE INDEX messages_by_visibility ON messages (queue, visible_at, seq)
    """,
    # The sender's trace header travels with the message (SQS's AWSTraceHeader system attribute).
    "ALTER TABLE messages ADD COLUMN trace TEXT",
    # A FIFO message (the only kind with a deduplication id) claims its id in the INSERT that enqueues it, so a
    # send is one statement, committed by itself: a live claim makes the trigger undo the INSERT (RAISE(ABORT), the
    # statement only, never a caller's transaction), otherwise the new row takes the claim over (an expired one
    # too). One trigger, not a BEFORE check plus an AFTER claim: each trigger program run costs every INSERT,
    # standard ones included. The window is written into the trigger: another would need a step recreating it.
    f"""
    CREATE TRIGGER dedup_claim AFTER INSERT ON messages WHEN NEW.dedup_id IS NOT NULL BEGIN
        SELECT RAISE(ABORT, 'stratus: duplicate') FROM dedup
        WHERE queue = NEW.queue AND dedup_id = NEW.dedup_id AND expires_at > NEW.sent_at;
        INSERT OR REPLACE INTO dedup (queue, dedup_id, message_id, seq, expires_at)
        VALUES (NEW.queue, NEW.dedup_id, NEW.message_id, NEW.seq, NEW.sent_at + {DEDUPLICATION_WINDOW});
    END
    """,
]

_INSERT = (
    "INSERT INTO messages (queue, message_id, body, attributes, md5_body, md5_attributes, group_id, "
    "dedup_id, sent_at, enqueued_at, arrived_at, expires_at, visible_at, trace) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_COLUMNS = (
    "seq, message_id, body, attributes, md5_body, md5_attributes, group_id, dedup_id, sent_at, "
    "receive_count, first_received_at, source_queue, trace"
)

#: A standard queue's receive: lock the next visible messages (chosen by the subquery) and read them back.
_TAKE = (
    "UPDATE messages SET receive_count = receive_count + 1, first_received_at = "
    "COALESCE(first_received_at, :now), received_at = :now, visible_at = :until, "
    "receipt = lower(hex(randomblob(8))) WHERE seq {} (SELECT seq FROM messages WHERE queue = :queue "
    "AND visible_at <= :now AND expires_at > :now ORDER BY visible_at, seq LIMIT :limit) "
    f"RETURNING {_COLUMNS}, receipt"
)
#: Up to ``:limit`` messages: SQLite collects the subquery's rows in a temporary b-tree first.
_TAKE_MANY = _TAKE.format("IN")
#: One message (``:limit`` = 1), the usual receive: a scalar subquery needs no temporary b-tree.
_TAKE_ONE = _TAKE.format("=")

#: Receive the messages chosen by a FIFO or dead-letter receive (``seq`` {}) and read them back.
_LOCK = (
    "UPDATE messages SET receive_count = receive_count + 1, first_received_at = COALESCE(first_received_at, ?), "
    "received_at = ?, visible_at = ?, receipt = lower(hex(randomblob(8))) WHERE seq {} "
    f"RETURNING {_COLUMNS}, receipt"
)
_LOCK_ONE = _LOCK.format("= ?")

#: The error of the trigger that refuses a duplicate (``_SCHEMA``).
_DUPLICATE = "stratus: duplicate"

_DELETE = "DELETE FROM messages WHERE seq = ? AND queue = ? AND receipt = ?"

#: FIFO sequence numbers are this plus the row's seq: large, increasing, never consecutive across queues.
_SEQUENCE_BASE = 18_000_000_000_000_000_000
_TRIM_EVERY = 60.0
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
#: Private, so that a program seeding the global generator does not make message ids repeat.


class _Engine:
    """Per cloud: the database, the wake-up condition, listeners per queue and running move tasks."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("queues")
        self.db.migrate("queue", _SCHEMA)
        tune_event_database(self.db)
        self.changed = threading.Condition()
        self.version = 0
        self.listeners: dict[str, list[Callable[[], None]]] = {}
        self.tasks: dict[str, MoveTask] = {}
        self.closed = False
        self.clock.subscribe(self._clock_moved)

    def notify(self, *queues: str) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()
        for queue in queues:
            for listener in list(self.listeners.get(queue, ())):
                _call(listener)

    def _clock_moved(self) -> None:
        if self.closed:
            return
        with self.changed:
            self.version += 1
            self.changed.notify_all()
        for listeners in list(self.listeners.values()):
            for listener in list(listeners):
                _call(listener)

    def queue_named(self, qualified_name: str) -> Queue | None:
        for app in self.cloud.apps:
            for resource in app.resources_of("queue"):
                if isinstance(resource, Queue) and resource.qualified_name == qualified_name:
                    return resource
        return None

    def close(self) -> None:
        self.closed = True
        with self.changed:
            self.changed.notify_all()


class LocalQueue(QueueBackend):
    """One queue of the local cloud."""

    def __init__(self, resource: Queue, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.name = resource.qualified_name
        self.engine: _Engine = cloud.shared("queue.engine", lambda: _Engine(cloud))
        self.db = self.engine.db
        self.clock = cloud.clock
        self._trimmed_at = float("-inf")

    # -- sending

    def send(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        if len(messages) == 1:
            if self.resource.fifo:  # one statement (see _insert_fifo): a transaction by itself
                with self.db.lock:
                    results = [self._insert_fifo(self.db.connection, messages[0], self.clock.now())]
            else:
                rows: list[tuple[Any, ...]] = []
                results = self._standard_rows(messages, self.clock.now(), rows)
                with self.db.lock:  # one statement: a transaction by itself (see _commit_one)
                    self.db.connection.execute(_INSERT, rows[0])
        else:
            with self.db.transaction() as conn:
                results = self._insert(conn, messages, self.clock.now())
        self.engine.notify(self.name)
        return results

    def _insert(self, conn: sqlite3.Connection, messages: list[OutgoingMessage], now: float) -> list[SendResult]:
        """Enqueue ``messages`` inside the caller's transaction (the caller commits, then notifies)."""
        q = self.resource
        if not q.fifo:
            return self._insert_standard(conn, messages, now)
        return [self._insert_fifo(conn, m, now) for m in messages]

    def _insert_fifo(self, conn: sqlite3.Connection, m: OutgoingMessage, now: float) -> SendResult:
        """One FIFO message, unless its deduplication id was used within the window: then the first one's result.

        One statement: the INSERT's trigger (``_SCHEMA``) claims the id, or undoes the INSERT (only that
        statement, also inside a caller's transaction) with the error :data:`_DUPLICATE` if a live claim holds it.
        """
        rows: list[tuple[Any, ...]] = []
        [result] = self._standard_rows([m], now, rows)
        try:
            message_id, seq = result.message_id, conn.execute(_INSERT, rows[0]).lastrowid or 0
        except sqlite3.IntegrityError as error:  # a live claim holds the id: the INSERT was undone
            if str(error) != _DUPLICATE:
                raise
            message_id, seq = conn.execute(
                "SELECT message_id, seq FROM dedup WHERE queue = ? AND dedup_id = ?", (self.name, m.deduplication_id)
            ).fetchone()
        return SendResult(message_id, m.md5_of_body, m.md5_of_attributes, str(_SEQUENCE_BASE + seq))

    def _insert_standard(
        self, conn: sqlite3.Connection, messages: list[OutgoingMessage], now: float
    ) -> list[SendResult]:
        """A standard queue's messages in one statement (no deduplication, no sequence numbers)."""
        rows: list[tuple[Any, ...]] = []
        results = self._standard_rows(messages, now, rows)
        conn.executemany(_INSERT, rows)
        return results

    def _standard_rows(
        self,
        messages: list[OutgoingMessage],
        now: float,
        rows: list[tuple[Any, ...]],
        packed: dict[int, bytes] | None = None,
    ) -> list[SendResult]:
        """Append the rows of ``messages`` to ``rows``; the results a standard queue's send reports.

        ``packed``: attributes already packed during the caller's call, by ``id`` of their dict (a
        fan-out hands the messages of several queues one attributes dict: it is packed once).
        """
        q = self.resource
        name, expires = self.name, now + q.retention
        results = []
        if packed is None:
            packed = {}
        for m in messages:
            message_id = uuid4_text()
            attributes = None
            if m.attributes:
                attributes = packed.get(id(m.attributes))
                if attributes is None:
                    attributes = packed[id(m.attributes)] = msgpack.packb(
                        {n: (a.data_type, a.value) for n, a in m.attributes.items()}
                    )
            rows.append(
                (
                    name,
                    message_id,
                    m.body,
                    attributes,
                    m.md5_of_body,
                    m.md5_of_attributes,
                    m.group_id,
                    m.deduplication_id,
                    now,
                    now,
                    now,
                    expires,
                    now + (q.delay if m.delay is None else m.delay),
                    m.trace_header,
                )
            )
            results.append(SendResult(message_id, m.md5_of_body, m.md5_of_attributes, None))
        return results

    # -- receiving

    def receive(
        self,
        max_messages: int,
        wait_seconds: int,
        visibility_timeout: int | None,
        attribute_names: frozenset[str],
        message_attribute_names: frozenset[str],
    ) -> list[Message]:
        engine = self.engine
        deadline = self.clock.now() + wait_seconds
        while True:
            version = engine.version
            messages = self._receive_once(max_messages, visibility_timeout, attribute_names, message_attribute_names)
            if messages or wait_seconds <= 0:
                return messages
            with engine.changed:
                now = self.clock.now()
                if now >= deadline or engine.closed:
                    return []
                if engine.version != version:
                    continue
                timeout = deadline - now
                upcoming = self.next_visible_at()
                if upcoming is not None:
                    timeout = min(timeout, max(0.0, upcoming - now))
                self.clock.wait(engine.changed, timeout)

    def _receive_once(
        self,
        max_messages: int,
        visibility_timeout: int | None,
        attribute_names: frozenset[str],
        message_attribute_names: frozenset[str],
    ) -> list[Message]:
        q = self.resource
        now = self.clock.now()
        timeout = q.visibility_timeout if visibility_timeout is None else visibility_timeout
        dead_letter = q.dead_letter
        if dead_letter is None:
            if not q.fifo:
                return self._receive_standard(max_messages, now, timeout, attribute_names, message_attribute_names)
            if now - self._trimmed_at < _TRIM_EVERY:
                # FIFO, nothing to dead-letter and no sweep due: the candidates are all taken, and the UPDATE is
                # the only write, a transaction by itself. The lock keeps every other writer of this process out
                # between the read and the write, and no other process can write (``hold_file_lock``).
                with self.db.lock:
                    conn = self.db.connection
                    rows = self._lock(conn, [seq for seq, _ in self._candidates(conn, now, max_messages)], now, timeout)
            else:
                with self.db.transaction() as conn:
                    self._trim(conn, now)
                    rows = self._lock(conn, [seq for seq, _ in self._candidates(conn, now, max_messages)], now, timeout)
            return self._received(rows, now, attribute_names, message_attribute_names)
        taken: list[Any] = []
        seen: set[int] = set()
        moved = False
        with self.db.transaction() as conn:
            self._trim(conn, now)
            while len(taken) < max_messages:
                keys = [k for k in self._candidates(conn, now, max_messages - len(taken)) if k[0] not in seen]
                if not keys:
                    break
                fresh = []
                for seq, count in keys:
                    if count >= dead_letter.max_receive_count:
                        self._dead_letter(conn, seq, now)
                        moved = True
                    else:
                        fresh.append(seq)
                taken += self._lock(conn, fresh, now, timeout)
                seen.update(k[0] for k in keys)
                if len(fresh) == len(keys):
                    break  # nothing moved: the candidates were all there was (or enough)
        if moved:
            self.engine.notify(dead_letter.queue.qualified_name)
        # RETURNING shows the rows after the update: their receive counts already count this receive.
        return [
            self._message(
                row, self._handle(row[0], row[13]), attribute_names, message_attribute_names, now, True, counted=True
            )
            for row in taken
        ]

    def _lock(self, conn: sqlite3.Connection, seqs: list[int], now: float, timeout: int) -> list[Any]:
        """Receive the messages ``seqs`` and read them back in one statement, in the order given."""
        if len(seqs) <= 1:
            return conn.execute(_LOCK_ONE, (now, now, now + timeout, seqs[0])).fetchall() if seqs else []
        rows = conn.execute(
            _LOCK.format(f"IN ({','.join('?' * len(seqs))})"), (now, now, now + timeout, *seqs)
        ).fetchall()
        if len(rows) > 1:
            order = {seq: i for i, seq in enumerate(seqs)}
            rows.sort(key=lambda row: order[row[0]])
        return rows

    def _receive_standard(
        self, max_messages: int, now: float, timeout: int, names: frozenset[str], wanted: frozenset[str]
    ) -> list[Message]:
        """The hot path (standard queue, no dead-letter queue): choose and lock messages in one statement."""
        if now - self._trimmed_at < _TRIM_EVERY:  # no sweep due: the statement is the whole transaction
            rows = _commit_one(self.db, *self._take_statement(max_messages, now, timeout))
        else:
            with self.db.transaction() as conn:
                rows = self._take_standard(conn, max_messages, now, timeout)
        return self._received(rows, now, names, wanted)

    def _take_standard(self, conn: sqlite3.Connection, max_messages: int, now: float, timeout: int) -> list[Any]:
        """The statement of :meth:`_receive_standard`, inside the caller's transaction."""
        self._trim(conn, now)
        rows: list[Any] = conn.execute(*self._take_statement(max_messages, now, timeout)).fetchall()
        return rows

    def _take_statement(self, max_messages: int, now: float, timeout: int) -> tuple[str, dict[str, Any]]:
        """The receive's statement and its parameters."""
        sql = _TAKE_ONE if max_messages == 1 else _TAKE_MANY
        return sql, {"now": now, "until": now + timeout, "queue": self.name, "limit": max_messages}

    def _received(self, rows: list[Any], now: float, names: frozenset[str], wanted: frozenset[str]) -> list[Message]:
        rows.sort()
        # RETURNING shows the row after the update: the receive count already counts this receive.
        return [
            self._message(row, self._handle(row[0], row[13]), names, wanted, now, True, counted=True) for row in rows
        ]

    def delete_and_receive(self, receipt_handles: list[str], max_messages: int) -> list[Message] | None:
        """For the dispatcher: delete what a batch finished and receive the next batch in ONE transaction.

        Only on the hot path (standard queue, no dead-letter queue; every attribute asked for): None
        otherwise, and the caller deletes and receives separately. Handles are the ones this queue's
        receive returned; one that does not parse is skipped, as :meth:`delete` reports it per entry.
        """
        q = self.resource
        if q.fifo or q.dead_letter is not None:
            return None
        deletes = []
        for handle in receipt_handles:
            try:
                seq, token = self._parse(handle)
            except StratusError:
                continue
            deletes.append((seq, self.name, token))
        now = self.clock.now()
        everything = frozenset({"All"})
        with self.db.transaction() as conn:
            if deletes:
                conn.executemany(_DELETE, deletes)
            rows = self._take_standard(conn, max_messages, now, q.visibility_timeout)
        return self._received(rows, now, everything, everything)

    def _candidates(self, conn: sqlite3.Connection, now: float, limit: int) -> list[tuple[int, int]]:
        """``(seq, receive count)`` of the next messages to receive, in the order they are handed out."""
        if not self.resource.fifo:
            return conn.execute(
                "SELECT seq, receive_count FROM messages WHERE queue = ? AND visible_at <= ? AND expires_at > ? "
                "ORDER BY visible_at, seq LIMIT ?",
                (self.name, now, now, limit),
            ).fetchall()
        # FIFO: a group with a message in flight is blocked; otherwise it yields its messages in order up to the
        # first one that is not visible yet (delayed), so nothing of a group is ever delivered out of order.
        rows = conn.execute(
            "SELECT seq, group_id, visible_at, receive_count FROM messages WHERE queue = ? AND expires_at > ?",
            (self.name, now),
        ).fetchall()
        rows.sort()  # by seq: cheaper here than SQLite's temporary b-tree for an ORDER BY off the index's order
        blocked: set[str | None] = {group for _, group, visible_at, count in rows if visible_at > now and count > 0}
        chosen: list[tuple[int, int]] = []
        for seq, group, visible_at, count in rows:
            if group in blocked:
                continue
            if visible_at > now:
                blocked.add(group)
                continue
            chosen.append((seq, count))
            if len(chosen) >= limit:
                break
        return chosen

    def _dead_letter(self, conn: sqlite3.Connection, seq: int, now: float) -> None:
        q = self.resource
        assert q.dead_letter is not None
        dlq = q.dead_letter.queue
        # Standard queues keep the original enqueue time for retention; FIFO resets it (SQS docs).
        conn.execute(
            "UPDATE messages SET queue = ?, source_queue = ?, arrived_at = ?, enqueued_at = "
            + ("?" if q.fifo else "enqueued_at")
            + ", expires_at = "
            + ("? + ?" if q.fifo else "enqueued_at + ?")
            + ", visible_at = ?, receipt = NULL WHERE seq = ?",
            (dlq.qualified_name, self.name, now, now, now, dlq.retention, now, seq)
            if q.fifo
            else (dlq.qualified_name, self.name, now, dlq.retention, now, seq),
        )

    def _message(
        self,
        row: tuple[Any, ...],
        receipt_handle: str,
        names: frozenset[str],
        wanted: frozenset[str],
        now: float,
        received: bool,
        *,
        counted: bool = False,
    ) -> Message:
        """The message of a row (its first 13 columns, ``_COLUMNS``); ``received``: by the receive at ``now``,
        whose increment of the receive count ``counted`` says the row already shows."""
        seq, message_id, body, packed, md5_body, md5_attrs, group, dedup, sent_at = row[:9]
        count, first, source, trace = row[9:13]
        if received and not counted:
            count += 1
        if first is None and received:
            first = now
        attributes: dict[str, str] = {}
        if "All" in names:  # the usual request: every system attribute, in SQS's order
            attributes["SenderId"] = str(self.cloud.account_id)
            if trace is not None:
                attributes["AWSTraceHeader"] = str(trace)
            attributes["SentTimestamp"] = str(int(sent_at * 1000))
            attributes["ApproximateReceiveCount"] = str(count)
            if first is not None:
                attributes["ApproximateFirstReceiveTimestamp"] = str(int(first * 1000))
            if group is not None:
                attributes["MessageGroupId"] = str(group)
            if self.resource.fifo:
                if dedup is not None:
                    attributes["MessageDeduplicationId"] = str(dedup)
                attributes["SequenceNumber"] = str(_SEQUENCE_BASE + seq)
            if source is not None:
                attributes["DeadLetterQueueSourceArn"] = self.cloud.arn("sqs", source)
        elif names:

            def put(name: str, value: Any) -> None:
                if value is not None and name in names:
                    attributes[name] = str(value)

            put("SenderId", self.cloud.account_id)
            put("AWSTraceHeader", trace)
            put("SentTimestamp", int(sent_at * 1000))
            put("ApproximateReceiveCount", count)
            put("ApproximateFirstReceiveTimestamp", int(first * 1000) if first is not None else None)
            put("MessageGroupId", group)
            if self.resource.fifo:
                put("MessageDeduplicationId", dedup)
                put("SequenceNumber", _SEQUENCE_BASE + seq)
            if source is not None:
                put("DeadLetterQueueSourceArn", self.cloud.arn("sqs", source))
        message_attributes: dict[str, MessageAttribute] = {}
        md5 = None
        if packed is not None and wanted:
            stored = msgpack.unpackb(packed)
            for name, (data_type, value) in stored.items():
                if _wants(wanted, name):
                    message_attributes[name] = MessageAttribute(data_type, value)
            md5 = md5_attrs if len(message_attributes) == len(stored) else md5_of_attributes(message_attributes)
        return Message(message_id, receipt_handle, body, md5_body, md5, attributes, message_attributes)

    def peek(self, limit: int) -> list[Message]:
        now = self.clock.now()
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE queue = ? AND expires_at > ? ORDER BY seq LIMIT ?",
                (self.name, now, limit),
            ).fetchall()
        everything = frozenset({"All"})
        return [self._message(row, "", everything, everything, now, False) for row in rows]

    # -- acknowledging

    def _handle(self, seq: int, token: str) -> str:
        return base64.urlsafe_b64encode(f"{self.name}\n{seq}\n{token}".encode()).decode()

    def _parse(self, handle: str) -> tuple[int, str]:
        try:  # base64.urlsafe_b64decode, without its layers of Python
            queue, seq, token = binascii.a2b_base64(handle.encode().translate(_FROM_URLSAFE)).decode().split("\n")
            number = int(seq)
        except (ValueError, binascii.Error, UnicodeError):
            raise _invalid_handle(handle) from None
        if queue != self.name or len(token) != 16:
            raise _invalid_handle(handle)
        return number, token

    def delete(self, receipt_handles: list[str]) -> list[StratusError | None]:
        now = self.clock.now()
        outcomes: list[StratusError | None] = []
        if not self.resource.fifo:
            # Only the latest handle deletes; any other succeeds without deleting (SQS docs).
            deletes = []
            for handle in receipt_handles:
                try:
                    seq, token = self._parse(handle)
                except StratusError as error:
                    outcomes.append(error)
                    continue
                deletes.append((seq, self.name, token))
                outcomes.append(None)
            if len(deletes) == 1:
                _commit_one(self.db, _DELETE, deletes[0])
            elif deletes:
                with self.db.transaction() as conn:
                    conn.executemany(_DELETE, deletes)
            return outcomes
        parsed: list[tuple[str, int, str] | StratusError] = []
        for handle in receipt_handles:
            try:
                seq, token = self._parse(handle)
            except StratusError as error:
                parsed.append(error)
            else:
                parsed.append((handle, seq, token))
        if len(parsed) == 1 and isinstance(parsed[0], tuple):
            with self.db.lock:  # one handle: its DELETE is a transaction by itself (see _commit_one)
                return [self._delete_fifo(self.db.connection, *parsed[0], now)]
        with self.db.transaction() as conn:
            return [p if isinstance(p, StratusError) else self._delete_fifo(conn, *p, now) for p in parsed]

    def _delete_fifo(
        self, conn: sqlite3.Connection, handle: str, seq: int, token: str, now: float
    ) -> StratusError | None:
        """Delete one FIFO message by its handle: a handle is valid only while its receive's visibility lasts."""
        if conn.execute(
            "DELETE FROM messages WHERE seq = ? AND queue = ? AND receipt = ? AND visible_at > ?",
            (seq, self.name, token, now),
        ).rowcount:
            return None
        if conn.execute("SELECT 1 FROM messages WHERE seq = ? AND queue = ?", (seq, self.name)).fetchone() is None:
            return None  # already deleted: SQS reports success
        return _expired(handle)

    def change_visibility(self, entries: list[tuple[str, int]]) -> list[StratusError | None]:
        now = self.clock.now()
        outcomes: list[StratusError | None] = []
        woke = False
        with self.db.transaction() as conn:
            for handle, seconds in entries:
                try:
                    seq, token = self._parse(handle)
                except StratusError as error:
                    outcomes.append(error)
                    continue
                row = conn.execute(
                    "SELECT receipt, visible_at, received_at FROM messages WHERE seq = ? AND queue = ?",
                    (seq, self.name),
                ).fetchone()
                if row is None or row[0] != token:
                    outcomes.append(_expired(handle))
                elif row[1] <= now:
                    outcomes.append(
                        MessageNotInflight("Message does not exist or is not available for visibility timeout change.")
                    )
                elif now + seconds - row[2] > MAX_VISIBILITY:
                    outcomes.append(
                        InvalidParameterValue(
                            f"Value {seconds} for parameter VisibilityTimeout is invalid. Reason: Total "
                            f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY} seconds]"
                        )
                    )
                else:
                    conn.execute("UPDATE messages SET visible_at = ? WHERE seq = ?", (now + seconds, seq))
                    woke = woke or seconds == 0
                    outcomes.append(None)
        if woke:
            self.engine.notify(self.name)
        return outcomes

    # -- managing

    def purge(self) -> None:
        now = self.clock.now()
        with self.db.transaction() as conn:
            row = conn.execute("SELECT at FROM purges WHERE queue = ?", (self.name,)).fetchone()
            if row is not None and now < row[0] + 60:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {self.resource.name} is allowed every 60 seconds."
                )
            conn.execute("DELETE FROM messages WHERE queue = ?", (self.name,))
            conn.execute(
                "INSERT INTO purges (queue, at) VALUES (?, ?) ON CONFLICT (queue) DO UPDATE SET at = excluded.at",
                (self.name, now),
            )

    def attributes(self) -> dict[str, int]:
        now = self.clock.now()
        with self.db.read() as conn:
            visible, in_flight, delayed, oldest = conn.execute(
                "SELECT COALESCE(SUM(visible_at <= :now), 0), "
                "COALESCE(SUM(visible_at > :now AND receive_count > 0), 0), "
                "COALESCE(SUM(visible_at > :now AND receive_count = 0), 0), MIN(arrived_at) "
                "FROM messages WHERE queue = :queue AND expires_at > :now",
                {"now": now, "queue": self.name},
            ).fetchone()
        q = self.resource
        return {
            "ApproximateNumberOfMessages": visible,
            "ApproximateNumberOfMessagesNotVisible": in_flight,
            "ApproximateNumberOfMessagesDelayed": delayed,
            "ApproximateAgeOfOldestMessage": int(now - oldest) if oldest is not None else 0,
            "VisibilityTimeout": q.visibility_timeout,
            "DelaySeconds": q.delay,
            "MessageRetentionPeriod": q.retention,
            "MaximumMessageSize": q.max_message_size,
        }

    def next_visible_at(self) -> float | None:
        now = self.clock.now()
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT MIN(visible_at) FROM messages WHERE queue = ? AND visible_at > ? AND expires_at > ?",
                (self.name, now, now),
            ).fetchone()
        return row[0] if row else None

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        listeners = self.engine.listeners.setdefault(self.name, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return unsubscribe

    def _trim(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._trimmed_at < _TRIM_EVERY:
            return
        self._trimmed_at = now
        conn.execute("DELETE FROM messages WHERE queue = ? AND expires_at <= ?", (self.name, now))
        conn.execute("DELETE FROM dedup WHERE queue = ? AND expires_at <= ?", (self.name, now))

    # -- redrive (StartMessageMoveTask)

    def redrive(self, to: Queue | None, max_per_second: int | None) -> MoveTask:
        engine = self.engine
        sources = [
            q
            for app in self.cloud.apps
            for q in app.resources_of("queue")
            if isinstance(q, Queue) and q.dead_letter is not None and q.dead_letter.queue is self.resource
        ]
        if not sources:
            raise UnsupportedOperation(
                f"Source queue {self.resource.name} must be configured as a dead-letter queue of another queue."
            )
        running = engine.tasks.get(self.name)
        if running is not None and running.status == "RUNNING":
            raise UnsupportedOperation(f"There is already a message movement task running on {self.resource.name}.")
        now = self.clock.now()
        with self.db.read() as conn:
            pending = [
                (seq, source)
                for seq, source in conn.execute(
                    "SELECT seq, source_queue FROM messages WHERE queue = ? AND expires_at > ? ORDER BY seq",
                    (self.name, now),
                )
            ]
        task = MoveTask(str(uuid.uuid4()), self.name, to.qualified_name if to else None, len(pending))
        done = threading.Event()
        task._done = done.wait
        engine.tasks[self.name] = task
        fallback = sources[0]

        def move(chunk: list[tuple[int, str | None]]) -> None:
            moment = self.clock.now()
            touched: set[str] = set()
            with self.db.transaction() as conn:
                for seq, source in chunk:
                    target = to or (engine.queue_named(source) if source else None) or fallback
                    cursor = conn.execute(
                        "UPDATE messages SET queue = ?, source_queue = NULL, receive_count = 0, "
                        "first_received_at = NULL, received_at = NULL, receipt = NULL, visible_at = ?, "
                        "arrived_at = ?, enqueued_at = ?, expires_at = ? WHERE seq = ? AND queue = ?",
                        (target.qualified_name, moment, moment, moment, moment + target.retention, seq, self.name),
                    )
                    task.moved += cursor.rowcount
                    touched.add(target.qualified_name)
            engine.notify(*touched)

        def finish() -> None:
            task.status = "COMPLETED"
            done.set()

        if max_per_second is None:
            move(pending)
            finish()
            return task
        move(pending[:max_per_second])
        if len(pending) <= max_per_second:
            finish()
            return task

        wake = threading.Condition()

        def cancel() -> None:
            with wake:
                wake.notify_all()

        task._cancel = cancel

        def run() -> None:
            try:
                for step, start in enumerate(range(max_per_second, len(pending), max_per_second), start=1):
                    target_time = now + step  # the rate is kept on the clock, from the task's start
                    while self.clock.now() < target_time and task.status == "RUNNING" and not engine.closed:
                        with wake:
                            self.clock.wait(wake, target_time - self.clock.now())
                    if task.status == "CANCELLING":
                        task.status = "CANCELLED"
                        done.set()
                        return
                    if engine.closed:
                        task.status, task.failure_reason = "FAILED", "the local cloud was closed"
                        done.set()
                        return
                    move(pending[start : start + max_per_second])
                finish()
            except Exception as error:  # the task reports failure instead of dying silently
                task.status, task.failure_reason = "FAILED", str(error)
                done.set()

        threading.Thread(target=run, name=f"redrive-{self.name}", daemon=True).start()
        return task

    def close(self) -> None:
        self.engine.listeners.pop(self.name, None)


def send_many(
    groups: list[tuple[LocalQueue, list[OutgoingMessage]]],
) -> list[list[SendResult] | Exception]:
    """Enqueue validated messages on several queues of one cloud in ONE committed transaction.

    A group that fails (its outcome is the exception) leaves nothing behind and does not stop
    the others: the first try writes every group in one plain transaction (one statement when
    every queue is standard); only if that fails is the work redone with a savepoint per group.
    Every queue must share one database (all the queues of a cloud do). Listeners are told after
    the commit; if the commit itself fails, it raises and nothing was sent.
    """
    if not groups:
        return []
    db = groups[0][0].db
    for backend, _ in groups:
        if backend.db is not db:
            raise ValueError("send_many: every queue must share one database")
    outcomes: list[list[SendResult] | Exception] = []
    try:
        if not any(backend.resource.fifo for backend, _ in groups):
            outcomes = _send_standard(db, groups)
        else:
            outcomes = _send_mixed(db, groups)
    except Exception:
        outcomes = []
        with db.transaction():
            now = groups[0][0].clock.now()
            for backend, messages in groups:
                try:
                    with db.transaction() as conn:  # a savepoint: a failing group undoes only itself
                        outcomes.append(backend._insert(conn, messages, now))
                except Exception as error:
                    outcomes.append(error)
    engine = groups[0][0].engine
    engine.notify(*dict.fromkeys(b.name for (b, _), o in zip(groups, outcomes, strict=True) if isinstance(o, list)))
    return outcomes


def _send_standard(
    db: Database, groups: list[tuple[LocalQueue, list[OutgoingMessage]]]
) -> list[list[SendResult] | Exception]:
    """:func:`send_many`'s first try when every queue is standard: one INSERT of every row, committed by itself.

    One statement is atomic on its own (see :func:`_commit_one`), so a usual fan-out needs neither
    BEGIN nor COMMIT; a large one (beyond :data:`_MAX_VALUES` rows) is inserted in a transaction.
    """
    now = groups[0][0].clock.now()
    rows: list[tuple[Any, ...]] = []
    packed: dict[int, bytes] = {}
    outcomes: list[list[SendResult] | Exception] = [
        backend._standard_rows(messages, now, rows, packed) for backend, messages in groups
    ]
    if not rows:
        return outcomes
    if len(rows) <= _MAX_VALUES:
        _commit_one(db, _insert_values(len(rows)), tuple(itertools.chain.from_iterable(rows)))
    else:
        with db.transaction() as conn:
            conn.executemany(_INSERT, rows)
    return outcomes


def _send_mixed(
    db: Database, groups: list[tuple[LocalQueue, list[OutgoingMessage]]]
) -> list[list[SendResult] | Exception]:
    """:func:`send_many`'s first try with FIFO queues among the groups: one transaction."""
    outcomes: list[list[SendResult] | Exception] = []
    with db.transaction() as conn:
        now = groups[0][0].clock.now()
        rows: list[tuple[Any, ...]] = []  # every standard queue's messages: one statement
        packed: dict[int, bytes] = {}
        for backend, messages in groups:
            if backend.resource.fifo:
                outcomes.append(backend._insert(conn, messages, now))
            else:
                outcomes.append(backend._standard_rows(messages, now, rows, packed))
        if rows:
            conn.executemany(_INSERT, rows)
    return outcomes


#: Most rows one multi-row INSERT takes (14 parameters each: far below SQLite's limit on parameters).
_MAX_VALUES = 64


@functools.cache
def _insert_values(count: int) -> str:
    """The INSERT of ``count`` messages in one statement."""
    return _INSERT + ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" * (count - 1)


def _commit_one(db: Database, sql: str, params: Any) -> list[Any]:
    """Run ONE write statement as its own transaction (SQLite's autocommit) and return its rows.

    A single statement is atomic and durable by itself, so a hot-path call made of one needs
    neither the BEGIN nor the COMMIT statement of ``db.transaction()``: SQLite commits when the
    statement completes, before ``execute`` (or, with RETURNING, ``fetchall``) returns. Inside a
    transaction this thread already holds, the statement joins it (and, failing, undoes only itself).

    No :func:`~stratus.local.watchdog.uninterrupted` section is needed: no transaction stays open
    between bytecodes. A handler timeout landing between ``execute`` and ``fetchall`` drops the
    cursor, which resets the statement (committing it) before the lock is released; the messages
    it received then simply become visible again when their timeout passes (at-least-once).
    """
    with db.lock:
        return db.connection.execute(sql, params).fetchall()


#: WAL pages between automatic checkpoints of the event databases (SQLite's default is 1,000).
CHECKPOINT_PAGES = 2000


def tune_event_database(db: Database) -> None:
    """Settings of the event databases (queues, streams): held by this process, checkpointed rarely.

    The checkpoint: every :data:`CHECKPOINT_PAGES` WAL pages instead of every 1,000.

    A checkpoint runs inside the commit that crosses the threshold and fsyncs twice (WAL, then
    database file: from ~0.1 ms on the project's idle virtual disk to ~4 ms while other work
    writes), and a queue round trip or a topic fan-out writes 6 to 8 pages, so by default about
    one operation in 150 waited for both. Doubling the interval halves that. The interval does not
    grow for free: the same few pages are rewritten over and over, and appending a page to the
    WAL walks that page's earlier copies in SQLite's WAL index, so CPU per commit grows with the
    WAL's length (measured on a queue round trip: +2 % at 2,000 pages, +11 % at 4,000).
    Durability is unchanged: a commit is in the WAL either way (``synchronous=NORMAL``); the WAL
    file stays under ~8 MB.
    """
    with db.lock:
        db.connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
    db.hold_file_lock()


def _wants(wanted: frozenset[str], name: str) -> bool:
    if "All" in wanted or ".*" in wanted or name in wanted:
        return True
    return any(w.endswith(".*") and name.startswith(w[:-1]) for w in wanted)


def _invalid_handle(handle: str) -> ReceiptHandleIsInvalid:
    return ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')


def _expired(handle: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    )
