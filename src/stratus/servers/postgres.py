"""The SQL database port on PostgreSQL (what Aurora PostgreSQL runs), with psycopg 3.

Each :class:`~stratus.resources.sql.SqlDatabase` lives in its own schema, named from its
qualified name (:func:`schema_name`), and every connection of its pool has
``search_path`` set to that schema alone, so unqualified names resolve there and one
server can hold every system's databases. Sessions run in ``TimeZone=UTC``.

The server comes from ``STRATUS_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``), or from the ``server_dsn`` a subclass passes
(:class:`stratus.aws.adapters.sql.AwsSql` reads it from a Secrets Manager secret).

Why a hand-written pool: psycopg's own (``psycopg_pool``) is a separate package that
is not a Stratus dependency; what is needed here — up to N connections per database,
created lazily, checked back in clean (a connection returned mid-transaction is rolled
back, a broken one is discarded) — is a few dozen lines on a condition variable.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql as pg_sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from stratus.clock import iso8601
from stratus.local.watchdog import uninterrupted
from stratus.resources.sql import SqlBackend, SqlDatabase, SqlSession
from stratus.resources.sql.backend import Isolation
from stratus.resources.sql.errors import IntegrityError, MigrationError, SerializationFailure, SqlError
from stratus.resources.sql.migrations import RECORD_TABLE, Applied, plan
from stratus.resources.sql.params import Statement

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
POOL_SIZE = 8
POOL_WAIT_SECONDS = 30.0

_BEGIN = {
    "serializable": "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "repeatable_read": "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "read_committed": "BEGIN ISOLATION LEVEL READ COMMITTED",
}
_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def dsn() -> str:
    return os.environ.get("STRATUS_POSTGRES_DSN", DEFAULT_DSN)


def schema_name(app: str, name: str) -> str:
    """The schema of database ``name`` of ``app``: ``<app>__<name>``, lower-cased, other characters as ``_``.

    The double underscore separates app and resource (app names have no ``_``). The
    mapping is not one-to-one: names differing only in case or in ``-``/``_``/``.``
    (``orders-v2``, ``orders_v2``) share a schema, so do not declare such pairs. Names longer than PostgreSQL's
    63-byte identifiers are cut and given a hash suffix so they stay distinct.
    """
    schema = app.replace("-", "_") + "__" + re.sub(r"[^a-z0-9_]", "_", name.lower())
    if len(schema) > 63:
        schema = schema[:54] + "_" + hashlib.sha256(f"{app}-{name}".encode()).hexdigest()[:8]
    return schema


def translate_error(error: psycopg.Error, server: str | None = None) -> SqlError:
    """The port's error for a psycopg error, keeping PostgreSQL's message and SQLSTATE (``server``: its DSN)."""
    state = error.sqlstate
    diag = error.diag
    message = diag.message_primary or str(error).strip()
    if diag.message_detail:
        message = f"{message} ({diag.message_detail})"
    constraint = diag.constraint_name
    if isinstance(error, pg_errors.IntegrityError) or (state or "").startswith("23"):
        return IntegrityError(message, sqlstate=state, constraint=constraint)
    if state in _RETRYABLE:
        return SerializationFailure(message, sqlstate=state)
    if state is None and isinstance(error, psycopg.OperationalError):
        return SqlError(f"cannot use PostgreSQL at {redact(server or dsn())}: {message}")
    return SqlError(message, sqlstate=state, constraint=constraint)


def redact(text: str) -> str:
    """A DSN without its password, for messages (URL or ``key=value`` form, quoted values too)."""
    text = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


class Pool:
    """Up to ``size`` connections made by ``connect``, lent one at a time."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], size: int = POOL_SIZE) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[psycopg.Connection[Any]] = []
        self._open = 0
        self._closed = False
        #: Borrowers waiting for a connection (for tests and diagnostics).
        self.waiting = 0
        self._cond = threading.Condition()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    def _acquire(self) -> psycopg.Connection[Any]:
        with self._cond:
            while True:
                if self._closed:
                    raise SqlError("the PostgreSQL connection pool is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed:
                        return conn
                    self._open -= 1
                if self._open < self._size:
                    self._open += 1
                    break
                self.waiting += 1
                try:
                    freed = self._cond.wait(POOL_WAIT_SECONDS)
                finally:
                    self.waiting -= 1
                if not freed:
                    raise SqlError(f"no PostgreSQL connection became free within {POOL_WAIT_SECONDS:.0f} s")
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        status = conn.info.transaction_status
        if not conn.closed and status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            try:
                conn.execute("ROLLBACK")
                status = conn.info.transaction_status
            except psycopg.Error:
                status = TransactionStatus.UNKNOWN
        with self._cond:
            if conn.closed or status != TransactionStatus.IDLE or self._closed:
                self._open -= 1
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()


class _Session(SqlSession):
    def __init__(self, conn: psycopg.Connection[Any], server: str | None = None) -> None:
        self._conn = conn
        self._server = server

    def _run(self, statement: Statement, values: dict[str, Any]) -> psycopg.Cursor[Any]:
        try:
            if statement.names:
                return self._conn.execute(statement.pyformat, values)
            return self._conn.execute(statement.text)
        except psycopg.Error as e:
            raise translate_error(e, self._server) from e

    def execute(self, statement: Statement, values: dict[str, Any]) -> int:
        return max(self._run(statement, values).rowcount, 0)

    def query(self, statement: Statement, values: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self._run(statement, values)
        if cursor.description is None:
            return []
        return cursor.fetchall()


class PostgresDatabase(SqlBackend):
    """An :class:`SqlDatabase` in its own schema of a PostgreSQL server."""

    def __init__(self, resource: SqlDatabase, cloud: LocalCloud, *, server_dsn: str | None = None) -> None:
        self.resource = resource
        self.clock = cloud.clock
        self.dsn = server_dsn or dsn()
        self.schema = schema_name(resource.app.name, resource.name)
        self._pool = Pool(self._connect, int(os.environ.get("STRATUS_POSTGRES_POOL_SIZE", POOL_SIZE)))
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.Error as e:
            raise SqlError(f"cannot connect to PostgreSQL at {redact(self.dsn)}: {str(e).strip()}") from e
        try:
            conn.execute(pg_sql.SQL("SET search_path TO {}").format(pg_sql.Identifier(self.schema)))
            conn.execute("SET TimeZone TO 'UTC'")
        except psycopg.Error as e:
            conn.close()
            raise translate_error(e, self.dsn) from e
        return conn

    @contextmanager
    def session(self, isolation: Isolation | None) -> Iterator[SqlSession]:
        # A function timeout must not land between BEGIN and the rollback guard (see stratus.local.watchdog).
        with uninterrupted(), self._pool.connection() as conn:
            if isolation is None:
                yield _Session(conn, self.dsn)
                return
            try:
                conn.execute(_BEGIN[isolation])
            except psycopg.Error as e:
                raise translate_error(e, self.dsn) from e
            try:
                yield _Session(conn, self.dsn)
            except BaseException:
                _rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except psycopg.Error as e:
                _rollback(conn)
                raise translate_error(e, self.dsn) from e

    def _migrate(self) -> None:
        schema = pg_sql.Identifier(self.schema)
        with self._pool.connection() as conn:
            try:
                # One migrator per schema at a time, across processes.
                conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (self.schema,))
                try:
                    conn.execute(pg_sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
                    conn.execute(RECORD_TABLE)
                    rows = conn.execute("SELECT version, name, checksum FROM _stratus_migrations ORDER BY version")
                    applied = [Applied(r["version"], r["name"], r["checksum"]) for r in rows.fetchall()]
                    for migration in plan(applied, self.resource.migrations):
                        conn.execute("BEGIN")
                        try:
                            conn.execute(migration.sql)
                            conn.execute(
                                "INSERT INTO _stratus_migrations (version, name, checksum, applied_at) "
                                "VALUES (%s, %s, %s, %s)",
                                (migration.version, migration.name, migration.checksum, iso8601(self.clock.now())),
                            )
                            conn.execute("COMMIT")
                        except psycopg.Error as e:
                            _rollback(conn)
                            cause = translate_error(e, self.dsn)
                            raise MigrationError(
                                f"migration {migration.name} failed: {cause.message}", sqlstate=cause.sqlstate
                            ) from e
                finally:
                    conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self.schema,))
            except psycopg.Error as e:
                raise translate_error(e, self.dsn) from e

    def close(self) -> None:
        self._pool.close()


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()
