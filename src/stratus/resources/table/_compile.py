"""Turn what a caller passes (builder objects or expression text) into parsed expressions.

Each table method accepts conditions, filters, updates and projections either as
builder objects (``Attr("n").gt(1)``) or as DynamoDB expression strings with
``names=`` and ``values=``. A request's names and values are shared by all its
expressions, so they are parsed without the per-expression unused check and checked
together afterwards, as DynamoDB does. Key conditions are checked against the key
schema they query (attribute names, then types).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions import (
    Condition,
    KeyCondition,
    Operand,
    Projection,
    Update,
    check_unused,
    parse_condition,
    parse_filter,
    parse_key_condition,
    parse_projection,
    parse_update,
)
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


def condition_only(condition: Any, names: Any, values: Any) -> Any:
    """A ConditionExpression alone (put, delete, condition checks)."""
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
