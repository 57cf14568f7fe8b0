"""Key conditions: the KeyConditionExpression of a Query, built with ``Key`` or parsed.

A key condition is an equality on the partition key, optionally AND one condition on
the sort key (``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``begins_with``).
DynamoDB refuses everything else (OR, NOT, IN, ``<>``, other functions, two conditions
on one key) and so does this module. Which attribute is the partition key is the
table's to say: :meth:`KeyCondition.resolve` checks the condition against the schema.

The parser is hand-written on the shared tokenizer (see
:mod:`~stratus.resources.table.expressions.parser` for why); its parse is cached by
``(text, names)`` and values are bound per call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions.conditions import compare, describe, ordered
from stratus.resources.table.expressions.messages import invalid, operand_type
from stratus.resources.table.expressions.operands import Operand, ValueRef
from stratus.resources.table.expressions.parser import (
    COMPARATORS,
    Parser,
    bind_values,
    check_names,
    check_text,
    check_unused,
)
from stratus.resources.table.expressions.placeholders import Placeholders
from stratus.resources.table.values import type_of, validate_value

KIND = "KeyConditionExpression"
SORT_OPERATORS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"})
_NOT_SUPPORTED = "Query key condition not supported"
_ONE_PER_KEY = "KeyConditionExpressions must only contain one condition per key"


@dataclass(frozen=True)
class SortCondition:
    """One condition on one key attribute: ``name op operands`` (BETWEEN has two operands)."""

    name: str
    op: str
    operands: tuple[Any, ...]

    def matches(self, value: Any) -> bool:
        """Whether a key value satisfies this condition (DynamoDB semantics: other types never match)."""
        if self.op == "BETWEEN":
            low, high = self.operands
            return ordered(value, low) and ordered(value, high) and bool(low <= value <= high)
        (operand,) = self.operands
        if self.op == "begins_with":
            if isinstance(value, str) and isinstance(operand, str):
                return value.startswith(operand)
            return isinstance(value, bytes) and isinstance(operand, bytes) and value.startswith(operand)
        return compare(self.op, value, operand)

    def render(self, ph: Placeholders) -> str:
        name = ph.name(self.name)
        if self.op == "BETWEEN":
            return f"{name} BETWEEN {ph.value(self.operands[0])} AND {ph.value(self.operands[1])}"
        if self.op == "begins_with":
            return f"begins_with({name}, {ph.value(self.operands[0])})"
        return f"{name} {self.op} {ph.value(self.operands[0])}"

    def check(self, kind: str = KIND) -> None:
        if self.op == "begins_with":
            known = type_of(self.operands[0])
            if known not in ("S", "B"):
                raise operand_type(kind, "begins_with", known)
        elif self.op == "BETWEEN":
            low, high = self.operands
            if type_of(low) != type_of(high):
                raise invalid(
                    kind,
                    "The BETWEEN operator requires same data type for lower and upper bounds; "
                    f"lower bound operand: {describe(low)}, upper bound operand: {describe(high)}",
                )
            if ordered(low, high) and low > high:
                raise invalid(
                    kind,
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                    f"lower bound operand: {describe(low)}, upper bound operand: {describe(high)}",
                )


class KeyCondition:
    """The partition-key equality and at most one sort-key condition of a Query."""

    def __init__(
        self,
        conditions: tuple[SortCondition, ...],
        *,
        names_used: frozenset[str] = frozenset(),
        values_used: frozenset[str] = frozenset(),
    ) -> None:
        if len(conditions) > 2 or len({c.name for c in conditions}) != len(conditions):
            raise ValidationError(_ONE_PER_KEY)
        if not any(c.op == "=" for c in conditions):
            raise ValidationError(_NOT_SUPPORTED)
        for condition in conditions:
            condition.check()
        # The partition key is the equality; with two equalities, the first one written.
        first = next(c for c in conditions if c.op == "=")
        rest = tuple(c for c in conditions if c is not first)
        self.conditions = (first, *rest)
        self.names_used = names_used
        self.values_used = values_used

    @property
    def partition(self) -> tuple[str, Any]:
        """``(name, value)`` of the partition-key equality."""
        first = self.conditions[0]
        return first.name, first.operands[0]

    @property
    def sort(self) -> SortCondition | None:
        """The sort-key condition, if any."""
        return self.conditions[1] if len(self.conditions) > 1 else None

    def names(self) -> list[str]:
        return [c.name for c in self.conditions]

    def resolve(self, partition_key: str, sort_key: str | None = None) -> KeyCondition:
        """This condition checked against a key schema (and ordered by it), with DynamoDB's messages."""
        by_name = {c.name: c for c in self.conditions}
        if partition_key not in by_name:
            raise ValidationError(f"Query condition missed key schema element: {partition_key}")
        extra = [name for name in by_name if name not in (partition_key, sort_key)]
        if extra:
            missing = sort_key if sort_key is not None else extra[0]
            raise ValidationError(f"Query condition missed key schema element: {missing}")
        partition = by_name[partition_key]
        if partition.op != "=":
            raise ValidationError(_NOT_SUPPORTED)
        ordered_conditions = [partition]
        if sort_key is not None and sort_key in by_name:
            ordered_conditions.append(by_name[sort_key])
        result = KeyCondition.__new__(KeyCondition)
        result.conditions = tuple(ordered_conditions)
        result.names_used = self.names_used
        result.values_used = self.values_used
        return result

    def matches_sort(self, value: Any) -> bool:
        """Whether a sort-key value satisfies the sort condition (True when there is none)."""
        sort = self.sort
        return True if sort is None else sort.matches(value)

    def matches(self, item: Mapping[str, Any]) -> bool:
        """Whether an item's key attributes satisfy every condition."""
        return all(c.name in item and c.matches(item[c.name]) for c in self.conditions)

    def render(self, ph: Placeholders) -> str:
        return " AND ".join(c.render(ph) for c in self.conditions)

    def __and__(self, other: KeyCondition) -> KeyCondition:
        if not isinstance(other, KeyCondition):
            raise TypeError(f"key conditions combine with key conditions, not {type(other).__name__}")
        return KeyCondition((*self.conditions, *other.conditions))

    def __iter__(self) -> Iterator[SortCondition]:
        return iter(self.conditions)

    def __repr__(self) -> str:
        return f"KeyCondition({list(self.conditions)!r})"


class _KeyBuilderCondition(KeyCondition):
    """A single builder condition: it may be a lone sort condition until combined with ``&``."""

    def __init__(self, condition: SortCondition) -> None:
        condition.check()
        self.conditions = (condition,)
        self.names_used = frozenset()
        self.values_used = frozenset()


class Key:
    """A key attribute in a builder key condition: ``Key("pk").eq("u1") & Key("sk").begins_with("o#")``."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"A key attribute name must be a non-empty string, got {name!r}")
        self.name = name

    def _make(self, op: str, *operands: Any) -> KeyCondition:
        checked = tuple(validate_value(v, path=self.name) for v in operands)
        return _KeyBuilderCondition(SortCondition(self.name, op, checked))

    def eq(self, value: Any) -> KeyCondition:
        return self._make("=", value)

    def lt(self, value: Any) -> KeyCondition:
        return self._make("<", value)

    def lte(self, value: Any) -> KeyCondition:
        return self._make("<=", value)

    def gt(self, value: Any) -> KeyCondition:
        return self._make(">", value)

    def gte(self, value: Any) -> KeyCondition:
        return self._make(">=", value)

    def between(self, low: Any, high: Any) -> KeyCondition:
        return self._make("BETWEEN", low, high)

    def begins_with(self, prefix: Any) -> KeyCondition:
        return self._make("begins_with", prefix)


# -- parsing -------------------------------------------------------------------------------------

_Unbound = tuple[str, str, tuple[Operand, ...]]


class KeyConditionParser(Parser):
    def conditions(self) -> list[_Unbound]:
        found = self.term()
        while True:
            if self.is_keyword("AND"):
                self.advance()
                found.extend(self.term())
            elif self.is_keyword("OR"):
                raise ValidationError("Invalid operator used in KeyConditionExpression: OR")
            else:
                return found

    def term(self) -> list[_Unbound]:
        if self.is_keyword("NOT"):
            raise ValidationError("Invalid operator used in KeyConditionExpression: NOT")
        if self.is_punct("("):
            self.advance()
            inner = self.conditions()
            self.expect_punct(")")
            return inner
        if self.is_call():
            function = self.peek().text
            if function != "begins_with":
                if function in ("attribute_exists", "attribute_not_exists", "attribute_type", "contains", "size"):
                    raise ValidationError(f"Invalid operator used in KeyConditionExpression: {function}")
                raise invalid(self.kind, f"Invalid function name; function: {function}")
            self.advance()
            self.expect_punct("(")
            name = self.key_name()
            self.expect_punct(",")
            value = self.value()
            self.expect_punct(")")
            return [(name, "begins_with", (value,))]
        if self.peek().kind == "valuevar":  # :v = name
            value = self.value()
            token = self.comparator()
            name = self.key_name()
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(token, token)
            return [(name, flipped, (value,))]
        name = self.key_name()
        if self.is_keyword("BETWEEN"):
            self.advance()
            low = self.value()
            self.expect_keyword("AND")
            return [(name, "BETWEEN", (low, self.value()))]
        if self.is_keyword("IN"):
            raise ValidationError("Invalid operator used in KeyConditionExpression: IN")
        token = self.comparator()
        return [(name, token, (self.value(),))]

    def comparator(self) -> str:
        token = self.peek()
        if token.kind != "op" or token.text not in COMPARATORS:
            raise self.error()
        if token.text == "<>":
            raise ValidationError("Invalid operator used in KeyConditionExpression: <>")
        self.advance()
        return token.text

    def key_name(self) -> str:
        path = self.path()
        if len(path) != 1:
            raise invalid(self.kind, "KeyConditionExpressions cannot have conditions on nested attributes")
        return path.name

    def value(self) -> ValueRef:
        token = self.peek()
        if token.kind in ("name", "namevar"):
            raise ValidationError(
                "Invalid condition in KeyConditionExpression: multiple attribute names used in one condition"
            )
        if token.kind != "valuevar":
            raise self.error()
        return self.value_ref()


@lru_cache(maxsize=2048)
def _parse(
    text: str, names: tuple[tuple[str, str], ...]
) -> tuple[tuple[_Unbound, ...], frozenset[str], tuple[str, ...]]:
    parser = KeyConditionParser(text, KIND, dict(names))
    found = parser.conditions()
    parser.expect_end()
    return tuple(found), frozenset(parser.names_used), tuple(parser.values_used)


def parse_key_condition(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    check_unused_keys: bool = True,
) -> KeyCondition:
    """Parse a KeyConditionExpression and bind its values (see ``parse_condition`` for ``check_unused_keys``)."""
    check_text(text, KIND)
    checked_names = check_names(names)
    found, names_used, values_used = _parse(text, tuple(sorted(checked_names.items())))
    bound = bind_values(KIND, values_used, values)
    conditions = tuple(
        SortCondition(name, op, tuple(operand.value({}, bound) for operand in operands)) for name, op, operands in found
    )
    result = KeyCondition(conditions, names_used=names_used, values_used=frozenset(values_used))
    if check_unused_keys:
        check_unused(checked_names, bound, result)
    return result
