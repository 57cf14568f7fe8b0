"""A whole rule (event pattern or filter policy body) compiled to alternatives of field conditions.

A rule is a JSON object whose leaves are value lists (see :mod:`stratus.matching.operators`). Nested
objects name nested fields, flattened into dotted paths exactly as AWS flattens them (so
``{"a": {"b": ...}}`` and ``{"a.b": ...}`` are the same field, for rules and events alike). ``$or``
multiplies the rule into alternatives (disjunctive normal form), which is how AWS's Ruler evaluates it:
the rule matches when every field of at least one alternative matches.

Validation happens in document order with AWS's messages, so the first mistake AWS would report is the
one reported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from stratus.matching import wildcard
from stratus.matching.dialect import Dialect
from stratus.matching.errors import PatternError, TooManyAlternatives
from stratus.matching.flatten import PathTrie
from stratus.matching.jsontext import MAX_NESTING_DEPTH
from stratus.matching.operators import Field, compile_field

OR = "$or"
_RESERVED_IN_OR = frozenset(
    {"anything-but", "numeric", "prefix", "suffix", "exists", "cidr", "equals-ignore-case", "wildcard"}
)

#: Most alternatives ``$or`` may multiply a rule into (a Stratus safeguard, see ``_or``).
MAX_ALTERNATIVES = 4096

Branch = tuple[Field, ...]
Check = Callable[[dict[str, list[Any]]], bool]


@dataclass(frozen=True)
class CompiledRule:
    """The alternatives of a rule, each also compiled to one check over flattened values."""

    branches: tuple[Branch, ...]
    checks: tuple[Check, ...]
    trie: PathTrie

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(f.path for b in self.branches for f in b)


def compile_rule(rule: Any, dialect: Dialect) -> CompiledRule:
    if not isinstance(rule, dict):
        raise PatternError("Filter is not an object")
    try:
        branches = _object(rule, "", dialect, in_or=False, depth=1)
    except RecursionError:  # only near Python's own stack limit, already deeper than AWS allows in practice
        raise nesting_error(MAX_NESTING_DEPTH + 1) from None
    by_path: dict[str, list[list[int]]] = {}
    for branch in branches:
        for f in branch:
            if f.wildcards:
                by_path.setdefault(f.path, []).extend(f.wildcards)
    for patterns in by_path.values():
        wildcard.check_complexity(patterns)
    frozen = tuple(tuple(b) for b in branches)
    checks = tuple(compile_check(b) for b in frozen)
    return CompiledRule(frozen, checks, PathTrie.of(f.path for b in frozen for f in b))


def compile_check(fields: Iterable[Field]) -> Check:
    """One closure testing every field (AND) against flattened values; specialised for short rules."""
    tests = tuple(_field_check(f) for f in fields)
    if not tests:
        return lambda flat: True
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda flat: a(flat) and b(flat)
    if len(tests) == 3:
        a, b, c = tests
        return lambda flat: a(flat) and b(flat) and c(flat)
    return lambda flat: all(t(flat) for t in tests)


def _field_check(f: Field) -> Check:
    path, any_values, test = f.path, f.any, f.test
    if f.absent_ok:

        def check_absent_ok(flat: dict[str, list[Any]]) -> bool:
            values = flat.get(path)
            return values is None or any_values(values)

        return check_absent_ok
    if f.exact_strings is not None:
        disjoint = f.exact_strings.isdisjoint

        def check_exact(flat: dict[str, list[Any]]) -> bool:
            values = flat.get(path)
            return values is not None and not disjoint(values)

        return check_exact

    def check(flat: dict[str, list[Any]]) -> bool:
        values = flat.get(path)
        if values is None:
            return False
        if len(values) == 1:  # the usual case: one value, no array
            return test(values[0])
        return any_values(values)

    return check


def nesting_error(depth: int) -> PatternError:
    return PatternError(
        f"Document nesting depth ({depth}) exceeds the maximum allowed ({MAX_NESTING_DEPTH}, from "
        "`StreamReadConstraints.getMaxNestingDepth()`)"
    )


def _object(obj: dict[str, Any], prefix: str, dialect: Dialect, *, in_or: bool, depth: int) -> list[list[Field]]:
    if depth > MAX_NESTING_DEPTH:
        raise nesting_error(depth)
    branches: list[list[Field]] = [[]]
    if not obj:
        raise PatternError("Empty objects are not allowed")
    for name, value in obj.items():
        key = name if isinstance(name, str) else str(name)  # as JSON would have written it
        if key == OR:
            branches = _or(branches, value, prefix, dialect, depth)
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise PatternError(f"{key} is Ruler reserved fieldName which cannot be used inside {OR}.")
        path = prefix + key
        if isinstance(value, dict):
            nested = _object(value, path + ".", dialect, in_or=in_or, depth=depth + 1)
            branches = _product(branches, nested)
        elif isinstance(value, list):
            f = compile_field(path, value, dialect)
            for b in branches:
                b.append(f)
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return branches


def _or(branches: list[list[Field]], value: Any, prefix: str, dialect: Dialect, depth: int) -> list[list[Field]]:
    if not isinstance(value, list):
        raise PatternError(f"It must be an Array followed with {OR}.")
    alternatives: list[list[Field]] = []
    for item in value:
        if not isinstance(item, dict):
            raise PatternError(f"Only JSON object is allowed in array of {OR} relationship.")
        alternatives.extend(_object(item, prefix, dialect, in_or=True, depth=depth + 2))
    if len(value) < 2:
        raise PatternError(f"There must have at least 2 Objects in {OR} relationship.")
    return _product(branches, alternatives)


def _product(branches: list[list[Field]], alternatives: list[list[Field]]) -> list[list[Field]]:
    """Every branch extended by every alternative (AND distributed over OR)."""
    if len(branches) * len(alternatives) > MAX_ALTERNATIVES:
        # AWS documents no such limit (its rule size limits bound it); this keeps a hostile rule from
        # exhausting memory, far above what a rule within AWS's size limits needs in practice.
        raise TooManyAlternatives(f"Rule is too complex - more than {MAX_ALTERNATIVES} {OR} combinations")
    return [b + a for b in branches for a in alternatives]
