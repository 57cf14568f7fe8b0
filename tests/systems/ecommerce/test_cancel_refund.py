"""Cancelling orders and refunding them, end to end through the HTTP API and the events."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.systems.ecommerce.conftest import DECLINED, Shop

from systems.ecommerce import fulfilment, ledger, provider_client


def outbox(shop: Shop, channel: str = "email") -> list[dict[str, Any]]:
    path = shop.env.state_dir / "outbox" / f"{channel}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def at_provider(order_id: str) -> dict[str, Any]:
    """The payment as the provider (a separate HTTP service) has it."""
    payment = ledger.payment_of(order_id)
    assert payment is not None
    return dict(provider_client.call("GET", f"/v1/payments/{payment['provider_payment_id']}").json())


@contextlib.contextmanager
def provider_down_for(suffix: str) -> Iterator[None]:
    """The provider answers nothing for calls whose path ends with ``suffix`` (capture, refunds...)."""
    real = provider_client.call

    def call(method: str, path: str, body: Any = None, *, key: str | None = None) -> Any:
        if path.endswith(suffix):
            raise provider_client.ProviderUnavailable(f"provider down for {suffix}")
        return real(method, path, body, key=key)

    provider_client.call = call  # type: ignore[assignment]
    try:
        yield
    finally:
        provider_client.call = real  # type: ignore[assignment]


def stock(shop: Shop, product: dict[str, Any]) -> int:
    """The stock in the products table now (the API serves it through a cache the table's stream refreshes)."""
    from systems.ecommerce.infra import products

    item = products.get({"id": product["id"]}, consistent=True)
    assert item is not None
    return int(item["stock"])


def order_of(shop: Shop, token: str, order_id: str) -> dict[str, Any]:
    answer = shop.call("GET", f"/orders/{order_id}", token)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def subjects(shop: Shop, order_id: str) -> list[str]:
    return sorted(m["subject"] for m in outbox(shop) if order_id in m["body"])


def shipped_order(shop: Shop, quantity: int = 2, price: int = 1250) -> tuple[dict[str, Any], str, str]:
    product = shop.product(stock=10, price=price)
    token = shop.sign_up()
    order_id = shop.order(token, [{"product_id": product["id"], "quantity": quantity}], shop.card(token))
    shop.settle()
    assert order_of(shop, token, order_id.json()["order_id"])["status"] == "SHIPPED"
    return product, token, order_id.json()["order_id"]


def confirmed_order(shop: Shop, monkeypatch: pytest.MonkeyPatch, *, captured: bool) -> tuple[dict[str, Any], str, str]:
    """An order placed and confirmed but not shipped: its capture (or, once captured, its shipping) keeps failing."""
    product = shop.product(stock=5)
    token = shop.sign_up()
    order_id = shop.order(token, [{"product_id": product["id"], "quantity": 2}], shop.card(token)).json()["order_id"]

    def warehouse_closed(order_id: str) -> None:
        raise RuntimeError("the warehouse is closed")

    monkeypatch.setattr(fulfilment, "ship", warehouse_closed)
    if captured:
        shop.env.settle(max_seconds=900)
    else:
        with provider_down_for("/capture"):
            shop.env.settle(max_seconds=900)
    monkeypatch.undo()
    assert order_of(shop, token, order_id)["status"] == "CONFIRMED"
    assert stock(shop, product) == 3
    return product, token, order_id


def test_cancelling_before_the_capture_voids_the_authorization_and_restocks(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, token, order_id = confirmed_order(shop, monkeypatch, captured=False)
    assert ledger.payment_of(order_id)["status"] == "AUTHORIZED"  # type: ignore[index]
    answer = shop.call("POST", f"/orders/{order_id}/cancel", token, json={"reason": "found it cheaper"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "CANCELLED" and body["payment"] == "voided" and body["refunded"] == 0
    assert body["failure_reason"] == "found it cheaper" and body["cancellable"] is False
    assert stock(shop, product) == 5
    assert ledger.payment_of(order_id)["status"] == "VOIDED"  # type: ignore[index]
    assert at_provider(order_id)["status"] == "voided"
    assert ledger.refunds_of(order_id) == []
    # The capture waiting in the dead-letter queue, redriven, captures nothing and ships nothing.
    assert shop.call("POST", "/admin/failed-payments/redrive", shop.admin_token).status_code == 202
    shop.settle()
    order = order_of(shop, token, order_id)
    assert order["status"] == "CANCELLED"
    assert [h["type"] for h in order["history"]][-1] == "OrderCancelled"
    assert at_provider(order_id)["status"] == "voided" and stock(shop, product) == 5
    assert shop.call("GET", f"/products/{product['id']}").json()["stock"] == 5  # the cache follows
    assert "Your order is cancelled" in subjects(shop, order_id)
    inbox = shop.call("GET", "/me/notifications", token).json()["items"]
    assert inbox[0]["type"] == "OrderCancelled" and "found it cheaper" in inbox[0]["message"]
    listed = shop.call("GET", "/orders", token).json()["items"]
    assert listed[0]["status"] == "CANCELLED" and listed[0]["failure_reason"] == "found it cheaper"


def test_cancelling_after_the_capture_refunds_it_in_full(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    product, token, order_id = confirmed_order(shop, monkeypatch, captured=True)
    assert ledger.payment_of(order_id)["status"] == "CAPTURED"  # type: ignore[index]
    answer = shop.call("POST", f"/orders/{order_id}/cancel", token)  # no body: no reason given
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "REFUNDED" and body["payment"] == "refunded" and body["refunded"] == 2500
    assert body["failure_reason"] == "cancelled by the customer"
    assert [r["amount"] for r in body["refunds"]] == [2500]
    assert stock(shop, product) == 5
    assert ledger.payment_of(order_id)["status"] == "REFUNDED"  # type: ignore[index]
    assert at_provider(order_id)["amount_refunded"] == 2500 and at_provider(order_id)["status"] == "refunded"
    shop.settle()  # the order-processing messages come back: nothing ships
    order = order_of(shop, token, order_id)
    assert order["status"] == "REFUNDED"
    assert [h["type"] for h in order["history"]][-2:] == ["OrderCancelled", "OrderRefunded"]
    assert {"Your order is cancelled", "Your refund is on its way"} <= set(subjects(shop, order_id))
    refund_mail = next(m for m in outbox(shop) if m["subject"] == "Your refund is on its way")
    assert "25.00 USD" in refund_mail["body"]


def test_cancelling_during_checkout_stops_it_and_takes_nothing(shop: Shop) -> None:
    product = shop.product(stock=4)
    token = shop.sign_up()
    order_id = shop.order(token, [{"product_id": product["id"], "quantity": 3}], shop.card(token)).json()["order_id"]
    answer = shop.call("POST", f"/orders/{order_id}/cancel", token, json={})  # the checkout has not run yet
    assert answer.status_code == 200 and answer.json()["status"] == "CANCELLED", answer.text
    shop.settle()  # the workflow runs now, sees the cancellation and gives back whatever it took
    order = order_of(shop, token, order_id)
    assert order["status"] == "CANCELLED"
    assert [h["type"] for h in order["history"]] == ["OrderCreated", "OrderCancelled"]
    assert stock(shop, product) == 4
    payment = ledger.payment_of(order_id)
    assert payment is None or payment["status"] == "VOIDED"
    assert subjects(shop, order_id) == ["Your order is cancelled"]  # no "could not place your order"


def test_a_repeated_cancel_refunds_once(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token, order_id = confirmed_order(shop, monkeypatch, captured=True)
    key = {"Idempotency-Key": "cancel-key-0001"}
    first = shop.call("POST", f"/orders/{order_id}/cancel", token, json={"reason": "oops"}, headers=key)
    again = shop.call("POST", f"/orders/{order_id}/cancel", token, json={"reason": "oops"}, headers=key)
    assert first.status_code == 200 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json()["refunds"] == first.json()["refunds"]
    other_body = shop.call("POST", f"/orders/{order_id}/cancel", token, json={"reason": "other"}, headers=key)
    assert other_body.status_code == 422
    plain = shop.call("POST", f"/orders/{order_id}/cancel", token)
    assert plain.status_code == 409 and plain.json()["message"] == "the order is already cancelled"
    shop.settle()  # the safety-net settlements run too
    assert len(ledger.refunds_of(order_id)) == 1
    assert at_provider(order_id)["amount_refunded"] == 2500
    order = order_of(shop, token, order_id)
    assert [h["type"] for h in order["history"]].count("OrderRefunded") == 1
    assert subjects(shop, order_id).count("Your refund is on its way") == 1
    assert subjects(shop, order_id).count("Your order is cancelled") == 1


def test_shipped_failed_and_other_customers_orders_cannot_be_cancelled(shop: Shop) -> None:
    product, alice, order_id = shipped_order(shop)
    mallory = shop.sign_up()
    assert shop.call("POST", f"/orders/{order_id}/cancel", mallory).status_code == 404
    assert shop.call("POST", f"/orders/{order_id}/cancel").status_code == 401
    shipped = shop.call("POST", f"/orders/{order_id}/cancel", alice)
    assert shipped.status_code == 409
    assert shipped.json() == {"message": "the order has shipped and can no longer be cancelled", "status": "SHIPPED"}
    declined = shop.order(alice, [{"product_id": product["id"], "quantity": 1}], shop.card(alice, DECLINED))
    shop.settle()
    failed = shop.call("POST", f"/orders/{declined.json()['order_id']}/cancel", alice)
    assert failed.status_code == 409 and "nothing to cancel" in failed.json()["message"]
    assert shop.call("POST", f"/orders/{'a' * 32}/cancel", alice).status_code == 404
    assert shop.call("POST", "/orders/not-an-id/cancel", alice).status_code == 400
    bad = shop.call("POST", f"/orders/{order_id}/cancel", alice, json={"reason": "", "extra": 1})
    assert bad.status_code == 400 and {e["loc"][0] for e in bad.json()["errors"]} == {"reason", "extra"}
    bad_key = shop.call("POST", f"/orders/{order_id}/cancel", alice, headers={"Idempotency-Key": "x"})
    assert bad_key.status_code == 400 and bad_key.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert order_of(shop, alice, order_id)["status"] == "SHIPPED" and stock(shop, product) == 8


def test_an_administrator_refunds_in_parts_never_more_than_was_captured(shop: Shop) -> None:
    _, alice, order_id = shipped_order(shop)  # 2 x 12.50

    def refund(amount: int | None, key: str, reason: str = "damaged", token: str | None = None) -> Any:
        body: dict[str, Any] = {"reason": reason} if amount is None else {"amount": amount, "reason": reason}
        return shop.call(
            "POST", f"/orders/{order_id}/refund", token or shop.admin_token, json=body, headers={"Idempotency-Key": key}
        )

    first = refund(1000, "refund-key-01")
    assert first.status_code == 201, first.text
    assert first.json()["refund"]["amount"] == 1000 and first.json()["order"]["status"] == "SHIPPED"
    replayed = refund(1000, "refund-key-01")
    assert replayed.status_code == 200 and replayed.json()["refund"] == first.json()["refund"]
    assert refund(999, "refund-key-01").status_code == 422  # the key with another body
    assert refund(1000, "refund-key-02").status_code == 201
    too_much = refund(501, "refund-key-03")
    assert too_much.status_code == 409 and too_much.json()["refundable"] == 500
    rest = refund(None, "refund-key-04")  # no amount: all that is left
    assert rest.status_code == 201 and rest.json()["refund"]["amount"] == 500
    assert rest.json()["order"]["status"] == "REFUNDED" and rest.json()["order"]["refunded"] == 2500
    assert refund(1, "refund-key-05").status_code == 409
    assert at_provider(order_id)["amount_refunded"] == 2500
    assert sum(int(r["amount"]) for r in ledger.refunds_of(order_id)) == 2500
    # Bad input, and who may refund.
    assert refund(2501, "refund-key-06").status_code == 400
    assert refund(0, "refund-key-07").status_code == 400
    assert refund(100, "refund-key-08", token=alice).status_code == 403
    missing_key = shop.call("POST", f"/orders/{order_id}/refund", shop.admin_token, json={"reason": "x"})
    assert missing_key.status_code == 400 and missing_key.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert (
        shop.call(
            "POST",
            f"/orders/{'b' * 32}/refund",
            shop.admin_token,
            json={"reason": "x"},
            headers={"Idempotency-Key": "k" * 8},
        ).status_code
        == 404
    )
    shop.settle()
    order = order_of(shop, alice, order_id)
    assert order["status"] == "REFUNDED" and [r["amount"] for r in order["refunds"]] == [1000, 1000, 500]
    assert subjects(shop, order_id).count("Your refund is on its way") == 3
    assert shop.call("GET", "/orders", alice).json()["items"][0]["refunded"] == 2500


def test_a_full_refund_of_an_unshipped_order_is_a_cancellation(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, order_id = confirmed_order(shop, monkeypatch, captured=True)
    body = {"reason": "customer called"}
    full = shop.call(
        "POST", f"/orders/{order_id}/refund", shop.admin_token, json=body, headers={"Idempotency-Key": "full-0001"}
    )
    assert full.status_code == 409 and "cancel it instead" in full.json()["message"]
    partial = shop.call(
        "POST",
        f"/orders/{order_id}/refund",
        shop.admin_token,
        json={**body, "amount": 500},
        headers={"Idempotency-Key": "part-0001"},
    )
    assert partial.status_code == 201 and partial.json()["order"]["status"] == "CONFIRMED"
    # The shop (an administrator) cancels it: the rest is refunded.
    cancelled = shop.call("POST", f"/orders/{order_id}/cancel", shop.admin_token)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "REFUNDED"
    assert cancelled.json()["failure_reason"] == "cancelled by the shop"
    assert [r["amount"] for r in cancelled.json()["refunds"]] == [500, 2000]
    assert at_provider(order_id)["amount_refunded"] == 2500


def test_a_refund_the_provider_cannot_make_now_is_finished_later(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    product, token, order_id = confirmed_order(shop, monkeypatch, captured=True)
    with provider_down_for("/refunds"):
        answer = shop.call("POST", f"/orders/{order_id}/cancel", token)
        assert answer.status_code == 202 and answer.json()["payment"] == "pending"
        assert answer.json()["status"] == "CANCELLED" and stock(shop, product) == 5
        assert [r["status"] for r in ledger.refunds_of(order_id)] == ["PENDING"]
    shop.settle()  # the settlements queue tries again, now that the provider answers
    order = order_of(shop, token, order_id)
    assert order["status"] == "REFUNDED" and order["refunded"] == 2500
    assert [r["status"] for r in ledger.refunds_of(order_id)] == ["SUCCEEDED"]
    assert at_provider(order_id)["amount_refunded"] == 2500


def test_read_models_rebuilt_after_cancellations_and_refunds_equal_the_live_ones(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from systems.ecommerce import projections

    product, token, cancelled_id = confirmed_order(shop, monkeypatch, captured=True)
    shop.call("POST", f"/orders/{cancelled_id}/cancel", token)
    _, _, refunded_id = shipped_order(shop, quantity=1, price=3000)
    shop.call(
        "POST",
        f"/orders/{refunded_id}/refund",
        shop.admin_token,
        json={"amount": 700, "reason": "late"},
        headers={"Idempotency-Key": "late-0001"},
    )
    shop.settle()
    live = projections.snapshot()
    rows = {r["order_id"]: r for r in live["order_history"]}
    assert rows[cancelled_id]["status"] == "REFUNDED" and rows[cancelled_id]["refunded"] == 2500
    assert rows[refunded_id]["status"] == "SHIPPED" and rows[refunded_id]["refunded"] == 700
    sales = {r["product_id"]: r for r in live["sales_daily"]}
    assert sales[product["id"]]["units"] == 0 and sales[product["id"]]["revenue"] == 0  # sold, then taken back
    assert shop.call("POST", "/admin/read-models/rebuild", shop.admin_token).status_code == 200
    assert projections.snapshot() == live


def test_a_settlement_that_keeps_failing_waits_in_the_dead_letter_queue_for_a_redrive(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from systems.ecommerce.infra import settlements_dlq

    _, token, order_id = confirmed_order(shop, monkeypatch, captured=True)
    with provider_down_for("/refunds"):
        assert shop.call("POST", f"/orders/{order_id}/cancel", token).status_code == 202
        shop.env.settle(max_seconds=900)  # five failed receives, a visibility timeout apart
    assert settlements_dlq.attributes()["ApproximateNumberOfMessages"] == 1
    assert order_of(shop, token, order_id)["status"] == "CANCELLED"
    assert [r["status"] for r in ledger.refunds_of(order_id)] == ["PENDING"]
    assert shop.call("POST", "/admin/failed-settlements/redrive", token).status_code == 403
    assert shop.call("POST", "/admin/failed-settlements/redrive", shop.admin_token).status_code == 202
    shop.settle()
    assert order_of(shop, token, order_id)["status"] == "REFUNDED"
    assert at_provider(order_id)["amount_refunded"] == 2500 and len(ledger.refunds_of(order_id)) == 1
