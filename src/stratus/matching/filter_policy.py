"""SNS subscription filter policies: validation with SNS's limits and messages, and message matching.

A policy applies either to the message attributes (``FilterPolicyScope=MessageAttributes``, SNS's
default: flat policies only, attribute values typed by ``DataType``) or to the message body
(``MessageBody``: the body must be a JSON object, nested policies allowed). The rule language is
shared with EventBridge (:mod:`stratus.matching.operators`, SNS dialect); this module adds SNS's own
constraints: at most 5 keys, at most 150 value combinations (values multiplied across keys, ``$or``
alternatives added, and, in body policies, each key's values weighted by its nesting depth, which is
how SNS counts), and the scope rule. SNS's error text depends on the API that set the policy
(``Subscribe`` wraps it in ``Attributes Reason:``), so the prefix is a parameter.

SNS's matcher is not published as a library, hence hand-written on the shared engine.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from stratus.matching import jsontext
from stratus.matching.dialect import SNS
from stratus.matching.errors import InvalidFilterPolicy, PatternError, TooManyAlternatives
from stratus.matching.evaluate import rule_matches
from stratus.matching.rules import OR, CompiledRule, compile_rule

Scope = Literal["MessageAttributes", "MessageBody"]

#: Error prefix when the policy came with ``Subscribe`` (``Attributes.FilterPolicy``).
SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: "
#: Error prefix when the policy came with ``SetSubscriptionAttributes``.
SET_SUBSCRIPTION_ATTRIBUTES_PREFIX = "Invalid parameter: "

MAX_KEYS = 5
MAX_COMBINATIONS = 150
#: Marks a parsed body in a ``matches`` memo (attribute names are the other keys).
_BODY = object()


class FilterPolicy:
    """A validated, compiled filter policy for one scope."""

    __slots__ = ("_names", "rule", "scope", "source")

    def __init__(self, rule: CompiledRule, scope: Scope, source: Any) -> None:
        self.rule = rule
        self.scope = scope
        self.source = source
        self._names = tuple(sorted(rule.paths))

    def matches(
        self,
        message_attributes: dict[str, Any] | None = None,
        body: str | None = None,
        memo: dict[Any, Any] | None = None,
    ) -> bool:
        """Whether SNS would deliver a message with these attributes / this body to the subscription.

        ``memo`` (a dict, empty at first, shared by every subscription a message is matched against)
        keeps each attribute's converted values and each parsed body, so a publish converts them once
        rather than once per subscription.
        """
        if self.scope == "MessageBody":
            if body is None:
                return False
            key = (_BODY, body)
            if memo is not None and key in memo:
                parsed = memo[key]
            else:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if memo is not None:
                    memo[key] = parsed
            return isinstance(parsed, dict) and rule_matches(self.rule, parsed)
        # Attribute policies are flat: each key names one attribute, so its values are the flat values
        # (a String.Array's elements share no array with another key, so no position check is needed).
        attributes = message_attributes or {}
        values: dict[str, list[Any]] = {}
        for name in self._names:
            if memo is not None and name in memo:
                found = memo[name]
            else:
                attribute = attributes.get(name)
                found = _attribute_value(attribute) if attribute is not None else None
                if memo is not None:
                    memo[name] = found
            if found:
                values[name] = found
        return any(check(values) for check in self.rule.checks)

    def __repr__(self) -> str:
        return f"FilterPolicy({self.scope}, {json.dumps(self.source)[:80]})"


def attribute_values(attributes: dict[str, Any]) -> dict[str, list[Any]]:
    """Message attributes as the JSON values SNS compares, by attribute name.

    Attributes are given as Publish takes them (``{"DataType": ..., "StringValue": ...}``) or as SNS
    delivers them in notifications (``{"Type": ..., "Value": ...}``). ``String`` gives its text,
    ``Number`` its number, ``String.Array`` the leaves of its JSON array (custom suffixes such as
    ``String.uuid`` or ``Number.float`` count as their base type); ``Binary`` attributes are not compared
    by SNS, so they are left out (absent).
    """
    out: dict[str, list[Any]] = {}
    for name, attribute in attributes.items():
        values = _attribute_value(attribute)
        if values:
            out[name] = values
    return out


def _attribute_value(attribute: Any) -> list[Any] | None:
    if type(attribute) is not dict:
        return None
    text = attribute.get("StringValue", attribute.get("Value"))
    if type(text) is not str:
        return None
    data_type = attribute.get("DataType", attribute.get("Type"))
    if data_type == "String":
        return [text]
    if data_type == "Number":
        number = _number(text)
        return None if number is None else [number]
    if not isinstance(data_type, str):
        return None
    if data_type == "String.Array" or data_type.startswith("String.Array."):
        try:
            items = json.loads(text)
        except ValueError:
            return None
        if not isinstance(items, list):
            return None
        leaves: list[Any] = []
        _leaves(items, leaves)
        return leaves
    if data_type.startswith("String."):
        return [text]
    if data_type.startswith("Number."):
        number = _number(text)
        return None if number is None else [number]
    return None


def _leaves(items: list[Any], out: list[Any]) -> None:
    for item in items:
        if type(item) is list:
            _leaves(item, out)
        elif type(item) is not dict:
            out.append(item)


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> int | float | None:
    """A Number attribute's value (decimal or exponent notation), or None if it is not one."""
    if text.isdigit() and text.isascii():
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else None


def compile_filter_policy(
    policy: str | dict[str, Any],
    *,
    scope: Scope = "MessageAttributes",
    error_prefix: str = SET_SUBSCRIPTION_ATTRIBUTES_PREFIX,
) -> FilterPolicy:
    """Validate and compile a filter policy; raise :class:`InvalidFilterPolicy` with SNS's wording."""
    if scope not in ("MessageAttributes", "MessageBody"):
        raise InvalidFilterPolicy(
            f"{error_prefix}FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes"
        )
    try:
        if isinstance(policy, str):
            jsontext.check_root_is_object(policy)
            parsed = jsontext.loads(policy)
        else:
            parsed = policy
        try:
            rule = compile_rule(parsed, SNS)
        except TooManyAlternatives:
            raise PatternError("Filter policy is too complex") from None  # far beyond SNS's 150 combinations
        if max(len({f.path for f in branch}) for branch in rule.branches) > MAX_KEYS:
            raise PatternError(f"Filter policy can not have more than {MAX_KEYS} keys")
        if _combinations(parsed, 1, nested_weight=scope == "MessageBody") > MAX_COMBINATIONS:
            raise PatternError("Filter policy is too complex")
    except PatternError as exc:
        raise InvalidFilterPolicy(f"{error_prefix}FilterPolicy: {exc.reason}") from None
    if scope == "MessageAttributes" and _nested(parsed):
        raise InvalidFilterPolicy(
            f"{error_prefix}Filter policy scope MessageAttributes does not support nested filter policy"
        )
    return FilterPolicy(rule, scope, parsed)


def _combinations(obj: dict[str, Any], depth: int, *, nested_weight: bool) -> int:
    total = 1
    for key, value in obj.items():
        if key == OR:
            total *= sum(_combinations(alt, depth, nested_weight=nested_weight) for alt in value)
        elif isinstance(value, dict):
            total *= _combinations(value, depth + 1, nested_weight=nested_weight)
        else:
            total *= len(value) * (depth if nested_weight else 1)
    return total


def _nested(obj: dict[str, Any]) -> bool:
    for key, value in obj.items():
        if key == OR:
            if any(_nested(alt) for alt in value):
                return True
        elif isinstance(value, dict):
            return True
    return False
