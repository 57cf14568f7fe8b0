"""Projections: parse_projection, Projection.of and apply on nested documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import Path, Placeholders, Projection, parse_projection

ITEM = {
    "pk": "u1",
    "a": {"b": Decimal(1), "c": {"d": "x"}, "e": [Decimal(0), Decimal(1), Decimal(2), Decimal(3)]},
    "l": [{"x": Decimal(1), "y": Decimal(2)}, {"x": Decimal(3)}],
    "status": "open",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pk", {"pk": "u1"}),
        ("pk, a.b", {"pk": "u1", "a": {"b": Decimal(1)}}),
        ("a.c.d, a.b", {"a": {"c": {"d": "x"}, "b": Decimal(1)}}),
        ("a.e[3], a.e[1]", {"a": {"e": [Decimal(1), Decimal(3)]}}),  # selected elements, in index order
        ("a.e[9]", {}),
        ("l[0].y, l[1].x", {"l": [{"y": Decimal(2)}, {"x": Decimal(3)}]}),
        ("l[1].y", {}),  # nothing found leaves the path out entirely
        ("nope, a.nope", {}),
        ("a.b.c", {}),  # through a number
        ("a[0]", {}),  # a map is not a list
        ("pk,a . b", {"pk": "u1", "a": {"b": Decimal(1)}}),
    ],
)
def test_apply(text: str, expected: dict) -> None:
    assert parse_projection(text).apply(ITEM) == expected


def test_placeholders_and_reserved_words() -> None:
    assert parse_projection("#s, pk", {"#s": "status"}).apply(ITEM) == {"status": "open", "pk": "u1"}
    with pytest.raises(
        ValidationError,
        match=r"^Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status$",
    ):
        parse_projection("status")
    with pytest.raises(
        ValidationError, match=r"^Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}$"
    ):
        parse_projection("pk", {"#x": "a"})
    assert parse_projection("pk", {"#x": "a"}, check_unused_keys=False).names_used == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a, a.b",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a, b]",
        ),
        (
            "pk, pk",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [pk], path two: [pk]",
        ),
        (
            "a[0], a.b",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; "
            "path one: [a, [0]], path two: [a, b]",
        ),
        ("a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("a b", 'Syntax error; token: "b", near: "a b"'),
        ("a = :v", 'Syntax error; token: "=", near: "a = :v"'),
        ("", "The expression can not be empty;"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_projection(text)
    assert raised.value.message == f"Invalid ProjectionExpression: {message}"


def test_of_and_render() -> None:
    projection = Projection.of("a.b", Path(["weird.name"]), ["l", 0, "x"])
    assert projection.apply({**ITEM, "weird.name": 1}) == {
        "a": {"b": Decimal(1)},
        "weird.name": 1,
        "l": [{"x": Decimal(1)}],
    }
    assert projection.top_level_names() == {"a", "weird.name", "l"}
    ph = Placeholders()
    text = projection.render(ph)
    assert text == "#n0.#n1, #n2, #n3[0].#n4"
    assert parse_projection(text, ph.names).apply({**ITEM, "weird.name": 1}) == projection.apply(
        {**ITEM, "weird.name": 1}
    )
    with pytest.raises(ValidationError, match=r"overlap"):
        Projection.of("a", "a.b")
    assert projection.apply(None) == {}
    assert "a.b" in repr(projection)


def test_apply_copies_nothing_it_should_not() -> None:
    result = Projection.of("a.c").apply(ITEM)
    assert result == {"a": {"c": {"d": "x"}}}
    assert "b" not in result["a"]
