"""The API's rules: validation with field errors, optimistic carts, signed webhooks, sign-in."""

from __future__ import annotations

import json
import uuid

from tests.systems.ecommerce.conftest import ADDRESS, CARD, PASSWORD, Shop


def test_bad_input_is_a_400_naming_each_field(shop: Shop) -> None:
    token = shop.sign_up()
    bad_product = shop.call(
        "POST",
        "/products",
        shop.admin_token,
        json={"name": "", "category": "Not A Slug", "price": 12.5, "currency": "XXX", "extra": 1},
    )
    assert bad_product.status_code == 400
    fields = {e["loc"][0] for e in bad_product.json()["errors"]}
    assert fields == {"name", "category", "price", "currency", "extra"}
    assert shop.call("GET", "/products/not-an-id").status_code == 400
    assert shop.call("GET", f"/products/{'c' * 32}").status_code == 404
    assert (
        shop.call(
            "POST", "/orders", token, json={"shipping_address": ADDRESS}, headers={"Idempotency-Key": "k" * 10}
        ).status_code
        == 400
    )
    unknown = shop.order(token, [{"product_id": "d" * 32, "quantity": 1}], "e" * 32)
    assert unknown.status_code == 400
    assert {tuple(e["loc"]) for e in unknown.json()["errors"]} == {("lines", 0, "product_id"), ("payment_method_id",)}
    assert (
        shop.call(
            "PUT", "/cart", token, json={"version": 0, "lines": [{"product_id": "f" * 32, "quantity": 0}]}
        ).status_code
        == 400
    )
    not_json = shop.call("POST", "/auth/sign-in", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    card = shop.call("POST", "/payment-methods", token, json={**CARD, "number": "4242424242424241"})
    assert card.status_code == 400 and card.json()["errors"][0]["loc"] == ["number"]
    assert "4242424242424241" not in card.text
    # Nothing of the refused requests was written.
    assert shop.call("GET", "/orders", token).json()["items"] == []
    assert shop.call("GET", "/payment-methods", token).json()["items"] == []


def test_a_stale_cart_write_is_a_409_with_the_current_cart(shop: Shop) -> None:
    mug, pot = shop.product(), shop.product(name="Pot")
    token = shop.sign_up()
    first = shop.call("PUT", "/cart", token, json={"version": 0, "lines": [{"product_id": mug["id"], "quantity": 1}]})
    assert first.status_code == 200 and first.json()["version"] == 1
    phone = shop.call("PUT", "/cart", token, json={"version": 1, "lines": [{"product_id": pot["id"], "quantity": 2}]})
    assert phone.status_code == 200 and phone.json()["version"] == 2
    laptop = shop.call("PUT", "/cart", token, json={"version": 1, "lines": []})
    assert laptop.status_code == 409
    assert laptop.json()["cart"]["version"] == 2 and laptop.json()["cart"]["lines"][0]["product_id"] == pot["id"]
    assert shop.call("PUT", "/cart", token, json={"version": 0, "lines": []}).status_code == 409
    assert shop.call("GET", "/cart", token).json()["lines"][0]["quantity"] == 2


def test_webhooks_need_a_valid_signature_within_the_window_and_apply_once(shop: Shop) -> None:
    from systems.ecommerce.domain.payments import sign_webhook

    from systems.ecommerce import ledger, provider_client

    mug = shop.product()
    token = shop.sign_up()
    order_id = shop.order(token, [{"product_id": mug["id"], "quantity": 1}], shop.card(token)).json()["order_id"]
    shop.settle()
    payment = ledger.payment_of(order_id)
    assert payment is not None and payment["status"] == "CAPTURED"
    secret = provider_client.webhook_secret()
    now = int(shop.env.clock.now())
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment.captured",
        "data": {"id": payment["provider_payment_id"], "status": "captured"},
    }
    body = json.dumps(event).encode()

    def post(header: str) -> object:
        return shop.call(
            "POST",
            "/webhooks/payments",
            content=body,
            headers={"content-type": "application/json", "Provider-Signature": header},
        )

    assert post(sign_webhook(body, b"wrong secret", now)).status_code == 401  # type: ignore[attr-defined]
    assert post(sign_webhook(body, secret, now - 3600)).status_code == 401  # type: ignore[attr-defined]
    assert post("garbage").status_code == 401  # type: ignore[attr-defined]
    first = post(sign_webhook(body, secret, now))
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False, "applied": True}  # type: ignore[attr-defined]
    again = post(sign_webhook(body, secret, now + 5))
    assert again.json()["duplicate"] is True  # type: ignore[attr-defined]
    assert [e["kind"] for e in ledger.entries_of(payment["id"])] == ["authorization", "capture"]


def test_sign_in_is_one_401_whatever_went_wrong(shop: Shop) -> None:
    email = f"x-{uuid.uuid4().hex[:6]}@example.com"
    shop.register(email)
    again = shop.call("POST", "/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "X"})
    assert again.status_code == 409
    weak = shop.call("POST", "/auth/sign-up", json={"email": "w@example.com", "password": "alllowercase", "name": "W"})
    assert weak.status_code == 400 and weak.json()["errors"][0]["loc"] == ["password"]
    wrong = shop.call("POST", "/auth/sign-in", json={"email": email, "password": "Wr0ng-password"})
    nobody = shop.call("POST", "/auth/sign-in", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == nobody.status_code == 401 and wrong.json() == nobody.json()
    tokens = shop.call("POST", "/auth/sign-in", json={"email": email, "password": PASSWORD}).json()
    renewed = shop.call("POST", "/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200 and shop.call("GET", "/cart", renewed.json()["id_token"]).status_code == 200
    assert shop.call("GET", "/cart", "not-a-token").status_code == 401


def test_card_numbers_are_never_written_anywhere(shop: Shop) -> None:
    mug = shop.product()
    token = shop.sign_up()
    card = shop.card(token)
    shop.order(token, [{"product_id": mug["id"], "quantity": 1}], card)
    shop.settle()
    listed = shop.call("GET", "/payment-methods", token).json()["items"]
    assert listed == [{"id": card, "last4": "4242", "exp_month": 12, "exp_year": 2099}]
    shop.env.restart()  # everything written through to the state folder, logs included
    for path in shop.env.state_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"4242424242424242" not in data and b"4242 4242 4242 4242" not in data, path


def test_the_api_documents_itself(shop: Shop) -> None:
    document = shop.call("GET", "/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert {"/orders", "/products/{id}", "/search", "/webhooks/payments"} <= set(paths)
