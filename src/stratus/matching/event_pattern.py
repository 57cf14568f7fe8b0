"""EventBridge event patterns: compile (validating as PutRule/TestEventPattern do) and match.

``compile_pattern`` takes the pattern as JSON text or a dict, rejects it with AWS's exact
``InvalidEventPatternException`` wording when EventBridge would, and returns an :class:`EventPattern`
whose :meth:`~EventPattern.matches` decides an event. ``test_event_pattern`` is the TestEventPattern API:
it also checks the event is a JSON object carrying the envelope fields EventBridge requires.

EventBridge's matcher is AWS's Java event-ruler; there is no Python port, and general JSON query
libraries (jsonpath, jmespath) have different semantics, so the language is implemented here on the
shared engine in this package.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.matching import jsontext
from stratus.matching.dialect import EVENTBRIDGE
from stratus.matching.errors import InvalidEvent, InvalidEventPattern, PatternError
from stratus.matching.evaluate import rule_matches
from stratus.matching.rules import CompiledRule, compile_rule

REASON_PREFIX = "Event pattern is not valid. Reason: "
#: Fields TestEventPattern requires in the event.
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


class EventPattern:
    """A validated, compiled event pattern."""

    __slots__ = ("rule", "source")

    def __init__(self, rule: CompiledRule, source: Any) -> None:
        self.rule = rule
        self.source = source

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` (a parsed JSON object) matches the pattern."""
        return rule_matches(self.rule, event)

    def __repr__(self) -> str:
        return f"EventPattern({json.dumps(self.source)[:80]})"


def compile_pattern(pattern: str | dict[str, Any]) -> EventPattern:
    """Validate and compile an event pattern; raise :class:`InvalidEventPattern` as EventBridge would."""
    try:
        if isinstance(pattern, str):
            jsontext.check_root_is_object(pattern)
            parsed = jsontext.loads(pattern)
        else:
            parsed = pattern
        return EventPattern(compile_rule(parsed, EVENTBRIDGE), parsed)
    except PatternError as exc:
        raise InvalidEventPattern(REASON_PREFIX + exc.reason) from None


def parse_event(event: str | dict[str, Any]) -> dict[str, Any]:
    """The event as TestEventPattern accepts it, or :class:`InvalidEvent` ("Parameter Event is not valid.")."""
    parsed: Any = event
    if isinstance(event, str):
        try:
            parsed = json.loads(event)
        except ValueError:
            raise InvalidEvent("Parameter Event is not valid.") from None
    if not isinstance(parsed, dict) or any(name not in parsed for name in REQUIRED_EVENT_FIELDS):
        raise InvalidEvent("Parameter Event is not valid.")
    return parsed


def test_event_pattern(event: str | dict[str, Any], pattern: str | dict[str, Any]) -> bool:
    """EventBridge TestEventPattern: validate both, then whether the event matches."""
    compiled = compile_pattern(pattern)
    return compiled.matches(parse_event(event))


test_event_pattern.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name
