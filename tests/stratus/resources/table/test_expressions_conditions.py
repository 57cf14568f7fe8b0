"""Condition evaluation with DynamoDB's semantics, through the builder."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import Attr, Condition

D = Decimal
ITEM = {
    "s": "hello",
    "n": D(5),
    "b": b"\x01\x02\x03",
    "t": True,
    "z": None,
    "ss": {"red", "green"},
    "ns": {D(1), D(2)},
    "bs": {b"a"},
    "l": ["x", D(1), {"k": "v"}],
    "m": {"inner": {"deep": D(7)}, "list": [D(1), D(2)]},
    "empty": "",
}


def ok(condition: Condition) -> bool:
    return condition.evaluate(ITEM)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Attr("n").eq(5), True),
        (Attr("n").eq(D("5.0")), True),
        (Attr("n").eq("5"), False),  # different types never compare equal
        (Attr("n").ne("5"), True),
        (Attr("n").ne(5), False),
        (Attr("missing").eq(5), False),
        (Attr("missing").ne(5), True),  # <> holds for an absent attribute
        (Attr("n").lt(6), True),
        (Attr("n").lt(5), False),
        (Attr("n").lte(5), True),
        (Attr("n").gt(4), True),
        (Attr("n").gte(6), False),
        (Attr("n").lt("9"), False),  # N vs S: false, not an error
        (Attr("n").gt("0"), False),
        (Attr("s").lt("help"), True),
        (Attr("s").gt("Hello"), True),  # byte order: lower case after upper case
        (Attr("b").gt(b"\x01"), True),
        (Attr("b").lt(b"\x01\x02\x04"), True),
        (Attr("t").eq(True), True),
        (Attr("t").eq(1), False),  # BOOL is not N
        (Attr("t").lt(True), False),  # BOOL is not ordered
        (Attr("z").eq(None), True),
        (Attr("ss").eq({"green", "red"}), True),
        (Attr("ss").lt({"z"}), False),
        (Attr("l").eq(["x", 1, {"k": "v"}]), True),
        (Attr("l").eq(["x", 1]), False),
        (Attr("m.inner.deep").eq(7), True),
        (Attr("m.list[1]").eq(2), True),
        (Attr("m.list[5]").eq(2), False),
        (Attr("l[2].k").eq("v"), True),
        (Attr("n").eq(Attr("m.inner.deep")), False),
        (Attr("m.list[0]").lt(Attr("m.list[1]")), True),
        (Attr("empty").eq(""), True),
    ],
)
def test_comparisons(condition: Condition, expected: bool) -> None:
    assert ok(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Attr("n").between(1, 5), True),
        (Attr("n").between(5, 5), True),
        (Attr("n").between(6, 9), False),
        (Attr("s").between("a", "z"), True),
        (Attr("s").between(D(1), D(9)), False),  # type mismatch
        (Attr("missing").between(1, 9), False),
        (Attr("n").is_in(1, 5, 9), True),
        (Attr("n").is_in("5"), False),
        (Attr("ss").is_in({"red", "green"}, "x"), True),
        (Attr("missing").is_in(1), False),
        (Attr("s").begins_with("he"), True),
        (Attr("s").begins_with("lo"), False),
        (Attr("b").begins_with(b"\x01"), True),
        (Attr("n").begins_with("5"), False),
        (Attr("s").contains("ell"), True),
        (Attr("s").contains("xyz"), False),
        (Attr("b").contains(b"\x02\x03"), True),
        (Attr("ss").contains("red"), True),
        (Attr("ss").contains("blue"), False),
        (Attr("ns").contains(2), True),
        (Attr("ns").contains("2"), False),
        (Attr("bs").contains(b"a"), True),
        (Attr("l").contains("x"), True),
        (Attr("l").contains({"k": "v"}), True),
        (Attr("l").contains(D(2)), False),
        (Attr("n").contains(5), False),
        (Attr("missing").contains("x"), False),
        (Attr("s").exists(), True),
        (Attr("z").exists(), True),  # NULL exists
        (Attr("missing").exists(), False),
        (Attr("m.inner.deep").exists(), True),
        (Attr("m.inner.nope").not_exists(), True),
        (Attr("s").not_exists(), False),
    ],
)
def test_operators_and_functions(condition: Condition, expected: bool) -> None:
    assert ok(condition) is expected


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("s", "S"),
        ("n", "N"),
        ("b", "B"),
        ("t", "BOOL"),
        ("z", "NULL"),
        ("ss", "SS"),
        ("ns", "NS"),
        ("bs", "BS"),
        ("l", "L"),
        ("m", "M"),
    ],
)
def test_attribute_type(path: str, kind: str) -> None:
    assert ok(Attr(path).attribute_type(kind))
    other = "S" if kind != "S" else "N"
    assert not ok(Attr(path).attribute_type(other))
    assert not ok(Attr("missing").attribute_type(kind))


def test_attribute_type_rejects_unknown_types() -> None:
    with pytest.raises(ValidationError, match=r"attribute_type takes one of"):
        Attr("a").attribute_type("STRING")


@pytest.mark.parametrize(
    ("path", "size"),
    [("s", 5), ("empty", 0), ("b", 3), ("ss", 2), ("ns", 2), ("l", 3), ("m", 2), ("m.list", 2)],
)
def test_size(path: str, size: int) -> None:
    assert ok(Attr(path).size().eq(size))
    assert ok(Attr(path).size().gte(size))
    assert not ok(Attr(path).size().gt(size))


def test_size_counts_utf8_bytes_and_is_absent_for_other_types() -> None:
    assert Attr("s").size().eq(2).evaluate({"s": "é"})
    assert not ok(Attr("n").size().gte(0))
    assert not ok(Attr("t").size().gte(0))
    assert not ok(Attr("missing").size().gte(0))
    assert ok(Attr("s").size().between(1, 10))
    assert ok(Attr("l").size().is_in(3, 4))


def test_logic() -> None:
    yes, no = Attr("n").eq(5), Attr("n").eq(6)
    assert ok(yes & yes) and not ok(yes & no)
    assert ok(yes | no) and not ok(no | no)
    assert ok(~no) and not ok(~yes)
    assert ok(~(no & yes) & (no | yes))
    with pytest.raises(TypeError):
        yes & True  # type: ignore[operator]


def test_missing_item() -> None:
    assert Attr("pk").not_exists().evaluate(None)
    assert not Attr("pk").exists().evaluate(None)
    assert Attr("pk").ne("x").evaluate(None)
    assert not Attr("pk").eq("x").evaluate(None)


def test_builder_validates_values() -> None:
    with pytest.raises(ValidationError, match=r"Float types are not supported"):
        Attr("a").eq(1.5)
    with pytest.raises(ValidationError, match=r"Incorrect operand type for operator or function; .*begins_with.*N"):
        Attr("a").begins_with(5)
    with pytest.raises(ValidationError, match=r"upper bound to be greater than or equal to lower bound"):
        Attr("a").between(5, 1)
    with pytest.raises(ValidationError, match=r"same data type"):
        Attr("a").between(1, "z")
    with pytest.raises(
        ValidationError, match=r"IN operator is provided with too many operands; number of operands: 101"
    ):
        Attr("a").is_in(*range(101))
    Attr("a").is_in(*range(100))
    with pytest.raises(ValidationError, match=r"at least one"):
        Attr("a").is_in()


def test_builder_refuses_comparing_a_path_with_itself() -> None:
    for make in (
        lambda: Attr("a.b").eq(Attr("a.b")),
        lambda: Attr("a").between(1, Attr("a")),
        lambda: Attr("a").is_in(1, Attr("a")),
        lambda: Attr("a").contains(Attr("a")),
        lambda: Attr("a").begins_with(Attr("a")),
    ):
        with pytest.raises(ValidationError, match="first operand must be distinct"):
            make()
    assert Attr("a").eq(Attr("b")).evaluate({"a": 1, "b": 1})


def test_repr_shows_rendered_text() -> None:
    text = repr(Attr("a").eq(1) & ~Attr("b").exists())
    assert "#n0 = :v0" in text and "attribute_exists(#n1)" in text
