"""Values: what round-trips on both adapters (see stratus.resources.sql for what SQLite cannot hide)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

TYPES = [
    "CREATE TABLE vals ("
    " id INTEGER PRIMARY KEY,"
    " i BIGINT, s TEXT, b BYTEA, flag BOOLEAN, amount NUMERIC(12, 2), f DOUBLE PRECISION,"
    " at TIMESTAMPTZ, local_at TIMESTAMP, day DATE)"
]


@pytest.fixture
def vals(harness: Any) -> Any:
    return harness.open(TYPES, name="vals")


def test_every_supported_type_round_trips(vals: Any) -> None:
    row = {
        "id": 1,
        "i": -(2**62),
        "s": "it's 100% ünïcødé :x ::int",
        "b": b"\x00\xff binary",
        "flag": True,
        "amount": Decimal("1234.56"),
        "f": 0.5,
        "at": datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        "local_at": datetime(2024, 5, 6, 7, 8, 9),
        "day": date(2024, 2, 29),
    }
    vals.execute(
        "INSERT INTO vals (id, i, s, b, flag, amount, f, at, local_at, day) "
        "VALUES (:id, :i, :s, :b, :flag, :amount, :f, :at, :local_at, :day)",
        row,
    )
    back = vals.query_one("SELECT * FROM vals WHERE id = :id", {"id": 1})
    assert back == row
    assert type(back["flag"]) is bool
    assert type(back["amount"]) is Decimal
    assert type(back["b"]) is bytes


def test_nulls_and_false_round_trip(vals: Any) -> None:
    vals.execute(
        "INSERT INTO vals (id, flag, s, amount) VALUES (2, :flag, :s, :amount)",
        {"flag": False, "s": None, "amount": None},
    )
    row = vals.query_one("SELECT flag, s, amount, at FROM vals WHERE id = 2")
    assert row == {"flag": False, "s": None, "amount": None, "at": None}
    assert row["flag"] is False


def test_aware_datetimes_come_back_in_utc(vals: Any) -> None:
    paris = datetime(2024, 5, 6, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    vals.execute("INSERT INTO vals (id, at) VALUES (3, :at)", {"at": paris})
    back = vals.scalar("SELECT at FROM vals WHERE id = 3")
    assert back == paris
    assert back.utcoffset() == timedelta(0)
    later = vals.query("SELECT id FROM vals WHERE at > :t", {"t": datetime(2024, 5, 6, 6, 59, tzinfo=UTC)})
    assert later == [{"id": 3}]


def test_integer_cents_are_exact_on_both(vals: Any) -> None:
    vals.execute("INSERT INTO vals (id, i) VALUES (4, 10), (5, 20), (6, 30)")
    assert vals.scalar("SELECT SUM(i) FROM vals") == 60
    assert vals.scalar("SELECT i FROM vals WHERE i = :max", {"max": 30}) == 30


def test_parameter_look_alikes_in_literals_and_comments_reach_the_database_intact(vals: Any) -> None:
    row = vals.query_one(
        "SELECT ':x' AS lit, '100%' AS pct, 'it''s' AS quote, :y AS y -- and :z in a comment\n",
        {"y": "value"},
    )
    assert row == {"lit": ":x", "pct": "100%", "quote": "it's", "y": "value"}
    assert vals.scalar("SELECT 7 % :m", {"m": 4}) == 3


def test_postgresql_casts_next_to_parameters(vals: Any, adapter: str) -> None:
    if adapter == "sqlite":
        pytest.skip("'::' casts are PostgreSQL syntax; SQLite uses CAST(:n AS INTEGER)")
    assert vals.scalar("SELECT :n::int + 1", {"n": "41"}) == 42
    assert vals.scalar("SELECT $$ :n $$::text", {}) == " :n "
