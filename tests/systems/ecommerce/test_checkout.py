"""Checkout end to end: the saga, compensations, idempotency, races, ownership."""

from __future__ import annotations

from tests.systems.ecommerce.conftest import DECLINED, Shop


def test_happy_path_places_captures_and_ships(shop: Shop) -> None:
    mug = shop.product(stock=5)
    alice = shop.sign_up()
    card = shop.card(alice)
    placed = shop.order(alice, [{"product_id": mug["id"], "quantity": 2}], card)
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["order_id"]
    assert placed.json()["status"] == "PENDING" and placed.json()["total"] == 2500
    shop.settle()
    order = shop.call("GET", f"/orders/{order_id}", alice).json()
    assert order["status"] == "SHIPPED", order
    assert [h["type"] for h in order["history"]] == [
        "OrderCreated",
        "InventoryReserved",
        "PaymentAuthorized",
        "OrderConfirmed",
        "FulfilmentStarted",
        "OrderShipped",
    ]
    assert shop.call("GET", f"/products/{mug['id']}").json()["stock"] == 3
    from systems.ecommerce import ledger

    payment = ledger.payment_of(order_id)
    assert payment is not None and payment["status"] == "CAPTURED"
    assert [e["kind"] for e in ledger.entries_of(payment["id"])] == ["authorization", "capture"]


def test_payment_declined_compensates_and_restores_stock(shop: Shop) -> None:
    mug = shop.product(stock=3)
    bob = shop.sign_up()
    card = shop.card(bob, DECLINED)
    order_id = shop.order(bob, [{"product_id": mug["id"], "quantity": 2}], card).json()["order_id"]
    shop.settle()
    order = shop.call("GET", f"/orders/{order_id}", bob).json()
    assert order["status"] == "FAILED"
    assert order["failure_reason"].startswith("payment declined")
    assert shop.call("GET", f"/products/{mug['id']}").json()["stock"] == 3


def test_duplicate_submission_makes_one_order_and_a_changed_body_is_422(shop: Shop) -> None:
    mug = shop.product(stock=5)
    carol = shop.sign_up()
    card = shop.card(carol)
    lines = [{"product_id": mug["id"], "quantity": 1}]
    first = shop.order(carol, lines, card, key="retry-key-0001")
    again = shop.order(carol, lines, card, key="retry-key-0001")
    assert first.status_code == 202 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["order_id"] == first.json()["order_id"]
    changed = shop.order(carol, [{"product_id": mug["id"], "quantity": 2}], card, key="retry-key-0001")
    assert changed.status_code == 422
    shop.settle()
    assert shop.call("GET", f"/products/{mug['id']}").json()["stock"] == 4
    listed = shop.call("GET", "/orders", carol).json()["items"]
    assert [o["order_id"] for o in listed] == [first.json()["order_id"]]
    assert shop.order(carol, lines, card, key="short").status_code == 400  # keys are 8-64 characters


def test_two_customers_race_for_the_last_unit(shop: Shop) -> None:
    last = shop.product(stock=1)
    racers = [shop.sign_up() for _ in range(2)]
    orders = [
        (token, shop.order(token, [{"product_id": last["id"], "quantity": 1}], shop.card(token)).json()["order_id"])
        for token in racers
    ]
    shop.settle()
    outcomes = sorted(shop.call("GET", f"/orders/{oid}", token).json()["status"] for token, oid in orders)
    assert outcomes == ["FAILED", "SHIPPED"]
    failed = next(
        shop.call("GET", f"/orders/{oid}", t).json()
        for t, oid in orders
        if shop.call("GET", f"/orders/{oid}", t).json()["status"] == "FAILED"
    )
    assert failed["failure_reason"].startswith("out of stock")
    assert shop.call("GET", f"/products/{last['id']}").json()["stock"] == 0


def test_a_customer_sees_only_their_own_orders(shop: Shop) -> None:
    mug = shop.product()
    alice, mallory = shop.sign_up(), shop.sign_up()
    order_id = shop.order(alice, [{"product_id": mug["id"], "quantity": 1}], shop.card(alice)).json()["order_id"]
    shop.settle()
    assert shop.call("GET", f"/orders/{order_id}", mallory).status_code == 404
    assert shop.call("GET", "/orders", mallory).json()["items"] == []
    assert shop.call("GET", f"/orders/{order_id}", alice).status_code == 200
    assert shop.call("GET", f"/orders/{order_id}").status_code == 401
    # Mallory cannot pay with Alice's card either.
    alice_card = shop.call("GET", "/payment-methods", alice).json()["items"][0]["id"]
    stolen = shop.order(mallory, [{"product_id": mug["id"], "quantity": 1}], alice_card)
    assert stolen.status_code == 400
    assert stolen.json()["errors"][0]["loc"] == ["payment_method_id"]


def test_an_expired_reservation_returns_the_stock(shop: Shop) -> None:
    from systems.ecommerce import inventory

    mug = shop.product(stock=4)
    inventory.reserve("0" * 32, [{"product_id": mug["id"], "quantity": 3}])
    shop.settle()
    assert shop.call("GET", f"/products/{mug['id']}").json()["stock"] == 1
    shop.env.advance(inventory.HOLD_SECONDS + 120)
    shop.settle()
    assert shop.call("GET", f"/products/{mug['id']}").json()["stock"] == 4
    import pytest

    with pytest.raises(inventory.ReservationExpired):
        inventory.confirm("0" * 32)


def test_orders_from_the_cart_clear_it(shop: Shop) -> None:
    mug, pot = shop.product(), shop.product(name="Teapot", price=3000)
    dave = shop.sign_up()
    cart = shop.call(
        "PUT",
        "/cart",
        dave,
        json={
            "version": 0,
            "lines": [{"product_id": mug["id"], "quantity": 2}, {"product_id": pot["id"], "quantity": 1}],
        },
    )
    assert cart.status_code == 200 and cart.json()["total"] == 5500 and cart.json()["version"] == 1
    body = {
        "payment_method_id": shop.card(dave),
        "shipping_address": {"name": "D", "line1": "x", "city": "y", "postal_code": "1", "country": "GB"},
    }
    placed = shop.call("POST", "/orders", dave, json=body, headers={"Idempotency-Key": "from-cart-01"})
    assert placed.status_code == 202 and placed.json()["total"] == 5500
    assert shop.call("GET", "/cart", dave).json()["lines"] == []
