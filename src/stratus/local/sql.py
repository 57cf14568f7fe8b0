"""The SQL database port on SQLite: one WAL file per database under ``<state>/sql/``.

One connection per database, shared by every thread behind a lock, is both the
fastest way to use SQLite from one process and what makes transactions serializable:
a transaction holds the lock from ``BEGIN IMMEDIATE`` to ``COMMIT``, so there is one
writer at a time and no race can fail (another *process* on the same file waits up to
the busy timeout and then gets :class:`SerializationFailure`, which callers retry).

SQLite errors are mapped onto PostgreSQL's SQLSTATE codes for the common cases so
code that inspects ``sqlstate`` behaves the same on both adapters. Values SQLite has no
type for are stored as text (``Decimal``, ``datetime``, ``date``) and converted back
by the declared column type (see :mod:`stratus.resources.sql` for what that implies).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stratus.clock import iso8601
from stratus.local.watchdog import uninterrupted
from stratus.resources.sql import SqlBackend, SqlDatabase, SqlSession
from stratus.resources.sql.backend import Isolation
from stratus.resources.sql.errors import IntegrityError, MigrationError, SerializationFailure, SqlError
from stratus.resources.sql.migrations import RECORD_TABLE, Applied, plan
from stratus.resources.sql.params import Statement

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

_CONSTRAINT_STATES = {
    "SQLITE_CONSTRAINT_UNIQUE": "23505",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "23505",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "23503",
    "SQLITE_CONSTRAINT_CHECK": "23514",
    "SQLITE_CONSTRAINT_NOTNULL": "23502",
}
_MESSAGE_STATES = (("no such table", "42P01"), ("no such column", "42703"), ("syntax error", "42601"))


def _to_decimal(raw: bytes) -> Any:
    try:
        return Decimal(raw.decode())
    except ArithmeticError:
        return raw.decode()


def _to_bool(raw: bytes) -> Any:
    text = raw.decode().strip().lower()
    if text in ("1", "t", "true", "yes", "on"):
        return True
    if text in ("0", "f", "false", "no", "off"):
        return False
    return raw.decode()


def _to_datetime(raw: bytes) -> Any:
    try:
        return datetime.fromisoformat(raw.decode())
    except ValueError:
        return raw.decode()


def _to_date(raw: bytes) -> Any:
    try:
        return date.fromisoformat(raw.decode())
    except ValueError:
        return raw.decode()


# Converters are looked up by declared column type (detect_types=PARSE_DECLTYPES), which
# only connections that ask for it use; the rest of Stratus's SQLite files do not.
for _name in ("NUMERIC", "DECIMAL"):
    sqlite3.register_converter(_name, _to_decimal)
for _name in ("BOOLEAN", "BOOL"):
    sqlite3.register_converter(_name, _to_bool)
for _name in ("TIMESTAMP", "TIMESTAMPTZ", "DATETIME"):
    sqlite3.register_converter(_name, _to_datetime)
sqlite3.register_converter("DATE", _to_date)


def _to_sqlite(value: Any) -> Any:
    """A checked parameter value as SQLite stores it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def translate_error(error: sqlite3.Error) -> SqlError:
    """The port's error for a sqlite3 error, with a PostgreSQL SQLSTATE where one applies."""
    name = getattr(error, "sqlite_errorname", "") or ""
    message = str(error)
    if isinstance(error, sqlite3.IntegrityError) or name.startswith("SQLITE_CONSTRAINT"):
        return IntegrityError(message, sqlstate=_CONSTRAINT_STATES.get(name, "23000"))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return SerializationFailure(f"{message} (another process holds the database; retry)", sqlstate="40001")
    for fragment, state in _MESSAGE_STATES:
        if fragment in message:
            return SqlError(message, sqlstate=state)
    return SqlError(message)


class _Session(SqlSession):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _run(self, statement: Statement, values: dict[str, Any]) -> sqlite3.Cursor:
        params = {k: _to_sqlite(v) for k, v in values.items()}
        try:
            return self._conn.execute(statement.text, params)
        except sqlite3.Error as e:
            raise translate_error(e) from e

    def execute(self, statement: Statement, values: dict[str, Any]) -> int:
        return max(self._run(statement, values).rowcount, 0)

    def query(self, statement: Statement, values: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self._run(statement, values)
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        try:
            rows = cursor.fetchall()
        except sqlite3.Error as e:
            raise translate_error(e) from e
        return [dict(zip(names, row, strict=True)) for row in rows]


class SqliteDatabase(SqlBackend):
    """An :class:`SqlDatabase` in ``<state>/sql/<app>-<name>.db``."""

    def __init__(self, resource: SqlDatabase, cloud: LocalCloud) -> None:
        self.resource = resource
        self.clock = cloud.clock
        self.path = cloud.storage.folder("sql") / f"{resource.qualified_name}.db"
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, detect_types=sqlite3.PARSE_DECLTYPES
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            sync = "FULL" if cloud.storage.durability == "fsync" else "NORMAL"
            self._conn.execute(f"PRAGMA synchronous={sync}")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    @contextmanager
    def session(self, isolation: Isolation | None) -> Iterator[SqlSession]:
        # No handler timeout between BEGIN and COMMIT/ROLLBACK (see stratus.local.watchdog): one
        # would leave the shared connection inside a transaction and fail every later BEGIN.
        with uninterrupted(), self._lock:
            if isolation is None:
                yield _Session(self._conn)
                return
            self._begin()
            try:
                yield _Session(self._conn)
            except BaseException:
                self._rollback()
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback()
                raise translate_error(e) from e

    def _begin(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise translate_error(e) from e

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute(RECORD_TABLE)
            rows = self._conn.execute("SELECT version, name, checksum FROM _stratus_migrations ORDER BY version")
            applied = [Applied(*row) for row in rows.fetchall()]
            for migration in plan(applied, self.resource.migrations):
                self._begin()
                try:
                    for statement in split_statements(migration.sql):
                        self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT INTO _stratus_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                        (migration.version, migration.name, migration.checksum, iso8601(self.clock.now())),
                    )
                    self._conn.execute("COMMIT")
                except sqlite3.Error as e:
                    self._rollback()
                    raise MigrationError(f"migration {migration.name} failed: {e}", sqlstate=None) from e

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def split_statements(script: str) -> list[str]:
    """The statements of a script, split where SQLite says a statement is complete.

    ``sqlite3.complete_statement`` knows about quotes, comments and trigger bodies, so a
    ``;`` inside any of them does not split.
    """
    statements: list[str] = []
    start = 0
    for i, c in enumerate(script):
        if c == ";" and sqlite3.complete_statement(script[start : i + 1]):
            statements.append(script[start : i + 1].strip())
            start = i + 1
    rest = script[start:].strip()
    if rest:
        statements.append(rest)
    return statements
