"""What is particular to the PostgreSQL adapter: one schema per database, and connection errors."""

from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from psycopg.pq import TransactionStatus

from stratus import App
from stratus.local.cloud import SERVER_ADAPTERS
from stratus.resources.sql import SqlError
from stratus.servers.postgres import Pool, schema_name
from stratus.testing import local


def test_schema_names_are_sanitized_distinct_and_fit_postgresql() -> None:
    assert schema_name("shop", "ledger") == "shop__ledger"
    assert schema_name("my-shop", "Orders.v2") == "my_shop__orders_v2"
    assert schema_name("a-b", "c") != schema_name("a", "b-c")
    app, long_a, long_b = "a" * 40, "x" * 64, "x" * 63 + "y"
    assert len(schema_name(app, long_a)) <= 63
    assert schema_name(app, long_a) != schema_name(app, long_b)


@pytest.mark.postgres
def test_each_database_lives_in_its_own_schema(harness: Any, adapter: str) -> None:
    if adapter != "postgres":
        pytest.skip("PostgreSQL adapter only")
    one = harness.open(["CREATE TABLE t (v INTEGER)"], name="one")
    two = harness.open(["CREATE TABLE t (v INTEGER)"], name="two")
    one.execute("INSERT INTO t VALUES (1)")
    assert two.query("SELECT v FROM t") == []
    assert one.scalar("SELECT current_schema()") == schema_name(harness.app_name, "one")


def test_an_unreachable_server_fails_the_bind_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATUS_POSTGRES_DSN", "postgresql://app:hunter2@127.0.0.1:1/test")
    app = App(f"sql-{uuid.uuid4().hex[:10]}")
    app.sql("ledger")
    with (
        pytest.raises(SqlError, match=r"cannot connect to PostgreSQL at postgresql://app:\*\*\*@127\.0\.0\.1:1/test"),
        local(app, adapters={"sql": SERVER_ADAPTERS["sql"]["postgres"]}),
    ):
        pass


class FakeConnection:
    """Just what the pool looks at: closed, transaction status, execute and close."""

    def __init__(self) -> None:
        self.closed = False
        self.status = TransactionStatus.IDLE
        self.executed: list[str] = []

    @property
    def info(self) -> Any:
        return SimpleNamespace(transaction_status=self.status)

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        if sql == "ROLLBACK":
            self.status = TransactionStatus.IDLE

    def close(self) -> None:
        self.closed = True


def test_the_pool_lends_at_most_size_connections_and_reuses_clean_ones() -> None:
    made: list[FakeConnection] = []

    def connect() -> Any:
        made.append(FakeConnection())
        return made[-1]

    pool = Pool(connect, size=2)
    first, second = pool._acquire(), pool._acquire()
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(pool._acquire()))
    waiter.start()
    for _ in range(10_000):  # until the third borrower is waiting for a free connection
        if pool.waiting == 1:
            break
        waiter.join(0.001)
    assert pool.waiting == 1 and got == [] and len(made) == 2
    first.status = TransactionStatus.INTRANS  # returned mid-transaction: rolled back, then reused
    pool._release(first)
    waiter.join(10)
    assert got == [first] and first.executed == ["ROLLBACK"]
    second.closed = True  # broken: discarded, and its slot frees up
    pool._release(second)
    third = pool._acquire()
    assert third is made[2] and len(made) == 3
    pool.close()
    with pytest.raises(SqlError, match="pool is closed"):
        pool._acquire()
