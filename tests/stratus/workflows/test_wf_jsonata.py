"""JSONata expressions and Step Functions' JSONata functions (stratus.workflows.jsonata_expr)."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.workflows.errors import StatesError
from stratus.workflows.jsonata_expr import Expression, JsonataSyntaxError, is_expression


def ev(text: str, states_input: Any = None, **variables: Any) -> Any:
    return Expression("{% " + text + " %}").evaluate({"states": {"input": states_input}, **variables}, "Output")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$states.input.a + 1", 2),
        ("$states.input.list[1]", "y"),
        ("$count($states.input.list)", 2),
        ("$partition([1, 2, 3], 2)", [[1, 2], [3]]),
        ("$range(0, 6, 2)", [0, 2, 4, 6]),
        ("$hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("$parse('{\"k\": [1, null]}')", {"k": [1, None]}),
        ("$states.input.nothing = null", False),
        ("{'n': null}", {"n": None}),
        ("$v * 2", 42),
    ],
)
def test_expressions(text: str, expected: Any) -> None:
    assert ev(text, {"a": 1, "list": ["x", "y"]}, v=21) == expected


def test_random_uuid_and_seeded_random() -> None:
    assert 0 <= ev("$random()") < 1
    assert ev("$random(7)") == ev("$random(7)")
    assert len(ev("$uuid()")) == 36


def test_undefined_is_an_error_naming_the_field() -> None:
    with pytest.raises(StatesError) as info:
        ev("$states.input.missing", {})
    assert info.value.error == "States.QueryEvaluationError"
    assert info.value.cause == (
        "The JSONata expression '$states.input.missing' specified for the field 'Output' returned nothing (undefined)."
    )


def test_evaluation_errors_and_functions_as_results_are_query_evaluation_errors() -> None:
    with pytest.raises(StatesError, match="T1006: Attempted to invoke a non-function"):
        ev("$nope(1)")
    with pytest.raises(StatesError, match="returned an unsupported result type"):
        ev("function($x){$x}")


def test_syntax_errors_are_found_when_compiling() -> None:
    assert is_expression("{% 1 %}") and not is_expression("{% 1") and not is_expression("1 %}")
    with pytest.raises(JsonataSyntaxError):
        Expression("{% $states.input. %}")
