"""Parsing ConditionExpression and FilterExpression text.

Grammar (DynamoDB's, with its precedence: comparisons, IN, BETWEEN and functions bind
tightest, then NOT, then AND, then OR)::

    condition  := or
    or         := and ( OR and )*
    and        := not ( AND not )*
    not        := NOT not | primary
    primary    := '(' condition ')' | function | operand comparator operand
                | operand BETWEEN operand AND operand | operand IN '(' operand (',' operand)* ')'
    operand    := path | :value | size '(' path ')'
    function   := attribute_exists(path) | attribute_not_exists(path) | attribute_type(path, operand)
                | begins_with(path, operand) | contains(path, operand)

The parser is hand-written recursive descent on the shared tokenizer (see
:mod:`~stratus.resources.table.expressions.parser` for why no parser library). The parse
of ``(text, names, kind)`` is cached; values are bound per call, so a hot path that
sends the same expression with new values never parses twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from stratus.resources.table.expressions.conditions import (
    And,
    AttributeType,
    BeginsWith,
    Between,
    Bound,
    Compare,
    Condition,
    Contains,
    Exists,
    In,
    Not,
    Or,
    require_distinct,
)
from stratus.resources.table.expressions.messages import invalid
from stratus.resources.table.expressions.operands import Operand, PathOperand, Size
from stratus.resources.table.expressions.parser import (
    COMPARATORS,
    Parser,
    bind_values,
    check_names,
    check_text,
    check_unused,
)

CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
OPERAND_FUNCTIONS = frozenset({"size"})
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}


#: Most operators and functions one expression may use.
MAX_OPERATORS = 300


class ConditionParser(Parser):
    operators = 0

    def count(self) -> None:
        self.operators += 1

    def distinct(self, operator: str, first: Operand, rest: list[Operand]) -> None:
        require_distinct(self.kind, operator, first, rest)

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.is_keyword("OR"):
            self.advance()
            self.count()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.is_keyword("AND"):
            self.advance()
            self.count()
            left = And(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.is_keyword("NOT"):
            self.advance()
            self.count()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        if self.is_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        if self.is_call() and self.peek().text in CONDITION_FUNCTIONS:
            return self.function()
        left = self.operand()
        token = self.peek()
        self.count()
        if token.kind == "op" and token.text in COMPARATORS:
            self.advance()
            right = self.operand()
            self.distinct(token.text, left, [right])
            return Compare(token.text, left, right)
        if self.is_keyword("BETWEEN"):
            self.advance()
            low = self.operand()
            self.expect_keyword("AND")
            high = self.operand()
            self.distinct("BETWEEN", left, [low, high])
            return Between(left, low, high)
        if self.is_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            choices = [self.operand()]
            while self.is_punct(","):
                self.advance()
                choices.append(self.operand())
            self.expect_punct(")")
            self.distinct("IN", left, choices)
            return In(left, choices, kind=self.kind)
        if isinstance(left, Size) and token.kind in ("eof", "name", "punct"):
            raise invalid(self.kind, "The function is not allowed to be used this way in an expression; function: size")
        raise self.error()

    def arguments(self, name: str) -> list[Operand]:
        self.count()
        self.advance()  # name
        self.expect_punct("(")
        args = [self.operand()]
        while self.is_punct(","):
            self.advance()
            args.append(self.operand())
        self.expect_punct(")")
        if len(args) != _ARITY[name]:
            raise invalid(
                self.kind,
                f"Incorrect number of operands for operator or function; operator or function: {name}, "
                f"number of operands: {len(args)}",
            )
        if not isinstance(args[0], PathOperand):
            raise invalid(self.kind, f"Operator or function requires a document path; operator or function: {name}")
        return args

    def function(self) -> Condition:
        name = self.peek().text
        args = self.arguments(name)
        path = args[0]
        assert isinstance(path, PathOperand)
        if name in ("begins_with", "contains"):
            self.distinct(name, path, args[1:])
        if name == "attribute_exists":
            return Exists(path)
        if name == "attribute_not_exists":
            return Exists(path, negated=True)
        if name == "attribute_type":
            return AttributeType(path, args[1])
        if name == "begins_with":
            return BeginsWith(path, args[1])
        return Contains(path, args[1])

    def operand(self) -> Operand:
        token = self.peek()
        if self.is_call():
            if token.text == "size":
                path = self.arguments("size")[0]
                assert isinstance(path, PathOperand)
                return Size(path)
            if token.text in CONDITION_FUNCTIONS or token.text in UPDATE_FUNCTIONS:
                raise invalid(
                    self.kind,
                    f"The function is not allowed to be used this way in an expression; function: {token.text}",
                )
            raise invalid(self.kind, f"Invalid function name; function: {token.text}")
        if token.kind == "valuevar":
            return self.value_ref()
        return self.path_operand()


@lru_cache(maxsize=2048)
def _parse(
    text: str, kind: str, names: tuple[tuple[str, str], ...]
) -> tuple[Condition, frozenset[str], tuple[str, ...]]:
    parser = ConditionParser(text, kind, dict(names))
    node = parser.condition()
    parser.expect_end()
    if parser.operators > MAX_OPERATORS:
        raise invalid(kind, f"The expression contains too many operators; operator count: {parser.operators}")
    return node, frozenset(parser.names_used), tuple(parser.values_used)


def parse_condition(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    kind: str = "ConditionExpression",
    check_unused_keys: bool = True,
) -> Bound:
    """Parse a ConditionExpression (or, with ``kind``, a FilterExpression) and bind its values.

    ``names`` maps ``#placeholders`` to attribute names, ``values`` maps ``:placeholders``
    to plain Python values. With ``check_unused_keys`` (the default) names or values the
    expression does not use are refused, as DynamoDB refuses them; pass False when the
    maps are shared with other expressions of the request and call
    :func:`~stratus.resources.table.expressions.check_unused` on them all.
    """
    check_text(text, kind)
    checked_names = check_names(names)
    node, names_used, values_used = _parse(text, kind, tuple(sorted(checked_names.items())))
    bound_values = bind_values(kind, values_used, values)
    node.check(bound_values, kind)
    result = Bound(node, bound_values, names_used, frozenset(values_used))
    if check_unused_keys:
        check_unused(checked_names, bound_values, result)
    return result


def parse_filter(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    check_unused_keys: bool = True,
) -> Bound:
    """Parse a FilterExpression (the condition grammar; errors say ``Invalid FilterExpression``)."""
    return parse_condition(text, names, values, kind="FilterExpression", check_unused_keys=check_unused_keys)
