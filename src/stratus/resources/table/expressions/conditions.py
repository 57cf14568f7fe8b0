"""Conditions: ConditionExpression and FilterExpression trees, their builder and evaluation.

Evaluation follows DynamoDB: comparing values of different types is false (not an
error); ``<>`` is true whenever ``=`` is false, including when the attribute is absent;
``<``, ``<=``, ``>``, ``>=`` and ``BETWEEN`` order strings and binary by their bytes and
numbers by value; ``begins_with`` works on strings and binary; ``contains`` finds a
substring, a set member or a list element; ``size`` counts bytes of strings and
binary and elements of sets, lists and maps.

Build conditions with ``Attr("a.b[0]").eq(1) & ~Attr("c").exists()`` or parse text with
:func:`~stratus.resources.table.expressions.parse_condition`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions.messages import invalid, operand_type
from stratus.resources.table.expressions.operands import (
    Arithmetic,
    Operand,
    PathOperand,
    Size,
    Values,
    to_operand,
)
from stratus.resources.table.expressions.paths import MISSING, Path
from stratus.resources.table.expressions.placeholders import Placeholders
from stratus.resources.table.values import to_attribute_value, type_of, values_equal

#: Most values an IN list may hold.
MAX_IN_OPERANDS = 100
#: The types ``attribute_type`` accepts.
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
_ORDERED = frozenset({"S", "N", "B"})
_ORDERED_TYPES = frozenset({str, Decimal, bytes, int})
_EMPTY: Mapping[str, Any] = {}


def describe(value: Any) -> str:
    """A value as DynamoDB prints it in messages: ``AttributeValue: {N:5}``."""
    ((kind, raw),) = to_attribute_value(value).items()
    return f"AttributeValue: {{{kind}:{raw}}}"


def ordered(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` can be ordered against each other (both S, both N or both B)."""
    kind = type(a)
    if kind is type(b):
        return kind in _ORDERED_TYPES
    if a is MISSING or b is MISSING or isinstance(a, bool) or isinstance(b, bool):
        return False
    ta = type_of(a)
    return ta in _ORDERED and ta == type_of(b)


def compare(op: str, a: Any, b: Any) -> bool:
    """DynamoDB's comparison ``a <op> b``: different types never compare (false, or true for ``<>``)."""
    if op == "=":
        return a is not MISSING and b is not MISSING and values_equal(a, b)
    if op == "<>":
        return not (a is not MISSING and b is not MISSING and values_equal(a, b))
    if not ordered(a, b):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    raise ValueError(f"unknown comparator {op!r}")


def require_distinct(kind: str, operator: str, first: Operand, rest: Sequence[Operand]) -> None:
    """DynamoDB refuses comparing a document path with itself (``a = a``, ``a IN (b, a)``)."""
    if not isinstance(first, PathOperand):
        return
    for other in rest:
        if isinstance(other, PathOperand) and other.path == first.path:
            raise invalid(
                kind,
                "The first operand must be distinct from the remaining operands for this operator or function; "
                f"operator: {operator}, first operand: {first.path.describe()}",
            )


class Condition:
    """A condition on an item: ``evaluate(item)`` is True or False (``item=None``: no item)."""

    def evaluate(self, item: Mapping[str, Any] | None) -> bool:
        """Whether the condition holds for ``item`` (None stands for an item that does not exist)."""
        return self.test(_EMPTY if item is None else item, _EMPTY)

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        raise NotImplementedError

    def render(self, ph: Placeholders) -> str:
        """The condition as expression text, with every name and value in ``ph``."""
        return self.render_with(ph, _EMPTY)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        raise NotImplementedError

    def refs(self) -> Iterator[str]:
        """The ``:value`` placeholders the tree reads (unbound parses only)."""
        return iter(())

    def check(self, values: Values, kind: str) -> None:
        """Checks DynamoDB makes on the values before reading any item."""

    @property
    def names_used(self) -> frozenset[str]:
        """The ``#name`` placeholders of the parsed expressions inside (for the unused-names check)."""
        return frozenset().union(*(child.names_used for child in self._children()))

    @property
    def values_used(self) -> frozenset[str]:
        """The ``:value`` placeholders of the parsed expressions inside (for the unused-values check)."""
        return frozenset().union(*(child.values_used for child in self._children()))

    def _children(self) -> tuple[Condition, ...]:
        return ()

    def __and__(self, other: Condition) -> Condition:
        return And(self, _condition(other))

    def __or__(self, other: Condition) -> Condition:
        return Or(self, _condition(other))

    def __invert__(self) -> Condition:
        return Not(self)

    def __repr__(self) -> str:
        ph = Placeholders()
        text = self.render(ph)
        return f"<Condition {text!r} names={ph.names!r} values={ph.values!r}>"


def _condition(other: Any) -> Condition:
    if not isinstance(other, Condition):
        raise TypeError(f"conditions combine with conditions, not {type(other).__name__}")
    return other


class Bound(Condition):
    """A parsed condition tree together with the values its placeholders stand for."""

    def __init__(
        self,
        node: Condition,
        values: Values,
        names_used: frozenset[str] = frozenset(),
        values_used: frozenset[str] = frozenset(),
    ) -> None:
        self.node = node
        self.values = values
        self._names_used = names_used
        self._values_used = values_used

    @property
    def names_used(self) -> frozenset[str]:
        return self._names_used

    @property
    def values_used(self) -> frozenset[str]:
        return self._values_used

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return self.node.test(item, self.values)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return self.node.render_with(ph, self.values)


class Compare(Condition):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Operand, right: Operand) -> None:
        self.op = op
        self.left = left
        self.right = right

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return compare(self.op, self.left.value(item, values), self.right.value(item, values))

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"{self.left.render(ph, values)} {self.op} {self.right.render(ph, values)}"

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()


class Between(Condition):
    __slots__ = ("high", "low", "operand")

    def __init__(self, operand: Operand, low: Operand, high: Operand) -> None:
        self.operand = operand
        self.low = low
        self.high = high

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        value = self.operand.value(item, values)
        low, high = self.low.value(item, values), self.high.value(item, values)
        return ordered(value, low) and ordered(value, high) and bool(low <= value <= high)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return (
            f"{self.operand.render(ph, values)} BETWEEN {self.low.render(ph, values)} "
            f"AND {self.high.render(ph, values)}"
        )

    def refs(self) -> Iterator[str]:
        yield from self.operand.refs()
        yield from self.low.refs()
        yield from self.high.refs()

    def check(self, values: Values, kind: str) -> None:
        if self.low.static_type(values) is None or self.high.static_type(values) is None:
            return
        low, high = self.low.value(_EMPTY, values), self.high.value(_EMPTY, values)
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


class In(Condition):
    __slots__ = ("choices", "operand")

    def __init__(self, operand: Operand, choices: Sequence[Operand], *, kind: str) -> None:
        if not choices:
            raise invalid(kind, "The IN operator requires at least one value to compare with")
        if len(choices) > MAX_IN_OPERANDS:
            raise invalid(
                kind,
                f"The IN operator is provided with too many operands; number of operands: {len(choices)}",
            )
        self.operand = operand
        self.choices = tuple(choices)

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        value = self.operand.value(item, values)
        if value is MISSING:
            return False
        return any(compare("=", value, choice.value(item, values)) for choice in self.choices)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        inner = ", ".join(choice.render(ph, values) for choice in self.choices)
        return f"{self.operand.render(ph, values)} IN ({inner})"

    def refs(self) -> Iterator[str]:
        yield from self.operand.refs()
        for choice in self.choices:
            yield from choice.refs()


class Exists(Condition):
    """``attribute_exists(path)``, or ``attribute_not_exists(path)`` when ``negated``."""

    __slots__ = ("negated", "operand")

    def __init__(self, operand: PathOperand, *, negated: bool = False) -> None:
        self.operand = operand
        self.negated = negated

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return (self.operand.value(item, values) is MISSING) is self.negated

    def render_with(self, ph: Placeholders, values: Values) -> str:
        name = "attribute_not_exists" if self.negated else "attribute_exists"
        return f"{name}({self.operand.render(ph, values)})"


class AttributeType(Condition):
    __slots__ = ("operand", "type_")

    def __init__(self, operand: PathOperand, type_: Operand) -> None:
        self.operand = operand
        self.type_ = type_

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        value = self.operand.value(item, values)
        return value is not MISSING and type_of(value) == self.type_.value(item, values)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"attribute_type({self.operand.render(ph, values)}, {self.type_.render(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.type_.refs()

    def check(self, values: Values, kind: str) -> None:
        known = self.type_.static_type(values)
        if known is None:
            return
        if known != "S":
            raise operand_type(kind, "attribute_type", known)
        name = self.type_.value(_EMPTY, values)
        if name not in ATTRIBUTE_TYPES:
            raise invalid(
                kind,
                f"Invalid attribute type name found; type: {name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}",
            )


class BeginsWith(Condition):
    __slots__ = ("operand", "prefix")

    def __init__(self, operand: PathOperand, prefix: Operand) -> None:
        self.operand = operand
        self.prefix = prefix

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        value, prefix = self.operand.value(item, values), self.prefix.value(item, values)
        if isinstance(value, str) and isinstance(prefix, str):
            return value.startswith(prefix)
        if isinstance(value, bytes) and isinstance(prefix, bytes):
            return value.startswith(prefix)
        return False

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"begins_with({self.operand.render(ph, values)}, {self.prefix.render(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.prefix.refs()

    def check(self, values: Values, kind: str) -> None:
        known = self.prefix.static_type(values)
        if known is not None and known not in ("S", "B"):
            raise operand_type(kind, "begins_with", known)


class Contains(Condition):
    __slots__ = ("needle", "operand")

    def __init__(self, operand: PathOperand, needle: Operand) -> None:
        self.operand = operand
        self.needle = needle

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        haystack, needle = self.operand.value(item, values), self.needle.value(item, values)
        if haystack is MISSING or needle is MISSING:
            return False
        if isinstance(haystack, str):
            return isinstance(needle, str) and needle in haystack
        if isinstance(haystack, bytes):
            return isinstance(needle, bytes) and needle in haystack
        if isinstance(haystack, (set, frozenset)):
            kind = type_of(haystack)
            return kind[0] == type_of(needle) and needle in haystack
        if isinstance(haystack, list):
            return any(values_equal(element, needle) for element in haystack)
        return False

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"contains({self.operand.render(ph, values)}, {self.needle.render(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.needle.refs()


class And(Condition):
    __slots__ = ("left", "right")

    def __init__(self, left: Condition, right: Condition) -> None:
        self.left = left
        self.right = right

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return self.left.test(item, values) and self.right.test(item, values)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"({self.left.render_with(ph, values)}) AND ({self.right.render_with(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()

    def check(self, values: Values, kind: str) -> None:
        self.left.check(values, kind)
        self.right.check(values, kind)

    def _children(self) -> tuple[Condition, ...]:
        return (self.left, self.right)


class Or(And):
    __slots__ = ()

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return self.left.test(item, values) or self.right.test(item, values)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"({self.left.render_with(ph, values)}) OR ({self.right.render_with(ph, values)})"


class Not(Condition):
    __slots__ = ("inner",)

    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def test(self, item: Mapping[str, Any], values: Values) -> bool:
        return not self.inner.test(item, values)

    def render_with(self, ph: Placeholders, values: Values) -> str:
        return f"NOT ({self.inner.render_with(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.inner.refs()

    def check(self, values: Values, kind: str) -> None:
        self.inner.check(values, kind)

    def _children(self) -> tuple[Condition, ...]:
        return (self.inner,)


# -- builder ---------------------------------------------------------------------------------------


class Attr(PathOperand):
    """A document path in a builder expression: ``Attr("a.b[0]").eq(5)``, ``Attr("n") + 1``."""

    __slots__ = ()

    def __init__(self, path: str | Path | Sequence[str | int]) -> None:
        super().__init__(Path(path))

    def begins_with(self, prefix: Any) -> Condition:
        operand = to_operand(prefix)
        require_distinct("ConditionExpression", "begins_with", self, [operand])
        node = BeginsWith(self, operand)
        node.check(_EMPTY, "ConditionExpression")
        return node

    def contains(self, value: Any) -> Condition:
        operand = to_operand(value)
        require_distinct("ConditionExpression", "contains", self, [operand])
        return Contains(self, operand)

    def exists(self) -> Condition:
        return Exists(self)

    def not_exists(self) -> Condition:
        return Exists(self, negated=True)

    def attribute_type(self, type_: str) -> Condition:
        if type_ not in ATTRIBUTE_TYPES:
            raise ValidationError(f"attribute_type takes one of {', '.join(ATTRIBUTE_TYPES)}, got {type_!r}")
        return AttributeType(self, to_operand(type_))

    def size(self) -> Size:
        """``size(path)``, an operand that supports the comparisons."""
        return Size(self)

    def __add__(self, other: Any) -> Arithmetic:
        return Arithmetic("+", self, to_operand(other))

    def __sub__(self, other: Any) -> Arithmetic:
        return Arithmetic("-", self, to_operand(other))

    def __repr__(self) -> str:
        return f"Attr({str(self.path)!r})"
