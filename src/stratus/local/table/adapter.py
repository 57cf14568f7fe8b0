"""LocalTable: the embedded adapter of one table, on the shared table engine.

Every write is one SQLite transaction that reads the old item, checks the condition,
computes the new item, and writes the item row, its index rows, its expiry row and
its change-stream record together, so an index or a stream never disagrees with the
table, even after ``kill -9``. A plain put on a table with no index, stream or TTL is
a single upsert statement. Reads and pages live in :mod:`.reads`, stream records in
:mod:`.streams`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stratus.errors import ConditionalCheckFailed, ValidationError
from stratus.local.table import reads, streams
from stratus.local.table.codec import pack, unpack
from stratus.local.table.engine import ITEM, TableEngine
from stratus.local.table.keys import encode_number
from stratus.resources.table.backend import MAX_BATCH_GET_BYTES, Read, ReadResult, TableBackend, Write
from stratus.resources.table.errors import CancellationReason, TransactionCanceled
from stratus.resources.table.values import values_equal

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.resources.table.port import Table
    from stratus.resources.table.schema import IndexSchema
    from stratus.resources.table.transactions import TxAction, TxGet

#: How long DynamoDB keeps a transaction's client token.
TOKEN_WINDOW = 600.0
#: Expiry times further in the past than this are ignored by TTL, as DynamoDB ignores them.
TTL_HORIZON = 5 * 365 * 86400.0

#: Longest packed item (with its keys) kept in the key-ordered row; longer ones go to tbl_blobs.
INLINE_BYTES = 960
_SELECT = f"SELECT {ITEM}, t.size FROM tbl_items t WHERE t.tid = ? AND t.pk = ? AND t.sk = ?"
_UPSERT = (
    "INSERT INTO tbl_items (tid, pk, sk, size, item, blob) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tid, pk, sk) DO UPDATE SET size = excluded.size, item = excluded.item, blob = excluded.blob"
)
_BLOB = "INSERT INTO tbl_blobs (item) VALUES (?)"
_DELETE = "DELETE FROM tbl_items WHERE tid = ? AND pk = ? AND sk = ?"
_INDEX_ADD = "INSERT OR REPLACE INTO tbl_index (tid, iid, ipk, isk, pk, sk) VALUES (?, ?, ?, ?, ?, ?)"
_INDEX_DEL = "DELETE FROM tbl_index WHERE tid = ? AND iid = ? AND ipk = ? AND isk = ? AND pk = ? AND sk = ?"
_TTL_ADD = "INSERT OR REPLACE INTO tbl_ttl (tid, due, pk, sk) VALUES (?, ?, ?, ?)"
_TTL_DEL = "DELETE FROM tbl_ttl WHERE tid = ? AND due = ? AND pk = ? AND sk = ?"

Encoder = Callable[[Any], bytes]


def _encode_s(value: Any) -> bytes:
    return value.encode()


def _encode_n(value: Any) -> bytes:
    return encode_number(value if isinstance(value, Decimal) else Decimal(value))


def _encode_b(value: Any) -> bytes:
    return bytes(value)


ENCODERS: dict[str, Encoder] = {"S": _encode_s, "N": _encode_n, "B": _encode_b}
_TYPES: dict[str, tuple[type, ...]] = {"S": (str,), "N": (Decimal, int), "B": (bytes,)}


class IndexPlan:
    """How one secondary index is maintained: its id and key encoders."""

    __slots__ = ("iid", "index", "pk_enc", "pk_name", "pk_types", "sk_enc", "sk_name", "sk_types")

    def __init__(self, iid: int, index: IndexSchema) -> None:
        self.iid = iid
        self.index = index
        self.pk_name = index.partition.name
        self.pk_enc = ENCODERS[index.partition.type]
        self.pk_types = _TYPES[index.partition.type]
        self.sk_name = index.sort.name if index.sort else None
        self.sk_enc = ENCODERS[index.sort.type] if index.sort else None
        self.sk_types = _TYPES[index.sort.type] if index.sort else ()

    def key(self, item: dict[str, Any] | None) -> tuple[bytes, bytes] | None:
        """The item's (ipk, isk) in this index, or None when the item is not in it (sparse)."""
        if item is None:
            return None
        value = item.get(self.pk_name)
        if value is None or not isinstance(value, self.pk_types) or isinstance(value, bool):
            return None
        if self.sk_name is None:
            return self.pk_enc(value), b""
        sort = item.get(self.sk_name)
        if sort is None or not isinstance(sort, self.sk_types) or isinstance(sort, bool):
            return None
        assert self.sk_enc is not None
        return self.pk_enc(value), self.sk_enc(sort)


class LocalTable(TableBackend):
    """The embedded adapter of one table."""

    def __init__(self, resource: Table, cloud: LocalCloud) -> None:
        self.resource = resource
        self.schema = resource.schema
        self.clock = cloud.clock
        self.region = cloud.region
        self.engine: TableEngine = cloud.shared("tables", lambda: TableEngine(cloud.storage.database("tables")))
        self.db = self.engine.db
        self.conn = self.db.connection
        self.lock = self.db.lock
        self.name = resource.qualified_name
        schema = self.schema
        keys = schema.settings()
        definitions = {name: json.dumps(index.settings(), sort_keys=True) for name, index in schema.indexes.items()}
        self.tid, self.created = self.engine.register(
            self.name,
            {"partition_key": keys["partition_key"], "sort_key": keys["sort_key"]},
            definitions,
            self.clock.now(),
        )
        ids, rebuild = self.engine.index_ids(self.tid, definitions)
        self.plans: dict[str, IndexPlan] = {name: IndexPlan(ids[name], schema.indexes[name]) for name in ids}
        self._plans = list(self.plans.values())
        self.pk_name = schema.partition.name
        self.pk_enc = ENCODERS[schema.partition.type]
        self.sk_name = schema.sort.name if schema.sort else None
        self.sk_enc = ENCODERS[schema.sort.type] if schema.sort else None
        self.arn = cloud.arn("dynamodb", f"table/{self.name}")
        self.stream_view = resource.stream_view
        self.stream_arn = f"{self.arn}/stream/{streams.label(self.created)}"
        self.ttl_attribute = resource.ttl_attribute
        self.simple = not self._plans and self.stream_view is None and self.ttl_attribute is None
        self.stream_changed = threading.Condition()
        self._listeners: list[Callable[[], None]] = []
        self._next_due: float | None = None
        self.trimmed_at = float("-inf")
        self.engine.tables[self.name] = self
        if rebuild:
            self._backfill([self.plans[name] for name in rebuild])
        self._closed = False
        if self.ttl_attribute is not None:
            self._refresh_due()
            # Under a virtual clock, expire as soon as time jumps, so change-stream readers see
            # the REMOVE records without waiting for the next call on this table.
            cloud.clock.subscribe(self._clock_moved)

    # -- keys -------------------------------------------------------------------------------

    def encode_key(self, key: dict[str, Any]) -> tuple[bytes, bytes]:
        pk = self.pk_enc(key[self.pk_name])
        if self.sk_name is None:
            return pk, b""
        assert self.sk_enc is not None
        return pk, self.sk_enc(key[self.sk_name])

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.sk_name is None:
            return {self.pk_name: item[self.pk_name]}
        return {self.pk_name: item[self.pk_name], self.sk_name: item[self.sk_name]}

    # -- writes -----------------------------------------------------------------------------

    def write(self, request: Write) -> dict[str, Any] | None:
        if self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()
        key = request.key
        pk = self.pk_enc(key[self.pk_name])
        sk = self.sk_enc(key[self.sk_name]) if self.sk_enc is not None else b""  # type: ignore[index]
        if self.simple and request.kind == "put" and request.condition is None and request.returns == "NONE":
            blob = pack(request.item)  # type: ignore[arg-type]
            if len(blob) + len(pk) + len(sk) <= INLINE_BYTES:
                with self.lock:
                    self.conn.execute(_UPSERT, (self.tid, pk, sk, request.size, blob, None))
                return None
        if self.simple:
            # No index, stream or expiry row: the change is one statement, and holding the
            # database lock from the read to the write makes the read-modify-write atomic.
            with self.lock:
                old, old_row, new, size = self.prepare(self.conn, request, pk, sk)
                if request.kind != "check" and not self._store_single(pk, sk, old, old_row, new, size):
                    with self.db.transaction() as conn:  # a large item: two statements
                        self.store(conn, pk, sk, old, old_row, new, size)
            return _returned(request, old, new)
        with self.engine.writing() as conn:
            old, old_row, new, size = self.prepare(conn, request, pk, sk)
            if request.kind != "check":
                self.store(conn, pk, sk, old, old_row, new, size)
        return _returned(request, old, new)

    def _store_single(
        self, pk: bytes, sk: bytes, old: dict[str, Any] | None, old_row: Any, new: dict[str, Any] | None, size: int
    ) -> bool:
        """Write a simple table's change as one autocommitted statement; False when it needs two."""
        if new is None:
            if old is not None:
                self.conn.execute(_DELETE, (self.tid, pk, sk))  # a trigger drops an out-of-line item
            return True
        blob = pack(new)
        if old is not None and len(old_row[0]) == len(blob) and (old_row[0] == blob or _same(old, new)):
            return True
        if len(blob) + len(pk) + len(sk) > INLINE_BYTES:
            return False
        self.conn.execute(_UPSERT, (self.tid, pk, sk, size, blob, None))
        return True

    def prepare(
        self, conn: Any, request: Write, pk: bytes, sk: bytes
    ) -> tuple[dict[str, Any] | None, Any, dict[str, Any] | None, int]:
        """Read the old item, check the condition, compute the new item (nothing written yet)."""
        row = conn.execute(_SELECT, (self.tid, pk, sk)).fetchone()
        old = unpack(row[0]) if row is not None else None
        condition = request.condition
        if condition is not None and not condition.evaluate(old):
            raise ConditionalCheckFailed(item=old if request.return_old_on_condition_failure else None)
        kind = request.kind
        if kind == "put":
            return old, row, request.item, request.size
        if kind == "delete" or kind == "check":
            return old, row, None if kind == "delete" else old, 0
        new, size = self.resource.check_updated(request.update.apply(old, request.key))
        return old, row, new, size

    def store(
        self,
        conn: Any,
        pk: bytes,
        sk: bytes,
        old: dict[str, Any] | None,
        old_row: Any,
        new: dict[str, Any] | None,
        size: int,
        *,
        service: bool = False,
    ) -> bool:
        """Write the change from ``old`` to ``new``; False when nothing changed."""
        if new is None:
            if old is None:
                return False
            conn.execute(_DELETE, (self.tid, pk, sk))
            blob = None
        else:
            blob = pack(new)
            # Equal items pack to equal lengths (sets are packed sorted); compare deeply only then.
            if old is not None and len(old_row[0]) == len(blob) and (old_row[0] == blob or _same(old, new)):
                return False
            if len(blob) + len(pk) + len(sk) <= INLINE_BYTES:
                conn.execute(_UPSERT, (self.tid, pk, sk, size, blob, None))
            else:
                big = conn.execute(_BLOB, (blob,)).lastrowid
                conn.execute(_UPSERT, (self.tid, pk, sk, size, None, big))
        for plan in self._plans:
            before = plan.key(old)
            after = plan.key(new)
            if before == after:
                continue
            if before is not None:
                conn.execute(_INDEX_DEL, (self.tid, plan.iid, before[0], before[1], pk, sk))
            if after is not None:
                conn.execute(_INDEX_ADD, (self.tid, plan.iid, after[0], after[1], pk, sk))
        if self.ttl_attribute is not None:
            self._retime(conn, pk, sk, old, new)
        if self.stream_view is not None:
            streams.append(self, conn, old, old_row, new, blob, size, service)
            self.engine.mark_changed(self)
        return True

    def _due(self, item: dict[str, Any] | None) -> float | None:
        if item is None:
            return None
        value = item.get(self.ttl_attribute)  # type: ignore[arg-type]
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return float(value)
        return None

    def _retime(self, conn: Any, pk: bytes, sk: bytes, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        before, after = self._due(old), self._due(new)
        if before == after:
            return
        if before is not None:
            conn.execute(_TTL_DEL, (self.tid, before, pk, sk))
        if after is not None and after >= self.clock.now() - TTL_HORIZON:
            conn.execute(_TTL_ADD, (self.tid, after, pk, sk))
            if self._next_due is None or after < self._next_due:
                self._next_due = after

    def batch_write(self, puts: list[tuple[dict[str, Any], int]], deletes: list[dict[str, Any]]) -> list[Any]:
        if self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()
        with self.engine.writing() as conn:
            for item, size in puts:
                self.write_unconditional(conn, Write("put", self.key_of(item), item, size))
            for key in deletes:
                self.write_unconditional(conn, Write("delete", key))
        return []

    def write_unconditional(self, conn: Any, request: Write) -> None:
        pk, sk = self.encode_key(request.key)
        old, old_row, new, size = self.prepare(conn, request, pk, sk)
        self.store(conn, pk, sk, old, old_row, new, size)

    # -- transactions -----------------------------------------------------------------------

    def transact_write(self, actions: list[TxAction], client_token: str | None, fingerprint: str) -> None:
        tables = [self._peer(action.table) for action in actions]
        now = self.clock.now()
        for table in dict.fromkeys(tables):
            if table._next_due is not None and now >= table._next_due:
                table.expire_due()
        with self.engine.writing() as conn:
            if client_token is not None and self.engine.token_check(conn, client_token, fingerprint, now, TOKEN_WINDOW):
                return
            prepared = []
            reasons: list[CancellationReason] = []
            failed = False
            for table, action in zip(tables, actions, strict=True):
                request = action.write
                pk, sk = table.encode_key(request.key)
                try:
                    old, old_row, new, size = table.prepare(conn, request, pk, sk)
                except ConditionalCheckFailed as error:
                    failed = True
                    reasons.append(CancellationReason("ConditionalCheckFailed", error.message, error.item))
                    continue
                except ValidationError as error:
                    failed = True
                    reasons.append(CancellationReason("ValidationError", error.message))
                    continue
                reasons.append(CancellationReason())
                prepared.append((table, request.kind, pk, sk, old, old_row, new, size))
            if failed:
                raise TransactionCanceled(reasons)
            for table, kind, pk, sk, old, old_row, new, size in prepared:
                if kind != "check":
                    table.store(conn, pk, sk, old, old_row, new, size)
            if client_token is not None:
                self.engine.token_record(conn, client_token, fingerprint, now, TOKEN_WINDOW)

    def transact_get(self, gets: list[TxGet]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        with self.db.read() as conn:
            for get in gets:
                table = self._peer(get.table)
                pk, sk = table.encode_key(get.key)
                row = conn.execute(_SELECT, (table.tid, pk, sk)).fetchone()
                item = unpack(row[0]) if row is not None else None
                if item is not None and get.projection is not None:
                    item = get.projection.apply(item)
                out.append(item)
        return out

    def _peer(self, resource: Table) -> LocalTable:
        backend = resource.backend
        if not isinstance(backend, LocalTable) or backend.engine is not self.engine:
            raise ValidationError(
                f"table {resource.name!r} is not bound to the same local cloud as {self.resource.name!r}; "
                "a transaction spans the tables of one cloud"
            )
        return backend

    # -- reads ------------------------------------------------------------------------------

    def get(self, key: dict[str, Any], projection: Any, consistent: bool) -> dict[str, Any] | None:
        if self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()
        pk = self.pk_enc(key[self.pk_name])
        sk = self.sk_enc(key[self.sk_name]) if self.sk_enc is not None else b""  # type: ignore[index]
        with self.lock:
            row = self.conn.execute(_SELECT, (self.tid, pk, sk)).fetchone()
        if row is None:
            return None
        item = unpack(row[0])
        return item if projection is None else projection.apply(item)

    def batch_get(self, keys: list[dict[str, Any]], projection: Any, consistent: bool) -> tuple[list, list]:
        if self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()
        found: list[dict[str, Any]] = []
        unprocessed: list[dict[str, Any]] = []
        total = 0
        with self.db.read() as conn:
            for key in keys:
                if total >= MAX_BATCH_GET_BYTES:
                    unprocessed.append(key)
                    continue
                pk, sk = self.encode_key(key)
                row = conn.execute(_SELECT, (self.tid, pk, sk)).fetchone()
                if row is None:
                    continue
                total += row[1]
                item = unpack(row[0])
                found.append(item if projection is None else projection.apply(item))
        return found, unprocessed

    def read(self, request: Read) -> ReadResult:
        if self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()
        return reads.read(self, request)

    # -- TTL --------------------------------------------------------------------------------

    def _refresh_due(self) -> None:
        row = self.db.execute("SELECT MIN(due) FROM tbl_ttl WHERE tid = ?", (self.tid,))
        self._next_due = row[0][0] if row and row[0][0] is not None else None

    def _clock_moved(self) -> None:
        if not self._closed and self._next_due is not None and self.clock.now() >= self._next_due:
            self.expire_due()

    def expire_due(self) -> int:
        """Delete the items whose TTL attribute is due by the clock; return how many."""
        if self.ttl_attribute is None:
            return 0
        now = self.clock.now()
        deleted = 0
        with self.engine.writing() as conn:
            due_rows = conn.execute(
                "SELECT due, pk, sk FROM tbl_ttl WHERE tid = ? AND due <= ? ORDER BY due", (self.tid, now)
            ).fetchall()
            for due, pk, sk in due_rows:
                conn.execute(_TTL_DEL, (self.tid, due, pk, sk))
                row = conn.execute(_SELECT, (self.tid, pk, sk)).fetchone()
                if row is None or due < now - TTL_HORIZON:
                    continue
                old = unpack(row[0])
                if self._due(old) != due:
                    continue
                self.store(conn, pk, sk, old, row, None, 0, service=True)
                deleted += 1
            if self.stream_view is not None:
                streams.trim(self, conn, now)
            row = conn.execute("SELECT MIN(due) FROM tbl_ttl WHERE tid = ?", (self.tid,)).fetchone()
            self._next_due = row[0] if row is not None else None
        return deleted

    # -- streams ----------------------------------------------------------------------------

    def stream_read(self, after_sequence: str | None, limit: int) -> list[dict[str, Any]]:
        """Stream records after ``after_sequence`` (None: from the oldest kept), oldest first."""
        return streams.read(self, after_sequence, limit)

    def stream_latest_sequence(self) -> str | None:
        """The sequence number of the newest record, or None when the stream is empty."""
        return streams.latest(self)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from the writing thread, after commit) whenever new records arrive."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify_stream(self) -> None:
        with self.stream_changed:
            self.stream_changed.notify_all()
        for listener in list(self._listeners):
            listener()

    # -- lifecycle --------------------------------------------------------------------------

    def _backfill(self, plans: list[IndexPlan]) -> None:
        with self.db.transaction() as conn:
            rows = conn.execute(f"SELECT t.pk, t.sk, {ITEM} FROM tbl_items t WHERE t.tid = ?", (self.tid,)).fetchall()
            for pk, sk, blob in rows:
                item = unpack(blob)
                for plan in plans:
                    key = plan.key(item)
                    if key is not None:
                        conn.execute(_INDEX_ADD, (self.tid, plan.iid, key[0], key[1], pk, sk))

    def close(self) -> None:
        self._closed = True
        self.engine.tables.pop(self.name, None)
        self._listeners.clear()

    def __repr__(self) -> str:
        return f"<LocalTable {self.name}>"


_SCALARS = (str, bytes, Decimal, bool, type(None))


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two stored (normalized) items hold the same attributes and values."""
    if old.keys() != new.keys():
        return False
    for name, a in old.items():
        b = new[name]
        if a is b:
            continue
        kind = type(a)
        if kind is not type(b):
            return False
        if kind in _SCALARS:
            if a != b:
                return False
        elif not values_equal(a, b):
            return False
    return True


def _returned(request: Write, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    returns = request.returns
    if returns == "NONE":
        return None
    if returns == "ALL_OLD":
        return old
    if returns == "ALL_NEW":
        return new
    from stratus.resources.table.expressions import updated_attributes

    assert new is not None
    before, after = updated_attributes(old, new, request.update)
    return (before if returns == "UPDATED_OLD" else after) or None


__all__ = ["LocalTable"]
