"""Stored item form: msgpack with extension types, exact round trips, no pickle."""

from __future__ import annotations

from decimal import Decimal

import msgpack
import pytest

from stratus.local.table.codec import pack, unpack


def test_every_dynamodb_type_round_trips_exactly() -> None:
    item = {
        "s": "text é",
        "n": Decimal("-12345678901234567890.123456789012345678"),
        "b": b"\x00\xff",
        "t": True,
        "null": None,
        "l": [Decimal(1), "a", [b"x"]],
        "m": {"inner": {"deep": Decimal("1E+100")}},
        "ss": {"a", "b"},
        "ns": {Decimal("1.5"), Decimal(-2)},
        "bs": {b"a", b"\x00"},
    }
    back = unpack(pack(item))
    assert back == item
    assert isinstance(back["ns"], set) and isinstance(back["n"], Decimal)
    assert type(back["t"]) is bool


def test_sets_pack_the_same_whatever_their_order() -> None:
    assert pack({"s": {"b", "a", "c"}}) == pack({"s": {"c", "a", "b"}})


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        pack({"x": object()})


def test_unknown_extension_types_are_not_executed() -> None:
    data = msgpack.packb({"x": msgpack.ExtType(42, b"whatever")})
    assert unpack(data)["x"] == msgpack.ExtType(42, b"whatever")


def test_number_sets_pack_the_same_whatever_their_order() -> None:
    a = {Decimal(i) for i in range(50)}
    b = set(sorted(a, reverse=True))
    assert pack({"n": a}) == pack({"n": b})
