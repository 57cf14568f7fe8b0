"""Items to bytes and back: msgpack with extension types for what JSON cannot hold.

Why msgpack: it is compact, exact and fast (C implementation) for the shapes an item
has — strings, booleans, nulls, lists, maps and bytes map to msgpack's own types.
DynamoDB numbers are ``Decimal`` (38 significant digits, exact), stored as their
text in extension type 1; string, number and binary sets are extension types 2, 3
and 4 holding a packed list. Never pickle: a state folder must not execute code.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import msgpack

_DECIMAL, _SS, _NS, _BS = 1, 2, 3, 4


_new_ext = tuple.__new__


def _default(obj: Any) -> msgpack.ExtType:
    if type(obj) is Decimal:
        # ExtType's own constructor re-checks its arguments; these are known good.
        return _new_ext(msgpack.ExtType, (_DECIMAL, str(obj).encode()))
    if isinstance(obj, Decimal):
        return msgpack.ExtType(_DECIMAL, str(obj).encode())
    if isinstance(obj, set | frozenset):
        if not obj:
            raise TypeError("empty sets are not DynamoDB values")
        sample = next(iter(obj))
        if isinstance(sample, str):
            return msgpack.ExtType(_SS, _inner(sorted(obj)))
        if isinstance(sample, bytes | bytearray):
            return msgpack.ExtType(_BS, _inner(sorted(bytes(b) for b in obj)))
        return msgpack.ExtType(_NS, _inner([str(n).encode() for n in sorted(obj)]))
    if isinstance(obj, bytearray | memoryview):
        return bytes(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in a table item")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _DECIMAL:
        return Decimal(data.decode())
    if code == _NS:
        return {Decimal(t.decode()) for t in msgpack.unpackb(data)}
    if code in (_SS, _BS):
        return set(msgpack.unpackb(data))
    return msgpack.ExtType(code, data)


def _inner(members: list[Any]) -> bytes:
    return msgpack.packb(members, use_bin_type=True)


_local = threading.local()


def pack(item: dict[str, Any]) -> bytes:
    """The stored form of an item."""
    # One Packer per thread: a Packer is not safe to share across threads, and making
    # one per call (packb) costs more than packing a small item.
    try:
        packer = _local.packer
    except AttributeError:
        packer = _local.packer = msgpack.Packer(default=_default, use_bin_type=True)
    return packer.pack(item)


def unpack(data: bytes) -> dict[str, Any]:
    """An item from its stored form."""
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
