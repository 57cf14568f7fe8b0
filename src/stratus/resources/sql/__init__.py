"""The SQL database port (Aurora PostgreSQL): ACID transactions for ledgers, orders, inventory.

    ledger = app.sql("ledger", migrations="migrations/")     # or a list of SQL strings

A migrations folder holds ``NNN_name.sql`` files; a relative path is resolved against
the folder of the module that declares the database (normally the system's ``app.py``).

    with ledger.transaction(isolation="serializable") as tx:
        tx.execute("UPDATE accounts SET balance = balance - :amount WHERE id = :id", {"amount": 5, "id": "a"})

    ledger.run_transaction(transfer, isolation="serializable")   # retried on serialization failures

Semantics are PostgreSQL's (the spec): ``read_committed`` is the default isolation, as
in Aurora; a statement that fails inside a transaction aborts it (later statements and
the commit raise, and everything is rolled back) unless it ran inside
``tx.savepoint()``; serialization failures and deadlocks
raise :class:`SerializationFailure`, which callers retry — :meth:`SqlDatabase.run_transaction`
does. Parameters are named (``:name``) with a dict on both adapters.

Values that round-trip on both adapters: ``int`` (64-bit), ``str``, ``bytes``, ``bool``,
``None``, ``float``, ``Decimal``, ``datetime``, ``date``. Differences SQLite cannot hide:

- SQLite serializes all transactions (one writer at a time), so every isolation level
  behaves as ``serializable`` and races never fail there; they do on PostgreSQL.
- SQLite gives ``bool``, ``Decimal``, ``datetime`` and ``date`` back only from columns
  declared ``BOOLEAN``/``BOOL``, ``NUMERIC``/``DECIMAL``, ``TIMESTAMP``/``TIMESTAMPTZ``/``DATETIME``
  and ``DATE``; computed expressions return 0/1, numbers and ISO text.
- SQLite keeps at most 15 significant digits of a ``NUMERIC`` and drops trailing zeros
  (``Decimal("12.50")`` reads back as ``Decimal("12.5")``) and does arithmetic on it in
  floating point. Keep money in integer minor units (``BIGINT`` cents): exact on both.
- Aware datetimes come back in UTC on both; naive ones stay naive.
- Aggregates follow each database's typing: PostgreSQL's ``SUM`` of a ``BIGINT`` is a
  ``NUMERIC`` (``Decimal``), SQLite's an ``int``; they compare equal, and
  ``CAST(SUM(x) AS BIGINT)`` gives ``int`` on both.
"""

from __future__ import annotations

import inspect
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import stratus
from stratus.errors import ValidationError
from stratus.resources.base import Resource
from stratus.resources.sql import migrations as _migrations
from stratus.resources.sql.backend import ISOLATION_LEVELS, Isolation, SqlBackend, SqlSession
from stratus.resources.sql.errors import IntegrityError, MigrationError, SerializationFailure, SqlError
from stratus.resources.sql.migrations import Migration
from stratus.resources.sql.params import bind, check_sql, compile_statement

if TYPE_CHECKING:
    from stratus.app import App

__all__ = [
    "IntegrityError",
    "Isolation",
    "Migration",
    "MigrationError",
    "SerializationFailure",
    "SqlBackend",
    "SqlDatabase",
    "SqlError",
    "SqlSession",
    "Transaction",
]

T = TypeVar("T")
Params = Mapping[str, Any] | None


class Transaction:
    """The statements of one open transaction; valid only inside its ``with`` block."""

    def __init__(self, session: SqlSession) -> None:
        self._session = session
        self._open = True
        self._failed: SqlError | None = None
        self._savepoints = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Part of the transaction that can fail alone (``SAVEPOINT``).

        If the block raises, its statements are rolled back, the transaction stays
        usable, and the exception propagates::

            try:
                with tx.savepoint():
                    tx.execute("INSERT INTO seen (id) VALUES (:id)", {"id": event_id})
            except IntegrityError:
                return  # a duplicate: the rest of the transaction goes on
        """
        self._savepoints += 1
        name = f"stratus_sp{self._savepoints}"
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
            if self._failed is not None:  # a failure inside was caught inside: still undo the part
                raise self._failed
        except BaseException:
            self._failed = None
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")

    def execute(self, sql: str, params: Params = None) -> int:
        """Run an INSERT/UPDATE/DELETE/DDL statement; the number of rows it changed."""
        statement, values = self._prepare(sql, params)
        try:
            return self._session.execute(statement, values)
        except SqlError as e:
            self._failed = e
            raise

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run a statement that returns rows (SELECT, or ... RETURNING); each row a dict."""
        statement, values = self._prepare(sql, params)
        try:
            return self._session.query(statement, values)
        except SqlError as e:
            self._failed = e
            raise

    def query_one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        """The first row, or None when there is none."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.query_one(sql, params)
        return None if row is None else next(iter(row.values()))

    def _prepare(self, sql: str, params: Params) -> tuple[Any, dict[str, Any]]:
        if not self._open:
            raise SqlError("this transaction has ended; open a new one with db.transaction()")
        if self._failed is not None:
            raise SqlError(
                "current transaction is aborted, commands ignored until end of transaction block "
                f"(an earlier statement failed: {self._failed.message})",
                sqlstate="25P02",
            )
        statement = compile_statement(check_sql(sql))
        return statement, bind(statement, params)


class SqlDatabase(Resource[SqlBackend]):
    """A relational database (Aurora PostgreSQL on AWS; SQLite or PostgreSQL locally)."""

    kind = "sql"

    def __init__(
        self,
        app: App,
        name: str,
        *,
        migrations: Sequence[str] | str | Path | None = None,
    ) -> None:
        super().__init__(app, name)
        self.migrations: list[Migration] = _declared_migrations(migrations)
        self._thread = threading.local()

    def settings(self) -> dict[str, Any]:
        return {"migrations": [m.name for m in self.migrations]}

    # Transactions.

    @contextmanager
    def transaction(self, isolation: Isolation = "read_committed") -> Iterator[Transaction]:
        """A transaction: committed when the block ends normally, rolled back on an exception.

        Transactions do not nest, and the autocommit shortcuts cannot be used inside one
        (on PostgreSQL they would wait for this very transaction's locks).
        """
        level = _check_isolation(isolation)
        with self._guard(), self.backend.session(level) as session:
            tx = Transaction(session)
            try:
                yield tx
                failed = tx._failed
                if failed is not None:
                    raise type(failed)(
                        f"transaction rolled back: a statement in it failed ({failed.message})",
                        sqlstate=failed.sqlstate,
                        constraint=failed.constraint,
                    )
            finally:
                tx._open = False

    def run_transaction(
        self,
        fn: Callable[[Transaction], T],
        *,
        isolation: Isolation = "serializable",
        retries: int = 5,
    ) -> T:
        """Run ``fn(tx)`` in a transaction, retrying it on :class:`SerializationFailure`.

        ``fn`` may run more than once, so it must not have side effects outside the
        database. After ``retries`` retries the last failure is raised.
        """
        if type(retries) is not int or retries < 0:
            raise ValidationError(f"retries must be a non-negative integer, got {retries!r}")
        attempt = 0
        while True:
            try:
                with self.transaction(isolation) as tx:
                    return fn(tx)
            except SerializationFailure:
                if attempt >= retries:
                    raise
                attempt += 1
                # A short randomized backoff on real time: this waits for a competing
                # transaction on the server, not for anything on the injected clock.
                time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.02)))

    # Autocommit shortcuts: one statement, its own transaction.

    def execute(self, sql: str, params: Params = None) -> int:
        with self._guard(), self.backend.session(None) as session:
            return Transaction(session).execute(sql, params)

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        with self._guard(), self.backend.session(None) as session:
            return Transaction(session).query(sql, params)

    def query_one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.query_one(sql, params)
        return None if row is None else next(iter(row.values()))

    @contextmanager
    def _guard(self) -> Iterator[None]:
        if getattr(self._thread, "active", False):
            raise ValidationError(
                f"sql {self.name!r}: a transaction is already open in this thread; "
                "transactions do not nest — use that transaction's tx.execute/query"
            )
        self._thread.active = True
        try:
            yield
        finally:
            self._thread.active = False


def _check_isolation(isolation: object) -> Isolation:
    if isolation not in ISOLATION_LEVELS:
        raise ValidationError(f"isolation must be one of {', '.join(ISOLATION_LEVELS)}; got {isolation!r}")
    return isolation


def _declared_migrations(migrations: Sequence[str] | str | Path | None) -> list[Migration]:
    if migrations is None:
        return []
    if isinstance(migrations, str | Path):
        folder = Path(migrations)
        if not folder.is_absolute():
            folder = _declaring_module_folder() / folder
        return _migrations.from_folder(folder)
    if isinstance(migrations, Sequence):
        return _migrations.from_list(migrations)
    raise ValidationError(f"migrations must be a list of SQL strings or a folder path, got {type(migrations).__name__}")


def _declaring_module_folder() -> Path:
    """The folder of the first caller outside the stratus package (the module that declared the app)."""
    package = Path(stratus.__file__).resolve().parent
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):
            path = Path(filename).resolve()
            if not path.is_relative_to(package):
                return path.parent
        frame = frame.f_back
    return Path.cwd()
