"""Key conditions: Key builder, parse_key_condition, sort matching and schema resolution."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import Key, KeyCondition, Placeholders, SortCondition, parse_key_condition

D = Decimal


def test_partition_only() -> None:
    kc = parse_key_condition("pk = :p", None, {":p": "u1"})
    assert kc.partition == ("pk", "u1")
    assert kc.sort is None
    assert kc.matches_sort("anything")


@pytest.mark.parametrize(
    ("text", "values", "op", "yes", "no"),
    [
        ("sk = :a", {":a": 5}, "=", [D(5)], [D(4), "5"]),
        ("sk < :a", {":a": 5}, "<", [D(4)], [D(5), "4"]),
        ("sk <= :a", {":a": 5}, "<=", [D(5), D(-1)], [D(6)]),
        ("sk > :a", {":a": "m"}, ">", ["n", "mm"], ["m", "a", D(9)]),
        ("sk >= :a", {":a": b"\x02"}, ">=", [b"\x02", b"\x03"], [b"\x01", "x"]),
        ("sk BETWEEN :a AND :b", {":a": 1, ":b": 3}, "BETWEEN", [D(1), D(2), D(3)], [D(0), D(4), "2"]),
        ("begins_with(sk, :a)", {":a": "ord#"}, "begins_with", ["ord#1", "ord#"], ["or", "x", D(1)]),
        ("begins_with(sk, :a)", {":a": b"\x01"}, "begins_with", [b"\x01\x02"], [b"\x02", "\x01"]),
        (":a < sk", {":a": 5}, ">", [D(6)], [D(5)]),  # operands may be written the other way round
        (":a >= sk", {":a": 5}, "<=", [D(5)], [D(6)]),
    ],
)
def test_sort_conditions(text: str, values: dict, op: str, yes: list, no: list) -> None:
    kc = parse_key_condition(f"pk = :p AND {text}", None, {":p": "u1", **values})
    assert kc.partition == ("pk", "u1")
    assert kc.sort is not None and kc.sort.name == "sk" and kc.sort.op == op
    for value in yes:
        assert kc.matches_sort(value), value
    for value in no:
        assert not kc.matches_sort(value), value


def test_forms() -> None:
    values = {":p": "u", ":s": 1}
    for text in ["(pk = :p) AND (sk = :s)", "sk = :s AND pk = :p", "((pk = :p AND sk > :s))", "pk=:p and sk>:s"]:
        kc = parse_key_condition(text, None, values)
        assert {c.name for c in kc} == {"pk", "sk"}
    kc = parse_key_condition("#p = :p AND #s > :s", {"#p": "status", "#s": "date"}, values)
    assert kc.partition == ("status", "u")
    assert kc.sort == SortCondition("date", ">", (D(1),))
    # the equality comes first whatever the written order
    assert parse_key_condition("sk > :s AND pk = :p", None, values).partition == ("pk", "u")
    assert parse_key_condition("pk = :p AND sk = :s", None, values).partition == ("pk", "u")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pk = :p OR sk = :s", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p AND sk <> :s", "Invalid operator used in KeyConditionExpression: <>"),
        ("attribute_exists(pk)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("pk = :p AND contains(sk, :s)", "Invalid operator used in KeyConditionExpression: contains"),
        ("pk = :p AND size(sk) = :s", "Invalid operator used in KeyConditionExpression: size"),
        ("pk = :p AND foo(sk, :s)", "Invalid KeyConditionExpression: Invalid function name; function: foo"),
        ("pk < :p", "Query key condition not supported"),
        ("begins_with(pk, :p)", "Query key condition not supported"),
        ("pk > :p AND sk < :s", "Query key condition not supported"),
        ("pk = :p AND pk = :s", "KeyConditionExpressions must only contain one condition per key"),
        ("sk > :p AND sk < :s", "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND sk = :s AND x = :s", "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND", 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"'),
        ("pk = sk", "Invalid condition in KeyConditionExpression: multiple attribute names used in one condition"),
        ("pk = :p AND sk > :", 'Invalid KeyConditionExpression: Syntax error; token: ":", near: "> :"'),
        (
            "status = :p",
            "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        (
            "pk = :p AND begins_with(sk, :n)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
        (
            "pk = :p AND sk BETWEEN :n AND :s",
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal "
            "to lower bound; lower bound operand: AttributeValue: {N:9}, upper bound operand: AttributeValue: {N:1}",
        ),
        ("", "Invalid KeyConditionExpression: The expression can not be empty;"),
        (
            "pk = :x",
            "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :x",
        ),
    ],
)
def test_rejected(text: str, message: str) -> None:
    values = {":p": "u", ":s": 1, ":n": 9}
    with pytest.raises(ValidationError) as raised:
        parse_key_condition(text, None, values, check_unused_keys=False)
    assert raised.value.message == message


def test_nested_paths_are_not_keys() -> None:
    for text in ("pk.a = :p", "pk[0] = :p", "pk = :p AND begins_with(sk.a, :p)", "#k.a = :p"):
        with pytest.raises(ValidationError) as raised:
            parse_key_condition(text, {"#k": "pk"} if "#k" in text else None, {":p": "x"})
        assert raised.value.message == (
            "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes"
        )


def test_unused_placeholders() -> None:
    with pytest.raises(ValidationError, match=r"ExpressionAttributeValues unused in expressions: keys: {:x}"):
        parse_key_condition("pk = :p", None, {":p": 1, ":x": 2})


def test_resolve_against_schema() -> None:
    kc = parse_key_condition("sk = :s AND pk = :p", None, {":p": "u", ":s": "a"})
    resolved = kc.resolve("pk", "sk")
    assert resolved.partition == ("pk", "u") and resolved.sort == SortCondition("sk", "=", ("a",))
    resolved = kc.resolve("sk", "pk")  # an index whose partition key is sk
    assert resolved.partition == ("sk", "a")
    with pytest.raises(ValidationError, match=r"^Query condition missed key schema element: id$"):
        kc.resolve("id", "sk")
    with pytest.raises(ValidationError, match=r"^Query condition missed key schema element: other$"):
        kc.resolve("pk", "other")
    with pytest.raises(ValidationError, match=r"^Query condition missed key schema element: sk$"):
        kc.resolve("pk")
    ranged = parse_key_condition("pk = :p AND sk > :s", None, {":p": "u", ":s": "a"})
    with pytest.raises(ValidationError, match=r"^Query key condition not supported$"):
        ranged.resolve("sk", "pk")
    assert parse_key_condition("pk = :p", None, {":p": "u"}).resolve("pk", "sk").sort is None


def test_builder() -> None:
    kc = Key("pk").eq("u1") & Key("sk").begins_with("ord#")
    assert kc.partition == ("pk", "u1")
    assert kc.sort == SortCondition("sk", "begins_with", ("ord#",))
    assert (Key("sk").between(1, 3) & Key("pk").eq(7)).partition == ("pk", D(7))
    for make in (Key("sk").lt, Key("sk").lte, Key("sk").gt, Key("sk").gte, Key("sk").eq):
        assert isinstance(Key("pk").eq(1) & make(2), KeyCondition)
    assert kc.matches({"pk": "u1", "sk": "ord#9"})
    assert not kc.matches({"pk": "u1", "sk": "inv#9"})
    assert not kc.matches({"pk": "u1"})
    with pytest.raises(ValidationError, match=r"one condition per key"):
        Key("pk").eq(1) & Key("pk").eq(2)
    with pytest.raises(ValidationError, match=r"Query key condition not supported"):
        Key("pk").gt(1) & Key("sk").lt(2)
    with pytest.raises(ValidationError, match=r"Float"):
        Key("pk").eq(1.5)
    with pytest.raises(ValidationError, match=r"begins_with, operand type: N"):
        Key("sk").begins_with(1)
    with pytest.raises(ValidationError, match=r"upper bound to be greater"):
        Key("sk").between(3, 1)
    with pytest.raises(ValidationError, match=r"non-empty string"):
        Key("")
    with pytest.raises(TypeError):
        Key("pk").eq(1) & "x"  # type: ignore[operator]


def test_render_round_trip() -> None:
    for kc in [
        Key("pk").eq("u1"),
        Key("pk").eq("u1") & Key("sk").between(1, 9),
        Key("status").eq(1) & Key("date").begins_with("2024-"),
        Key("pk").eq(b"\x00") & Key("sk").gte(b"\x01"),
    ]:
        ph = Placeholders()
        text = kc.render(ph)
        assert "u1" not in text and "status" not in text
        again = parse_key_condition(text, ph.names, ph.values)
        assert again.partition == kc.partition
        assert again.sort == kc.sort
