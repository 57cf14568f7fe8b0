"""The same expression texts sent again and again with new values, as systems send them.

Each call must be checked and bound with its own values: a text that worked once still
rejects bad values, undefined or unused placeholders with DynamoDB's messages (and writes
nothing), and a text accepted on one table may be refused on another (key attributes).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ConditionalCheckFailed, ValidationError

UPDATE = "SET n = n + :d"
CONDITION = "n < :max"

BAD_VALUES = [
    (
        {":max": 5},
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :d",
    ),
    (
        {":d": 1},
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :max",
    ),
    ({":d": 1, ":max": 5, ":x": 2}, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"),
    ({":d": 1.5}, r"Float types are not supported. Use int or Decimal types instead \(attribute: :d\)"),
    (
        {":d": "one", ":max": 5},
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +",
    ),
    ({"d": 1, ":max": 5}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "d"'),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES)
def test_a_text_that_worked_still_checks_each_calls_values(env, values, message) -> None:
    env.products.put({"id": "c", "n": 0})
    assert env.products.update({"id": "c"}, UPDATE, condition=CONDITION, values={":d": 1, ":max": 5}) is None
    for _ in range(2):
        with pytest.raises(ValidationError, match=message):
            env.products.update({"id": "c"}, UPDATE, condition=CONDITION, values=values)
    assert env.products.get({"id": "c"}) == {"id": "c", "n": 1}


def test_each_call_binds_its_own_values(env) -> None:
    env.products.put({"id": "c", "n": 0})
    for step, limit in ((1, 10), (5, 10), (2, 7)):
        new = env.products.update(
            {"id": "c"}, UPDATE, condition=CONDITION, values={":d": step, ":max": limit}, returns="UPDATED_NEW"
        )
        assert new is not None
    assert new == {"n": 8}
    with pytest.raises(ConditionalCheckFailed):
        env.products.update({"id": "c"}, UPDATE, condition=CONDITION, values={":d": 1, ":max": 8})
    assert env.products.update(
        {"id": "c"}, UPDATE, condition=CONDITION, values={":d": Decimal("-0.5"), ":max": 9}, returns="ALL_NEW"
    ) == {"id": "c", "n": Decimal("7.5")}


def test_condition_only_texts_check_each_calls_values(env) -> None:
    text = "attribute_not_exists(id) OR n < :max"
    assert env.products.put({"id": "p", "n": 1}, condition=text, values={":max": 0}) is None
    with pytest.raises(ConditionalCheckFailed):
        env.products.put({"id": "p", "n": 2}, condition=text, values={":max": 1})
    for _ in range(2):
        with pytest.raises(ValidationError, match="attribute value: :max"):
            env.products.put({"id": "p", "n": 3}, condition=text)
        with pytest.raises(ValidationError, match=r"unused in expressions: keys: \{:y\}"):
            env.products.delete({"id": "p"}, condition=text, values={":max": 9, ":y": 1})
    assert env.products.get({"id": "p"}) == {"id": "p", "n": 1}
    env.products.delete({"id": "p"}, condition=text, values={":max": 2})
    assert env.products.get({"id": "p"}) is None


def test_names_decide_with_the_text_and_the_table(env) -> None:
    env.products.put({"id": "k", "n": 0})
    text = "SET #a = :v"
    # The same text and names: a plain attribute on one table, the key on another.
    assert env.numbers.update({"n": 1}, text, names={"#a": "id"}, values={":v": "x"}, returns="ALL_NEW") == {
        "n": 1,
        "id": "x",
    }
    for _ in range(2):
        with pytest.raises(ValidationError, match=r"Cannot update attribute id\. This attribute is part of the key"):
            env.products.update({"id": "k"}, text, names={"#a": "id"}, values={":v": "x"})
    # Other names for the same text are another expression.
    env.products.update({"id": "k"}, text, names={"#a": "label"}, values={":v": "x"})
    env.products.update({"id": "k"}, "SET #a = :v, #b = :w", names={"#b": "m", "#a": "n"}, values={":v": 1, ":w": 2})
    for _ in range(2):
        with pytest.raises(ValidationError, match=r"ExpressionAttributeNames unused in expressions: keys: \{#x\}"):
            env.products.update({"id": "k"}, text, names={"#a": "label", "#x": "y"}, values={":v": "z"})
    assert env.products.get({"id": "k"}) == {"id": "k", "n": 1, "m": 2, "label": "x"}
