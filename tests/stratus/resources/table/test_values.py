"""DynamoDB values: validation limits, normalization, item size and the typed JSON."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stratus.errors import ValidationError
from stratus.resources.table.values import (
    MAX_ITEM_BYTES,
    from_attribute_value,
    from_image,
    item_size,
    to_attribute_value,
    to_image,
    type_of,
    validate_item,
    validate_value,
    values_equal,
)

# -- validate_item: normalization -------------------------------------------------------------------


def test_normalizes_numbers_binary_and_sets() -> None:
    item = validate_item(
        {
            "n": 5,
            "d": Decimal("1.50"),
            "big": Decimal("1E+3"),
            "b": bytearray(b"ab"),
            "m": memoryview(b"cd"),
            "fs": frozenset({"x"}),
            "ns": {1, Decimal("2.0")},
            "nested": {"l": [1, (2, 3)]},
        }
    )
    assert item["n"] == Decimal(5) and isinstance(item["n"], Decimal)
    assert str(item["d"]) == "1.5"
    assert str(item["big"]) == "1000"
    assert item["b"] == b"ab" and type(item["b"]) is bytes
    assert item["m"] == b"cd" and type(item["m"]) is bytes
    assert item["fs"] == {"x"} and type(item["fs"]) is set
    assert item["ns"] == {Decimal(1), Decimal(2)}
    assert item["nested"] == {"l": [Decimal(1), [Decimal(2), Decimal(3)]]}


def test_returns_a_copy() -> None:
    original = {"m": {"l": [1]}}
    item = validate_item(original)
    item["m"]["l"].append(2)
    assert original == {"m": {"l": [1]}}


def test_keeps_plain_values() -> None:
    item = {"s": "", "t": True, "f": False, "z": None, "e": [], "o": {}}
    assert validate_item(item) == item


def test_bool_is_not_a_number() -> None:
    assert validate_item({"t": True})["t"] is True
    assert type_of(True) == "BOOL"


# -- validate_item: errors ------------------------------------------------------------------------


def test_rejects_floats_naming_the_attribute() -> None:
    with pytest.raises(ValidationError, match=r"Float types are not supported\. Use int or Decimal.*price"):
        validate_item({"price": 1.5})
    with pytest.raises(ValidationError, match=r"Float.*a\.b\[1\]"):
        validate_item({"a": {"b": [1, 2.5]}})
    with pytest.raises(ValidationError, match=r"Float"):
        validate_item({"s": {1.5}})


def test_38_significant_digits() -> None:
    ok = Decimal("1" * 38)
    assert validate_item({"n": ok})["n"] == ok
    assert validate_item({"n": Decimal("1" * 38 + "000")})["n"] == Decimal("1" * 38 + "000")
    with pytest.raises(ValidationError, match=r"more than 38 significant digits.*attribute: n"):
        validate_item({"n": Decimal("1" * 39)})
    with pytest.raises(ValidationError, match=r"more than 38 significant digits"):
        validate_item({"n": Decimal("0." + "1" * 39)})


def test_number_range() -> None:
    top = Decimal("9.9999999999999999999999999999999999999E+125")
    assert validate_value(top, path="n") == top
    bottom = Decimal("-9.9999999999999999999999999999999999999E+125")
    assert validate_value(bottom, path="n") == bottom
    assert validate_value(Decimal("1E-130"), path="n") == Decimal("1E-130")
    with pytest.raises(ValidationError, match=r"Number overflow"):
        validate_value(Decimal("1E+126"), path="n")
    with pytest.raises(ValidationError, match=r"Number overflow"):
        validate_value(-(10**126), path="n")
    with pytest.raises(ValidationError, match=r"Number underflow"):
        validate_value(Decimal("9E-131"), path="n")
    assert validate_value(Decimal("-0.000"), path="n") == 0


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_rejects_nan_and_infinity(bad: Decimal) -> None:
    with pytest.raises(ValidationError, match=r"NaN and Infinity.*attribute: x"):
        validate_item({"x": bad})


def test_nesting_depth() -> None:
    deep: object = "leaf"
    for _ in range(32):
        deep = {"m": deep}
    validate_item({"a": deep})
    with pytest.raises(ValidationError, match=r"Nesting Levels have exceeded supported limits"):
        validate_item({"a": [deep]})


def test_sets() -> None:
    with pytest.raises(ValidationError, match=r"set may not be empty.*attribute: tags"):
        validate_item({"tags": set()})
    with pytest.raises(ValidationError, match=r"one type only.*attribute: mixed"):
        validate_item({"mixed": {"a", 1}})
    with pytest.raises(ValidationError, match=r"boolean"):
        validate_item({"b": {True}})
    with pytest.raises(ValidationError, match=r"Sets may hold only"):
        validate_item({"t": {(1, 2)}})
    assert validate_item({"bs": {b"a", b"b"}})["bs"] == {b"a", b"b"}


def test_structure_errors() -> None:
    with pytest.raises(ValidationError, match=r"must be a mapping"):
        validate_item(["a"])
    with pytest.raises(ValidationError, match=r"non-empty strings"):
        validate_item({"": 1})
    with pytest.raises(ValidationError, match=r"non-empty strings"):
        validate_item({1: 1})
    with pytest.raises(ValidationError, match=r"Map keys must be strings.*attribute: m"):
        validate_item({"m": {1: "x"}})
    with pytest.raises(ValidationError, match=r"Unsupported type object.*attribute: o"):
        validate_item({"o": object()})
    validate_item({"n" * 65535: 1})
    with pytest.raises(ValidationError, match=r"longer than 65535 bytes"):
        validate_item({"é" * 32768: 1})
    with pytest.raises(ValidationError, match=r"key must be a mapping"):
        validate_item("x", what="key")


# -- type_of and equality -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("x", "S"),
        (Decimal(1), "N"),
        (3, "N"),
        (b"x", "B"),
        (True, "BOOL"),
        (None, "NULL"),
        ({}, "M"),
        ([], "L"),
        ({"a"}, "SS"),
        ({Decimal(1)}, "NS"),
        ({b"a"}, "BS"),
    ],
)
def test_type_of(value: object, kind: str) -> None:
    assert type_of(value) == kind


def test_values_equal_is_type_aware() -> None:
    assert values_equal(Decimal("1.0"), Decimal(1))
    assert not values_equal(True, Decimal(1))
    assert not values_equal([True], [Decimal(1)])
    assert values_equal({"a": [Decimal(1), {"x"}]}, {"a": [Decimal(1), {"x"}]})
    assert not values_equal({"a": 1}, {"a": 1, "b": 2})
    assert not values_equal("1", Decimal(1))


# -- item size ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"id": "abc"}, 2 + 3),
        ({"é": "ü"}, 2 + 2),  # UTF-8 bytes of name and value
        ({"n": Decimal(123)}, 1 + 2 + 1),  # 3 digits: 2 bytes + 1
        ({"n": Decimal("12345.6700")}, 1 + 4 + 1),  # trailing zeros trimmed: 7 digits
        ({"n": Decimal("0.001")}, 1 + 1 + 1),  # leading zeros trimmed: 1 digit
        ({"b": b"\x00\x01\x02"}, 1 + 3),
        ({"ok": True, "z": None}, (2 + 1) + (1 + 1)),
        ({"m": {}}, 1 + 3),
        ({"l": []}, 1 + 3),
        ({"l": ["a", "bc"]}, 1 + 3 + (1 + 1) + (2 + 1)),
        ({"m": {"k": "v"}}, 1 + 3 + (1 + 1 + 1)),
        ({"s": {"a", "bb"}}, 1 + 1 + 2),
        ({"ns": {Decimal(1), Decimal(22)}}, 2 + (1 + 1) + (1 + 1)),
    ],
)
def test_item_size(item: dict, size: int) -> None:
    assert item_size(item) == size


def test_max_item_bytes() -> None:
    assert MAX_ITEM_BYTES == 409600
    assert item_size({"k": "x" * (MAX_ITEM_BYTES - 1)}) == MAX_ITEM_BYTES


# -- typed JSON -----------------------------------------------------------------------------------


def test_to_attribute_value() -> None:
    assert to_attribute_value("x") == {"S": "x"}
    assert to_attribute_value(Decimal("1.5")) == {"N": "1.5"}
    assert to_attribute_value(7) == {"N": "7"}
    assert to_attribute_value(b"\x01") == {"B": b"\x01"}
    assert to_attribute_value(True) == {"BOOL": True}
    assert to_attribute_value(None) == {"NULL": True}
    assert to_attribute_value({"a": [Decimal(1)]}) == {"M": {"a": {"L": [{"N": "1"}]}}}
    assert to_attribute_value({"b", "a"}) == {"SS": ["a", "b"]}
    assert to_attribute_value({Decimal(2), Decimal(1)}) == {"NS": ["1", "2"]}
    assert to_attribute_value({b"b", b"a"}) == {"BS": [b"a", b"b"]}


def test_from_attribute_value() -> None:
    assert from_attribute_value({"N": "1.50"}) == Decimal("1.5")
    assert from_attribute_value({"B": "AQI="}) == b"\x01\x02"  # base64 text, as in stream JSON
    assert from_attribute_value({"NULL": True}) is None
    assert from_attribute_value({"NS": ["1", "2"]}) == {Decimal(1), Decimal(2)}
    assert from_attribute_value({"BS": [b"a"]}) == {b"a"}
    with pytest.raises(ValidationError, match=r"exactly one type key"):
        from_attribute_value({"S": "a", "N": "1"})
    with pytest.raises(ValidationError, match=r"Unknown AttributeValue type"):
        from_attribute_value({"X": 1})
    with pytest.raises(ValidationError, match=r"cannot be converted into a number"):
        from_attribute_value({"N": "abc"})


def test_image_round_trip() -> None:
    item = validate_item({"pk": "u#1", "n": 3, "tags": {"a", "b"}, "doc": {"l": [None, True, b"x"]}})
    image = to_image(item)
    assert image["pk"] == {"S": "u#1"}
    assert from_image(image) == item


_scalars = st.one_of(
    st.text(max_size=5),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6),
    st.binary(max_size=4),
    st.booleans(),
    st.none(),
)
_values = st.recursive(
    st.one_of(
        _scalars,
        st.sets(st.text(max_size=3), min_size=1, max_size=3),
        st.sets(st.integers(-100, 100), min_size=1, max_size=3),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=4), _values, max_size=4))
def test_typed_json_round_trip(raw: dict) -> None:
    item = validate_item(raw)
    assert from_image(to_image(item)) == item
    assert validate_item(item) == item  # normalization is idempotent
    assert item_size(item) >= sum(len(k.encode()) for k in item)
