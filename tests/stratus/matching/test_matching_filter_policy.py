"""SNS filter policies: attribute typing, body scope, SNS's dialect and limits."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.matching import (
    SET_SUBSCRIPTION_ATTRIBUTES_PREFIX,
    SUBSCRIBE_PREFIX,
    InvalidFilterPolicy,
    compile_filter_policy,
)


def attr(data_type: str, value: str) -> dict[str, str]:
    return {"DataType": data_type, "StringValue": value}


def error(policy: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidFilterPolicy) as caught:
        compile_filter_policy(policy, **kwargs)
    assert caught.value.code == "InvalidParameter"
    return caught.value.message


def test_attribute_types() -> None:
    policy = compile_filter_policy({"price": [{"numeric": [">=", 100]}], "tags": ["red"]})
    assert policy.matches({"price": attr("Number", "150.5"), "tags": attr("String.Array", '["blue", "red"]')})
    assert not policy.matches({"price": attr("Number", "99"), "tags": attr("String.Array", '["red"]')})
    # A number in a String attribute is text, not a number.
    assert not policy.matches({"price": attr("String", "150"), "tags": attr("String", "red")})
    assert policy.matches({"price": attr("Number.usd", "150"), "tags": attr("String.colour", "red")})
    assert not policy.matches(None)


def test_string_array_elements_keep_their_json_types() -> None:
    policy = compile_filter_policy({"ids": [7], "flags": [True]})
    assert policy.matches({"ids": attr("String.Array", "[1, 7]"), "flags": attr("String.Array", "[true]")})
    assert not policy.matches({"ids": attr("String.Array", '["7"]'), "flags": attr("String.Array", "[true]")})
    assert not policy.matches({"ids": attr("String.Array", "not json"), "flags": attr("String.Array", "[true]")})


def test_binary_attributes_are_not_compared() -> None:
    binary = {"DataType": "Binary", "BinaryValue": b"\x00", "StringValue": "x"}
    assert compile_filter_policy({"blob": [{"exists": False}]}).matches({"blob": binary})
    assert not compile_filter_policy({"blob": [{"exists": True}]}).matches({"blob": binary})
    assert compile_filter_policy({"blob": [{"exists": True}]}).matches({"blob": attr("String", "")})


def test_message_body_scope() -> None:
    policy = compile_filter_policy({"order": {"status": ["paid"]}}, scope="MessageBody")
    assert policy.matches(body='{"order": {"status": "paid"}}')
    assert policy.matches(body='{"order": [{"status": "new"}, {"status": "paid"}]}')
    assert not policy.matches(body='{"order": {"status": "new"}}')
    assert not policy.matches(body="order paid")
    assert not policy.matches(body='["paid"]')
    assert not policy.matches(message_attributes={"order": attr("String", "paid")})


def test_sns_dialect() -> None:
    assert "Unrecognized match type wildcard" in error({"k": [{"wildcard": "a*"}]})
    assert "Unsupported anything-but pattern: suffix" in error({"k": [{"anything-but": {"suffix": "x"}}]})
    assert "prefix match pattern must be a string" in error({"k": [{"anything-but": {"prefix": ["a"]}}]})
    assert "Value must be between -1.0E9 and 1.0E9, inclusive" in error({"k": [{"numeric": [">", 2e9]}]})
    policy = compile_filter_policy({"k": [{"anything-but": {"prefix": "test-"}}, {"cidr": "10.0.0.0/8"}]})
    assert policy.matches({"k": attr("String", "prod")})
    assert not policy.matches({"k": attr("String", "test-1")})


def test_error_prefix_follows_the_api() -> None:
    policy = {"k": "v"}
    assert error(policy) == 'Invalid parameter: FilterPolicy: "k" must be an object or an array'
    assert error(policy, error_prefix=SUBSCRIBE_PREFIX) == (
        'Invalid parameter: Attributes Reason: FilterPolicy: "k" must be an object or an array'
    )
    assert SET_SUBSCRIPTION_ATTRIBUTES_PREFIX == "Invalid parameter: "


def test_limits() -> None:
    six = {f"k{i}": ["v"] for i in range(6)}
    assert error(six).endswith("FilterPolicy: Filter policy can not have more than 5 keys")
    compile_filter_policy({f"k{i}": ["v"] for i in range(5)})
    compile_filter_policy({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(15)]})
    assert error({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]}).endswith(
        "FilterPolicy: Filter policy is too complex"
    )
    # In the body scope each key's values count once per nesting level: 3 * (2 levels) * 26 > 150.
    nested = {"a": {"b": ["1", "2", "3"]}, "c": [str(i) for i in range(26)]}
    compile_filter_policy({"b": ["1", "2", "3"], "c": [str(i) for i in range(26)]}, scope="MessageBody")
    assert error(nested, scope="MessageBody").endswith("Filter policy is too complex")


def test_nested_policies_need_the_body_scope() -> None:
    nested = {"a": {"b": ["1"]}}
    assert (
        error(nested)
        == "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
    )
    compile_filter_policy(nested, scope="MessageBody")


def test_policy_text_and_scope_are_validated() -> None:
    assert compile_filter_policy('{"k": ["v"]}').matches({"k": attr("String", "v")})
    assert "Unexpected character" in error("{'k': ['v']}")
    assert "FilterPolicyScope" in error({"k": ["v"]}, scope="Everything")


def test_sns_numbers_compare_to_five_decimal_places() -> None:
    policy = compile_filter_policy({"p": [{"numeric": ["=", 1.5]}]})
    assert policy.matches({"p": attr("Number", "1.500001")})
    assert not policy.matches({"p": attr("Number", "1.50002")})


def test_explosive_or_is_too_complex() -> None:
    pair = [{"a": ["1"]}, {"b": ["1"]}]
    policy = {f"k{i}": {"$or": pair} for i in range(13)}
    assert error(policy, scope="MessageBody").endswith("FilterPolicy: Filter policy is too complex")


@pytest.mark.parametrize(("text", "expected"), [("150", True), ("1.5e2", True), ("99", False), ("1_000", False)])
def test_number_attributes_are_read_as_sns_numbers(text: str, expected: bool) -> None:
    policy = compile_filter_policy({"p": [{"numeric": [">=", 100]}]})
    assert policy.matches({"p": attr("Number", text)}) is expected


def test_attributes_in_notification_form() -> None:
    policy = compile_filter_policy({"store": ["example_corp"], "price": [{"numeric": ["<", 10]}]})
    assert policy.matches(
        {"store": {"Type": "String", "Value": "example_corp"}, "price": {"Type": "Number", "Value": "5"}}
    )
    assert not policy.matches(
        {"store": {"Type": "String", "Value": "other"}, "price": {"Type": "Number", "Value": "5"}}
    )


def test_a_memo_shared_by_subscriptions_gives_the_same_answers() -> None:
    from stratus.matching.filter_policy import compile_filter_policy

    attribute_policies = [
        {"color": ["red"]},
        {"color": [{"prefix": "bl"}], "size": [{"numeric": [">", 3]}]},
        {"size": [{"numeric": ["<=", 3]}]},
        {"tags": ["b"]},
        {"missing": [{"exists": False}]},
    ]
    body_policies = [{"kind": ["order"]}, {"total": [{"numeric": [">=", 10]}]}]
    messages = [
        (
            {"color": {"DataType": "String", "StringValue": "red"}, "size": {"DataType": "Number", "StringValue": "4"}},
            "{}",
        ),
        (
            {
                "color": {"DataType": "String", "StringValue": "blue"},
                "size": {"DataType": "Number", "StringValue": "2"},
            },
            "x",
        ),
        ({"tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'}}, '{"kind": "order", "total": 12}'),
        ({}, '{"kind": "refund", "total": 5}'),
    ]
    compiled = [compile_filter_policy(p) for p in attribute_policies]
    compiled += [compile_filter_policy(p, scope="MessageBody") for p in body_policies]
    for attributes, body in messages:
        memo: dict[Any, Any] = {}
        with_memo = [p.matches(attributes, body, memo) for p in compiled]
        assert with_memo == [p.matches(attributes, body) for p in compiled]
        assert with_memo == [p.matches(attributes, body, memo) for p in compiled]  # from the memo alone
    assert [p.matches(*messages[0]) for p in compiled] == [True, False, False, False, True, False, False]
