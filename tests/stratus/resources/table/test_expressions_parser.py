"""parse_condition / parse_filter: DynamoDB's condition syntax and its error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ValidationError
from stratus.resources.table.expressions import (
    RESERVED_WORDS,
    Attr,
    check_unused,
    condition_parser,
    is_reserved,
    parse_condition,
    parse_filter,
)

ITEM = {"a": Decimal(1), "b": "x", "c": {"d": [Decimal(10), Decimal(20)]}, "status": "open", "tags": {"p", "q"}}


def holds(text: str, values: dict | None = None, names: dict | None = None, item: dict | None = ITEM) -> bool:
    return parse_condition(text, names, values).evaluate(item)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("a = :v", {":v": 1}, True),
        ("a <> :v", {":v": 1}, False),
        ("a < :v", {":v": 2}, True),
        ("a <= :v", {":v": 1}, True),
        ("a > :v", {":v": 1}, False),
        ("a >= :v", {":v": 1}, True),
        ("a=:v", {":v": 1}, True),  # no spaces needed
        ("c.d[1] = :v", {":v": 20}, True),
        ("c.d [ 0 ] = :v", {":v": 10}, True),
        ("a BETWEEN :lo AND :hi", {":lo": 0, ":hi": 1}, True),
        ("a between :lo and :hi", {":lo": 2, ":hi": 3}, False),  # keywords are case-insensitive
        ("b IN (:x, :y)", {":x": "y", ":y": "x"}, True),
        ("b IN (:x)", {":x": "z"}, False),
        ("attribute_exists(c.d)", None, True),
        ("attribute_not_exists(c.e)", None, True),
        ("attribute_type(b, :t)", {":t": "S"}, True),
        ("begins_with(b, :p)", {":p": "x"}, True),
        ("contains(tags, :t)", {":t": "p"}, True),
        ("contains(c.d, :n)", {":n": 10}, True),
        ("size(tags) = :two", {":two": 2}, True),
        ("size(c.d) > a", None, True),
        ("size(b) BETWEEN :lo AND :hi", {":lo": 1, ":hi": 1}, True),
        ("a = b", None, False),
        ("(a = :v)", {":v": 1}, True),
        ("((a = :v))", {":v": 1}, True),
        ("NOT a = :v", {":v": 2}, True),
        ("NOT NOT a = :v", {":v": 1}, True),
        ("a = :v AND b = :w", {":v": 1, ":w": "x"}, True),
        ("a = :v AND b = :w", {":v": 1, ":w": "y"}, False),
        ("a = :v OR b = :w", {":v": 9, ":w": "x"}, True),
    ],
)
def test_syntax(text: str, values: dict | None, expected: bool) -> None:
    assert holds(text, values) is expected


def test_precedence() -> None:
    both = {":t": 1, ":f": 2}
    # AND binds tighter than OR: t OR (t AND f) is true; (t OR t) AND f would be false.
    assert holds("a = :t OR a = :t AND a = :f", both)
    assert not holds("(a = :t OR a = :t) AND a = :f", both)
    # NOT binds tighter than AND: (NOT f) AND t.
    assert holds("NOT a = :f AND a = :t", both)
    assert not holds("NOT (a = :t AND a = :t)", {":t": 1})
    # NOT binds tighter than OR: (NOT t) OR f is false.
    assert not holds("NOT a = :t OR a = :f", both)


def test_names_placeholders() -> None:
    names = {"#s": "status", "#c": "c", "#dot": "x.y"}
    assert holds("#s = :v AND size(#c.d) = :two", {":v": "open", ":two": 2}, {"#s": "status", "#c": "c"})
    assert holds("attribute_exists(#dot)", None, {"#dot": "x.y"}, item={"x.y": 1})
    assert not holds("attribute_exists(#dot)", None, {"#dot": "x.y"}, item={"x": {"y": 1}})
    with pytest.raises(ValidationError, match=r"unused in expressions: keys: {#dot}"):
        parse_condition("#s = :v AND #c = :v", names, {":v": 1})


def test_missing_item_and_nulls() -> None:
    assert holds("attribute_not_exists(pk)", item=None)
    assert holds("z = :n", {":n": None}, item={"z": None})


SYNTAX_ERRORS = [
    ("a = = :v", {":v": 1}, '"=", near: "= = :v"'),
    ("a = :v AND", {":v": 1}, '"<EOF>", near: "AND"'),
    ("a = :v & b", {":v": 1}, '"&", near: ":v & b"'),
    ("a = 5", None, '"5", near: "= 5"'),
    ("a = 'x'", None, 'token: "\'"'),
    ("(a = :v", {":v": 1}, '"<EOF>"'),
    ("a = :v)", {":v": 1}, '")"'),
    ("a :v", {":v": 1}, '":v"'),
    ("a IN ()", None, '")"'),
    ("a BETWEEN :v", {":v": 1}, '"<EOF>"'),
    ("a BETWEEN :v OR :v", {":v": 1}, '"OR"'),
    ("NOT", None, '"<EOF>"'),
    ("a.AND = :v", {":v": 1}, '"AND"'),
    ("a[x] = :v", {":v": 1}, '"x"'),
    ("a[-1] = :v", {":v": 1}, '"-"'),
    ("a.b.", None, '"<EOF>"'),
    ("a = :v AND OR b = :v", {":v": 1}, '"OR"'),
    ("begins_with(a, :v) = :v", {":v": "x"}, '"="'),
]


@pytest.mark.parametrize(("text", "values", "fragment"), SYNTAX_ERRORS)
def test_syntax_errors(text: str, values: dict | None, fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_condition(text, None, values)
    assert raised.value.message.startswith("Invalid ConditionExpression: Syntax error; token: ")
    assert fragment in raised.value.message


def test_dash_in_name_is_a_syntax_error_near_the_name() -> None:
    with pytest.raises(ValidationError, match='token: "-", near: "#date-created"'):
        parse_condition("#date-created = :v", {"#date": "d"}, {":v": 1})


@pytest.mark.parametrize(
    ("text", "names", "values", "message"),
    [
        ("", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
        ("   ", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
        (
            "a = :x",
            None,
            {},
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
            "attribute value: :x",
        ),
        (
            "#x = :v",
            None,
            {":v": 1},
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
            "attribute name: #x",
        ),
        (
            "status = :v",
            None,
            {":v": 1},
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        (
            "a.Size = :v",
            None,
            {":v": 1},
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size",
        ),
        (
            "a = :v",
            {"#a": "x"},
            {":v": 1},
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}",
        ),
        (
            "a = :v",
            None,
            {":v": 1, ":w": 2, ":u": 3},
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u, :w}",
        ),
        ("foo(a)", None, None, "Invalid ConditionExpression: Invalid function name; function: foo"),
        (
            "size(a)",
            None,
            None,
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
            "function: size",
        ),
        (
            "a = list_append(a, a)",
            None,
            None,
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
            "function: list_append",
        ),
        (
            "attribute_exists(:v)",
            None,
            {":v": 1},
            "Invalid ConditionExpression: Operator or function requires a document path; "
            "operator or function: attribute_exists",
        ),
        (
            "size(:v) = :v",
            None,
            {":v": 1},
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: size",
        ),
        (
            "begins_with(a)",
            None,
            None,
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
            "operator or function: begins_with, number of operands: 1",
        ),
        (
            "begins_with(a, :n)",
            None,
            {":n": 1},
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
        (
            "attribute_type(a, :t)",
            None,
            {":t": "STRING"},
            "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, "
            "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "attribute_type(a, :t)",
            None,
            {":t": 1},
            "Invalid ConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: attribute_type, operand type: N",
        ),
        (
            "a BETWEEN :a AND :b",
            None,
            {":a": 5, ":b": 1},
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
            "lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "c.d[0] = c.d[0]",
            None,
            None,
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
            "operator or function; operator: =, first operand: [c, d, [0]]",
        ),
        (
            "a IN (b, a)",
            None,
            None,
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
            "operator or function; operator: IN, first operand: [a]",
        ),
        (
            "#x BETWEEN :v AND a",
            {"#x": "a"},
            {":v": 1},
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
            "operator or function; operator: BETWEEN, first operand: [a]",
        ),
        (
            "contains(a, a)",
            None,
            None,
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this "
            "operator or function; operator: contains, first operand: [a]",
        ),
        (
            "a BETWEEN :a AND :b",
            None,
            {":a": 1, ":b": "x"},
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
            "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}",
        ),
    ],
)
def test_error_messages(text: str, names: dict | None, values: dict | None, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_condition(text, names, values)
    assert raised.value.message == message
    assert raised.value.code == "ValidationException"


def test_filter_expression_prefix() -> None:
    with pytest.raises(ValidationError, match=r'^Invalid FilterExpression: Syntax error; token: "="'):
        parse_filter("a = = :v", None, {":v": 1})
    with pytest.raises(ValidationError, match=r"^Invalid FilterExpression: Attribute name is a reserved keyword"):
        parse_filter("name = :v", None, {":v": 1})
    assert parse_filter("a = :v", None, {":v": 1}).evaluate(ITEM)


def test_in_operand_limit() -> None:
    values = {f":v{i}": i for i in range(101)}
    text = "a IN (" + ", ".join(values) + ")"
    with pytest.raises(
        ValidationError,
        match=r"^Invalid ConditionExpression: The IN operator is provided with too many operands; "
        r"number of operands: 101$",
    ):
        parse_condition(text, None, values)
    del values[":v100"]
    assert parse_condition(text.replace(", :v100", ""), None, values).evaluate(ITEM)


def test_operator_limit() -> None:
    values = {":v": 1}
    parse_condition(" OR ".join(["a = :v"] * 150), None, values)  # 150 comparisons + 149 ORs
    with pytest.raises(ValidationError, match=r"^Invalid FilterExpression: .*too many operators; operator count: 301$"):
        parse_filter(" OR ".join(["a = :v"] * 151), None, values)
    parse_condition(" AND ".join(["attribute_exists(a)"] * 150), None, None)


def test_expression_size_limit() -> None:
    text = "a = :v" + " " * 4090
    assert len(text) == 4096
    parse_condition(text, None, {":v": 1})
    with pytest.raises(
        ValidationError, match=r"Expression size has exceeded the maximum allowed size; expression size: 4097"
    ):
        parse_condition(text + " ", None, {":v": 1})


def test_path_depth_limit() -> None:
    parse_condition(".".join(["a"] * 32) + " = :v", None, {":v": 1})
    with pytest.raises(ValidationError, match=r"too many nesting levels; nesting levels: 33"):
        parse_condition(".".join(["a"] * 33) + " = :v", None, {":v": 1})


def test_placeholder_maps_are_checked() -> None:
    with pytest.raises(ValidationError, match='ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'):
        parse_condition("a = :v", {"a": "b"}, {":v": 1})
    with pytest.raises(ValidationError, match=r"ExpressionAttributeNames contains invalid value"):
        parse_condition("#a = :v", {"#a": ""}, {":v": 1})
    with pytest.raises(ValidationError, match='ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'):
        parse_condition("a = :v", None, {"v": 1})
    with pytest.raises(ValidationError, match=r"Float types are not supported.*:v"):
        parse_condition("a = :v", None, {":v": 1.5})
    with pytest.raises(ValidationError, match=r"must be a string"):
        parse_condition(None, None, None)  # type: ignore[arg-type]


def test_shared_maps_checked_across_expressions() -> None:
    names = {"#a": "a", "#b": "b"}
    values = {":v": 1, ":w": "x"}
    first = parse_condition("#a = :v", names, values, check_unused_keys=False)
    second = parse_filter("#b = :w", names, values, check_unused_keys=False)
    check_unused(names, values, first, second)
    with pytest.raises(ValidationError, match=r"ExpressionAttributeNames unused in expressions: keys: {#b}"):
        check_unused(names, values, first)
    with pytest.raises(ValidationError, match=r"ExpressionAttributeValues unused in expressions: keys: {:w}"):
        check_unused({"#a": "a"}, values, first)


def test_reserved_words() -> None:
    assert len(RESERVED_WORDS) == 573
    for word in ("status", "NAME", "Date", "size", "count", "key", "data", "timestamp", "ttl", "value"):
        assert is_reserved(word)
        with pytest.raises(ValidationError, match=rf"reserved keyword: {word}$"):
            parse_condition(f"{word} = :v", None, {":v": 1})
        assert parse_condition("#w = :v", {"#w": word}, {":v": 1}).evaluate({word: Decimal(1)})
    for word in ("pk", "sk", "email", "amount", "createdAt", "_private"):
        assert not is_reserved(word)
        parse_condition(f"{word} = :v", None, {":v": 1})


def test_parse_is_cached_and_values_bound_per_call() -> None:
    text = "cached_attr_q = :v AND size(cached_list) > :n"
    condition_parser._parse.cache_clear()
    first = parse_condition(text, None, {":v": 1, ":n": 0})
    second = parse_condition(text, None, {":v": 2, ":n": 0})
    info = condition_parser._parse.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert first.node is second.node
    item = {"cached_attr_q": Decimal(2), "cached_list": [1]}
    assert not first.evaluate(item)
    assert second.evaluate(item)
    # The names map is part of the key: new names, new parse.
    parse_condition("#x = :v", {"#x": "a"}, {":v": 1})
    parse_condition("#x = :v", {"#x": "b"}, {":v": 1})
    assert condition_parser._parse.cache_info().misses == 3


def test_combining_parsed_conditions_keeps_each_ones_values() -> None:
    first = parse_condition("#a = :v", {"#a": "a"}, {":v": 1})
    second = parse_condition("b = :w", None, {":w": "x"})
    assert (first & second).evaluate(ITEM)
    assert not (first & ~second).evaluate(ITEM)
    combined = first | ~second
    assert combined.names_used == {"#a"} and combined.values_used == {":v", ":w"}
    assert Attr("a").eq(1).names_used == frozenset()
