"""Task tokens name their execution and nothing else can pass for one."""

from __future__ import annotations

import pytest

from stratus.local.workflow.tokens import execution_of, new_token
from stratus.resources.workflow import InvalidToken

ARN = "arn:aws:states:us-east-1:000000000000:execution:app-flow:run-1"


def test_a_token_routes_to_its_execution_and_is_unique() -> None:
    first, second = new_token(ARN), new_token(ARN)
    assert first != second
    assert execution_of(first) == ARN == execution_of(second)


@pytest.mark.parametrize("token", ["", "xyz", "AQB!!!", "AQB" + "aGVsbG8", new_token("not-an-arn")])
def test_anything_else_is_an_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        execution_of(token)
