"""Turn what a caller passes (builder objects or expression text) into parsed expressions.

Each table method accepts conditions, filters, updates and projections either as
builder objects (``Attr("n").gt(1)``) or as DynamoDB expression strings with
``names=`` and ``values=``. A request's names and values are shared by all its
expressions, so they are parsed without the per-expression unused check and checked
together afterwards, as DynamoDB does. Key conditions are checked against the key
schema they query (attribute names, then types).

Writes with expression text (an update and its condition, or a condition alone) are the
hot path of most systems, and a system sends the same few texts again and again with new
values. Everything the texts and the names decide (the parses, the names check, the
unused-names check, the key-attribute check) is done once and kept in a :class:`_Plan`
keyed by the texts and the names; a call then only checks and binds its values, in the
order the full path checks them, so the errors are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions import (
    Bound,
    Condition,
    KeyCondition,
    Operand,
    Projection,
    Update,
    check_unused,
    condition_parser,
    parse_condition,
    parse_filter,
    parse_key_condition,
    parse_projection,
    parse_update,
    updates,
)
from stratus.resources.table.expressions.messages import undefined_value, unused
from stratus.resources.table.expressions.parser import check_names, check_text, check_values
from stratus.resources.table.values import type_of

if TYPE_CHECKING:
    from stratus.resources.table.schema import KeyAttribute

_NAMES_ONLY = "ExpressionAttributeNames can only be specified when using expressions"
_VALUES_ONLY = "ExpressionAttributeValues can only be specified when using expressions"


def _parsed(expression: Any) -> Any:
    """The expression when it came from text (it then takes part in the unused check)."""
    return expression if hasattr(expression, "names_used") else None


def _no_placeholders(names: Mapping[str, str] | None, values: Mapping[str, Any] | None, strings: bool) -> None:
    if strings:
        return
    if names:
        raise ValidationError(_NAMES_ONLY)
    if values:
        raise ValidationError(_VALUES_ONLY)


def _condition(condition: Any, names: Any, values: Any, kind: str) -> Any:
    if condition is None:
        return None
    if isinstance(condition, str):
        if kind == "FilterExpression":
            return parse_filter(condition, names, values, check_unused_keys=False)
        return parse_condition(condition, names, values, kind=kind, check_unused_keys=False)
    if isinstance(condition, Condition):
        return condition
    what = "filter" if kind == "FilterExpression" else "condition"
    raise ValidationError(f"a {what} is a Condition (Attr(...)...) or expression text, got {type(condition).__name__}")


def _projection(projection: Any, names: Any) -> Any:
    if projection is None:
        return None
    if isinstance(projection, Projection):
        return projection
    if isinstance(projection, str):
        return parse_projection(projection, names, check_unused_keys=False)
    if isinstance(projection, Sequence) and all(isinstance(p, str) for p in projection):
        if not projection:
            raise ValidationError("Invalid ProjectionExpression: The expression can not be empty;")
        return Projection.of(*projection)
    raise ValidationError(
        f"a projection is expression text, a list of attribute paths or a Projection, got {type(projection).__name__}"
    )


def _finish(names: Any, values: Any, *expressions: Any) -> None:
    parsed = [_parsed(e) for e in expressions if e is not None]
    if not any(p is not None for p in parsed):
        _no_placeholders(names, values, False)
        return
    check_unused(names, values, *parsed)


_CONDITION = "ConditionExpression"
_UPDATE = "UpdateExpression"
#: Plans kept at most; the cache is emptied when full (systems use a few dozen texts).
MAX_PLANS = 1024

#: A parse: the tree (a condition node, or an update's actions), the names it used, its values in order of use.
_Parse = tuple[Any, frozenset[str], tuple[str, ...]]


class _Plan:
    """The parses of a request's expression texts with the checks that need no value already passed."""

    __slots__ = ("condition", "condition_values", "update", "update_values", "values_used")

    def __init__(self, update: _Parse | None, condition: _Parse | None) -> None:
        self.update = update
        self.condition = condition
        self.update_values = frozenset(update[2]) if update else frozenset()
        self.condition_values = frozenset(condition[2]) if condition else frozenset()
        self.values_used = self.update_values | self.condition_values


_plans: dict[tuple[Any, ...], _Plan] = {}


def _plan_key(
    update: str | None, condition: str | None, names: Any, key_names: tuple[str, ...]
) -> tuple[Any, ...] | None:
    """The cache key of a request's texts and names, or None when they cannot be one (the full path decides)."""
    if names is None:
        named: tuple[tuple[Any, Any], ...] | None = None
    elif type(names) is dict:
        named = tuple(names.items())
    else:
        return None
    key = (update, condition, named, key_names)
    try:
        hash(key)
    except TypeError:  # e.g. a list among the names: the full path refuses it
        return None
    return key


def _make_plan(update: str | None, condition: str | None, names: Any, key_names: tuple[str, ...]) -> _Plan | None:
    """A plan, or None when the texts or names fail a check (the full path then raises it, in its order)."""
    try:
        checked = check_names(names)
        ordered = tuple(sorted(checked.items()))
        parsed_update = None
        if update is not None:
            check_text(update, _UPDATE)
            parsed_update = updates._parse(update, ordered)
        parsed_condition = None
        if condition is not None:
            check_text(condition, _CONDITION)
            parsed_condition = condition_parser._parse(condition, _CONDITION, ordered)
    except ValidationError:
        return None
    names_used: frozenset[str] = frozenset()
    for parsed in (parsed_update, parsed_condition):
        if parsed is not None:
            names_used |= parsed[1]
    if set(checked) - names_used:
        return None
    if parsed_update is not None and any(action.path.name in key_names for action in parsed_update[0]):
        return None
    return _Plan(parsed_update, parsed_condition)


def _planned(update: str | None, condition: str | None, names: Any, key_names: tuple[str, ...]) -> _Plan | None:
    key = _plan_key(update, condition, names, key_names)
    if key is None:
        return None
    plan = _plans.get(key)
    if plan is None:
        plan = _make_plan(update, condition, names, key_names)
        if plan is not None:
            if len(_plans) >= MAX_PLANS:
                _plans.clear()
            _plans[key] = plan
    return plan


def _bind(plan: _Plan, values: Any) -> tuple[Update | None, Bound | None]:
    """Check and bind a call's values to a plan: the checks of the full path that need values, in its order."""
    bound = check_values(values)
    update = None
    if plan.update is not None:
        actions, names_used, values_used = plan.update
        for name in values_used:
            if name not in bound:
                raise undefined_value(_UPDATE, name)
        for action in actions:
            action.check(bound, _UPDATE)
        update = Update.__new__(Update)
        update.actions = actions
        update.values = bound
        update.names_used = names_used
        update.values_used = plan.update_values
    condition = None
    if plan.condition is not None:
        node, names_used, values_used = plan.condition
        for name in values_used:
            if name not in bound:
                raise undefined_value(_CONDITION, name)
        node.check(bound, _CONDITION)
        condition = Bound(node, bound, names_used, plan.condition_values)
    extra = bound.keys() - plan.values_used
    if extra:
        raise unused("ExpressionAttributeValues", extra)
    return update, condition


def condition_only(condition: Any, names: Any, values: Any) -> Any:
    """A ConditionExpression alone (put, delete, condition checks)."""
    if type(condition) is str:
        plan = _planned(None, condition, names, ())
        if plan is not None:
            return _bind(plan, values)[1]
    result = _condition(condition, names, values, "ConditionExpression")
    _finish(names, values, result)
    return result


def projection_only(projection: Any, names: Any) -> Any:
    result = _projection(projection, names)
    _finish(names, None, result)
    return result


def update_and_condition(
    update: Any,
    set: Mapping[str, Any] | None,
    remove: Sequence[str] | None,
    add: Mapping[str, Any] | None,
    delete: Mapping[str, Any] | None,
    condition: Any,
    names: Any,
    values: Any,
    key_names: tuple[str, ...],
) -> tuple[Update, Any]:
    """The update (from text, an Update, or the set/remove/add/delete shorthands) and its condition."""
    plain = set is None and remove is None and add is None and delete is None
    if plain and type(update) is str and (condition is None or type(condition) is str):
        plan = _planned(update, condition, names, key_names)
        if plan is not None:
            parsed_update, bound_condition = _bind(plan, values)
            assert parsed_update is not None
            return parsed_update, bound_condition
    shorthand = any(x is not None for x in (set, remove, add, delete))
    if update is not None and shorthand:
        raise ValidationError("pass either an update (expression or Update) or set=/remove=/add=/delete=, not both")
    if isinstance(update, str):
        parsed: Update = parse_update(update, names, values, check_unused_keys=False)
    elif isinstance(update, Update):
        parsed = update
    elif update is None:
        parsed = Update()
        for section, entries in (("set", set), ("add", add), ("delete", delete)):
            if entries is None:
                continue
            if not isinstance(entries, Mapping):
                raise ValidationError(f"{section}= is a mapping of attribute paths to values")
            for path, value in entries.items():
                parsed = getattr(parsed, section)(path, value)
        if remove is not None:
            if isinstance(remove, str) or not isinstance(remove, Sequence):
                raise ValidationError("remove= is a list of attribute paths")
            for path in remove:
                parsed = parsed.remove(path)
    else:
        raise ValidationError(f"an update is expression text or an Update, got {type(update).__name__}")
    cond = _condition(condition, names, values, "ConditionExpression")
    _finish(names, values, parsed if isinstance(update, str) else None, cond)
    for name in parsed.top_level_names():
        if name in key_names:
            raise ValidationError(f"Cannot update attribute {name}. This attribute is part of the key")
    return parsed, cond


def _top_level_names(node: Any, found: set[str]) -> set[str]:
    """The top-level attributes a condition tree reads (walking its nodes' slots)."""
    path = getattr(node, "path", None)
    if isinstance(node, Operand) and path is not None and hasattr(path, "name"):
        found.add(path.name)
    fields = [getattr(node, slot, None) for cls in type(node).__mro__ for slot in getattr(cls, "__slots__", ())]
    fields += list(getattr(node, "__dict__", {}).values())
    for child in fields:
        for item in child if isinstance(child, list | tuple) else (child,):
            if isinstance(item, Condition | Operand):
                _top_level_names(item, found)
    return found


def _key_type_error() -> ValidationError:
    return ValidationError(
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )


def query_parts(
    key_condition: Any,
    filter: Any,
    projection: Any,
    names: Any,
    values: Any,
    partition: KeyAttribute,
    sort: KeyAttribute | None,
    select: str,
) -> tuple[KeyCondition, Any, Any]:
    """The key condition (resolved against the queried key schema), filter and projection of a query."""
    if isinstance(key_condition, str):
        kc = parse_key_condition(key_condition, names, values, check_unused_keys=False)
    elif isinstance(key_condition, KeyCondition):
        kc = key_condition
    else:
        raise ValidationError(
            "a key condition is a KeyCondition (Key(...).eq(...)) or expression text, "
            f"got {type(key_condition).__name__}"
        )
    filt = _condition(filter, names, values, "FilterExpression")
    proj = _projection(projection, names)
    if proj is not None and select == "COUNT":
        raise ValidationError("Cannot specify the ProjectionExpression when choosing to get only the Count")
    _finish(names, values, kc if isinstance(key_condition, str) else None, filt, proj)
    kc = kc.resolve(partition.name, sort.name if sort else None)
    if filt is not None:
        for attribute in (partition, sort):
            if attribute is not None and attribute.name in _top_level_names(filt, set()):
                raise ValidationError(
                    "Filter Expression can only contain non-primary key attributes: "
                    f"Primary key attribute: {attribute.name}"
                )
    if type_of(kc.partition[1]) != partition.type:
        raise _key_type_error()
    condition = kc.sort
    if condition is not None:
        assert sort is not None
        for operand in condition.operands:
            if type_of(operand) != sort.type:
                raise _key_type_error()
    return kc, filt, proj


def scan_parts(filter: Any, projection: Any, names: Any, values: Any, select: str) -> tuple[Any, Any]:
    filt = _condition(filter, names, values, "FilterExpression")
    proj = _projection(projection, names)
    if proj is not None and select == "COUNT":
        raise ValidationError("Cannot specify the ProjectionExpression when choosing to get only the Count")
    _finish(names, values, filt, proj)
    return filt, proj
