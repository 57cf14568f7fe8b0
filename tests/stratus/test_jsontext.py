"""jsontext writes exactly what the standard library writes, whichever encoder does the work."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stratus import jsontext


def standard(value: Any, default: Any = None) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_compact_text_equals_the_standard_encoders(value: Any) -> None:
    assert jsontext.compact(value) == standard(value)


with_non_finite = st.recursive(
    st.none() | st.floats() | st.integers(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


@given(with_non_finite)
def test_nulls_and_non_finite_floats_mixed_give_the_standard_text(value: Any) -> None:
    assert jsontext.compact(value) == standard(value)


@given(json_values)
def test_copy_equals_the_standard_round_trip(value: Any) -> None:
    assert jsontext.copy(value) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "value",
    [1e-5, 1.5e-7, -3e-9, 1e16, 1e22, 2**64, -(2**70), "\ud800", {1: "int key"}, (1, 2), "0.00001 e-5"],
    ids=repr,
)
def test_corners_where_orjson_differs_fall_back_to_the_standard_text(value: Any) -> None:
    assert jsontext.compact(value) == standard(value)


def test_nan_and_infinity_survive_as_the_standard_library_writes_them() -> None:
    assert jsontext.compact([math.inf, -math.inf]) == "[Infinity,-Infinity]"
    copied = jsontext.copy({"x": math.nan})
    assert math.isnan(copied["x"])
    assert jsontext.compact({"none": None, "inf": math.inf}) == '{"none":null,"inf":Infinity}'
    mixed = jsontext.copy({"none": None, "nan": math.nan})
    assert mixed["none"] is None and math.isnan(mixed["nan"])


def test_default_is_used_for_unknown_types_by_both_encoders() -> None:
    def default(v: Any) -> Any:
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral_value() else float(v)
        if isinstance(v, set):
            return sorted(v)
        raise TypeError(type(v).__name__)

    value = {"n": Decimal("12"), "f": Decimal("1.5"), "s": {3, 1}, "tiny": Decimal("0.00001")}
    assert jsontext.compact(value, default) == standard(value, default)
    assert jsontext.copy(value, default) == {"n": 12, "f": 1.5, "s": [1, 3], "tiny": 1e-05}


class Level(IntEnum):
    HIGH = 3


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [datetime(2026, 1, 2, tzinfo=UTC), Point(1), Decimal("1"), {1, 2}, b"raw"], ids=repr)
def test_types_the_standard_encoder_refuses_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        jsontext.compact({"v": value})
    with pytest.raises(TypeError):
        jsontext.copy([value])


def test_subclasses_are_written_as_the_standard_encoder_writes_them() -> None:
    assert jsontext.compact({"level": Level.HIGH}) == standard({"level": Level.HIGH}) == '{"level":3}'


def test_copy_is_independent_of_the_original() -> None:
    original = {"a": [1, {"b": 2}]}
    copied = jsontext.copy(original)
    copied["a"][1]["b"] = 99
    assert original == {"a": [1, {"b": 2}]}
