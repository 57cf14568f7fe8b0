"""Reading rule text: same values as :mod:`json` for valid JSON, Jackson's words for invalid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratus.matching import jsontext
from stratus.matching.errors import PatternError

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=5), documents, max_size=5))
def test_valid_json_reads_as_json_does(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert jsontext.loads(text) == json.loads(text)
    jsontext.check_root_is_object(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No content to map due to end-of-input"),
        (
            '{"a": tru}',
            "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token "
            "'null', 'true' or 'false')",
        ),
        ('{"a": "\\q"}', "Unrecognized character escape 'q' (code 113)"),
        ('{"a": 01}', "Invalid numeric value: Leading zeroes not allowed"),
        (
            '{"a": -x}',
            "Unexpected character ('x' (code 120)) in numeric value: expected digit (0-9) to follow "
            "minus sign, for valid numeric value",
        ),
        ('{"a": ["x"', "Unexpected end-of-input: expected close marker for Array"),
        ('{"a": "x', "Unexpected end-of-input: was expecting closing quote for a string value"),
        (
            '{"a": "x\ny"}',
            "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash "
            "to be included in string value",
        ),
    ],
)
def test_malformed_json_is_described_like_jackson(text: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        jsontext.loads(text)
    assert caught.value.reason == message
