"""Operands: the values an expression reads (paths, value placeholders, functions, arithmetic).

An operand is a node of the expression tree. Parsed expressions hold :class:`ValueRef`
nodes (``:v``) that look their value up at evaluation time, so one parse serves every
call with new values; builder expressions hold :class:`Literal` nodes. Conditions read
operands leniently (:meth:`Operand.value` gives :data:`MISSING` for what is not there);
update expressions read them strictly (:meth:`Operand.update_value` raises DynamoDB's
runtime errors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions.messages import (
    MISSING_ATTRIBUTE,
    WRONG_TYPE,
    operand_type,
)
from stratus.resources.table.expressions.paths import MISSING, Path
from stratus.resources.table.expressions.placeholders import Placeholders
from stratus.resources.table.values import add_numbers, subtract_numbers, type_of, validate_value

if TYPE_CHECKING:
    from stratus.resources.table.expressions.conditions import Condition

Values = Mapping[str, Any]


class Operand:
    """A node that yields a value from an item."""

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        """The operand's value in ``item``, or :data:`MISSING`."""
        raise NotImplementedError

    def update_value(self, item: Mapping[str, Any], values: Values) -> Any:
        """The operand's value for an update action; raises when it refers to nothing."""
        result = self.value(item, values)
        if result is MISSING:
            raise ValidationError(MISSING_ATTRIBUTE)
        return result

    def render(self, ph: Placeholders, values: Values) -> str:
        raise NotImplementedError

    def refs(self) -> Iterator[str]:
        """The value placeholders (``:v``) this operand reads."""
        return iter(())

    def static_type(self, values: Values) -> str | None:
        """The DynamoDB type when known without the item (values), else None."""
        return None

    def check(self, values: Values, kind: str) -> None:
        """Static checks that need the bound values."""

    # -- comparisons (conditions builder) --------------------------------------------------------

    def _compare(self, op: str, other: Any) -> Condition:
        from stratus.resources.table.expressions.conditions import Compare, require_distinct

        operand = to_operand(other)
        require_distinct("ConditionExpression", op, self, [operand])
        return Compare(op, self, operand)

    def eq(self, other: Any) -> Condition:
        return self._compare("=", other)

    def ne(self, other: Any) -> Condition:
        return self._compare("<>", other)

    def lt(self, other: Any) -> Condition:
        return self._compare("<", other)

    def lte(self, other: Any) -> Condition:
        return self._compare("<=", other)

    def gt(self, other: Any) -> Condition:
        return self._compare(">", other)

    def gte(self, other: Any) -> Condition:
        return self._compare(">=", other)

    def between(self, low: Any, high: Any) -> Condition:
        from stratus.resources.table.expressions.conditions import Between, require_distinct

        bounds = [to_operand(low), to_operand(high)]
        require_distinct("ConditionExpression", "BETWEEN", self, bounds)
        node = Between(self, *bounds)
        node.check({}, "ConditionExpression")
        return node

    def is_in(self, *choices: Any) -> Condition:
        from stratus.resources.table.expressions.conditions import In, require_distinct

        operands = [to_operand(c) for c in choices]
        require_distinct("ConditionExpression", "IN", self, operands)
        return In(self, operands, kind="ConditionExpression")


def to_operand(value: Any, *, path: str = "value") -> Operand:
    """An operand as is; anything else as a validated literal value."""
    if isinstance(value, Operand):
        return value
    return Literal(validate_value(value, path=path))


class PathOperand(Operand):
    """A document path read from the item."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        return self.path.get(item)

    def render(self, ph: Placeholders, values: Values) -> str:
        return ph.path(self.path.elements)

    def __repr__(self) -> str:
        return f"PathOperand({str(self.path)!r})"


class Literal(Operand):
    """A value given in Python (builder expressions)."""

    __slots__ = ("literal",)

    def __init__(self, literal: Any) -> None:
        self.literal = literal

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        return self.literal

    def render(self, ph: Placeholders, values: Values) -> str:
        return ph.value(self.literal)

    def static_type(self, values: Values) -> str | None:
        return type_of(self.literal)

    def __repr__(self) -> str:
        return f"Literal({self.literal!r})"


class ValueRef(Operand):
    """A ``:name`` placeholder, looked up in the values bound at evaluation."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        return values[self.name]

    def render(self, ph: Placeholders, values: Values) -> str:
        return ph.value(values[self.name])

    def refs(self) -> Iterator[str]:
        yield self.name

    def static_type(self, values: Values) -> str | None:
        return type_of(values[self.name])

    def __repr__(self) -> str:
        return f"ValueRef({self.name!r})"


def _size(value: Any) -> Any:
    if isinstance(value, str):
        return Decimal(len(value.encode("utf-8")))
    if isinstance(value, (bytes, list, set, frozenset, tuple, Mapping)):
        return Decimal(len(value))
    return MISSING


class Size(Operand):
    """``size(path)``: bytes of a string or binary, elements of a set, list or map."""

    __slots__ = ("operand",)

    def __init__(self, operand: PathOperand) -> None:
        self.operand = operand

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        return _size(self.operand.value(item, values))

    def render(self, ph: Placeholders, values: Values) -> str:
        return f"size({self.operand.render(ph, values)})"


class IfNotExists(Operand):
    """``if_not_exists(path, operand)``: the path's value, or the operand when the path is absent."""

    __slots__ = ("default", "operand")

    def __init__(self, operand: PathOperand, default: Operand) -> None:
        self.operand = operand
        self.default = default

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        found = self.operand.value(item, values)
        return self.default.value(item, values) if found is MISSING else found

    def update_value(self, item: Mapping[str, Any], values: Values) -> Any:
        found = self.operand.value(item, values)
        return self.default.update_value(item, values) if found is MISSING else found

    def render(self, ph: Placeholders, values: Values) -> str:
        return f"if_not_exists({self.operand.render(ph, values)}, {self.default.render(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.default.refs()

    def check(self, values: Values, kind: str) -> None:
        self.default.check(values, kind)


class ListAppend(Operand):
    """``list_append(a, b)``: the elements of list ``a`` followed by those of list ``b``."""

    __slots__ = ("first", "second")

    def __init__(self, first: Operand, second: Operand) -> None:
        self.first = first
        self.second = second

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        a, b = self.first.value(item, values), self.second.value(item, values)
        if isinstance(a, list) and isinstance(b, list):
            return [*a, *b]
        return MISSING

    def update_value(self, item: Mapping[str, Any], values: Values) -> Any:
        a, b = self.first.update_value(item, values), self.second.update_value(item, values)
        if not (isinstance(a, list) and isinstance(b, list)):
            raise ValidationError(WRONG_TYPE)
        return [*a, *b]

    def render(self, ph: Placeholders, values: Values) -> str:
        return f"list_append({self.first.render(ph, values)}, {self.second.render(ph, values)})"

    def refs(self) -> Iterator[str]:
        yield from self.first.refs()
        yield from self.second.refs()

    def check(self, values: Values, kind: str) -> None:
        for operand in (self.first, self.second):
            operand.check(values, kind)
            known = operand.static_type(values)
            if known is not None and known != "L":
                raise operand_type(kind, "list_append", known)


class Arithmetic(Operand):
    """``a + b`` or ``a - b`` on numbers (update expressions)."""

    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Operand, right: Operand) -> None:
        self.op = op
        self.left = left
        self.right = right

    def value(self, item: Mapping[str, Any], values: Values) -> Any:
        a, b = self.left.value(item, values), self.right.value(item, values)
        if not _is_number(a) or not _is_number(b):
            return MISSING
        return add_numbers(a, b) if self.op == "+" else subtract_numbers(a, b)

    def update_value(self, item: Mapping[str, Any], values: Values) -> Any:
        a, b = self.left.update_value(item, values), self.right.update_value(item, values)
        if not _is_number(a) or not _is_number(b):
            raise ValidationError(WRONG_TYPE)
        return add_numbers(a, b) if self.op == "+" else subtract_numbers(a, b)

    def render(self, ph: Placeholders, values: Values) -> str:
        return f"{self.left.render(ph, values)} {self.op} {self.right.render(ph, values)}"

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()

    def check(self, values: Values, kind: str) -> None:
        for operand in (self.left, self.right):
            operand.check(values, kind)
            known = operand.static_type(values)
            if known is not None and known != "N":
                raise operand_type(kind, self.op, known)


def _is_number(value: Any) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool)


def as_path_operand(spec: str | Path | Sequence[str | int] | PathOperand) -> PathOperand:
    """A path operand from a path string, a :class:`Path`, elements or an ``Attr``."""
    if isinstance(spec, PathOperand):
        return spec
    return PathOperand(Path(spec))
