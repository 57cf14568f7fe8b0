"""Errors: constraint violations are IntegrityError, bad SQL is SqlError, with PostgreSQL's SQLSTATE on both."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import ValidationError
from stratus.resources.sql import IntegrityError, SqlError

SCHEMA = [
    "CREATE TABLE owners (id TEXT PRIMARY KEY)",
    "CREATE TABLE accounts ("
    " id TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL REFERENCES owners (id),"
    " balance BIGINT NOT NULL CONSTRAINT balance_not_negative CHECK (balance >= 0))",
]


@pytest.fixture
def bank(harness: Any) -> Any:
    db = harness.open(SCHEMA, name="bank")
    db.execute("INSERT INTO owners (id) VALUES ('ann')")
    db.execute("INSERT INTO accounts (id, owner, balance) VALUES ('a', 'ann', 10)")
    return db


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ("INSERT INTO accounts (id, owner, balance) VALUES ('a', 'ann', 1)", "23505"),
        ("INSERT INTO accounts (id, owner, balance) VALUES ('b', 'bob', 1)", "23503"),
        ("UPDATE accounts SET balance = -5 WHERE id = 'a'", "23514"),
        ("INSERT INTO accounts (id, owner, balance) VALUES ('c', 'ann', NULL)", "23502"),
    ],
    ids=["unique", "foreign-key", "check", "not-null"],
)
def test_constraint_violations_are_integrity_errors_and_change_nothing(bank: Any, sql: str, sqlstate: str) -> None:
    with pytest.raises(IntegrityError) as info:
        bank.execute(sql)
    assert info.value.sqlstate == sqlstate
    assert info.value.code == "IntegrityConstraintViolation"
    assert info.value.message  # the database's own words
    assert bank.query("SELECT id, owner, balance FROM accounts") == [{"id": "a", "owner": "ann", "balance": 10}]


def test_an_integrity_error_inside_a_transaction_rolls_all_of_it_back(bank: Any) -> None:
    with pytest.raises(IntegrityError), bank.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = 0 WHERE id = 'a'")
        tx.execute("INSERT INTO accounts (id, owner, balance) VALUES ('b', 'nobody', 1)")
    assert bank.scalar("SELECT balance FROM accounts WHERE id = 'a'") == 10


@pytest.mark.parametrize(
    ("sql", "sqlstate", "words"),
    [
        ("SELECT * FROM nope", "42P01", "nope"),
        ("SELECT nope FROM accounts", "42703", "nope"),
        ("SELEC 1", "42601", "syntax error"),
    ],
    ids=["missing-table", "missing-column", "syntax"],
)
def test_bad_sql_is_an_sql_error_with_the_database_message(bank: Any, sql: str, sqlstate: str, words: str) -> None:
    with pytest.raises(SqlError, match=words) as info:
        bank.query(sql)
    assert not isinstance(info.value, IntegrityError)
    assert info.value.sqlstate == sqlstate
    assert info.value.code == "DatabaseErrorException"


def test_two_statements_with_parameters_are_refused(bank: Any) -> None:
    with pytest.raises(SqlError):
        bank.execute("UPDATE accounts SET balance = :b; DELETE FROM accounts", {"b": 0})
    assert bank.scalar("SELECT COUNT(*) FROM accounts") == 1


def test_bad_calls_are_validation_errors(bank: Any) -> None:
    with pytest.raises(ValidationError, match="SQL must be a non-empty string"):
        bank.execute("  ")
    with pytest.raises(ValidationError, match="SQL must be a non-empty string"):
        bank.query(42)
    with pytest.raises(ValidationError, match="no value given for SQL parameter :owner"):
        bank.query("SELECT * FROM accounts WHERE owner = :owner")
    with pytest.raises(ValidationError, match=":owner has unsupported type set"):
        bank.query("SELECT * FROM accounts WHERE owner = :owner", {"owner": {"ann"}})
