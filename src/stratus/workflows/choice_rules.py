"""Choice rules: the comparison operators (and their ``...Path`` forms), ``Is*`` tests,
``StringMatches``, ``And``/``Or``/``Not`` (JSONPath), and ``Condition`` (JSONata).

A comparison whose operand has the wrong type is simply false (``StringEquals`` on a
number, ``TimestampEquals`` on a non-timestamp string), as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stratus.workflows.errors import QUERY_EVALUATION, RUNTIME, Problems, StatesError
from stratus.workflows.jsonata_expr import Expression, JsonataSyntaxError, is_expression
from stratus.workflows.jsonpath import JsonPathSyntaxError, Path, PathNotFound, compile_path
from stratus.workflows.templates import Env, type_name
from stratus.workflows.timestamps import parse_timestamp


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _ts(v: Any) -> bool:
    return parse_timestamp(v) is not None


_KINDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "String": (_str, lambda v: v),
    "Numeric": (_is_num, lambda v: v),
    "Boolean": (_bool, lambda v: v),
    "Timestamp": (_ts, parse_timestamp),
}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
COMPARISONS: set[str] = set()
for _kind in _KINDS:
    for _rel in _RELATIONS:
        if _kind == "Boolean" and _rel != "Equals":
            continue
        COMPARISONS.add(_kind + _rel)
        COMPARISONS.add(_kind + _rel + "Path")
COMPARISONS.update({"StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"})


def string_matches(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` is a literal star and ``\\\\`` a backslash."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class Rule:
    """A compiled rule; ``matches(env)`` decides it."""

    def matches(self, env: Env) -> bool:
        raise NotImplementedError


class _And(Rule):
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def matches(self, env: Env) -> bool:
        return all(r.matches(env) for r in self.rules)


class _Or(Rule):
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def matches(self, env: Env) -> bool:
        return any(r.matches(env) for r in self.rules)


class _Not(Rule):
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def matches(self, env: Env) -> bool:
        return not self.rule.matches(env)


def _root(path: Path, env: Env) -> Any:
    return env.scope().root(path)


def _invalid_path(path: Path, exc: PathNotFound) -> StatesError:
    return StatesError(RUNTIME, f"Invalid path '{path.text}' : {exc.message}")


class _Compare(Rule):
    def __init__(self, variable: Path, operator: str, operand: Any) -> None:
        self.variable = variable
        self.operator = operator
        self.operand = operand  # a literal, a Path (…Path forms), or a compiled pattern
        self.check: Callable[[Any], bool] | None = None
        self.relation: Callable[[Any, Any], bool] | None = None
        self.convert: Callable[[Any], Any] | None = None
        base = operator[:-4] if operator.endswith("Path") and operator != "IsPresentPath" else operator
        for kind, (check, convert) in _KINDS.items():
            if base.startswith(kind) and base[len(kind) :] in _RELATIONS:
                self.check, self.convert, self.relation = check, convert, _RELATIONS[base[len(kind) :]]

    def matches(self, env: Env) -> bool:
        op = self.operator
        if op == "IsPresent":
            present = self.variable.exists(_root(self.variable, env))
            return present == self.operand
        try:
            value = self.variable.get(_root(self.variable, env))
        except PathNotFound as exc:
            if op.startswith("Is"):
                return not self.operand
            raise _invalid_path(self.variable, exc) from exc
        if op == "IsNull":
            return (value is None) == self.operand
        if op == "IsNumeric":
            return _is_num(value) == self.operand
        if op == "IsString":
            return isinstance(value, str) == self.operand
        if op == "IsBoolean":
            return isinstance(value, bool) == self.operand
        if op == "IsTimestamp":
            return _ts(value) == self.operand
        if op == "StringMatches":
            return isinstance(value, str) and bool(self.operand.fullmatch(value))
        operand = self.operand
        if isinstance(operand, Path):
            try:
                operand = operand.get(_root(operand, env))
            except PathNotFound as exc:
                raise _invalid_path(operand, exc) from exc
        assert self.check and self.convert and self.relation
        if not (self.check(value) and self.check(operand)):
            return False
        return self.relation(self.convert(value), self.convert(operand))


class _Condition(Rule):
    def __init__(self, expression: Expression | bool) -> None:
        self.expression = expression

    def matches(self, env: Env) -> bool:
        if isinstance(self.expression, bool):
            return self.expression
        value = self.expression.evaluate(env, "Condition")
        if not isinstance(value, bool):
            raise StatesError(
                QUERY_EVALUATION,
                f"The JSONata expression '{self.expression.source}' specified for the field 'Condition' returned an "
                f"unexpected result type. Expected 'boolean', but was '{type_name(value)}' for value: {value}",
            )
        return value


_RULE_KEYS = {"Next", "Comment", "Assign", "Output"}


def compile_rule(raw: Any, where: str, problems: Problems, *, jsonata: bool, top: bool) -> Rule | None:
    """Compile one rule (``top``: a member of ``Choices``, which carries ``Next``)."""
    if not isinstance(raw, dict):
        problems.add(where, "a choice rule must be an object")
        return None
    if jsonata:
        if "Condition" not in raw:
            problems.add(where, "a JSONata choice rule needs a 'Condition'")
            return None
        extra = set(raw) - _RULE_KEYS - {"Condition"}
        if extra:
            problems.add(where, f"unexpected field(s) {sorted(extra)} in a JSONata choice rule")
        cond = raw["Condition"]
        if isinstance(cond, bool):
            return _Condition(cond)
        if not is_expression(cond):
            problems.add(f"{where}/Condition", "must be a boolean or a '{% %}' expression")
            return None
        try:
            return _Condition(Expression(cond))
        except JsonataSyntaxError as exc:
            problems.add(f"{where}/Condition", f"{exc}")
            return None
    if "Condition" in raw:
        problems.add(where, "'Condition' is a JSONata field; this state uses JSONPath")
        return None
    for combinator in ("And", "Or"):
        if combinator in raw:
            subs = raw[combinator]
            if not isinstance(subs, list) or not subs:
                problems.add(f"{where}/{combinator}", "must be a non-empty array of rules")
                return None
            rules = [
                compile_rule(s, f"{where}/{combinator}[{i}]", problems, jsonata=False, top=False)
                for i, s in enumerate(subs)
            ]
            compiled = [r for r in rules if r is not None]
            return _And(compiled) if combinator == "And" else _Or(compiled)
    if "Not" in raw:
        sub = compile_rule(raw["Not"], f"{where}/Not", problems, jsonata=False, top=False)
        return _Not(sub) if sub else None
    operators = [k for k in raw if k in COMPARISONS]
    unknown = set(raw) - COMPARISONS - _RULE_KEYS - {"Variable"}
    if unknown:
        problems.add(where, f"unknown field(s) {sorted(unknown)} in a choice rule")
    if len(operators) != 1:
        problems.add(where, f"a choice rule needs exactly one comparison operator (found {len(operators)})")
        return None
    if "Variable" not in raw:
        problems.add(where, "a comparison needs a 'Variable'")
        return None
    try:
        variable = compile_path(raw["Variable"])
    except JsonPathSyntaxError as exc:
        problems.add(f"{where}/Variable", f"{exc}")
        return None
    op = operators[0]
    value = raw[op]
    if op.endswith("Path"):
        try:
            return _Compare(variable, op, compile_path(value))
        except JsonPathSyntaxError as exc:
            problems.add(f"{where}/{op}", f"{exc}")
            return None
    if op.startswith("Is"):
        if not isinstance(value, bool):
            problems.add(f"{where}/{op}", "must be a boolean")
            return None
        return _Compare(variable, op, value)
    if op == "StringMatches":
        if not isinstance(value, str):
            problems.add(f"{where}/{op}", "must be a string")
            return None
        return _Compare(variable, op, string_matches(value))
    kind = next(k for k in _KINDS if op.startswith(k))
    check = _KINDS[kind][0]
    if not check(value):
        problems.add(f"{where}/{op}", f"the value {value!r} is not a valid {kind.lower()}")
        return None
    return _Compare(variable, op, value)
