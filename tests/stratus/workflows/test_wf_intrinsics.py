"""Intrinsic functions (stratus.workflows.intrinsics)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stratus.workflows.errors import StatesError
from stratus.workflows.intrinsics import IntrinsicSyntaxError, Scope, compile_intrinsic, evaluate


def call(text: str, doc: Any = None, variables: dict[str, Any] | None = None) -> Any:
    return evaluate(compile_intrinsic(text), Scope(doc, {"Execution": {"Name": "run-1"}}, variables or {}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('Hello {}, you are {}', $.name, $.age)", "Hello Ann, you are 7"),
        ("States.Format('obj={}', $.obj)", "obj={a=1, b=[true, null]}"),
        ("States.Format('a \\\\{literal\\\\} {}', 'x')", "a {literal} x"),
        ("States.Format('it\\'s {}', $$.Execution.Name)", "it's run-1"),
        ("States.StringToJson('{\"a\": [1]}')", {"a": [1]}),
        ("States.JsonToString($.obj)", '{"a":1,"b":[true,null]}'),
        ("States.Array(1, 'two', $.age)", [1, "two", 7]),
        ("States.ArrayPartition(States.ArrayRange(1, 5, 1), 2)", [[1, 2], [3, 4], [5]]),
        ("States.ArrayContains($.list, 2)", True),
        ("States.ArrayRange(10, 0, -5)", [10, 5, 0]),
        ("States.ArrayGetItem($.list, 1)", 2),
        ("States.ArrayLength($.list)", 3),
        ("States.ArrayUnique(States.Array(1, 1, 2, 1))", [1, 2]),
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.JsonMerge($.obj, States.StringToJson('{\"a\": 2}'), false)", {"a": 2, "b": [True, None]}),
        ("States.MathAdd(1.5, -0.5)", 2),
        ("States.StringSplit('a,b;;c', ',;')", ["a", "b", "c"]),
        ("States.Format('{}', $myVar)", "42"),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    doc = {"name": "Ann", "age": 7, "obj": {"a": 1, "b": [True, None]}, "list": [1, 2, 3]}
    assert call(text, doc, {"myVar": 42}) == expected


def test_math_random_stays_in_range_and_uuid_is_a_uuid() -> None:
    for _ in range(20):
        assert 5 <= call("States.MathRandom(5, 8)") < 8
    assert re.fullmatch(r"[0-9a-f-]{36}", call("States.UUID()"))


@pytest.mark.parametrize(
    "text",
    [
        "States.ArrayGetItem($.list, 9)",
        "States.ArrayPartition($.list, 0)",
        "States.Hash('x', 'SHA-999')",
        "States.Format('{} {}', 'one')",
        "States.MathAdd('1', 2)",
        "States.JsonMerge($.list, $.list, false)",
        "States.StringToJson('{not json')",
    ],
)
def test_bad_arguments_are_intrinsic_failures(text: str) -> None:
    with pytest.raises(StatesError) as info:
        call(text, {"list": [1, 2, 3]})
    assert info.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    "text",
    ["States.Nope(1)", "States.ArrayLength()", "States.UUID(1)", "States.Format('x'", "States.Array(1) trailing"],
)
def test_malformed_calls_fail_at_compile_time(text: str) -> None:
    with pytest.raises(IntrinsicSyntaxError):
        compile_intrinsic(text)
