"""Pagination cursors: DynamoDB's LastEvaluatedKey as one opaque, URL-safe string.

A page's cursor is the key of the last item it examined (with the index's key
attributes when reading an index), as typed JSON in base64url, so it can travel in a
URL or a JSON response. Decoding checks it against the table and index it is used
with, as DynamoDB checks an ExclusiveStartKey.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError

if TYPE_CHECKING:
    from stratus.resources.table.schema import IndexSchema, Schema


def encode_cursor(key: dict[str, Any]) -> str:
    typed: dict[str, list[str]] = {}
    for name, value in key.items():
        if isinstance(value, str):
            typed[name] = ["S", value]
        elif isinstance(value, bytes | bytearray):
            typed[name] = ["B", base64.b64encode(value).decode()]
        else:
            typed[name] = ["N", str(value)]
    raw = json.dumps(typed, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid(why: str) -> ValidationError:
    return ValidationError(f"The provided starting key is invalid: {why}")


def decode_cursor(cursor: object, schema: Schema, index: IndexSchema | None) -> dict[str, Any]:
    if not isinstance(cursor, str) or not cursor:
        raise _invalid("a cursor is the non-empty string a previous page returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        typed = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid("the cursor is not one a page of this table returned") from None
    if not isinstance(typed, dict):
        raise _invalid("the cursor is not one a page of this table returned")
    wanted = dict.fromkeys(index.key_names if index else schema.key_names)
    if set(typed) != set(wanted):
        raise _invalid("The provided key element does not match the schema")
    key: dict[str, Any] = {}
    for name in wanted:
        entry = typed[name]
        expected = schema.attribute_types[name]
        if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == expected and isinstance(entry[1], str)):
            raise _invalid("The provided key element does not match the schema")
        kind, text = entry
        try:
            key[name] = text if kind == "S" else base64.b64decode(text) if kind == "B" else Decimal(text)
        except (binascii.Error, InvalidOperation):
            raise _invalid("The provided key element does not match the schema") from None
    return key
