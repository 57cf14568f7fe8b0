"""SQLite databases in the state folder, shared by the embedded adapters.

Why by hand: the adapters need exactly three things from SQLite — WAL mode, one
connection per database shared by every thread behind a lock (the fastest way to use
SQLite from one process), and write transactions that nest as savepoints — and the
standard library's ``sqlite3`` gives them with a few lines.

Durability: with ``durability="process"`` (the default) a committed transaction is in
the WAL file before the call returns, so it survives ``kill -9`` of the process but not
a power loss (``synchronous=NORMAL``). ``durability="fsync"`` adds an fsync per commit
(``synchronous=FULL``) and survives power loss at roughly a tenth of the throughput.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from stratus.errors import StateFolderInUse
from stratus.local.watchdog import uninterrupted

Durability = Literal["process", "fsync"]


class Database:
    """One SQLite file: a shared connection, a lock, and nestable write transactions."""

    def __init__(self, path: Path | str, *, durability: Durability = "process") -> None:
        if durability not in ("process", "fsync"):
            raise ValueError(f"durability must be 'process' or 'fsync', not {durability!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            self._conn.close()
            if "locked" not in str(error):
                raise
            raise StateFolderInUse(
                f"{self.path} is held by another process: one process owns a state folder at a time "
                f"(is `stratus up` running on {self.path.parent}? stop it first)"
            ) from None
        self._conn.execute("PRAGMA synchronous=" + ("FULL" if durability == "fsync" else "NORMAL"))
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA cache_size=-16000")  # 16 MB page cache per database
        self._conn.execute("CREATE TABLE IF NOT EXISTS _schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection; hold :attr:`lock` while using it."""
        return self._conn

    def hold_file_lock(self) -> None:
        """Keep SQLite's file lock for the connection's life (``locking_mode=EXCLUSIVE``).

        One process owns a state folder; holding the lock saves the lock and unlock system calls of
        every transaction (a quarter to a third of a small write's cost). No other process can open
        the database meanwhile (the databases behind hot paths: tables, buckets, queues, streams).
        """
        with self.lock:
            self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on normal exit, rolled back on any exception.

        Nested calls on the same thread become savepoints, so an inner failure undoes only
        the inner work and the outer transaction decides.

        A handler timeout (raised asynchronously into the thread by the watchdog) is held off
        until the transaction has ended: arriving just after ``BEGIN`` it would leave the shared
        connection inside a transaction nobody owns, and every later write on it would fail.
        """
        with uninterrupted(), self.lock:
            depth = self._depth
            savepoint = f"sp{depth}"
            self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
            self._depth = depth + 1
            try:
                yield self._conn
            except BaseException:
                self._depth = depth
                if depth == 0:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO {savepoint}")
                    self._conn.execute(f"RELEASE {savepoint}")
                raise
            self._depth = depth
            try:
                self._conn.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
            except BaseException:
                # A failed COMMIT (e.g. SQLITE_BUSY) must not leave the shared connection inside a
                # transaction, or every later write on it would fail: roll back, then report it.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK" if depth == 0 else f"ROLLBACK TO {savepoint}")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Exclusive use of the connection for reads (a consistent snapshot per statement)."""
        with uninterrupted(), self.lock:  # a timeout inside contextlib's __enter__ would keep the lock
            yield self._conn

    def execute(self, sql: str, params: Any = ()) -> list[Any]:
        """Run one statement under the lock and return all its rows."""
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    def migrate(self, component: str, steps: list[str]) -> None:
        """Bring ``component``'s schema up to date by running the ``steps`` it has not run yet.

        Steps are append-only: step *i* is run once, in order, in one transaction each.
        """
        with self.transaction() as conn:
            row = conn.execute("SELECT version FROM _schema WHERE component = ?", (component,)).fetchone()
            done = row[0] if row else 0
            for version, step in enumerate(steps[done:], start=done + 1):
                for statement in _split_statements(step):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO _schema (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, version),
                )

    def close(self) -> None:
        with self.lock:
            self._conn.close()


def _split_statements(script: str) -> list[str]:
    """Split a script into complete statements (a ';' inside a literal or a trigger body does not split)."""
    statements: list[str] = []
    current = ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n\t;"):
                statements.append(current.strip())
            current = ""
    if current.strip(" \n\t;"):
        statements.append(current.strip())
    return statements


class Storage:
    """The state folder: one :class:`Database` per name, opened on first use."""

    def __init__(self, root: Path | str, *, durability: Durability = "process") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.durability: Durability = durability
        self._databases: dict[str, Database] = {}
        self._lock = threading.Lock()

    def database(self, name: str) -> Database:
        """The database ``<state>/<name>.db``; one per subsystem (tables, queues, workflows...)."""
        with self._lock:
            db = self._databases.get(name)
            if db is None:
                db = Database(self.root / f"{name}.db", durability=self.durability)
                self._databases[name] = db
            return db

    def folder(self, *parts: str) -> Path:
        """A folder under the state folder for file-backed data (bucket objects...)."""
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        with self._lock:
            for db in self._databases.values():
                db.close()
            self._databases.clear()
