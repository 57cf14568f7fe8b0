"""Update expressions: every action, its runtime errors, static checks, builder and rendering."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import (
    Attr,
    Path,
    Placeholders,
    Update,
    if_not_exists,
    list_append,
    parse_update,
    updated_attributes,
)

D = Decimal
KEY = {"pk": "u1"}
ITEM = {
    "pk": "u1",
    "n": D(5),
    "s": "text",
    "l": [D(1), D(2), D(3)],
    "m": {"a": D(1), "deep": {"x": "y"}},
    "tags": {"a", "b"},
    "nums": {D(1), D(2)},
}


def run(text: str, values: dict | None = None, item: dict | None = ITEM, names: dict | None = None) -> dict:
    before = copy.deepcopy(item)
    after = parse_update(text, names, values).apply(item, KEY)
    assert item == before  # the input is never modified
    return after


# -- SET -------------------------------------------------------------------------------------------


def test_set_values_and_paths() -> None:
    after = run("SET s = :v, m.a = :two, m.extra = :v, l[1] = :v, dup = m.deep", {":v": "x", ":two": 2})
    assert after["s"] == "x"
    assert after["m"]["a"] == D(2) and after["m"]["extra"] == "x"
    assert after["l"] == [D(1), "x", D(3)]
    assert after["dup"] == {"x": "y"}
    after["dup"]["x"] = "changed"
    assert ITEM["m"]["deep"] == {"x": "y"}  # copies, not shared references


def test_set_list_index_past_the_end_appends() -> None:
    assert run("SET l[10] = :v", {":v": 9})["l"] == [D(1), D(2), D(3), D(9)]


def test_set_arithmetic() -> None:
    assert run("SET n = n + :d", {":d": 2})["n"] == D(7)
    assert run("SET n = n - :d", {":d": D("0.5")})["n"] == D("4.5")
    assert run("SET n = :d - n", {":d": 1})["n"] == D(-4)
    assert run("SET tot = n + m.a")["tot"] == D(6)
    assert run("SET c = if_not_exists(c, :zero) + :one", {":zero": 0, ":one": 1})["c"] == D(1)
    assert run("SET n = if_not_exists(n, :zero) + :one", {":zero": 0, ":one": 1})["n"] == D(6)
    big = D("9" * 38)
    with pytest.raises(ValidationError, match=r"more than 38 significant digits"):
        run("SET n = n + :tiny", {":tiny": D("0.1")}, item={"n": big})
    with pytest.raises(ValidationError, match=r"Number overflow"):
        run("SET n = n + n", item={"n": D("9E+125")})


def test_operands_read_the_item_as_it_was() -> None:
    after = run("SET a = b, b = a", item={"a": "A", "b": "B"})
    assert after == {"a": "B", "b": "A"}


def test_if_not_exists_and_list_append() -> None:
    assert run("SET s = if_not_exists(s, :d)", {":d": "default"})["s"] == "text"
    assert run("SET made = if_not_exists(made, :d)", {":d": "default"})["made"] == "default"
    assert run("SET l = list_append(l, :more)", {":more": [4]})["l"] == [D(1), D(2), D(3), D(4)]
    assert run("SET l = list_append(:more, l)", {":more": [0]})["l"] == [D(0), D(1), D(2), D(3)]
    after = run("SET fresh = list_append(if_not_exists(fresh, :empty), :more)", {":empty": [], ":more": ["a"]})
    assert after["fresh"] == ["a"]


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("SET x = nope", None, "The provided expression refers to an attribute that does not exist in the item"),
        ("SET x = nope + :one", {":one": 1}, "The provided expression refers to an attribute that does not exist"),
        (
            "SET x = list_append(nope, :l)",
            {":l": []},
            "The provided expression refers to an attribute that does not exist",
        ),
        ("SET x = s + :one", {":one": 1}, "An operand in the update expression has an incorrect data type"),
        ("SET x = list_append(s, :l)", {":l": []}, "An operand in the update expression has an incorrect data type"),
        ("SET nope.a = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
        ("SET s.a = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
        ("SET m[0] = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
        ("SET l.a = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
        ("SET l[7].a = :one", {":one": 1}, "The document path provided in the update expression is invalid for update"),
    ],
)
def test_runtime_errors(text: str, values: dict | None, message: str) -> None:
    with pytest.raises(ValidationError, match=rf"^{message}"):
        run(text, values)


# -- REMOVE ----------------------------------------------------------------------------------------


def test_remove() -> None:
    after = run("REMOVE s, m.deep, nope, m.nope, l[1]")
    assert "s" not in after and after["m"] == {"a": D(1)} and after["l"] == [D(1), D(3)]


def test_remove_list_indexes_refer_to_the_original_list() -> None:
    assert run("REMOVE l[0], l[2]")["l"] == [D(2)]
    assert run("REMOVE l[2], l[0]")["l"] == [D(2)]
    assert run("REMOVE l[9]")["l"] == [D(1), D(2), D(3)]


def test_remove_under_a_missing_parent_is_invalid() -> None:
    with pytest.raises(ValidationError, match=r"document path provided in the update expression is invalid"):
        run("REMOVE nope.a")


# -- ADD -------------------------------------------------------------------------------------------


def test_add() -> None:
    assert run("ADD n :d", {":d": 3})["n"] == D(8)
    assert run("ADD hits :d", {":d": 3})["hits"] == D(3)  # missing: starts from zero
    assert run("ADD tags :t", {":t": {"b", "c"}})["tags"] == {"a", "b", "c"}
    assert run("ADD newset :t", {":t": {"x"}})["newset"] == {"x"}
    assert run("ADD nums :t", {":t": {3}})["nums"] == {D(1), D(2), D(3)}
    assert run("ADD m.a :d", {":d": 1})["m"]["a"] == D(2)
    with pytest.raises(ValidationError, match=r"^An operand in the update expression has an incorrect data type$"):
        run("ADD s :d", {":d": 1})
    with pytest.raises(ValidationError, match=r"incorrect data type"):
        run("ADD tags :t", {":t": {1}})  # number set into a string set
    with pytest.raises(ValidationError, match=r"incorrect data type"):
        run("ADD n :t", {":t": {"x"}})


@pytest.mark.parametrize(("value", "word"), [("x", "STRING"), ([1], "LIST"), ({"a": 1}, "MAP"), (True, "BOOLEAN")])
def test_add_value_must_be_number_or_set(value: object, word: str) -> None:
    with pytest.raises(
        ValidationError,
        match=rf"^Invalid UpdateExpression: Incorrect operand type for operator or function; "
        rf"operator: ADD, operand type: {word}$",
    ):
        parse_update("ADD n :v", None, {":v": value})


# -- DELETE ----------------------------------------------------------------------------------------


def test_delete() -> None:
    assert run("DELETE tags :t", {":t": {"a", "zzz"}})["tags"] == {"b"}
    assert "tags" not in run("DELETE tags :t", {":t": {"a", "b"}})  # an empty set is removed
    assert run("DELETE nums :t", {":t": {1}})["nums"] == {D(2)}
    assert "nope" not in run("DELETE nope :t", {":t": {"a"}})
    with pytest.raises(ValidationError, match=r"^An operand in the update expression has an incorrect data type$"):
        run("DELETE nums :t", {":t": {"a"}})
    with pytest.raises(ValidationError, match=r"incorrect data type"):
        run("DELETE s :t", {":t": {"a"}})
    with pytest.raises(ValidationError, match=r"operator: DELETE, operand type: NUMBER"):
        parse_update("DELETE nums :v", None, {":v": 1})


# -- whole expressions -----------------------------------------------------------------------------


def test_all_sections_in_any_order_and_case() -> None:
    after = run(
        "delete tags :t ADD n :one remove s SET m.a = :one",
        {":t": {"a"}, ":one": 1},
    )
    assert after["tags"] == {"b"} and after["n"] == D(6) and "s" not in after and after["m"]["a"] == D(1)


def test_new_item_starts_from_the_key() -> None:
    update = parse_update("SET a = :v ADD n :one", None, {":v": "x", ":one": 1})
    assert update.apply(None, KEY) == {"pk": "u1", "a": "x", "n": D(1)}
    with pytest.raises(ValidationError, match=r"refers to an attribute that does not exist"):
        parse_update("SET a = b", None, None).apply(None, KEY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SET a = :v, a.b = :v",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a, b]",
        ),
        (
            "SET a.b = :v REMOVE a",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a, b], path two: [a]",
        ),
        (
            "SET a = :v REMOVE a",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; "
            "path one: [a], path two: [a]",
        ),
        (
            "SET a[0] = :v, a.b = :v",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; "
            "path one: [a, [0]], path two: [a, b]",
        ),
        ("SET a = :v SET b = :v", 'The "SET" section can only be used once in an update expression;'),
        ("REMOVE a REMOVE b", 'The "REMOVE" section can only be used once in an update expression;'),
        ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
        (
            "SET a = attribute_exists(b)",
            "The function is not allowed in an update expression; function: attribute_exists",
        ),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
        (
            "SET a = if_not_exists(:v, b)",
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        ("SET a = b + :s", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        (
            "SET a = list_append(b, :s)",
            "Incorrect operand type for operator or function; operator or function: list_append, operand type: S",
        ),
        ("SET a = b + c + d", 'Syntax error; token: "+", near: "c + d"'),
        ("ADD a b", 'Syntax error; token: "b", near: "a b"'),
        ("UPDATE a = :v", 'Syntax error; token: "UPDATE", near: "UPDATE a"'),
        ("SET a :v", 'Syntax error; token: ":v", near: "a :v"'),
        ("REMOVE a,", 'Syntax error; token: "<EOF>", near: ","'),
        ("SET", 'Syntax error; token: "<EOF>", near: "SET"'),
        ("SET status = :v", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("SET a = :nope", "An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("", "The expression can not be empty;"),
    ],
)
def test_static_errors(text: str, message: str) -> None:
    values = {":v": 1, ":s": "x"}
    with pytest.raises(ValidationError) as raised:
        parse_update(text, None, values, check_unused_keys=False)
    assert raised.value.message == f"Invalid UpdateExpression: {message}"


def test_unused_placeholders() -> None:
    with pytest.raises(ValidationError, match=r"^Value provided in ExpressionAttributeValues unused in expressions"):
        parse_update("REMOVE a", None, {":v": 1})
    with pytest.raises(ValidationError, match=r"^Value provided in ExpressionAttributeNames unused in expressions"):
        parse_update("REMOVE a", {"#a": "a"})


def test_paths_and_top_level_names() -> None:
    update = parse_update("SET #s = :v, m.a = :v REMOVE l[0] ADD n :v", {"#s": "status"}, {":v": 1})
    assert update.paths() == [Path("status"), Path("m.a"), Path("l[0]"), Path("n")]
    assert update.top_level_names() == {"status", "m", "l", "n"}


def test_updated_attributes() -> None:
    update = parse_update("SET m.a = :v, s = :s REMOVE l[0] ADD fresh :v", None, {":v": 9, ":s": "new"})
    new = update.apply(ITEM, KEY)
    old_part, new_part = updated_attributes(ITEM, new, update)
    assert old_part == {"m": {"a": D(1)}, "s": "text", "l": [D(1)]}
    assert new_part == {"m": {"a": D(9)}, "s": "new", "l": [D(2)], "fresh": D(9)}
    assert updated_attributes(None, new, update)[0] == {}


# -- builder and rendering -------------------------------------------------------------------------


def test_builder() -> None:
    update = (
        Update()
        .set("s", "built")
        .set("n", Attr("n") + 10)
        .set("l", list_append(Attr("l"), [4]))
        .set("c", if_not_exists("c", 0))
        .set(Attr("m.a"), Attr("m.a") - 1)
        .remove("m.deep")
        .add("tags", {"z"})
        .delete("nums", {1})
    )
    after = update.apply(ITEM, KEY)
    assert after["s"] == "built" and after["n"] == D(15) and after["l"][-1] == D(4) and after["c"] == D(0)
    assert after["m"] == {"a": D(0)}
    assert after["tags"] == {"a", "b", "z"} and after["nums"] == {D(2)}
    base = Update().set("a", 1)
    base.set("b", 2)
    assert len(base.actions) == 1  # builder calls return new updates
    assert not Update() and base


def test_builder_errors() -> None:
    with pytest.raises(ValidationError, match=r"overlap"):
        Update().set("a", 1).remove("a.b")
    with pytest.raises(ValidationError, match=r"operator: ADD, operand type: STRING"):
        Update().add("a", "x")
    with pytest.raises(ValidationError, match=r"operator: DELETE, operand type: NUMBER"):
        Update().delete("a", 1)
    with pytest.raises(ValidationError, match=r"take a value"):
        Update().add("a", Attr("b"))
    with pytest.raises(ValidationError, match=r"list_append, operand type: N"):
        list_append(Attr("l"), 5)
    with pytest.raises(ValidationError, match=r"operand type: S"):
        Update().set("n", Attr("n") + "x")
    with pytest.raises(ValidationError, match=r"Float.*price"):
        Update().set("price", 1.5)
    with pytest.raises(ValidationError, match=r"cannot be extended"):
        parse_update("SET a = :v", None, {":v": 1}).set("b", 2)


def test_render_round_trip() -> None:
    update = (
        Update()
        .set("weird name", "x")
        .set("n", Attr("n") + 1)
        .set("l", list_append(if_not_exists("l", []), ["y"]))
        .set("m.a", Attr("m.deep.x"))
        .remove("s")
        .remove("m.deep")
        .add("tags", {"c"})
        .delete("nums", {2})
    )
    ph = Placeholders()
    text = update.render(ph)
    assert text.startswith("SET ") and " REMOVE " in text and " ADD " in text and " DELETE " in text
    assert "weird" not in text and "x" in ph.values.values()
    again = parse_update(text, ph.names, ph.values)
    assert again.apply(ITEM, KEY) == update.apply(ITEM, KEY)
    parsed = parse_update("SET #a = :v REMOVE b", {"#a": "a"}, {":v": 1})
    ph = Placeholders()
    assert parse_update(parsed.render(ph), ph.names, ph.values).apply(ITEM, KEY) == parsed.apply(ITEM, KEY)
