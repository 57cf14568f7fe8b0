"""get/set/add/delete and the values a cache holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stratus import ValidationError
from stratus.resources.cache import ValueTooLarge


def test_set_then_get_and_a_miss(cache: Any) -> None:
    assert cache.get("k") is None
    cache.set("k", {"name": "Ann", "tags": ["a", "b"]})
    assert cache.get("k") == {"name": "Ann", "tags": ["a", "b"]}
    cache.set("k", "replaced")
    assert cache.get("k") == "replaced"


@pytest.mark.parametrize(
    "value",
    [
        0,
        -(2**63),
        2**64 - 1,
        1.5,
        True,
        False,
        "",
        "ünïcødé",
        b"\x00\xff",
        Decimal("12.50"),
        Decimal("-0.000000000000000000000000001"),
        [1, None, "x", [Decimal("1.0")]],
        {"a": {"b": [True, None, 2.5]}, "": 0},
        [],
        {},
    ],
    ids=repr,
)
def test_values_round_trip_exactly(cache: Any, value: Any) -> None:
    cache.set("v", value)
    back = cache.get("v")
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, Decimal):
        assert str(back) == str(value)  # the exact digits, trailing zeros included


def test_tuples_come_back_as_lists_and_reads_are_copies(cache: Any) -> None:
    cache.set("t", (1, 2))
    assert cache.get("t") == [1, 2]
    got = cache.get("t")
    got.append(3)
    assert cache.get("t") == [1, 2]


def test_add_stores_only_when_absent(cache: Any) -> None:
    assert cache.add("lock", "first") is True
    assert cache.add("lock", "second") is False
    assert cache.get("lock") == "first"


def test_delete_and_delete_many_report_what_was_there(cache: Any) -> None:
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("c", 3)
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert cache.delete_many(["b", "c", "missing", "b"]) == 2
    assert [cache.get(k) for k in "abc"] == [None, None, None]
    assert cache.delete_many([]) == 0


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "non-empty str"),
        (42, "non-empty str"),
        ("k" * 251, "the limit is 250 UTF-8 bytes"),
        ("é" * 126, "the limit is 250 UTF-8 bytes"),
    ],
    ids=["empty", "int", "251-ascii", "252-utf8-bytes"],
)
def test_bad_keys_are_refused(cache: Any, key: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        cache.set(key, 1)
    with pytest.raises(ValidationError, match=message):
        cache.get(key)


def test_the_longest_key_is_accepted(cache: Any) -> None:
    cache.set("é" * 125, 1)  # 250 bytes
    assert cache.get("é" * 125) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "cannot cache None"),
        ({1: "a"}, "non-string dict key 1"),
        ({"when": object()}, r"value\['when'\] of key 'k' has type object"),
        ([1, {2, 3}], r"value\[1\] of key 'k' has type set"),
        (2**64, "outside"),
    ],
    ids=["none", "int-key", "object", "set", "huge-int"],
)
def test_values_that_cannot_be_cached_are_refused_and_nothing_is_written(cache: Any, value: Any, message: str) -> None:
    cache.set("k", "before")
    with pytest.raises(ValidationError, match=message):
        cache.set("k", value)
    assert cache.get("k") == "before"


def test_oversized_values_are_refused(cache: Any) -> None:
    cache.set("big", "x" * 1_000_000)  # under 1 MiB encoded
    with pytest.raises(ValueTooLarge, match=r"value for key 'big' is \d+ bytes encoded, over .* 1048576-byte limit"):
        cache.set("big", "x" * (1024 * 1024))
    assert len(cache.get("big")) == 1_000_000
    with pytest.raises(ValueTooLarge):
        cache.add("other", b"\x00" * (1024 * 1024 + 1))
    assert cache.get("other") is None


def test_a_smaller_value_limit_can_be_declared(harness: Any) -> None:
    small = harness.declare("small", max_value_bytes=100)
    harness.start()
    small.set("ok", "x" * 90)
    with pytest.raises(ValueTooLarge, match="100-byte limit"):
        small.set("no", "x" * 100)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_items": 0}, "max_items must be a positive integer"),
        ({"default_ttl": 0}, "default_ttl must be a positive number"),
        ({"default_ttl": "60"}, "default_ttl must be a positive number"),
        ({"max_value_bytes": -1}, "max_value_bytes must be a positive integer"),
    ],
)
def test_bad_declarations_fail_naming_the_setting(harness: Any, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        harness.declare("bad", **settings)


def test_bad_ttls_are_refused(cache: Any) -> None:
    for ttl in (0, -1, "10", True):
        with pytest.raises(ValidationError, match="ttl must be a positive number"):
            cache.set("k", 1, ttl=ttl)
    assert cache.get("k") is None
