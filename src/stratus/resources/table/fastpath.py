"""Validate and size an item in one pass, quickly, for the write hot path.

``values.validate_item`` and ``values.item_size`` are the definition; this module
gives the same result for the common top-level shapes (strings, integers, already
normal Decimals, bytes, booleans, nulls) without their general machinery, and hands
every other attribute (documents, sets, unusual numbers) to them. Writes are the
inner loop of every system on the local cloud, so the few microseconds matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.table.values import MAX_ITEM_BYTES, validate_item, validate_value, value_size

_INT_LIMIT = 10**38


def _int_size(value: int) -> int:
    if value == 0:
        return 2
    digits = len(str(abs(value)).rstrip("0"))
    return (digits + 1) // 2 + 1


def prepare_item(item: Any, *, what: str = "item") -> tuple[dict[str, Any], int]:
    """The validated, normalized item and its DynamoDB size. Raises ValidationError."""
    if type(item) is not dict:
        if not isinstance(item, Mapping):
            raise ValidationError(
                f"The {what} must be a mapping of attribute names to values, got {type(item).__name__}"
            )
        item = validate_item(item, what=what)
    out: dict[str, Any] = {}
    size = 0
    for name, value in item.items():
        if type(name) is not str or not name:
            validate_item({name: None}, what=what)  # raises, naming the bad attribute name
        kind = type(value)
        if kind is str:
            size += len(value.encode())
        elif kind is Decimal:
            _, digits, exponent = value.as_tuple()
            if (
                digits
                and digits[-1] != 0
                and isinstance(exponent, int)
                and exponent <= 0
                and len(digits) <= 38
                and -130 <= value.adjusted() <= 125
            ):
                size += (len(digits) + 1) // 2 + 1
            else:
                value = validate_value(value, path=name)
                size += value_size(value)
        elif kind is int and -_INT_LIMIT < value < _INT_LIMIT:
            size += _int_size(value)
            value = Decimal(value)
        elif kind is bool or value is None:
            size += 1
        elif kind is bytes:
            size += len(value)
        else:
            value = validate_value(value, path=name)
            size += value_size(value)
        size += len(name.encode())
        out[name] = value
    return out, size


def check_size(size: int, message: str = "Item size has exceeded the maximum allowed size") -> None:
    if size > MAX_ITEM_BYTES:
        raise ValidationError(message)
