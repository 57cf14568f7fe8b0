"""How cached values become bytes: exact, compact, and the same on every adapter.

Values are JSON-compatible data (``None`` inside containers, ``bool``, ``int``,
``float``, ``str``, lists, dicts with ``str`` keys) plus ``Decimal`` and ``bytes``,
encoded with msgpack (binary, exact for floats, faster and smaller than JSON). A
``Decimal`` is a msgpack extension (type 1) holding its exact text, so
``Decimal("12.50")`` comes back as ``Decimal("12.50")``. Tuples come back as lists.

A top-level integer in the signed 64-bit range is stored as its ASCII decimal text
instead, which is what Redis's ``INCR``/``HINCRBY`` operate on; this cannot be confused
with msgpack, whose encoding of any other top-level value never starts with an ASCII
digit or ``-``. Every adapter stores the encoded bytes, so a value read from the
in-memory cache is a fresh copy, as one read from Redis is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgpack

from stratus.errors import ValidationError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_DECIMAL = 1
_MAX_DEPTH = 64
_INT_START = frozenset(b"-0123456789")


def encode(key: str, value: Any) -> bytes:
    """``value`` as bytes; a ValidationError naming ``key`` and the offending part otherwise."""
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return str(value).encode("ascii")
    if value is None:
        raise ValidationError(f"cannot cache None for key {key!r}: get() returns None for a missing key")
    _check(key, value, "value", 0)
    return bytes(msgpack.packb(value, default=_default, use_bin_type=True))


def decode(data: bytes) -> Any:
    if data[0] in _INT_START:
        return int(data)
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=True)


def is_integer(data: bytes) -> bool:
    return data[0] in _INT_START


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode("ascii"))
    raise TypeError(f"cannot cache {type(value).__name__}")  # _check rejects these first


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _DECIMAL:
        return Decimal(data.decode("ascii"))
    return msgpack.ExtType(code, data)


def _check(key: str, value: Any, where: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValidationError(f"value for key {key!r} is nested more than {_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool | float | str | bytes | Decimal):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= 2**64 - 1:
            raise ValidationError(f"{where} of key {key!r} is an integer outside -2**63..2**64-1; store it as a str")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(key, item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"{where} of key {key!r} has a non-string dict key {k!r}")
            _check(key, item, f"{where}[{k!r}]", depth + 1)
        return
    raise ValidationError(
        f"{where} of key {key!r} has type {type(value).__name__}, which cannot be cached "
        "(use JSON-compatible data, Decimal or bytes)"
    )
