"""Single-item operations: put, get, delete, update — happy paths, conditions and every limit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus import App
from stratus.errors import ConditionalCheckFailed, ValidationError
from stratus.resources.table import GlobalIndex, LocalIndex
from stratus.resources.table.expressions import Attr, Update

ITEM = {
    "id": "p1",
    "name": "Lamp",
    "price": Decimal("12.50"),
    "qty": 3,
    "active": True,
    "nothing": None,
    "image": b"\x00\x01",
    "tags": {"home", "light"},
    "sizes": {1, 2},
    "dims": {"w": 10, "h": [1, "two"]},
}


def test_put_then_get_returns_the_normalized_item(env) -> None:
    assert env.products.put(ITEM) is None
    got = env.products.get({"id": "p1"})
    assert got == {**ITEM, "price": Decimal("12.5"), "qty": Decimal(3), "sizes": {Decimal(1), Decimal(2)}}
    assert isinstance(got["qty"], Decimal)
    assert env.products.get({"id": "nope"}) is None


def test_put_replaces_and_returns_the_old_item(env) -> None:
    env.products.put({"id": "p1", "v": 1})
    old = env.products.put({"id": "p1", "v": 2}, return_old=True)
    assert old == {"id": "p1", "v": 1}
    assert env.products.get({"id": "p1"}) == {"id": "p1", "v": 2}
    assert env.products.put({"id": "p2"}, return_old=True) is None


def test_put_condition_failure_writes_nothing_and_can_carry_the_old_item(env) -> None:
    env.products.put({"id": "p1", "v": 1})
    with pytest.raises(ConditionalCheckFailed) as caught:
        env.products.put({"id": "p1", "v": 2}, condition=Attr("id").not_exists())
    assert caught.value.item is None
    assert caught.value.code == "ConditionalCheckFailedException"
    with pytest.raises(ConditionalCheckFailed) as caught:
        env.products.put(
            {"id": "p1", "v": 3},
            condition="attribute_not_exists(#i)",
            names={"#i": "id"},
            return_old_on_condition_failure=True,
        )
    assert caught.value.item == {"id": "p1", "v": 1}
    assert env.products.get({"id": "p1"}) == {"id": "p1", "v": 1}
    env.products.put({"id": "p1", "v": 4}, condition="v = :one", values={":one": 1})
    assert env.products.get({"id": "p1"})["v"] == 4


def test_get_projection(env) -> None:
    env.products.put(ITEM)
    assert env.products.get({"id": "p1"}, projection=["name", "dims.w"]) == {"name": "Lamp", "dims": {"w": 10}}
    assert env.products.get({"id": "p1"}, projection="#n, price", names={"#n": "name"}) == {
        "name": "Lamp",
        "price": Decimal("12.5"),
    }


def test_delete_returns_old_and_tolerates_absent_items(env) -> None:
    env.products.put({"id": "p1", "v": 1})
    assert env.products.delete({"id": "p1"}, return_old=True) == {"id": "p1", "v": 1}
    assert env.products.get({"id": "p1"}) is None
    assert env.products.delete({"id": "p1"}, return_old=True) is None


def test_conditional_delete_failure_keeps_the_item(env) -> None:
    env.products.put({"id": "p1", "v": 1})
    with pytest.raises(ConditionalCheckFailed):
        env.products.delete({"id": "p1"}, condition=Attr("v").gt(5))
    assert env.products.get({"id": "p1"}) == {"id": "p1", "v": 1}


def test_update_upserts_and_returns_what_is_asked(env) -> None:
    key = {"id": "u1"}
    new = env.products.update(key, set={"name": "Desk", "count": 1}, returns="ALL_NEW")
    assert new == {"id": "u1", "name": "Desk", "count": 1}
    assert env.products.update(key, add={"count": 2}, returns="UPDATED_NEW") == {"count": 3}
    assert env.products.update(
        key, "SET #c = #c + :n", names={"#c": "count"}, values={":n": 1}, returns="UPDATED_OLD"
    ) == {"count": 3}
    assert env.products.update(key, remove=["name"], returns="ALL_OLD") == {"id": "u1", "name": "Desk", "count": 4}
    assert env.products.get(key) == {"id": "u1", "count": 4}
    assert env.products.update(key, Update().add("tags", {"a", "b"})) is None
    env.products.update(key, delete={"tags": {"a"}})
    assert env.products.get(key)["tags"] == {"b"}


def test_update_condition_failure_writes_nothing(env) -> None:
    env.products.put({"id": "u1", "count": 1})
    with pytest.raises(ConditionalCheckFailed) as caught:
        env.products.update(
            {"id": "u1"}, set={"count": 9}, condition=Attr("count").gt(1), return_old_on_condition_failure=True
        )
    assert caught.value.item == {"id": "u1", "count": 1}
    assert env.products.get({"id": "u1"}) == {"id": "u1", "count": 1}


def test_update_of_a_key_attribute_is_rejected(env) -> None:
    env.products.put({"id": "u1"})
    with pytest.raises(ValidationError, match=r"Cannot update attribute id\. This attribute is part of the key"):
        env.products.update({"id": "u1"}, set={"id": "u2"})
    assert env.products.get({"id": "u2"}) is None
    assert env.products.get({"id": "u1"}) == {"id": "u1"}


def test_update_that_cannot_apply_writes_nothing(env) -> None:
    env.products.put({"id": "u1", "name": "x"})
    with pytest.raises(ValidationError):
        env.products.update({"id": "u1"}, add={"name": 1})
    with pytest.raises(ValidationError):
        env.products.update({"id": "u1"}, "SET total = missing + :one", values={":one": 1})
    assert env.products.get({"id": "u1"}) == {"id": "u1", "name": "x"}


def test_update_past_the_size_limit_is_rejected(env) -> None:
    env.products.put({"id": "big", "a": "x" * 300_000})
    with pytest.raises(ValidationError, match="Item size to update has exceeded the maximum allowed size"):
        env.products.update({"id": "big"}, set={"b": "y" * 200_000})
    assert set(env.products.get({"id": "big"})) == {"id", "a"}


# -- key and item validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"name": "x"}, "One or more parameter values were invalid: Missing the key id in the item"),
        ({"id": 5}, "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"),
        ({"id": ""}, "The AttributeValue for a key attribute cannot contain an empty string value. Key: id"),
        ({"id": "x" * 2049}, "Size of hashkey has exceeded the maximum size limit of 2048 bytes"),
        ({"id": "x", "f": 1.5}, "Float types are not supported"),
        ({"id": "x", "big": "y" * (400 * 1024)}, "Item size has exceeded the maximum allowed size"),
        ({"id": "x", "s": set()}, "set may not be empty"),
    ],
)
def test_invalid_items_are_rejected_and_nothing_is_written(env, item, message) -> None:
    with pytest.raises(ValidationError) as caught:
        env.products.put(item)
    assert message in caught.value.message
    assert caught.value.code == "ValidationException"
    assert env.products.scan().items == []


def test_sort_key_limits_and_types(env) -> None:
    with pytest.raises(ValidationError, match="Aggregated size of all range keys has exceeded the size limit of 1024"):
        env.events.put({"topic": "t", "id": "x" * 1025})
    with pytest.raises(ValidationError, match="Type mismatch for key at expected: N actual: S"):
        env.orders.put({"customer": "c", "at": "yesterday"})
    with pytest.raises(ValidationError, match="empty binary value"):
        env.blobs.put({"h": b"", "r": b"x"})
    env.events.put({"topic": "t", "id": "x" * 1024})
    assert env.events.scan().count == 1
    assert env.orders.scan().count == 0
    assert env.blobs.scan().count == 0


def test_index_key_of_the_wrong_type_is_rejected(env) -> None:
    with pytest.raises(ValidationError, match="Type mismatch for Index Key status Expected: S Actual: N"):
        env.orders.put({"customer": "c", "at": 1, "status": 7})
    with pytest.raises(ValidationError, match="IndexName: by_total"):
        env.orders.put({"customer": "c", "at": 1, "total": "ten"})
    env.orders.put({"customer": "c", "at": 1, "status": "new"})
    with pytest.raises(ValidationError, match="Type mismatch for Index Key status"):
        env.orders.update({"customer": "c", "at": 1}, set={"status": 5})
    assert env.orders.get({"customer": "c", "at": 1}) == {"customer": "c", "at": 1, "status": "new"}


@pytest.mark.parametrize(
    "key",
    [{"id": "p1", "extra": 1}, {"other": "p1"}, {"id": 1}, {}],
)
def test_keys_that_do_not_match_the_schema_are_rejected(env, key) -> None:
    env.products.put({"id": "p1"})
    with pytest.raises(ValidationError, match="The provided key element does not match the schema"):
        env.products.get(key)
    with pytest.raises(ValidationError, match="The provided key element does not match the schema"):
        env.products.delete(key)
    assert env.products.get({"id": "p1"}) == {"id": "p1"}


def test_placeholders_are_checked(env) -> None:
    with pytest.raises(ValidationError, match="ExpressionAttributeValues"):
        env.products.put({"id": "p1"}, condition="attribute_not_exists(id)", values={":unused": 1})
    with pytest.raises(ValidationError, match="ExpressionAttributeNames can only be specified when using expressions"):
        env.products.put({"id": "p1"}, names={"#a": "a"})
    with pytest.raises(ValidationError):
        env.products.put({"id": "p1"}, condition="v = :missing")
    with pytest.raises(ValidationError):
        env.products.update({"id": "p1"}, "SET a = :a", values={":a": 1, ":b": 2})
    assert env.products.get({"id": "p1"}) is None


def test_numbers_keep_their_exact_value(env) -> None:
    env.products.put({"id": "n", "a": Decimal("0.1000000000000000000000000000000000001"), "b": -(10**37)})
    got = env.products.get({"id": "n"})
    assert got["a"] == Decimal("0.1000000000000000000000000000000000001")
    assert got["b"] == -(10**37)


def test_restart_keeps_the_data(env) -> None:
    env.need("restart")
    env.products.put(ITEM)
    env.orders.put({"customer": "c", "at": 1, "status": "new"})
    env.restart()
    assert env.products.get({"id": "p1"})["name"] == "Lamp"
    assert env.orders.query("#s = :s", names={"#s": "status"}, values={":s": "new"}, index="by_status").count == 1


# -- declarations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ab"}, "at least 3 characters"),
        ({"name": "bad name!"}, "invalid characters"),
        ({"partition_key": ("id", "X")}, "key attributes are of type"),
        ({"sort_key": "id"}, "both 'id'"),
        ({"indexes": [LocalIndex("by_x", sort_key="x")]}, "needs a table sort key"),
        ({"indexes": [GlobalIndex(f"g{i:02d}", partition_key="a") for i in range(21)]}, "at most 20 global"),
        (
            {"sort_key": "s", "indexes": [LocalIndex(f"l{i:02d}", sort_key="x") for i in range(6)]},
            "at most 5 local",
        ),
        (
            {"indexes": [GlobalIndex("gs1", partition_key=("a", "N")), GlobalIndex("gs2", partition_key="a")]},
            "one type",
        ),
        ({"indexes": [GlobalIndex("gs1", partition_key="a"), GlobalIndex("gs1", partition_key="b")]}, "two indexes"),
        ({"indexes": [GlobalIndex("x", partition_key="a")]}, "index name"),
        ({"indexes": [GlobalIndex("gsi", partition_key="a", projection="SOME")]}, "projection"),
        ({"stream": "EVERYTHING"}, "stream must be"),
        ({"ttl_attribute": ""}, "ttl_attribute"),
    ],
)
def test_bad_declarations_fail_naming_the_setting(kwargs, message) -> None:
    app = App("decl")
    args = {"name": "things", "partition_key": "id", **kwargs}
    name = args.pop("name")
    with pytest.raises(ValidationError, match=message):
        app.table(name, **args)
    assert app.resources == []


def test_settings_describe_the_declaration(env) -> None:
    settings = env.orders.settings()
    assert settings["partition_key"] == ("customer", "S")
    assert settings["sort_key"] == ("at", "N")
    assert settings["stream"] == "NEW_AND_OLD_IMAGES"
    assert [i["name"] for i in settings["indexes"]] == ["by_status", "by_sku", "by_region", "by_total", "by_note"]
    assert settings["indexes"][2]["projection"] == ["total"]


def test_key_sizes_count_utf8_bytes(env) -> None:
    env.products.put({"id": "\u00e9" * 1024})  # 2048 bytes: the limit
    with pytest.raises(ValidationError, match="Size of hashkey"):
        env.products.put({"id": "\u00e9" * 1025})
    assert env.products.get({"id": "\u00e9" * 1024}) is not None
    with pytest.raises(ValidationError):
        env.products.get({"id": "\u00e9" * 1025})


def test_number_keys_are_one_key_however_written(env) -> None:
    env.numbers.put({"n": Decimal("1.50"), "v": "a"})
    env.numbers.put({"n": Decimal("15E-1"), "v": "b"})
    assert env.numbers.get({"n": Decimal("1.5")}) == {"n": Decimal("1.5"), "v": "b"}
    env.numbers.put({"n": 100, "v": "c"})
    assert env.numbers.get({"n": Decimal("1E+2")})["v"] == "c"
    assert env.numbers.scan().count == 2
    env.numbers.update({"n": Decimal("2.0")}, set={"v": "d"})
    assert env.numbers.get({"n": 2}) == {"n": 2, "v": "d"}
