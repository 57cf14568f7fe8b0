"""The e-commerce domain: money, order transitions, carts, payments, recommendations, images."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from systems.ecommerce.domain import cart, images, orders, payments, recommendations
from systems.ecommerce.domain.money import Money, MoneyError


def test_money_is_exact_and_refuses_mixing() -> None:
    assert (Money(1999, "USD").times(3) + Money(1, "USD")).display() == "59.98 USD"
    assert Money(500, "JPY").display() == "500 JPY"
    with pytest.raises(MoneyError):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(MoneyError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def created(order_id: str = "o1") -> dict:
    return {
        "type": "OrderCreated",
        "data": {"customer_id": "c1", "lines": [{"product_id": "p", "quantity": 1}], "total": 100, "currency": "USD"},
    }


def test_orders_replay_and_refuse_moving_backwards() -> None:
    events = [
        created(),
        {"type": "InventoryReserved"},
        {"type": "PaymentAuthorized", "data": {"payment_id": "pay"}},
        {"type": "OrderConfirmed"},
    ]
    order = orders.replay("o1", events)
    assert order.status == orders.CONFIRMED
    assert order.version == 4 and order.payment_id == "pay"
    with pytest.raises(orders.TransitionRejected):
        orders.apply(order, {"type": "InventoryReserved"})  # a late, duplicate event
    failed = orders.apply(orders.replay("o1", events[:2]), {"type": "OrderFailed", "data": {"reason": "declined"}})
    assert failed.status == orders.FAILED and failed.failure_reason == "declined"
    with pytest.raises(orders.TransitionRejected):
        orders.apply(failed, {"type": "OrderConfirmed"})


def test_orders_cancel_before_shipping_and_refund_up_to_their_total() -> None:
    confirmed = orders.replay(
        "o1",
        [created(), {"type": "InventoryReserved"}, {"type": "PaymentAuthorized"}, {"type": "OrderConfirmed"}],
    )
    cancelled = orders.apply(confirmed, {"type": "OrderCancelled", "data": {"reason": "changed my mind"}})
    assert cancelled.status == orders.CANCELLED and cancelled.failure_reason == "changed my mind"
    partly = orders.apply(cancelled, {"type": "OrderRefunded", "data": {"refund_id": "r1", "amount": 40}})
    assert partly.status == orders.CANCELLED and partly.refunded == 40  # a partial refund keeps the status
    assert orders.already_applied(partly, "OrderRefunded", {"refund_id": "r1"})
    assert not orders.already_applied(partly, "OrderRefunded", {"refund_id": "r2"})
    with pytest.raises(orders.TransitionRejected):  # more than the total
        orders.apply(partly, {"type": "OrderRefunded", "data": {"refund_id": "r2", "amount": 61}})
    done = orders.apply(partly, {"type": "OrderRefunded", "data": {"refund_id": "r2", "amount": 60}})
    assert done.status == orders.REFUNDED and done.refunded == 100
    with pytest.raises(orders.TransitionRejected):
        orders.apply(done, {"type": "OrderRefunded", "data": {"refund_id": "r3", "amount": 1}})
    shipped = orders.apply(orders.apply(confirmed, {"type": "FulfilmentStarted"}), {"type": "OrderShipped"})
    with pytest.raises(orders.TransitionRejected):
        orders.apply(shipped, {"type": "OrderCancelled"})  # too late: it has shipped
    with pytest.raises(orders.TransitionRejected):
        orders.apply(
            orders.replay("o1", [created()]), {"type": "OrderRefunded", "data": {"refund_id": "r", "amount": 1}}
        )
    with pytest.raises(orders.TransitionRejected):
        orders.apply(cancelled, {"type": "OrderCancelled"})


def test_cart_lines_and_pricing() -> None:
    lines = cart.set_quantity([], "b", 2)
    lines = cart.set_quantity(lines, "a", 1)
    assert [line["product_id"] for line in lines] == ["a", "b"]
    assert cart.set_quantity(lines, "a", 0) == [{"product_id": "b", "quantity": 2}]
    with pytest.raises(cart.CartError):
        cart.set_quantity(lines, "a", 100)
    products = {
        "a": {"price": 250, "currency": "USD", "name": "A"},
        "b": {"price": 100, "currency": "USD", "name": "B"},
    }
    priced, total, currency = cart.price_lines(lines, products)
    assert total == 450 and currency == "USD" and priced[1]["amount"] == 200
    with pytest.raises(cart.CartError, match="does not exist"):
        cart.price_lines([{"product_id": "zzz", "quantity": 1}], products)


def test_cards_are_validated_and_never_shown() -> None:
    card = payments.Card("4242 4242 4242 4242", 12, 2030, "123")
    card.validate(year=2025, month=1)
    assert "4242 4242" not in repr(card) and repr(card).startswith("Card(****4242")
    with pytest.raises(payments.CardError, match="not valid"):
        payments.Card("4242424242424241", 12, 2030, "123").validate(year=2025, month=1)
    with pytest.raises(payments.CardError, match="expired"):
        card.validate(year=2031, month=1)


def test_webhook_signatures_and_replay_window() -> None:
    secret = b"whsec"
    body = b'{"id": "evt_1"}'
    header = payments.sign_webhook(body, secret, 1000)
    payments.verify_webhook(body, header, secret, now=1100)
    with pytest.raises(payments.WebhookRejected, match="does not match"):
        payments.verify_webhook(body + b" ", header, secret, now=1100)
    with pytest.raises(payments.WebhookRejected, match="replay window"):
        payments.verify_webhook(body, header, secret, now=1000 + 301)
    with pytest.raises(payments.WebhookRejected):
        payments.verify_webhook(body, "garbage", secret, now=1000)


def test_recommendations_from_co_occurrence() -> None:
    assert sorted(recommendations.co_occurrences(["b", "a", "a"])) == [("a", "b"), ("b", "a")]
    assert recommendations.top({"x": 2, "y": 5, "z": 2}, 2) == ["y", "x"]


def test_image_variants_apply_orientation_and_strip_metadata() -> None:
    source = Image.new("RGB", (2000, 1000), "red")
    exif = source.getexif()
    exif[0x0112] = 6  # rotated 90°: the upright image is 1000 wide, 2000 tall
    exif[0x010F] = "SecretCam"
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", exif=exif)
    variants = images.make_variants(buffer.getvalue())
    assert set(variants) == {"thumbnail", "medium", "large"}
    with Image.open(io.BytesIO(variants["large"])) as large:
        assert large.size == (600, 1200)
        assert not large.getexif()
    with Image.open(io.BytesIO(variants["thumbnail"])) as thumb:
        assert max(thumb.size) == 150
    with pytest.raises(images.ImageError):
        images.make_variants(b"not an image")
