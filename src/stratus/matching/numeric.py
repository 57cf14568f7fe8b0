"""The ``numeric`` operator: AWS's grammar, error texts and limits, and the comparison it compiles to.

AWS reads ``[op, n]`` or ``[">"|">=", low, "<"|"<=", high]`` token by token and reports the first
thing wrong in that order (``Value of >= must be numeric``, ``Bad numeric range operator: >``,
``Too many terms in numeric range expression``...); :func:`parse_numeric` walks the list the same
way so the same mistake gets the same message. Range and precision differ by service (EventBridge
+/-5e9 to six decimals, SNS +/-1e9 to five): see :class:`NumberSpace`. Nothing in the standard
library speaks this grammar, hence hand-written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stratus.matching.errors import PatternError


@dataclass(frozen=True)
class NumberSpace:
    """How a service compares numbers: within +/-``limit``, to ``scale`` steps per unit.

    AWS compares numbers as integers: ``(value + limit) * scale``, truncated, so EventBridge is exact to
    six decimal places (``0.1 + 0.2`` equals ``0.3``) and SNS to five, as their documentation states.
    """

    limit: float
    scale: float

    def key(self, value: Any) -> int | None:
        """The comparable integer for an event value, or None if it is not a number within range."""
        t = type(value)
        if (t is int or t is float) and -self.limit <= value <= self.limit:
            return int(self.scale * (self.limit + value))
        return None

    def rule_key(self, value: float) -> int:
        """The comparable integer for a number written in a rule (out of range is AWS's error)."""
        if value < -self.limit or value > self.limit:
            text = f"{self.limit / 1e9:.1f}E9"
            raise PatternError(f"Value must be between -{text} and {text}, inclusive")
        return int(self.scale * (self.limit + value))


EVENTBRIDGE_NUMBERS = NumberSpace(limit=5.0e9, scale=1e6)
SNS_NUMBERS = NumberSpace(limit=1.0e9, scale=1e5)


def is_number(v: Any) -> bool:
    """A JSON number (``bool`` is an ``int`` subclass in Python but never a number in JSON)."""
    t = type(v)
    return t is int or t is float


def token_text(v: Any) -> str:
    """How Jackson would print the token that starts ``v`` (for messages quoting a bad member)."""
    if isinstance(v, dict):
        return "{"
    if isinstance(v, list):
        return "["
    if isinstance(v, str):
        return v
    return json.dumps(v)


def _bound(items: list[Any], index: int, op: str, space: NumberSpace) -> int:
    if index >= len(items) or not is_number(items[index]):
        raise PatternError(f"Value of {op} must be numeric")
    return space.rule_key(items[index])


def parse_numeric(operand: Any, space: NumberSpace) -> Callable[[Any], bool]:
    """Validate a ``numeric`` operand and return a predicate over event values."""
    if not isinstance(operand, list):
        raise PatternError("Value of numeric must be an array.")
    items = operand
    if not items:
        raise PatternError("Invalid member in numeric match: ]")
    op = items[0]
    if not isinstance(op, str):
        raise PatternError(f"Invalid member in numeric match: {token_text(op)}")
    if op == "=":
        if len(items) < 2 or not is_number(items[1]):
            raise PatternError("Value of equals must be numeric")
        target = space.rule_key(items[1])
        if len(items) > 2:
            raise PatternError("Too many elements in numeric expression")
        key = space.key
        return lambda v: key(v) == target
    if op in ("<", "<="):
        top = _bound(items, 1, op, space)
        if len(items) > 2:
            raise PatternError("Too many elements in numeric expression")
        return _range(space, None, False, top, op == "<")
    if op in (">", ">="):
        bottom = _bound(items, 1, op, space)
        if len(items) == 2:
            return _range(space, bottom, op == ">", None, False)
        op2 = items[2]
        if not isinstance(op2, str):
            raise PatternError(f"Bad value in numeric range: {token_text(op2)}")
        if op2 not in ("<", "<="):
            raise PatternError(f"Bad numeric range operator: {op2}")
        top = _bound(items, 3, op2, space)
        if len(items) > 4:
            raise PatternError("Too many terms in numeric range expression")
        if not bottom < top:
            raise PatternError("Bottom must be less than top")
        return _range(space, bottom, op == ">", top, op2 == "<")
    raise PatternError(f"Unrecognized numeric range operator: {op}")


def _range(
    space: NumberSpace, bottom: int | None, open_bottom: bool, top: int | None, open_top: bool
) -> Callable[[Any], bool]:
    limit, scale = space.limit, space.scale
    # Bounds as the smallest / largest comparable key accepted.
    lo = -1 if bottom is None else bottom + (1 if open_bottom else 0)
    hi = 2**63 if top is None else top - (1 if open_top else 0)

    def in_range(v: Any) -> bool:
        t = type(v)
        return (t is int or t is float) and -limit <= v <= limit and lo <= int(scale * (limit + v)) <= hi

    return in_range
