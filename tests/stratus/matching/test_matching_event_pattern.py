"""EventBridge event patterns: the operators, typing, arrays, validation and error texts."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.errors import ValidationError
from stratus.matching import InvalidEvent, InvalidEventPattern, compile_pattern, test_event_pattern

ENVELOPE = {
    "id": "1",
    "account": "123456789012",
    "source": "orders",
    "time": "2026-11-22T12:00:00Z",
    "region": "eu-west-1",
    "detail-type": "OrderPlaced",
}


def matches(pattern: Any, detail: Any) -> bool:
    return compile_pattern({"detail": pattern}).matches({**ENVELOPE, "detail": detail})


def reason(pattern: Any) -> str:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern(pattern)
    assert caught.value.code == "InvalidEventPatternException"
    prefix = "Event pattern is not valid. Reason: "
    assert caught.value.message.startswith(prefix)
    return caught.value.message[len(prefix) :]


# -- exact values and JSON typing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "value", "expected"),
    [
        ("a", "a", True),
        ("a", "A", False),
        (300, 300.0, True),
        (300.0, 300, True),
        (300, "300", False),
        ("300", 300, False),
        (1, True, False),
        (True, 1, False),
        (False, 0, False),
        (None, None, True),
        (None, "null", False),
        ("*", "*", True),
        ("\\", "\\", True),
    ],
)
def test_exact_values_compare_as_typed_json(allowed: Any, value: Any, expected: bool) -> None:
    assert matches({"v": [allowed]}, {"v": value}) is expected


def test_an_event_array_matches_when_any_element_matches() -> None:
    assert matches({"v": ["b", "z"]}, {"v": ["a", "b"]})
    assert not matches({"v": ["z"]}, {"v": ["a", "b"]})
    assert not matches({"v": [None]}, {"v": []})


def test_nested_arrays_are_flattened() -> None:
    assert matches({"v": ["b"]}, {"v": [["a"], [["b"]]]})


def test_fields_are_anded_and_values_ored() -> None:
    pattern = {"a": ["x", "y"], "b": ["z"]}
    assert matches(pattern, {"a": "y", "b": "z"})
    assert not matches(pattern, {"a": "y", "b": "q"})
    assert not matches(pattern, {"a": "y"})


def test_objects_in_an_array_must_match_within_one_element() -> None:
    detail = {"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}
    assert matches({"items": {"sku": ["a"], "qty": [1]}}, detail)
    assert matches({"items": {"sku": ["b"], "qty": [2]}}, detail)
    assert not matches({"items": {"sku": ["a"], "qty": [2]}}, detail)


def test_dotted_keys_and_nesting_are_the_same_path() -> None:
    assert matches({"state": {"status": ["on"]}}, {"state.status": "on"})
    assert matches({"state.status": ["on"]}, {"state": {"status": "on"}})
    assert not matches({"state": {"status": ["on"]}}, {"state": "on"})


def test_json_in_a_string_is_not_parsed() -> None:
    assert not matches({"k": ["v"]}, '{"k": "v"}')


# -- string operators ----------------------------------------------------------------------------------


def test_prefix_suffix_and_case() -> None:
    assert matches({"f": [{"prefix": "img"}]}, {"f": "img.png"})
    assert not matches({"f": [{"prefix": "IMG"}]}, {"f": "img.png"})
    assert matches({"f": [{"suffix": ".png"}]}, {"f": "img.png"})
    assert not matches({"f": [{"suffix": ".png"}]}, {"f": 5})
    assert matches({"f": [{"prefix": {"equals-ignore-case": "IMG"}}]}, {"f": "iMg.png"})
    assert matches({"f": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"f": "img.png"})
    assert matches({"f": [{"equals-ignore-case": "HeLLo"}]}, {"f": "hello"})
    assert not matches({"f": [{"equals-ignore-case": "hello"}]}, {"f": "hello!"})
    assert matches({"f": [{"prefix": ""}]}, {"f": "anything"})
    assert not matches({"f": [{"prefix": ""}]}, {"f": None})


def test_wildcard() -> None:
    assert matches({"p": [{"wildcard": "dir/*/file"}]}, {"p": "dir/a/b/file"})
    assert not matches({"p": [{"wildcard": "dir/*/file"}]}, {"p": "dir/a/b/files"})
    assert matches({"p": [{"wildcard": "a\\*b"}]}, {"p": "a*b"})
    assert not matches({"p": [{"wildcard": "a\\*b"}]}, {"p": "axb"})
    assert matches({"p": [{"wildcard": "x\\\\y*"}]}, {"p": "x\\yz"})
    assert not matches({"p": [{"wildcard": ""}]}, {"p": "x"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a**", "Consecutive wildcard characters at pos 2"),
        ("a\\b", "Invalid escape character at pos 2"),
        ("ab\\", "Invalid escape character at pos 3"),
        (
            "*:*:*:*:*:event-bus/*",
            "Rule is too complex - try using fewer wildcard characters or fewer repeating "
            "character sequences after a wildcard character",
        ),
    ],
)
def test_wildcard_validation(value: str, message: str) -> None:
    assert reason({"p": [{"wildcard": value}]}) == message


def test_wildcard_complexity_counts_every_wildcard_on_a_field() -> None:
    compile_pattern({"p": [{"wildcard": "*:*:*"}]})
    assert reason({"p": [{"wildcard": "*:*:*"}, {"wildcard": "*:*:*:"}]}).startswith("Rule is too complex")
    compile_pattern({"p": [{"wildcard": "*:*:*"}], "q": [{"wildcard": "*:*:*:"}]})


# -- anything-but --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        ("x", "y", True),
        ("x", "x", False),
        ("x", None, True),
        (["x", "y"], "y", False),
        ([1, 2], 2.0, False),
        ([1, 2], 3, True),
        ({"prefix": "in"}, "init", False),
        ({"prefix": "in"}, 12, True),
        ({"prefix": ["a", "b"]}, "bee", False),
        ({"suffix": ".txt"}, "f.txt", False),
        ({"suffix": ".txt"}, "f.bak", True),
        ({"equals-ignore-case": "STOP"}, "stop", False),
        ({"equals-ignore-case": ["a", "b"]}, "C", True),
        ({"wildcard": "*/tmp/*"}, "/a/tmp/b", False),
        ({"wildcard": ""}, "x", True),
    ],
)
def test_anything_but(operand: Any, value: Any, expected: bool) -> None:
    assert matches({"v": [{"anything-but": operand}]}, {"v": value}) is expected


def test_anything_but_needs_the_field() -> None:
    assert not matches({"v": [{"anything-but": "x"}]}, {})


# -- numeric and cidr ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value", "expected"),
    [
        ([">", 0, "<=", 5], 0, False),
        ([">", 0, "<=", 5], 5, True),
        ([">", 0, "<=", 5], 5.0, True),
        ([">=", 0, "<", 5], 0, True),
        ([">=", 0, "<", 5], 5, False),
        (["<", 10], -1e9, True),
        (["=", 301.8], 301.8, True),
        (["=", 3.018e2], 301.8, True),
        ([">", 0], "5", False),
        ([">", 0], True, False),
    ],
)
def test_numeric(expr: list[Any], value: Any, expected: bool) -> None:
    assert matches({"n": [{"numeric": expr}]}, {"n": value}) is expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (5, "Value of numeric must be an array."),
        ([], "Invalid member in numeric match: ]"),
        ([1, "<"], "Invalid member in numeric match: 1"),
        (["~", 1], "Unrecognized numeric range operator: ~"),
        (["=", "1"], "Value of equals must be numeric"),
        ([">="], "Value of >= must be numeric"),
        (["<", 1, ">", 0], "Too many elements in numeric expression"),
        ([">", 1, ">", 2], "Bad numeric range operator: >"),
        ([">", 1, 2], "Bad value in numeric range: 2"),
        ([">", 3, "<", 1], "Bottom must be less than top"),
        ([">", 1, "<", 2, "<", 3], "Too many terms in numeric range expression"),
        ([">", 6e9], "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ],
)
def test_numeric_errors(expr: Any, message: str) -> None:
    assert reason({"n": [{"numeric": expr}]}) == message


def test_cidr() -> None:
    assert matches({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"})
    assert not matches({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.1.0"})
    assert not matches({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "not an ip"})
    assert matches({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:0db8:0000::1"})
    assert not matches({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "10.0.0.1"})


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.0.0.0", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
        ("10.0.0/8", "Nonstandard IP address: 10.0.0"),
        (["10.0.0.0/8"], "prefix match pattern must be a string"),
    ],
)
def test_cidr_errors(cidr: Any, message: str) -> None:
    assert reason({"ip": [{"cidr": cidr}]}) == message


# -- exists --------------------------------------------------------------------------------------------


def test_exists_looks_at_leaves_only() -> None:
    assert matches({"k": [{"exists": True}]}, {"k": None})
    assert not matches({"k": [{"exists": True}]}, {"k": {"inner": 1}})
    assert not matches({"k": [{"exists": True}]}, {"k": []})
    assert matches({"k": [{"exists": False}]}, {"k": {"inner": 1}})
    assert not matches({"k": [{"exists": False}]}, {"k": 0})


def test_exists_false_or_a_value() -> None:
    pattern = {"k": [{"exists": False}, "yes"]}
    assert matches(pattern, {})
    assert matches(pattern, {"k": "yes"})
    assert not matches(pattern, {"k": "no"})


# -- $or -----------------------------------------------------------------------------------------------


def test_or_alternatives_multiply() -> None:
    pattern = {"$or": [{"a": ["1"]}, {"b": ["1"]}], "c": {"$or": [{"d": ["1"]}, {"e": ["1"]}]}}
    assert matches(pattern, {"a": "1", "c": {"e": "1"}})
    assert matches(pattern, {"b": "1", "c": {"d": "1"}})
    assert not matches(pattern, {"a": "1", "c": {"f": "1"}})
    assert not matches(pattern, {"c": {"d": "1"}})


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"$or": {"a": ["1"]}}, "It must be an Array followed with $or."),
        ({"$or": [{"a": ["1"]}]}, "There must have at least 2 Objects in $or relationship."),
        ({"$or": [{"a": ["1"]}, "b"]}, "Only JSON object is allowed in array of $or relationship."),
        (
            {"$or": [{"a": ["1"]}, {"prefix": ["1"]}]},
            "prefix is Ruler reserved fieldName which cannot be used inside $or.",
        ),
    ],
)
def test_or_errors(pattern: Any, message: str) -> None:
    assert reason(pattern) == message


# -- structure and JSON text errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({}, "Empty objects are not allowed"),
        ({"a": {}}, "Empty objects are not allowed"),
        ({"a": []}, "Empty arrays are not allowed"),
        ({"a": "x"}, '"a" must be an object or an array'),
        ({"a": [["x"]]}, "Match value must be String, number, true, false, or null"),
        ({"a": [{}]}, "Match expression name not found"),
        ({"a": [{"Prefix": "x"}]}, "Unrecognized match type Prefix"),
        ({"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed in match expression"),
        ({"a": [{"exists": "true"}]}, "exists match pattern must be either true or false."),
        ({"a": [{"anything-but": None}]}, "Value of anything-but must be an array or single string/number value."),
        (
            {"a": [{"anything-but": ["x", 1]}]},
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        ({"a": [{"anything-but": {"exists": False}}]}, "Unsupported anything-but pattern: exists"),
        ({"a": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
        (["a"], "Filter is not an object"),
        ("[1, 2", "Filter is not an object"),
        ("42", "Filter is not an object"),
        (
            "nope",
            "Unrecognized token 'nope': was expecting (JSON String, Number, Array, Object or token 'null', "
            "'true' or 'false')",
        ),
        (
            '{"a": ["x",]}',
            "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, "
            "Array, Object or token 'null', 'true' or 'false')",
        ),
        ('{"a" ["x"]}', "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value"),
        (
            '{"a": ["x"] "b": ["y"]}',
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        ),
        ('{"a": [NaN]}', "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"),
    ],
)
def test_invalid_patterns(pattern: Any, message: str) -> None:
    assert reason(pattern) == message


def test_pattern_text_is_read_like_jackson() -> None:
    # Text after the root object is ignored; of duplicate keys the last wins.
    assert compile_pattern('{"source": ["orders"]} trailing').matches(ENVELOPE)
    duplicate = compile_pattern('{"source": ["nope"], "source": ["orders"]}')
    assert duplicate.matches(ENVELOPE)


# -- TestEventPattern ----------------------------------------------------------------------------------


def test_test_event_pattern_accepts_text_or_dicts() -> None:
    assert test_event_pattern(ENVELOPE, '{"source": ["orders"]}') is True
    assert (
        test_event_pattern(
            '{"id": "1", "account": "1", "source": "x", "time": "t", "region": "r", "detail-type": "d"}',
            {"source": ["orders"]},
        )
        is False
    )


@pytest.mark.parametrize(
    "event",
    ["not json", "[]", '"text"', {k: v for k, v in ENVELOPE.items() if k != "region"}, ["x"]],
)
def test_test_event_pattern_rejects_bad_events(event: Any) -> None:
    with pytest.raises(InvalidEvent) as caught:
        test_event_pattern(event, {"source": ["orders"]})
    assert caught.value.code == "ValidationException"
    assert caught.value.message == "Parameter Event is not valid."
    assert isinstance(caught.value, ValidationError)


def test_numbers_compare_to_six_decimal_places_within_five_billion() -> None:
    assert matches({"n": [{"numeric": ["=", 0.3]}]}, {"n": 0.1 + 0.2})
    assert matches({"n": [0.3]}, {"n": 0.1 + 0.2})
    assert matches({"n": [{"numeric": ["<=", 1]}]}, {"n": 1.0000001})
    assert not matches({"n": [{"numeric": ["<=", 1]}]}, {"n": 1.000002})
    assert not matches({"n": [{"numeric": [">", 0]}]}, {"n": 6e9})
    # Exact values beyond the numeric range (account numbers...) still compare as written.
    assert matches({"n": [123456789012]}, {"n": 123456789012})
    assert not matches({"n": [123456789012]}, {"n": 123456789013})
    assert matches({"n": [{"anything-but": [1, 2]}]}, {"n": 6e9})


def test_absurd_nesting_is_an_invalid_pattern_not_a_crash() -> None:
    deep: dict[str, Any] = {"leaf": ["x"]}
    for _ in range(5000):
        deep = {"k": deep}
    assert reason(deep).startswith("Document nesting depth (1001) exceeds the maximum allowed (1000")
    assert reason("{" + '"k": {' * 5000).startswith(("Document nesting depth", "Unexpected end-of-input"))
    shallow: dict[str, Any] = {"leaf": ["x"]}
    for _ in range(900):
        shallow = {"k": shallow}
    compile_pattern(shallow)


def test_or_combinations_are_bounded() -> None:
    pair = [{"a": ["1"]}, {"b": ["1"]}]
    pattern: dict[str, Any] = {f"k{i}": {"$or": pair} for i in range(12)}
    compile_pattern(pattern)  # 2**12 alternatives
    pattern["k12"] = {"$or": pair}
    assert reason(pattern).startswith("Rule is too complex - more than 4096 $or combinations")
