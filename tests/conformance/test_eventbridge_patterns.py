"""EventBridge event patterns against the corpus recorded on AWS (TestEventPattern / PutEvents -> rule).

Each case runs through ``test_event_pattern`` with the exact text AWS received when it matters
(``event_raw`` / ``pattern_raw``); invalid cases must fail with AWS's error code and the first line of
its message. Match / no-match cases are also run through a ``RuleSet`` so the indexed path agrees.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.errors import ValidationError
from stratus.matching import RuleSet, compile_pattern, test_event_pattern


def _inputs(case: dict[str, Any]) -> tuple[Any, Any]:
    event = case["event_raw"] if case.get("event_raw") is not None else case["event"]
    pattern = case["pattern_raw"] if case.get("pattern_raw") is not None else case["pattern"]
    if not isinstance(event, str | dict):
        event = json.dumps(event)
    if not isinstance(pattern, str | dict):
        pattern = json.dumps(pattern)
    return event, pattern


def test_eventbridge_pattern(eventbridge_case: dict[str, Any]) -> None:
    case = eventbridge_case
    event, pattern = _inputs(case)
    if case["expect"] == "invalid":
        with pytest.raises(ValidationError) as caught:
            test_event_pattern(event, pattern)
        assert caught.value.code == case["aws_error_code"]
        assert caught.value.message.splitlines()[0] == case["aws_error"]
        return
    expected = case["expect"] == "match"
    assert test_event_pattern(event, pattern) is expected

    parsed_event = json.loads(event) if isinstance(event, str) else event
    rules = RuleSet()
    rules.add("other", {"source": ["never.this.source"]})
    rules.add("case", compile_pattern(pattern))
    assert rules.matching(parsed_event) == (["case"] if expected else [])
