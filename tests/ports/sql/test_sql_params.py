"""Named parameters: one ``:name`` style for both adapters, translated for psycopg without touching literals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.sql.params import bind, compile_statement


def test_names_become_pyformat_placeholders_in_order_of_first_use() -> None:
    s = compile_statement("UPDATE t SET a = :a, b = :b WHERE id = :id AND a <> :a")
    assert s.names == ("a", "b", "id")
    assert s.pyformat == "UPDATE t SET a = %(a)s, b = %(b)s WHERE id = %(id)s AND a <> %(a)s"
    assert s.text == "UPDATE t SET a = :a, b = :b WHERE id = :id AND a <> :a"


@pytest.mark.parametrize(
    ("sql", "pyformat"),
    [
        ("SELECT :x::int", "SELECT %(x)s::int"),
        ("SELECT ':x', :y", "SELECT ':x', %(y)s"),
        ("SELECT 'it''s :x', :y", "SELECT 'it''s :x', %(y)s"),
        (r"SELECT E'a\':x', :y", r"SELECT E'a\':x', %(y)s"),
        ('SELECT ":x" FROM t WHERE a = :y', 'SELECT ":x" FROM t WHERE a = %(y)s'),
        ("SELECT $$ :x $$, :y", "SELECT $$ :x $$, %(y)s"),
        ("SELECT $q$ it's :x $q$, :y", "SELECT $q$ it's :x $q$, %(y)s"),
        ("SELECT 1 -- :x\n, :y", "SELECT 1 -- :x\n, %(y)s"),
        ("SELECT /* :x /* nested */ :z */ :y", "SELECT /* :x /* nested */ :z */ %(y)s"),
        ("SELECT '50%' || :y", "SELECT '50%%' || %(y)s"),
        ("SELECT 5 % 3, :y", "SELECT 5 %% 3, %(y)s"),
        ("SELECT a[1:2], : y, :y", "SELECT a[1:2], : y, %(y)s"),
    ],
)
def test_literals_casts_and_comments_are_not_parameters(sql: str, pyformat: str) -> None:
    statement = compile_statement(sql)
    assert statement.pyformat == pyformat
    assert statement.names == ("y",) or sql == "SELECT :x::int"


def test_missing_parameters_are_named() -> None:
    statement = compile_statement("SELECT :a, :b, :c")
    with pytest.raises(ValidationError, match=r":b, :c"):
        bind(statement, {"a": 1})


def test_extra_parameters_are_ignored() -> None:
    assert bind(compile_statement("SELECT :a"), {"a": 1, "unused": object()}) == {"a": 1}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"nested": 1}, "unsupported type dict"),
        ([1, 2], "unsupported type list"),
        (2**63, "64-bit integer range"),
        (Decimal("NaN"), "not a finite Decimal"),
    ],
)
def test_unsupported_values_name_the_parameter(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=f"SQL parameter :amount .*{message}"):
        bind(compile_statement("SELECT :amount"), {"amount": value})


def test_supported_values_pass_through_unchanged() -> None:
    values = {"a": None, "b": True, "c": -(2**63), "d": 1.5, "e": "x", "f": b"\x00", "g": Decimal("1.10")}
    values["h"] = datetime(2024, 1, 2, 3, 4, 5)
    statement = compile_statement("SELECT " + ", ".join(f":{k}" for k in values))
    assert bind(statement, values) == values


def test_params_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="must be a dict"):
        bind(compile_statement("SELECT :a"), [1])  # type: ignore[arg-type]
