"""Any text given to the parsers either parses or fails with a ValidationError, never a crash."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stratus.errors import ValidationError
from stratus.resources.table.expressions import (
    Attr,
    Placeholders,
    Update,
    if_not_exists,
    list_append,
    parse_condition,
    parse_key_condition,
    parse_projection,
    parse_update,
)

TOKENS = [
    "a", "b", "#n", ":v", ":s", ":l", "status", "=", "<>", "<", "<=", ">", ">=", "(", ")", "[", "]", "0", "1",
    ",", ".", "+", "-", "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE", "size",
    "attribute_exists", "begins_with", "contains", "attribute_type", "if_not_exists", "list_append", "foo",
    "&", "'", " ",
]  # fmt: skip
NAMES = {"#n": "n"}
VALUES = {":v": Decimal(1), ":s": "S", ":l": [Decimal(1)]}
ITEM = {"a": [Decimal(1), {"b": "x"}], "b": Decimal(2), "n": {"S"}}

texts = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12).map(" ".join)


def _attempt(parse, text: str) -> object:
    try:
        return parse(text)
    except ValidationError as error:
        assert error.message
        return None


@settings(max_examples=300, deadline=None)
@given(texts)
def test_parsers_never_crash(text: str) -> None:
    condition = _attempt(lambda t: parse_condition(t, NAMES, VALUES, check_unused_keys=False), text)
    if condition is not None:
        assert condition.evaluate(ITEM) in (True, False)  # type: ignore[attr-defined]
    update = _attempt(lambda t: parse_update(t, NAMES, VALUES, check_unused_keys=False), text)
    if update is not None:
        _attempt(lambda _: update.apply(ITEM, {"pk": "k"}), text)  # type: ignore[attr-defined]
    _attempt(lambda t: parse_key_condition(t, NAMES, VALUES, check_unused_keys=False), text)
    projection = _attempt(lambda t: parse_projection(t, NAMES, check_unused_keys=False), text)
    if projection is not None:
        projection.apply(ITEM)  # type: ignore[attr-defined]


_paths = st.sampled_from(["a", "b", "c", "m.x", "m.y", "l[0]", "l[3]"])
_values = st.one_of(st.integers(-5, 5), st.text(max_size=2), st.lists(st.integers(0, 2), max_size=2))


@st.composite
def updates(draw: st.DrawFn) -> Update:
    update = Update()
    # The sampled paths are pairwise disjoint, so any subset is a valid update.
    for path in draw(st.lists(_paths, unique=True, max_size=4)):
        action = draw(st.sampled_from(["set", "set+", "ifne", "append", "remove", "add", "addset", "delete"]))
        if action == "set":
            update = update.set(path, draw(_values))
        elif action == "set+":
            update = update.set(path, Attr(path) + draw(st.integers(-3, 3)))
        elif action == "ifne":
            update = update.set(path, if_not_exists(path, draw(_values)))
        elif action == "append":
            update = update.set(path, list_append(if_not_exists(path, []), [draw(st.integers(0, 3))]))
        elif action == "remove":
            update = update.remove(path)
        elif action == "add":
            update = update.add(path, draw(st.integers(-3, 3)))
        elif action == "addset":
            update = update.add(path, draw(st.sets(st.sampled_from("xyz"), min_size=1)))
        else:
            update = update.delete(path, draw(st.sets(st.sampled_from("xyz"), min_size=1)))
    return update


items = st.fixed_dictionaries(
    {},
    optional={
        "a": _values,
        "b": st.integers(0, 3),
        "c": st.sets(st.sampled_from("xyz"), min_size=1),
        "m": st.fixed_dictionaries({}, optional={"x": st.integers(0, 3), "y": st.text(max_size=2)}),
        "l": st.lists(st.integers(0, 3), max_size=4),
    },
)


def _outcome(update: Update, item: dict) -> object:
    try:
        return update.apply(item, {"pk": "k"})
    except ValidationError as error:
        return error.message


@settings(max_examples=200, deadline=None)
@given(updates(), st.lists(items, min_size=1, max_size=3))
def test_update_render_round_trip(update: Update, samples: list[dict]) -> None:
    if not update:
        return
    ph = Placeholders()
    parsed = parse_update(update.render(ph), ph.names, ph.values)
    for raw in samples:
        item = {"pk": "k", **raw}
        assert _outcome(parsed, item) == _outcome(update, item)
