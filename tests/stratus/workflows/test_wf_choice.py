"""Choice rules (stratus.workflows.choice_rules)."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.workflows.choice_rules import compile_rule, string_matches
from stratus.workflows.errors import Problems, StatesError
from stratus.workflows.templates import Env


def decide(rule: dict[str, Any], doc: Any, variables: dict[str, Any] | None = None) -> bool:
    problems = Problems()
    compiled = compile_rule({**rule, "Next": "X"}, "/rule", problems, jsonata=False, top=True)
    assert problems.items == [] and compiled is not None
    return compiled.matches(Env(doc, {}, variables or {}))


@pytest.mark.parametrize(
    ("rule", "doc", "expected"),
    [
        ({"Variable": "$.v", "StringEquals": "a"}, {"v": "a"}, True),
        ({"Variable": "$.v", "StringEquals": "1"}, {"v": 1}, False),
        ({"Variable": "$.v", "StringLessThan": "b"}, {"v": "a"}, True),
        ({"Variable": "$.v", "NumericEquals": 1}, {"v": 1.0}, True),
        ({"Variable": "$.v", "NumericEquals": 1}, {"v": True}, False),
        ({"Variable": "$.v", "NumericGreaterThanEqualsPath": "$.w"}, {"v": 3, "w": 3}, True),
        ({"Variable": "$.v", "BooleanEquals": False}, {"v": False}, True),
        ({"Variable": "$.v", "BooleanEquals": False}, {"v": 0}, False),
        ({"Variable": "$.v", "TimestampLessThan": "2020-01-01T00:00:00Z"}, {"v": "2019-12-31T23:59:59.5+00:00"}, True),
        ({"Variable": "$.v", "TimestampEquals": "2020-01-01T00:00:00Z"}, {"v": "2020-01-01 00:00:00Z"}, False),
        ({"Variable": "$.v", "IsPresent": False}, {}, True),
        ({"Variable": "$.v", "IsNull": True}, {"v": None}, True),
        ({"Variable": "$.v", "IsNumeric": True}, {"v": "1"}, False),
        ({"Variable": "$.v", "IsString": True}, {"v": "1"}, True),
        ({"Variable": "$.v", "IsBoolean": False}, {"v": 1}, True),
        ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2020-01-01T00:00:00.123456789Z"}, True),
        ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2020.txt"}, True),
        ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "a*b"}, True),
        ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "axxb"}, False),
        (
            {"And": [{"Variable": "$.a", "NumericEquals": 1}, {"Not": {"Variable": "$.b", "IsNull": True}}]},
            {"a": 1, "b": 2},
            True,
        ),
        (
            {"Or": [{"Variable": "$.a", "NumericEquals": 2}, {"Variable": "$.b", "NumericEquals": 2}]},
            {"a": 1, "b": 2},
            True,
        ),
        ({"Variable": "$limit", "NumericLessThan": 5}, {}, True),
    ],
)
def test_rules(rule: dict[str, Any], doc: Any, expected: bool) -> None:
    assert decide(rule, doc, {"limit": 3}) is expected


def test_a_missing_variable_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        decide({"Variable": "$.nope", "StringEquals": "x"}, {})
    assert info.value.error == "States.Runtime"


def test_string_matches_escapes_backslash() -> None:
    assert string_matches("c:\\\\*").fullmatch("c:\\dir")
    assert not string_matches("c:\\\\*").fullmatch("d:\\dir")
