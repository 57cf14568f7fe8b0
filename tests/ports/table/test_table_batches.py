"""Batches and transactions: limits, duplicates, all-or-nothing, cancellation reasons, client tokens."""

from __future__ import annotations

import pytest

from stratus.errors import ConditionalCheckFailed, ValidationError
from stratus.resources.table import IdempotentParameterMismatch, TransactionCanceled, transact_get, transact_write
from stratus.resources.table.expressions import Attr


def test_batch_get_returns_found_items(env) -> None:
    for i in range(5):
        env.products.put({"id": f"p{i}", "n": i})
    items, unprocessed = env.products.batch_get([{"id": "p1"}, {"id": "p3"}, {"id": "missing"}])
    assert sorted(i["id"] for i in items) == ["p1", "p3"]
    assert unprocessed == []
    items, _ = env.products.batch_get([{"id": "p2"}], projection=["n"])
    assert items == [{"n": 2}]


def test_batch_get_limits(env) -> None:
    with pytest.raises(ValidationError, match="Too many items"):
        env.products.batch_get([{"id": f"p{i}"} for i in range(101)])
    with pytest.raises(ValidationError, match="duplicates"):
        env.products.batch_get([{"id": "a"}, {"id": "a"}])
    with pytest.raises(ValidationError, match="does not match the schema"):
        env.products.batch_get([{"id": "a", "x": 1}])
    with pytest.raises(ValidationError):
        env.products.batch_get([])


def test_batch_write_puts_and_deletes(env) -> None:
    env.products.put({"id": "old"})
    unprocessed = env.products.batch_write(put=[{"id": f"p{i}"} for i in range(24)], delete=[{"id": "old"}])
    assert unprocessed == []
    assert env.products.scan().count == 24
    assert env.products.get({"id": "old"}) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"put": [{"id": f"p{i}"} for i in range(26)]}, "Too many items"),
        ({"put": [{"id": "a"}, {"id": "a"}]}, "duplicates"),
        ({"put": [{"id": "a"}], "delete": [{"id": "a"}]}, "duplicates"),
        ({"put": [{"id": "a"}, {"id": "b", "big": "x" * 410_000}]}, "Item size has exceeded"),
        ({"put": [{"id": "a"}, {"name": "no key"}]}, "Missing the key id"),
        ({}, "at least one"),
    ],
)
def test_batch_write_errors_write_nothing(env, kwargs, message) -> None:
    with pytest.raises(ValidationError, match=message):
        env.products.batch_write(**kwargs)
    assert env.products.scan().count == 0


def test_batch_write_maintains_indexes_and_streams(env) -> None:
    env.orders.batch_write(put=[{"customer": "c", "at": i, "status": "open"} for i in range(3)])
    assert env.orders.query("#s = :s", names={"#s": "status"}, values={":s": "open"}, index="by_status").count == 3
    if env.supports("stream"):
        assert [r["eventName"] for r in env.stream(env.orders)] == ["INSERT"] * 3


def test_transaction_writes_across_tables(env) -> None:
    env.products.put({"id": "lamp", "stock": 5})
    transact_write(
        [
            env.orders.tx_put({"customer": "c", "at": 1, "sku": "lamp"}, condition=Attr("customer").not_exists()),
            env.products.tx_update(
                {"id": "lamp"}, "SET stock = stock - :one", condition="stock > :zero", values={":one": 1, ":zero": 0}
            ),
            env.events.tx_put({"topic": "orders", "id": "o1"}),
        ]
    )
    assert env.products.get({"id": "lamp"})["stock"] == 4
    assert env.orders.get({"customer": "c", "at": 1}) is not None
    assert env.events.get({"topic": "orders", "id": "o1"}) is not None


def test_cancelled_transaction_writes_nothing_and_gives_one_reason_per_action(env) -> None:
    env.products.put({"id": "lamp", "stock": 0})
    env.products.put({"id": "gone"})
    with pytest.raises(TransactionCanceled) as caught:
        transact_write(
            [
                env.orders.tx_put({"customer": "c", "at": 1}),
                env.products.tx_update(
                    {"id": "lamp"},
                    set={"stock": 1},
                    condition=Attr("stock").gt(0),
                    return_old_on_condition_failure=True,
                ),
                env.products.tx_delete({"id": "gone"}),
                env.products.tx_check({"id": "nobody"}, Attr("id").exists()),
            ]
        )
    error = caught.value
    assert error.code == "TransactionCanceledException"
    assert [r.code for r in error.reasons] == [None, "ConditionalCheckFailed", None, "ConditionalCheckFailed"]
    assert error.reasons[1].item == {"id": "lamp", "stock": 0}
    assert error.reasons[3].item is None
    assert "[None, ConditionalCheckFailed, None, ConditionalCheckFailed]" in error.message
    assert env.orders.get({"customer": "c", "at": 1}) is None
    assert env.products.get({"id": "gone"}) == {"id": "gone"}
    assert env.products.get({"id": "lamp"}) == {"id": "lamp", "stock": 0}


def test_update_that_cannot_apply_cancels_with_a_validation_reason(env) -> None:
    env.products.put({"id": "a", "name": "text"})
    with pytest.raises(TransactionCanceled) as caught:
        transact_write([env.products.tx_put({"id": "b"}), env.products.tx_update({"id": "a"}, add={"name": 1})])
    assert [r.code for r in caught.value.reasons] == [None, "ValidationError"]
    assert env.products.get({"id": "b"}) is None


def test_transaction_request_limits(env) -> None:
    with pytest.raises(ValidationError, match="multiple operations on one item"):
        transact_write([env.products.tx_put({"id": "a"}), env.products.tx_delete({"id": "a"})])
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        transact_write([env.products.tx_put({"id": f"p{i}"}) for i in range(101)])
    with pytest.raises(ValidationError):
        transact_write([])
    with pytest.raises(ValidationError, match="4 MB"):
        transact_write([env.products.tx_put({"id": f"p{i}", "x": "y" * 400_000}) for i in range(11)])
    with pytest.raises(ValidationError, match="needs a condition"):
        env.products.tx_check({"id": "a"}, None)
    assert env.products.scan().count == 0


def test_client_token_makes_a_retry_a_no_op_for_ten_minutes(env) -> None:
    env.need("virtual_clock")
    env.products.put({"id": "counter", "n": 0})

    def bump():
        return [env.products.tx_update({"id": "counter"}, add={"n": 1})]

    transact_write(bump(), client_token="tok-1")
    transact_write(bump(), client_token="tok-1")
    assert env.products.get({"id": "counter"})["n"] == 1
    with pytest.raises(IdempotentParameterMismatch):
        transact_write([env.products.tx_update({"id": "counter"}, add={"n": 5})], client_token="tok-1")
    assert env.products.get({"id": "counter"})["n"] == 1
    env.advance(601)
    transact_write(bump(), client_token="tok-1")
    assert env.products.get({"id": "counter"})["n"] == 2
    with pytest.raises(ValidationError, match="client_token"):
        transact_write(bump(), client_token="x" * 37)


def test_failed_transaction_does_not_consume_its_token(env) -> None:
    env.products.put({"id": "a", "v": 1})
    action = [env.products.tx_put({"id": "a", "v": 2}, condition=Attr("v").eq(2))]
    with pytest.raises(TransactionCanceled):
        transact_write(action, client_token="tok-2")
    env.products.put({"id": "a", "v": 2})
    transact_write(action, client_token="tok-2")
    assert env.products.get({"id": "a"})["v"] == 2


def test_transact_get_reads_a_snapshot(env) -> None:
    env.products.put({"id": "a", "n": 1, "x": "y"})
    env.orders.put({"customer": "c", "at": 1})
    got = transact_get(
        [
            env.products.tx_get({"id": "a"}, projection=["n"]),
            env.orders.tx_get({"customer": "c", "at": 1}),
            env.products.tx_get({"id": "missing"}),
        ]
    )
    assert got == [{"n": 1}, {"customer": "c", "at": 1}, None]
    with pytest.raises(ValidationError, match="multiple operations on one item"):
        transact_get([env.products.tx_get({"id": "a"}), env.products.tx_get({"id": "a"})])


def test_single_item_condition_error_is_not_a_transaction_error(env) -> None:
    env.products.put({"id": "a"})
    with pytest.raises(ConditionalCheckFailed):
        env.products.delete({"id": "a"}, condition=Attr("id").not_exists())
