"""Message attributes as SQS and SNS define them, shared by the queue and topic ports.

Pythonic values map to AWS's typed attributes: ``str`` → String, ``int``/``Decimal`` →
Number, ``bytes`` → Binary, a list of values → String.Array (SNS only); an explicit
``{"DataType": ..., "StringValue" | "BinaryValue": ...}`` is taken as it is.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from stratus.errors import ValidationError

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$")
MAX_ATTRIBUTES = 10


def typed_attributes(attributes: dict[str, Any] | None, *, allow_arrays: bool, what: str) -> dict[str, dict[str, Any]]:
    """Validate message attributes and return them in AWS's typed shape."""
    if not attributes:
        return {}
    if not isinstance(attributes, dict):
        raise ValidationError(f"{what}: message attributes must be a dict, got {type(attributes).__name__}")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValidationError(
            f"{what}: number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        _check_name(name, what)
        out[name] = _typed(name, value, allow_arrays=allow_arrays, what=what)
    return out


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"{what}: message attribute name {name!r} is invalid (1-256 of A-Za-z0-9_-.)")
    lowered = name.lower()
    if lowered.startswith(("aws.", "amazon.")):
        raise ValidationError(f"{what}: message attribute name {name!r} uses a reserved prefix (AWS. or Amazon.)")
    if name.startswith(".") or name.endswith(".") or ".." in name:
        raise ValidationError(f"{what}: message attribute name {name!r} cannot start or end with '.' or contain '..'")


def _typed(name: str, value: Any, *, allow_arrays: bool, what: str) -> dict[str, Any]:
    if isinstance(value, dict):
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not (_TYPE.match(data_type) or data_type == "String.Array"):
            raise ValidationError(f"{what}: message attribute {name!r} has an invalid DataType {data_type!r}")
        if data_type == "String.Array" and not allow_arrays:
            raise ValidationError(f"{what}: message attribute {name!r}: String.Array is not supported here")
        if data_type.startswith("Binary"):
            raw = value.get("BinaryValue")
            if not isinstance(raw, bytes | bytearray) or not raw:
                raise ValidationError(f"{what}: message attribute {name!r} needs a non-empty BinaryValue")
            return {"DataType": data_type, "BinaryValue": bytes(raw)}
        text = value.get("StringValue")
        if not isinstance(text, str) or text == "":
            raise ValidationError(f"{what}: message attribute {name!r} must have a non-empty StringValue")
        if data_type.startswith("Number"):
            _number_text(name, text, what)
        return {"DataType": data_type, "StringValue": text}
    if isinstance(value, bool):
        return {"DataType": "String", "StringValue": "true" if value else "false"}
    if isinstance(value, str):
        if value == "":
            raise ValidationError(f"{what}: message attribute {name!r} must not be empty")
        return {"DataType": "String", "StringValue": value}
    if isinstance(value, int | Decimal):
        return {"DataType": "Number", "StringValue": _number_text(name, str(value), what)}
    if isinstance(value, float):
        return {"DataType": "Number", "StringValue": _number_text(name, repr(value), what)}
    if isinstance(value, bytes | bytearray):
        if not value:
            raise ValidationError(f"{what}: message attribute {name!r} must not be empty")
        return {"DataType": "Binary", "BinaryValue": bytes(value)}
    if isinstance(value, list | tuple) and allow_arrays:
        return {"DataType": "String.Array", "StringValue": json.dumps(list(value))}
    raise ValidationError(f"{what}: message attribute {name!r} has an unsupported value type {type(value).__name__}")


def _number_text(name: str, text: str, what: str) -> str:
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise ValidationError(f"{what}: message attribute {name!r} is not a valid number: {text!r}") from None
    if not number.is_finite() or len(number.as_tuple().digits) > 38:
        raise ValidationError(f"{what}: message attribute {name!r} must be a finite number of at most 38 digits")
    return text


def attributes_size(attributes: dict[str, dict[str, Any]]) -> int:
    """Bytes the attributes count towards the message size limit (name + type + value)."""
    total = 0
    for name, attribute in attributes.items():
        total += len(name.encode()) + len(attribute["DataType"].encode())
        value = attribute.get("StringValue")
        total += len(value.encode()) if isinstance(value, str) else len(attribute.get("BinaryValue", b""))
    return total
