"""The table engine: every table of a local cloud in one SQLite database.

One database (``tables.db``) holds all tables, so a transaction across tables is one
SQLite transaction: all or nothing, committed before the call returns. Rows:

- ``tbl_items(tid, pk, sk, size, item, blob)``: one row per item, keyed by the
  order-preserving encodings of its keys (``sk`` is empty for tables without a sort
  key), the item as msgpack, and its DynamoDB size (so pages stop at 1 MB without
  decoding);
- ``tbl_blobs(id, item)``: items too large to sit in a key-ordered row. SQLite keeps
  at most ~1000 bytes of a WITHOUT ROWID row in its B-tree page and spills the rest
  to a whole overflow page, which would store a 1.1 KB item in 4 KB; such items live
  in this rowid table (rows up to ~4 KB inline) and ``tbl_items.blob`` points at them.
  Triggers drop a blob row when its item row is replaced or deleted;
- ``tbl_index(tid, iid, ipk, isk, pk, sk)``: one row per item per secondary index whose
  keys the item has (sparse), pointing at the item row;
- ``tbl_stream``: change records, written in the same transaction as the change;
- ``tbl_ttl(tid, due, pk, sk)``: items with an expiry, ordered by when they are due;
- ``tbl_tokens``: transaction client tokens, for the 10-minute idempotency window.

Items are never cached in Python: the B-tree and SQLite's page cache serve reads.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from stratus.errors import ResourceInUse
from stratus.local.storage import Database

if TYPE_CHECKING:
    from stratus.local.table.adapter import LocalTable

MIGRATIONS = [
    """
    CREATE TABLE tbl_registry (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        keys TEXT NOT NULL,
        indexes TEXT NOT NULL
    );
    CREATE TABLE tbl_index_ids (
        tid INTEGER NOT NULL,
        name TEXT NOT NULL,
        iid INTEGER NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (tid, name)
    );
    CREATE TABLE tbl_items (
        tid INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        size INTEGER NOT NULL,
        item BLOB,
        blob INTEGER,
        PRIMARY KEY (tid, pk, sk)
    ) WITHOUT ROWID;
    CREATE TABLE tbl_blobs (
        id INTEGER PRIMARY KEY,
        item BLOB NOT NULL
    );
    CREATE TABLE tbl_index (
        tid INTEGER NOT NULL,
        iid INTEGER NOT NULL,
        ipk BLOB NOT NULL,
        isk BLOB NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        PRIMARY KEY (tid, iid, ipk, isk, pk, sk)
    ) WITHOUT ROWID;
    CREATE TABLE tbl_stream (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tid INTEGER NOT NULL,
        at REAL NOT NULL,
        event INTEGER NOT NULL,
        service INTEGER NOT NULL,
        size INTEGER NOT NULL,
        keys BLOB NOT NULL,
        old BLOB,
        new BLOB
    );
    CREATE INDEX tbl_stream_by_table ON tbl_stream (tid, seq);
    CREATE TABLE tbl_ttl (
        tid INTEGER NOT NULL,
        due REAL NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        PRIMARY KEY (tid, due, pk, sk)
    ) WITHOUT ROWID;
    CREATE TABLE tbl_tokens (
        token TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        at REAL NOT NULL
    )
    """,
]


#: WAL pages between automatic checkpoints (at most ~32 MB of WAL with 4 KB pages).
CHECKPOINT_PAGES = 8192

#: The stored item of a ``tbl_items t`` row, wherever it lives.
ITEM = "coalesce(t.item, (SELECT b.item FROM tbl_blobs b WHERE b.id = t.blob))"

#: Trigger bodies hold ';', which Database.migrate splits on, so they are created here.
TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS tbl_items_blob_replaced AFTER UPDATE OF blob ON tbl_items
       WHEN old.blob IS NOT NULL AND old.blob IS NOT new.blob
       BEGIN DELETE FROM tbl_blobs WHERE id = old.blob; END""",
    """CREATE TRIGGER IF NOT EXISTS tbl_items_blob_deleted AFTER DELETE ON tbl_items
       WHEN old.blob IS NOT NULL
       BEGIN DELETE FROM tbl_blobs WHERE id = old.blob; END""",
]


def segment_of(pk: bytes, total: int) -> int:
    """The parallel-scan segment of a partition key: a stable hash, so segments never overlap."""
    return zlib.crc32(pk) % total


class TableEngine:
    """The shared database and registry of every table of one local cloud."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.hold_file_lock()
        # A checkpoint copies the pages changed since the last one into the database file and syncs
        # both files; most of its cost is per checkpoint (the syncs), and a hot table rewrites the same
        # few pages. At SQLite's default of 1,000 WAL pages (about 1,000 single-item writes) checkpoints
        # cost each write 10-35 µs on average on the project machine's disk; every 8,192 pages, ~5 µs.
        # Commits still never wait for a sync (synchronous=NORMAL): as durable against kill -9 as before.
        db.connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        db.migrate("tables", MIGRATIONS)
        with db.transaction() as conn:
            for trigger in TRIGGERS:
                conn.execute(trigger)
        db.connection.create_function("stratus_segment", 2, segment_of, deterministic=True)
        self.tables: dict[str, LocalTable] = {}
        #: Tables with new stream records in the open transaction; notified after commit.
        self._pending: set[LocalTable] = set()

    def register(self, name: str, keys: dict[str, Any], indexes: dict[str, Any], now: float) -> tuple[int, float]:
        """The table id and creation time of ``name``, creating it on first use."""
        keys_text = json.dumps(keys, sort_keys=True)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT id, created, keys FROM tbl_registry WHERE name = ?", (name,)).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO tbl_registry (name, created, keys, indexes) VALUES (?, ?, ?, ?)",
                    (name, now, keys_text, json.dumps(indexes, sort_keys=True)),
                )
                assert cur.lastrowid is not None
                return cur.lastrowid, now
            tid, created, stored = row
            if stored != keys_text:
                raise ResourceInUse(
                    f"table {name} exists in the state folder with another key schema ({stored}); "
                    f"it is declared with {keys_text}. Remove the table's data to change its keys"
                )
            return int(tid), float(created)

    def index_ids(self, tid: int, indexes: dict[str, str]) -> tuple[dict[str, int], list[str]]:
        """Ids of the table's indexes, and the names of those that are new or changed (to backfill).

        Index rows of indexes no longer declared (or changed) are dropped.
        """
        with self.db.transaction() as conn:
            stored = {
                name: (iid, definition)
                for name, iid, definition in conn.execute(
                    "SELECT name, iid, definition FROM tbl_index_ids WHERE tid = ?", (tid,)
                )
            }
            ids: dict[str, int] = {}
            rebuild: list[str] = []
            for name, (iid, definition) in stored.items():
                if indexes.get(name) != definition:
                    conn.execute("DELETE FROM tbl_index WHERE tid = ? AND iid = ?", (tid, iid))
                    conn.execute("DELETE FROM tbl_index_ids WHERE tid = ? AND name = ?", (tid, name))
            next_id = max((iid for iid, _ in stored.values()), default=0) + 1
            for name, definition in indexes.items():
                known = stored.get(name)
                if known is not None and known[1] == definition:
                    ids[name] = known[0]
                    continue
                conn.execute(
                    "INSERT INTO tbl_index_ids (tid, name, iid, definition) VALUES (?, ?, ?, ?)",
                    (tid, name, next_id, definition),
                )
                ids[name] = next_id
                rebuild.append(name)
                next_id += 1
            return ids, rebuild

    # -- change notification ----------------------------------------------------------------

    def mark_changed(self, table: LocalTable) -> None:
        """Note (inside a write transaction) that ``table`` got stream records."""
        self._pending.add(table)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that wakes the stream readers of the tables it changed, after commit.

        The set of changed tables is taken while the transaction still holds the database
        lock, so another thread's uncommitted changes are never announced early.
        """
        changed: list[LocalTable] = []
        with self.db.transaction() as conn:
            try:
                yield conn
            except BaseException:
                self._pending.clear()
                raise
            changed.extend(self._pending)
            self._pending.clear()
        for table in changed:
            table.notify_stream()

    # -- client tokens ----------------------------------------------------------------------

    def token_check(self, conn: Any, token: str, fingerprint: str, now: float, window: float) -> bool:
        """True when ``token`` was used for this same request within the window (nothing to do)."""
        from stratus.resources.table.errors import IdempotentParameterMismatch

        row = conn.execute("SELECT fingerprint, at FROM tbl_tokens WHERE token = ?", (token,)).fetchone()
        if row is None or row[1] < now - window:
            return False
        if row[0] != fingerprint:
            raise IdempotentParameterMismatch(
                "Client token reused with different parameters within the 10-minute idempotency window"
            )
        return True

    def token_record(self, conn: Any, token: str, fingerprint: str, now: float, window: float) -> None:
        conn.execute("DELETE FROM tbl_tokens WHERE at < ?", (now - window,))
        conn.execute(
            "INSERT OR REPLACE INTO tbl_tokens (token, fingerprint, at) VALUES (?, ?, ?)", (token, fingerprint, now)
        )

    def close(self) -> None:
        self.tables.clear()
