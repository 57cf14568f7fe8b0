"""The SQL port's fixture: a bound SqlDatabase on each adapter (SQLite, PostgreSQL, AWS).

``aws`` is :class:`stratus.aws.adapters.sql.AwsSql` on the same PostgreSQL, its connection
settings read from a secret in moto's Secrets Manager (named by ``STRATUS_SQL_<NAME>``).
PostgreSQL variants are skipped, with the reason, only when the server cannot be
reached. Every test gets a unique app name, so its schemas cannot collide with another
test's, and the schemas are dropped afterwards.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pg_sql

from stratus import App
from stratus.local.cloud import SERVER_ADAPTERS
from stratus.resources.sql import SqlDatabase
from stratus.servers import postgres
from stratus.testing import LocalEnv, local


@functools.cache
def postgres_unreachable() -> str | None:
    try:
        with psycopg.connect(postgres.dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"PostgreSQL at {postgres.redact(postgres.dsn())} is unreachable: {str(e).strip()}"
    return None


AWS_SQL = "stratus.aws.adapters.sql:AwsSql"


class SqlHarness:
    """Declares and binds SqlDatabases of one unique app on one adapter and one state folder."""

    def __init__(self, adapter: str, state_dir: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.adapter = adapter
        self.state_dir = state_dir
        self.app_name = f"sql-{uuid.uuid4().hex[:10]}"
        self.adapters = {"sql": AWS_SQL if adapter == "aws" else SERVER_ADAPTERS["sql"][adapter]}
        self._names: set[str] = set()
        self._stack = ExitStack()
        self._aws_stack = ExitStack()
        self._secrets: dict[str, str] = {}
        self._monkeypatch = monkeypatch
        if adapter == "aws":
            from tests.stratus.aws.adapters.moto_cloud import moto_cloud

            assert monkeypatch is not None
            monkeypatch.delenv("AWS_REGION", raising=False)  # the adapter's client and moto_cloud's agree
            self._moto = self._aws_stack.enter_context(moto_cloud())

    def declare(self, migrations: Sequence[str] | str | Path | None = None, name: str = "ledger") -> SqlDatabase:
        """A new App (same name each time, as a redeployed system) declaring one database."""
        self._names.add(name)
        db = App(self.app_name).sql(name, migrations=migrations)
        if self.adapter == "aws":
            self._secret_for(db)
        return db

    def _secret_for(self, db: SqlDatabase) -> None:
        """The database's credentials secret (the test server's DSN), named by ``STRATUS_SQL_<NAME>``."""
        from stratus.aws.adapters._context import env_variable

        if db.name not in self._secrets:
            server = postgres.dsn()
            sslmode = psycopg.conninfo.conninfo_to_dict(server).get("sslmode", "prefer")  # the test server has no TLS
            value = json.dumps({"engine": "postgres", "dsn": server, "sslmode": sslmode})
            created = self._moto.client("secretsmanager").create_secret(
                Name=f"{self.app_name}-{db.name}-credentials", SecretString=value
            )
            self._secrets[db.name] = str(created["ARN"])
        assert self._monkeypatch is not None
        self._monkeypatch.setenv(env_variable(db), self._secrets[db.name])

    def bind(self, db: SqlDatabase) -> LocalEnv:
        return self._stack.enter_context(local(db.app, state_dir=self.state_dir, adapters=self.adapters))

    def open(self, migrations: Sequence[str] | str | Path | None = None, name: str = "ledger") -> SqlDatabase:
        db = self.declare(migrations, name)
        self.bind(db)
        return db

    def close_envs(self) -> None:
        """Stop every bound environment (the state folder and server schemas stay)."""
        self._stack.close()
        self._stack = ExitStack()

    def close(self) -> None:
        self.close_envs()
        self._aws_stack.close()
        if self.adapter in ("postgres", "aws"):
            with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
                for name in self._names:
                    schema = postgres.schema_name(self.app_name, name)
                    conn.execute(pg_sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pg_sql.Identifier(schema)))


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("aws", marks=pytest.mark.postgres),
    ]
)
def adapter(request: pytest.FixtureRequest) -> str:
    if request.param in ("postgres", "aws") and (reason := postgres_unreachable()):
        pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def harness(adapter: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlHarness]:
    h = SqlHarness(adapter, tmp_path, monkeypatch)
    yield h
    h.close()


ACCOUNTS = ["CREATE TABLE accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))"]


@pytest.fixture
def ledger(harness: SqlHarness) -> SqlDatabase:
    """A bound database with an ``accounts`` table."""
    return harness.open(ACCOUNTS)
