"""Transactions: all or nothing, PostgreSQL's abort-on-error rule, and retried races."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from stratus import ValidationError
from stratus.resources.sql import IntegrityError, SerializationFailure, SqlError, Transaction


def balances(db: Any) -> dict[str, int]:
    return {r["id"]: r["balance"] for r in db.query("SELECT id, balance FROM accounts ORDER BY id")}


def test_a_transaction_commits_on_normal_exit(ledger: Any) -> None:
    with ledger.transaction() as tx:
        assert tx.execute("INSERT INTO accounts (id, balance) VALUES (:id, :b)", {"id": "a", "b": 10}) == 1
        tx.execute("INSERT INTO accounts (id, balance) VALUES (:id, :b)", {"id": "b", "b": 20})
        assert tx.scalar("SELECT SUM(balance) FROM accounts") == 30  # sees its own writes
    assert balances(ledger) == {"a": 10, "b": 20}


def test_a_transaction_rolls_back_on_an_exception(ledger: Any) -> None:
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 10)")
    with pytest.raises(RuntimeError, match="boom"), ledger.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = 0 WHERE id = 'a'")
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('b', 5)")
        raise RuntimeError("boom")
    assert balances(ledger) == {"a": 10}


def test_rowcounts_and_the_read_shortcuts(ledger: Any) -> None:
    assert ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1), ('b', 2), ('c', 3)") == 3
    assert ledger.execute("UPDATE accounts SET balance = balance + 1 WHERE balance >= :min", {"min": 2}) == 2
    assert ledger.execute("DELETE FROM accounts WHERE id = 'zzz'") == 0
    assert ledger.query_one("SELECT id FROM accounts WHERE id = 'zzz'") is None
    assert ledger.scalar("SELECT balance FROM accounts WHERE id = 'zzz'") is None
    assert ledger.query_one("SELECT id, balance FROM accounts WHERE id = :id", {"id": "c"}) == {"id": "c", "balance": 4}
    rows = ledger.query("UPDATE accounts SET balance = 0 WHERE id = 'a' RETURNING id, balance")
    assert rows == [{"id": "a", "balance": 0}]


def test_a_failed_statement_aborts_the_transaction_as_postgresql_does(ledger: Any) -> None:
    with pytest.raises(IntegrityError, match="transaction rolled back"), ledger.transaction() as tx:
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
        with pytest.raises(IntegrityError):
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 2)")
        with pytest.raises(SqlError, match="current transaction is aborted") as aborted:
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('b', 2)")
        assert aborted.value.sqlstate == "25P02"
    assert balances(ledger) == {}


def test_transactions_do_not_nest_and_shortcuts_are_refused_inside_one(ledger: Any) -> None:
    with ledger.transaction() as tx:
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
        with pytest.raises(ValidationError, match="transactions do not nest"), ledger.transaction():
            pass
        with pytest.raises(ValidationError, match="already open in this thread"):
            ledger.execute("INSERT INTO accounts (id, balance) VALUES ('b', 1)")
    assert balances(ledger) == {"a": 1}
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('b', 1)")  # the guard was released


def test_a_transaction_cannot_be_used_after_its_block(ledger: Any) -> None:
    with ledger.transaction() as tx:
        pass
    with pytest.raises(SqlError, match="this transaction has ended"):
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    assert balances(ledger) == {}


@pytest.mark.parametrize("isolation", ["serializable", "repeatable_read", "read_committed"])
def test_every_isolation_level_commits(ledger: Any, isolation: str) -> None:
    with ledger.transaction(isolation=isolation) as tx:
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    assert balances(ledger) == {"a": 1}


def test_an_unknown_isolation_level_is_refused(ledger: Any) -> None:
    with pytest.raises(ValidationError, match="isolation must be one of"), ledger.transaction(isolation="snapshot"):
        pass
    with pytest.raises(ValidationError, match="retries must be"):
        ledger.run_transaction(lambda tx: None, retries=-1)


def transfer(source: str, target: str, amount: int) -> Any:
    """Read, check, write: racy unless the transaction is serializable."""

    def run(tx: Transaction) -> None:
        balance = tx.scalar("SELECT balance FROM accounts WHERE id = :id", {"id": source})
        if balance < amount:
            raise ValueError("insufficient funds")
        tx.execute("UPDATE accounts SET balance = :b WHERE id = :id", {"b": balance - amount, "id": source})
        other = tx.scalar("SELECT balance FROM accounts WHERE id = :id", {"id": target})
        tx.execute("UPDATE accounts SET balance = :b WHERE id = :id", {"b": other + amount, "id": target})

    return run


def test_racing_transfers_with_run_transaction_keep_the_books_right(ledger: Any) -> None:
    # Two clients draw on the same account; with read-check-write transfers under a weaker
    # isolation one withdrawal would overwrite the other.
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1000), ('b', 0), ('c', 0)")
    done = {"b": 0, "c": 0}
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(target: str, times: int) -> None:
        start.wait()
        for _ in range(times):
            try:
                ledger.run_transaction(transfer("a", target, 3), isolation="serializable", retries=20)
                done[target] += 1
            except SerializationFailure as e:  # retries exhausted: nothing was written, so allowed
                failures.append(e)

    threads = [threading.Thread(target=worker, args=("b", 40)), threading.Thread(target=worker, args=("c", 25))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done["b"] + done["c"] + len(failures) == 65
    assert done["b"] + done["c"] > 0
    assert balances(ledger) == {"a": 1000 - 3 * (done["b"] + done["c"]), "b": 3 * done["b"], "c": 3 * done["c"]}


def test_run_transaction_gives_up_after_its_retries(ledger: Any) -> None:
    calls: list[int] = []

    def always_loses(tx: Transaction) -> None:
        calls.append(1)
        tx.execute("INSERT INTO accounts (id, balance) VALUES (:id, 1)", {"id": f"x{len(calls)}"})
        raise SerializationFailure("could not serialize access", sqlstate="40001")

    with pytest.raises(SerializationFailure):
        ledger.run_transaction(always_loses, retries=3)
    assert len(calls) == 4
    assert balances(ledger) == {}


def test_run_transaction_does_not_retry_other_errors(ledger: Any) -> None:
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    calls: list[int] = []

    def duplicate(tx: Transaction) -> None:
        calls.append(1)
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 2)")

    with pytest.raises(IntegrityError):
        ledger.run_transaction(duplicate)
    assert calls == [1]
    assert ledger.run_transaction(lambda tx: tx.scalar("SELECT balance FROM accounts")) == 1


def test_a_lost_race_raises_serialization_failure_and_run_transaction_retries_it(ledger: Any, adapter: str) -> None:
    if adapter == "sqlite":
        pytest.skip("SQLite serializes transactions: a concurrent writer waits instead of racing")
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 100)")

    def concurrent_withdrawal() -> None:
        ledger.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 'a'")

    attempts: list[int] = []

    def withdraw(tx: Transaction) -> int:
        attempts.append(1)
        balance: int = tx.scalar("SELECT balance FROM accounts WHERE id = 'a'")
        if len(attempts) == 1:  # another client commits between our read and our write
            other = threading.Thread(target=concurrent_withdrawal)
            other.start()
            other.join()
        tx.execute("UPDATE accounts SET balance = :b WHERE id = 'a'", {"b": balance - 30})
        return balance - 30

    with pytest.raises(SerializationFailure) as lost:
        ledger.run_transaction(withdraw, retries=0)
    assert lost.value.sqlstate == "40001"
    assert lost.value.code == "SerializationFailure"
    assert ledger.scalar("SELECT balance FROM accounts") == 90

    attempts.clear()
    assert ledger.run_transaction(withdraw) == 50
    assert len(attempts) == 2
    assert ledger.scalar("SELECT balance FROM accounts") == 50


def test_a_savepoint_lets_part_of_a_transaction_fail_alone(ledger: Any) -> None:
    ledger.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    with ledger.transaction() as tx:
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('b', 2)")
        with pytest.raises(IntegrityError), tx.savepoint():
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('c', 3)")
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('a', 4)")
        with tx.savepoint():
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('d', 5)")
        tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = 'b'")
    assert balances(ledger) == {"a": 1, "b": 12, "d": 5}


def test_a_failure_caught_inside_a_savepoint_still_undoes_it(ledger: Any) -> None:
    with ledger.transaction() as tx:
        with pytest.raises(IntegrityError), tx.savepoint():
            tx.execute("INSERT INTO accounts (id, balance) VALUES ('c', 3)")
            with pytest.raises(IntegrityError):
                tx.execute("INSERT INTO accounts (id, balance) VALUES ('c', 4)")
        tx.execute("INSERT INTO accounts (id, balance) VALUES ('e', 6)")
    assert balances(ledger) == {"e": 6}
