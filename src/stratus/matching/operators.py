"""One field of a rule: the list of values and operators AWS allows, compiled to a predicate.

EventBridge event patterns and SNS filter policies share this language (exact values, ``prefix``,
``suffix``, ``equals-ignore-case``, ``anything-but``, ``numeric``, ``cidr``, ``exists``; EventBridge adds
``wildcard`` and case-insensitive/anything-but variants). A :class:`~stratus.matching.dialect.Dialect`
says where they differ, so one compiler serves both and each rejects what its service rejects, with its
words.

A compiled :class:`Field` answers, for the leaf values an event holds at the field's path, whether any
of them satisfies any of the listed matchers (OR within a field), and whether absence is acceptable
(``{"exists": false}``). Values are typed as in JSON: ``300`` equals ``300.0`` but never ``"300"`` or
``true``. The language is AWS's own and no library implements it, hence hand-written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stratus.matching import cidr, numeric, wildcard
from stratus.matching.anything_but import ONE_KEY, parse_anything_but
from stratus.matching.dialect import Dialect
from stratus.matching.errors import PatternError

Predicate = Callable[[Any], bool]


_TOO_MANY = "Too many elements in numeric expression"


@dataclass
class Field:
    """A compiled field condition at ``path``."""

    path: str
    test: Predicate
    any: Callable[[list[Any]], bool]
    absent_ok: bool
    #: Set when the field is only exact string values (what RuleSet can index on).
    exact_strings: frozenset[str] | None = None
    wildcards: list[list[int]] = field(default_factory=list)


class _Builder:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.strings: set[str] = set()
        self.numbers: set[int] = set()  # comparable keys of in-range numbers
        self.big_numbers: set[float] = set()  # numbers beyond the service's range compare as written
        self.constants: list[Any] = []  # True / False / None
        self.predicates: list[Predicate] = []
        self.exists = False
        self.absent_ok = False
        self.only_strings = True
        self.wildcards: list[list[int]] = []

    # -- value list -------------------------------------------------------------------------------------
    def add(self, item: Any) -> None:
        if isinstance(item, dict):
            self.only_strings = False
            self._expression(item)
        elif isinstance(item, str):
            self.strings.add(item)
        elif item is None or item is True or item is False:
            self.only_strings = False
            self.constants.append(item)
        elif numeric.is_number(item):
            self.only_strings = False
            key = self.dialect.numbers.key(item)
            if key is None:
                self.big_numbers.add(item)
            else:
                self.numbers.add(key)
        else:
            raise PatternError("Match value must be String, number, true, false, or null")

    def _expression(self, expr: dict[str, Any]) -> None:
        if not expr:
            raise PatternError("Match expression name not found")
        name, operand = next(iter(expr.items()))
        extra_error = ONE_KEY
        if name == "prefix":
            self.predicates.append(self._affix(operand, "prefix"))
        elif name == "suffix":
            self.predicates.append(self._affix(operand, "suffix"))
        elif name == "equals-ignore-case":
            if not isinstance(operand, str):
                raise PatternError("equals-ignore-case match pattern must be a string")
            folded = operand.casefold()
            self.predicates.append(lambda v: type(v) is str and v.casefold() == folded)
        elif name == "numeric":
            self.predicates.append(numeric.parse_numeric(operand, self.dialect.numbers))
            extra_error = _TOO_MANY
        elif name == "cidr":
            if not isinstance(operand, str):
                raise PatternError("prefix match pattern must be a string")
            self.predicates.append(cidr.parse_cidr(operand))
        elif name == "exists":
            if operand is True:
                self.exists = True
            elif operand is False:
                self.absent_ok = True
            else:
                raise PatternError("exists match pattern must be either true or false.")
        elif name == "wildcard" and self.dialect.wildcard:
            if not isinstance(operand, str):
                raise PatternError("wildcard match pattern must be a string")
            self.wildcards.append(wildcard.parse(operand))
            match = wildcard.compile_matcher(operand)
            self.predicates.append(lambda v: type(v) is str and match(v))
        elif name == "anything-but":
            self.predicates.append(parse_anything_but(operand, self.dialect, self.wildcards))
            extra_error = _TOO_MANY
        else:
            raise PatternError(f"Unrecognized match type {name}")
        if len(expr) > 1:
            raise PatternError(extra_error)

    def _affix(self, operand: Any, kind: str) -> Predicate:
        if isinstance(operand, dict) and self.dialect.ignore_case_affixes and operand:
            inner_name, inner = next(iter(operand.items()))
            if inner_name == "equals-ignore-case":
                if not isinstance(inner, str):
                    raise PatternError("equals-ignore-case match pattern must be a string")
                if len(operand) > 1:
                    raise PatternError(ONE_KEY)
                folded = inner.casefold()
                if kind == "prefix":
                    return lambda v: type(v) is str and v.casefold().startswith(folded)
                return lambda v: type(v) is str and v.casefold().endswith(folded)
        if not isinstance(operand, str):
            raise PatternError(f"{kind} match pattern must be a string")
        if kind == "prefix":
            return lambda v: type(v) is str and v.startswith(operand)
        return lambda v: type(v) is str and v.endswith(operand)

    def _number_in(self, keys: frozenset[int], big: frozenset[float]) -> Predicate:
        key = self.dialect.numbers.key

        def number_in(v: Any) -> bool:
            if type(v) is not int and type(v) is not float:
                return False
            k = key(v)
            return k in keys if k is not None else v in big

        return number_in

    # -- result -----------------------------------------------------------------------------------------
    def build(self, path: str) -> Field:
        strings_only = self.only_strings and not self.predicates and not self.exists and not self.absent_ok
        predicates = list(self.predicates)
        if self.exists:
            predicates.append(_always)
        strings, constants = frozenset(self.strings), tuple(self.constants)
        if self.numbers or self.big_numbers:
            predicates.insert(0, self._number_in(frozenset(self.numbers), frozenset(self.big_numbers)))
        for constant in constants:
            predicates.insert(0, _identity(constant))
        if strings:
            predicates.insert(0, lambda v: type(v) is str and v in strings)

        if strings_only:
            return Field(path, strings.__contains__, lambda vals: not strings.isdisjoint(vals), False, strings)
        if not predicates:
            test: Predicate = _never
        elif len(predicates) == 1:
            test = predicates[0]
        else:
            tests = tuple(predicates)

            def test(v: Any) -> bool:
                return any(p(v) for p in tests)

        if self.exists:

            def any_values(vals: list[Any]) -> bool:
                return True
        else:

            def any_values(vals: list[Any]) -> bool:
                return any(map(test, vals))

        return Field(path, test, any_values, self.absent_ok, None, self.wildcards)


def _always(v: Any) -> bool:
    return True


def _never(v: Any) -> bool:
    return False


def _identity(constant: Any) -> Predicate:
    return lambda v: v is constant


def compile_field(path: str, values: list[Any], dialect: Dialect) -> Field:
    """Compile the value list of one field (the caller has checked it is a list)."""
    builder = _Builder(dialect)
    for item in values:
        builder.add(item)
    if not values:
        raise PatternError("Empty arrays are not allowed")
    return builder.build(path)
