"""DynamoDB values: what an item may hold, how big it is, and its typed JSON form.

Items are plain Python: ``str``, ``decimal.Decimal`` (numbers), ``bytes``, ``bool``,
``None``, ``list``, ``dict`` and ``set`` (string, number or binary sets). This module
checks an item against DynamoDB's rules (38 significant digits, the number range,
no empty sets, one element type per set, 32 levels of nesting), normalizes it
(``int`` → ``Decimal``, ``bytearray`` → ``bytes``, ``frozenset`` → ``set``), computes
its size the way DynamoDB bills and limits it, and converts to and from the typed
attribute-value JSON (``{"S": "x"}``) that streams and the AWS adapter speak.

Floats are refused, as boto3 refuses them: a binary float cannot say which decimal
number it means, and DynamoDB stores decimal numbers.

Why not boto3's ``TypeSerializer``/``TypeDeserializer`` for the typed JSON: they hand
back ``Binary`` wrappers instead of ``bytes``, do not check DynamoDB's limits (range,
nesting, empty sets) or sizes, and would make the local runtime import boto3 on every
item; the conversion is a few lines, so it lives here beside the rules it must agree with.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from stratus.errors import ValidationError

#: The largest item DynamoDB stores (names and values, UTF-8).
MAX_ITEM_BYTES = 400 * 1024
#: How deep documents (maps and lists) may nest.
MAX_DEPTH = 32
#: Significant digits a number may carry.
MAX_DIGITS = 38
#: The longest attribute name (key attribute names are limited further by the table).
MAX_NAME_BYTES = 65535

# Numbers range over [1E-130, 9.9999999999999999999999999999999999999E+125] in magnitude.
_MAX_EXPONENT = 125
_MIN_EXPONENT = -130
# Enough precision for exact sums of any two valid numbers (their digits span < 300 places).
_SMALL_INT = 10**MAX_DIGITS
_EXACT = decimal.Context(prec=400, Emax=999999, Emin=-999999)
_SCALARS = frozenset({str, Decimal, bytes, bool, type(None), int})
_SET_TYPES = {"S": "SS", "N": "NS", "B": "BS"}


def _where(path: str) -> str:
    return f" (attribute: {path})" if path else ""


def validate_number(value: int | Decimal, *, path: str = "") -> Decimal:
    """Check a number against DynamoDB's precision and range; return it as a normalized Decimal."""
    if isinstance(value, int):
        if -_SMALL_INT < value < _SMALL_INT:  # the common case: nothing to normalize
            return Decimal(value)
        number = Decimal(value)
    else:
        number = value
    if not number.is_finite():
        raise ValidationError(f"Numbers must be finite: NaN and Infinity are not supported{_where(path)}")
    if number.is_zero():
        return Decimal(0)
    # adjusted() is the exponent of the leading digit: the range check needs no arithmetic.
    magnitude = number.adjusted()
    if magnitude > _MAX_EXPONENT:
        raise ValidationError(
            f"Number overflow. Attempting to store a number with magnitude larger than supported range{_where(path)}"
        )
    if magnitude < _MIN_EXPONENT:
        raise ValidationError(
            f"Number underflow. Attempting to store a number with magnitude smaller than supported range{_where(path)}"
        )
    _sign, digits, exponent = number.as_tuple()
    if len(digits) <= MAX_DIGITS and (exponent == 0 or (isinstance(exponent, int) and exponent < 0 and digits[-1])):
        return number  # already in DynamoDB's form: an integer, or a fraction without trailing zeros
    with decimal.localcontext(_EXACT):
        normal = number.normalize()
        _sign, digits, exponent = normal.as_tuple()
        assert isinstance(exponent, int)
        if len(digits) > MAX_DIGITS:
            raise ValidationError(f"Attempting to store more than 38 significant digits in a Number{_where(path)}")
        # DynamoDB drops trailing zeros; keep integers in plain notation (10, not 1E+1) while short.
        if exponent > 0 and len(digits) + exponent <= MAX_DIGITS:
            normal = normal.quantize(Decimal(1))
        return normal


# The context's own methods compute exactly as ``localcontext(_EXACT)`` would, without entering
# and leaving a context on every atomic counter (its flags are never read; its traps are the defaults).
_exact_add = _EXACT.add
_exact_subtract = _EXACT.subtract


def add_numbers(a: Decimal | int, b: Decimal | int) -> Decimal:
    """``a + b`` computed exactly, then checked as a stored number would be."""
    return validate_number(_exact_add(Decimal(a), Decimal(b)))


def subtract_numbers(a: Decimal | int, b: Decimal | int) -> Decimal:
    """``a - b`` computed exactly, then checked as a stored number would be."""
    return validate_number(_exact_subtract(Decimal(a), Decimal(b)))


def validate_value(value: Any, *, path: str, _depth: int = 0) -> Any:
    """Check one attribute value and return its normalized form; errors name ``path``."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return validate_number(value, path=path)
    if isinstance(value, float):
        raise ValidationError(f"Float types are not supported. Use int or Decimal types instead{_where(path)}")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (set, frozenset)):
        return _validate_set(value, path)
    if isinstance(value, (list, tuple, Mapping)):
        if _depth >= MAX_DEPTH:
            raise ValidationError(
                f"Nesting Levels have exceeded supported limits: documents nest at most {MAX_DEPTH} levels"
                f"{_where(path)}"
            )
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, inner in value.items():
                if not isinstance(key, str):
                    raise ValidationError(f"Map keys must be strings, got {key!r}{_where(path)}")
                out[key] = validate_value(inner, path=f"{path}.{key}", _depth=_depth + 1)
            return out
        return [validate_value(inner, path=f"{path}[{i}]", _depth=_depth + 1) for i, inner in enumerate(value)]
    raise ValidationError(f"Unsupported type {type(value).__name__} for a DynamoDB value{_where(path)}")


def _validate_set(value: set[Any] | frozenset[Any], path: str) -> set[Any]:
    if not value:
        raise ValidationError(f"One or more parameter values were invalid: A set may not be empty{_where(path)}")
    kinds = set()
    out: set[Any] = set()
    for element in value:
        if isinstance(element, str):
            kinds.add("SS")
            out.add(element)
        elif isinstance(element, bool):
            raise ValidationError(f"Sets may hold only strings, numbers or binary, got a boolean{_where(path)}")
        elif isinstance(element, (int, Decimal)):
            kinds.add("NS")
            out.add(validate_number(element, path=path))
        elif isinstance(element, float):
            raise ValidationError(f"Float types are not supported. Use int or Decimal types instead{_where(path)}")
        elif isinstance(element, (bytes, bytearray, memoryview)):
            kinds.add("BS")
            out.add(bytes(element))
        else:
            raise ValidationError(
                f"Sets may hold only strings, numbers or binary, got {type(element).__name__}{_where(path)}"
            )
        if len(kinds) > 1:
            raise ValidationError(
                f"A set must hold one type only (strings, numbers or binary), got a mixed set{_where(path)}"
            )
    if len(out) != len(value):
        raise ValidationError(
            f"One or more parameter values were invalid: Input collection contains duplicates{_where(path)}"
        )
    return out


def validate_item(item: Any, *, what: str = "item") -> dict[str, Any]:
    """Check a DynamoDB item and return a normalized copy.

    Raises :class:`~stratus.errors.ValidationError` naming the attribute path at fault.
    ``what`` names the thing in messages (``"item"``, ``"key"``, ``"ExpressionAttributeValues"``).
    """
    if not isinstance(item, Mapping):
        raise ValidationError(f"The {what} must be a mapping of attribute names to values, got {type(item).__name__}")
    out: dict[str, Any] = {}
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(f"Attribute names in the {what} must be non-empty strings, got {name!r}")
        if len(name) > MAX_NAME_BYTES // 4 and len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise ValidationError(f"Attribute name {name[:32]!r}... is longer than {MAX_NAME_BYTES} bytes")
        out[name] = validate_value(value, path=name)
    return out


def type_of(value: Any) -> str:
    """DynamoDB's type descriptor of a (validated) value: S, N, B, BOOL, NULL, M, L, SS, NS or BS."""
    if isinstance(value, str):
        return "S"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, (Decimal, int)):
        return "N"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "B"
    if value is None:
        return "NULL"
    if isinstance(value, Mapping):
        return "M"
    if isinstance(value, (list, tuple)):
        return "L"
    if isinstance(value, (set, frozenset)):
        for element in value:
            return _SET_TYPES[type_of(element)]
        raise ValidationError("An empty set has no DynamoDB type")
    if isinstance(value, float):
        raise ValidationError("Float types are not supported. Use int or Decimal types instead")
    raise ValidationError(f"Unsupported type {type(value).__name__} for a DynamoDB value")


# -- size ---------------------------------------------------------------------------------------


def _number_size(value: Decimal | int) -> int:
    number = Decimal(value)
    if number.is_zero():
        return 2
    digits = len(number.normalize(_EXACT).as_tuple().digits)
    return (digits + 1) // 2 + 1


def value_size(value: Any) -> int:
    """Bytes a value counts for, without its attribute name (DynamoDB's item size rules)."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (Decimal, int)):
        return _number_size(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, Mapping):
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, (set, frozenset)):
        return sum(value_size(v) for v in value)
    raise ValidationError(f"Unsupported type {type(value).__name__} for a DynamoDB value")


def item_size(item: Mapping[str, Any]) -> int:
    """The size of an item as DynamoDB counts it: UTF-8 attribute names plus value sizes.

    Strings count their UTF-8 bytes, numbers one byte per two significant digits plus
    one, binary its length, booleans and nulls one byte, lists and maps three bytes plus
    one byte per element plus their contents, sets the sum of their elements.
    """
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# -- typed JSON (AttributeValue) ----------------------------------------------------------------


def _number_text(value: Decimal | int) -> str:
    return str(value) if isinstance(value, int) else format(value, "f") if _plain(value) else str(value)


def _plain(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and -20 <= exponent <= 20


def to_attribute_value(value: Any) -> dict[str, Any]:
    """A Python value as DynamoDB's typed JSON: ``{"S": "x"}``, ``{"N": "1.5"}``, ``{"B": b"..."}``..."""
    kind = type_of(value)
    if kind == "S":
        return {"S": value}
    if kind == "N":
        return {"N": _number_text(value)}
    if kind == "B":
        return {"B": bytes(value)}
    if kind == "BOOL":
        return {"BOOL": value}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "M":
        return {"M": {k: to_attribute_value(v) for k, v in value.items()}}
    if kind == "L":
        return {"L": [to_attribute_value(v) for v in value]}
    if kind == "SS":
        return {"SS": sorted(value)}
    if kind == "NS":
        return {"NS": [_number_text(v) for v in sorted(value)]}
    return {"BS": sorted(bytes(v) for v in value)}


def _binary(raw: Any) -> bytes:
    if isinstance(raw, str):
        return base64.b64decode(raw)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    raise ValidationError(f"Binary attribute values must be bytes or base64 text, got {type(raw).__name__}")


def _decimal(raw: Any) -> Decimal:
    try:
        return validate_number(Decimal(raw))
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValidationError(f"A value provided cannot be converted into a number: {raw!r}") from None


def from_attribute_value(av: Mapping[str, Any]) -> Any:
    """The Python value of DynamoDB's typed JSON (the inverse of :func:`to_attribute_value`)."""
    if not isinstance(av, Mapping) or len(av) != 1:
        raise ValidationError(f"An AttributeValue must have exactly one type key, got {av!r}")
    ((kind, raw),) = av.items()
    if kind == "S":
        return raw
    if kind == "N":
        return _decimal(raw)
    if kind == "B":
        return _binary(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute_value(v) for k, v in raw.items()}
    if kind == "L":
        return [from_attribute_value(v) for v in raw]
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {_decimal(v) for v in raw}
    if kind == "BS":
        return {_binary(v) for v in raw}
    raise ValidationError(f"Unknown AttributeValue type {kind!r}")


def to_image(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """An item as a typed image (``{"name": {"S": "x"}}``), as in stream records and the AWS API."""
    return {name: to_attribute_value(value) for name, value in item.items()}


def from_image(image: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The plain item of a typed image (the inverse of :func:`to_image`)."""
    return {name: from_attribute_value(av) for name, av in image.items()}


def values_equal(a: Any, b: Any) -> bool:
    """DynamoDB equality: same type and same value (``True`` is not ``1``; sets ignore order)."""
    kind = type(a)
    if kind is type(b) and kind in _SCALARS:
        return bool(a == b)
    ta, tb = type_of(a), type_of(b)
    if ta != tb:
        return False
    if ta == "M":
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if ta == "L":
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
