"""Rendering: parse(render(x)) evaluates like x, and user data never reaches the text."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stratus.resources.table.expressions import Attr, Condition, Path, Placeholders, parse_condition
from stratus.resources.table.values import validate_item

_paths = st.builds(
    lambda first, rest: ".".join([first, *rest]).replace(".[", "["),
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.sampled_from(["b", "c", "[0]", "[1]"]), max_size=2),
)
_values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(["", "a", "ab", "b", "OR x", "DROP;"]),
    st.sampled_from([b"", b"a", b"ab"]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-2, 2), max_size=2),
    st.sets(st.sampled_from(["a", "b"]), min_size=1),
)


def _leaf(draw: st.DrawFn) -> Condition:
    path = draw(_paths)
    attr = Attr(path)
    choice = draw(st.integers(0, 14))
    value = draw(_values)
    if choice == 0:
        return attr.eq(value)
    if choice == 1:
        return attr.ne(value)
    if choice == 2:
        return attr.lt(value)
    if choice == 3:
        return attr.gte(value)
    if choice == 4:
        low, high = sorted(draw(st.lists(st.integers(-3, 3), min_size=2, max_size=2)))
        return attr.between(low, high)
    if choice == 5:
        return attr.is_in(value, draw(_values))
    if choice == 6:
        return attr.begins_with(draw(st.sampled_from(["", "a", b"a"])))
    if choice == 7:
        return attr.contains(value)
    if choice == 8:
        return attr.exists()
    if choice == 9:
        return attr.not_exists()
    if choice == 10:
        return attr.attribute_type(draw(st.sampled_from(["S", "N", "L", "M", "SS", "NULL"])))
    if choice == 11:
        return attr.size().gt(draw(st.integers(0, 2)))
    if choice == 12:
        return attr.eq(Attr(draw(_paths.filter(lambda other: Path(other) != Path(path)))))
    if choice == 13:
        return attr.lte(value)
    return attr.gt(value)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> Condition:
    if depth >= 3 or draw(st.booleans()):
        return _leaf(draw)
    op = draw(st.sampled_from(["and", "or", "not"]))
    left = draw(conditions(depth + 1))
    if op == "not":
        return ~left
    right = draw(conditions(depth + 1))
    return left & right if op == "and" else left | right


_docs = st.recursive(
    _values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["b", "c"]), inner, max_size=2),
    ),
    max_leaves=6,
)
items = st.dictionaries(st.sampled_from(["a", "b", "c"]), _docs, max_size=3).map(validate_item)


@settings(max_examples=100, deadline=None)
@given(conditions(), st.lists(items, min_size=1, max_size=4))
def test_parse_of_render_evaluates_the_same(condition: Condition, samples: list[dict]) -> None:
    ph = Placeholders()
    text = condition.render(ph)
    parsed = parse_condition(text, ph.names, ph.values)
    for item in samples:
        assert parsed.evaluate(item) == condition.evaluate(item), (text, ph.names, ph.values, item)
    # and once more through the parsed form
    ph2 = Placeholders()
    again = parse_condition(parsed.render(ph2), ph2.names, ph2.values)
    for item in samples:
        assert again.evaluate(item) == condition.evaluate(item)


@settings(max_examples=50, deadline=None)
@given(conditions())
def test_user_data_never_reaches_the_text(condition: Condition) -> None:
    ph = Placeholders()
    text = condition.render(ph)
    for word in ("x y", "OR x", "DROP;"):
        assert word not in text
    assert all(name.startswith("#n") for name in ph.names)
    assert all(value.startswith(":v") for value in ph.values)


def test_render_of_names_that_need_placeholders() -> None:
    condition = Attr(["status"]).eq("x") & Attr(["x y", 0]).exists() & Attr(["#weird"]).ne(Decimal(1))
    ph = Placeholders()
    text = condition.render(ph)
    assert "status" not in text and "x y" not in text and "weird" not in text
    item = {"status": "x", "x y": [1], "#weird": Decimal(2)}
    assert parse_condition(text, ph.names, ph.values).evaluate(validate_item(item))
