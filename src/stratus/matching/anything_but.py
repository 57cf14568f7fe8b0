"""The ``anything-but`` operator: every form AWS accepts, its validation messages, and its predicate.

``anything-but`` takes a string or number, a list of strings or of numbers, or an object naming one
operator to negate (``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` in EventBridge; only
``prefix`` in SNS). It matches any value present at the field that the negated condition does not, so
``null`` and values of another type match, while an absent field does not. AWS's rule language has no
library implementation, hence hand-written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stratus.matching import numeric, wildcard
from stratus.matching.dialect import Dialect
from stratus.matching.errors import PatternError

Predicate = Callable[[Any], bool]

VALUE_ERROR = "Value of anything-but must be an array or single string/number value."
_IGNORE_CASE_ERROR = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
ONE_KEY = "Only one key allowed in match expression"


def parse_anything_but(operand: Any, dialect: Dialect, wildcards: list[list[int]]) -> Predicate:
    """Validate an ``anything-but`` operand; wildcard patterns it uses are appended to ``wildcards``."""
    if isinstance(operand, dict):
        return _operator(operand, dialect, wildcards)
    if isinstance(operand, list):
        strings: set[str] = set()
        numbers: set[int] = set()
        for item in operand:
            if isinstance(item, str):
                strings.add(item)
            elif numeric.is_number(item):
                numbers.add(dialect.numbers.rule_key(item))
            else:
                raise PatternError("Inside anything but list, start|null|boolean is not supported.")
        if bool(strings) == bool(numbers):
            raise PatternError(
                "Inside anything but list, either all values are number or string, mixed type is not supported"
            )
        return _not_in(strings, numbers, dialect)
    if isinstance(operand, str):
        return _not_in({operand}, set(), dialect)
    if numeric.is_number(operand):
        return _not_in(set(), {dialect.numbers.rule_key(operand)}, dialect)
    raise PatternError(VALUE_ERROR)


def _not_in(strings: set[str], numbers: set[int], dialect: Dialect) -> Predicate:
    if numbers:
        key, keys = dialect.numbers.key, frozenset(numbers)
        return lambda v: key(v) not in keys
    texts = frozenset(strings)
    return lambda v: not (type(v) is str and v in texts)


def _operator(operand: dict[str, Any], dialect: Dialect, wildcards: list[list[int]]) -> Predicate:
    if not operand:
        raise PatternError("Anything-But expression name not found")
    name, value = next(iter(operand.items()))
    if name not in dialect.anything_but_operators:
        raise PatternError(f"Unsupported anything-but pattern: {name}")
    predicate: Predicate
    if name in ("prefix", "suffix"):
        texts = _texts(value, dialect.anything_but_affix_error, dialect)
        if any(t == "" for t in texts):
            raise PatternError("Null prefix/suffix not allowed")
        affixes = tuple(texts)
        if name == "prefix":
            predicate = lambda v: not (type(v) is str and v.startswith(affixes))  # noqa: E731
        else:
            predicate = lambda v: not (type(v) is str and v.endswith(affixes))  # noqa: E731
    elif name == "equals-ignore-case":
        folded = frozenset(t.casefold() for t in _texts(value, _IGNORE_CASE_ERROR, dialect))
        predicate = lambda v: not (type(v) is str and v.casefold() in folded)  # noqa: E731
    else:  # wildcard
        texts = _texts(value, "wildcard match pattern must be a string", dialect)
        wildcards.extend(wildcard.parse(text) for text in texts)
        matchers = [wildcard.compile_matcher(t) for t in texts]
        predicate = lambda v: not (type(v) is str and any(m(v) for m in matchers))  # noqa: E731
    if len(operand) > 1:
        raise PatternError(ONE_KEY)
    return predicate


def _texts(value: Any, error: str, dialect: Dialect) -> list[str]:
    """The string, or (where the dialect allows lists) strings, an operator negates."""
    if isinstance(value, dict):
        raise PatternError(VALUE_ERROR if dialect.anything_but_affix_lists else error)
    if isinstance(value, str):
        return [value]
    if dialect.anything_but_affix_lists and isinstance(value, list):
        if not value:
            raise PatternError("Empty arrays are not allowed")
        if not all(isinstance(v, str) for v in value):
            raise PatternError(error)
        return list(value)
    raise PatternError(error)
