"""The stand-in payment provider: tokens, idempotent authorizations, declines, capture/void, flakiness."""

from __future__ import annotations

from starlette.testclient import TestClient
from systems.ecommerce.provider import DECLINED_CARD, ProviderSettings, create_provider_app

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


def client(**settings: object) -> TestClient:
    return TestClient(create_provider_app(ProviderSettings(**settings)))  # type: ignore[arg-type]


def test_authorize_capture_and_idempotency() -> None:
    c = client()
    token = c.post("/v1/tokens", json=CARD).json()
    assert token["last4"] == "4242" and token["token"].startswith("tok_")
    body = {"token": token["token"], "amount": 2500, "currency": "USD"}
    first = c.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    again = c.post("/v1/payments", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert c.post("/v1/payments", json={**body, "amount": 1}, headers={"Idempotency-Key": "k1"}).status_code == 409
    payment_id = first.json()["id"]
    assert c.post(f"/v1/payments/{payment_id}/capture").json()["status"] == "captured"
    assert c.post(f"/v1/payments/{payment_id}/void").status_code == 409
    assert [w["type"] for w in c.app.state.provider.webhooks_sent] == ["payment.captured"]  # type: ignore[attr-defined]


def test_declines_are_deterministic() -> None:
    c = client()
    bad = c.post("/v1/tokens", json={**CARD, "number": DECLINED_CARD}).json()["token"]
    good = c.post("/v1/tokens", json=CARD).json()["token"]
    assert c.post("/v1/payments", json={"token": bad, "amount": 100}).json()["status"] == "declined"
    assert c.post("/v1/payments", json={"token": good, "amount": 1013}).json()["decline_code"] == "card_declined"
    assert c.post("/v1/tokens", json={**CARD, "number": "1234"}).status_code == 402


def test_failure_rate_makes_the_provider_flaky() -> None:
    c = client(failure_rate=1.0, seed=1)
    assert c.post("/v1/tokens", json=CARD).status_code == 503


def test_refunds_are_capped_idempotent_and_need_a_capture() -> None:
    c = client()
    token = c.post("/v1/tokens", json=CARD).json()["token"]
    payment_id = c.post("/v1/payments", json={"token": token, "amount": 1000}).json()["id"]
    assert c.post(f"/v1/payments/{payment_id}/refunds", json={"amount": 100}).status_code == 409  # not captured
    c.post(f"/v1/payments/{payment_id}/capture")
    first = c.post(f"/v1/payments/{payment_id}/refunds", json={"amount": 600}, headers={"Idempotency-Key": "r1"})
    again = c.post(f"/v1/payments/{payment_id}/refunds", json={"amount": 600}, headers={"Idempotency-Key": "r1"})
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert c.get(f"/v1/payments/{payment_id}").json()["amount_refunded"] == 600  # the retry paid nothing more
    too_much = c.post(f"/v1/payments/{payment_id}/refunds", json={"amount": 401})
    assert too_much.status_code == 400 and too_much.json()["refundable"] == 400
    rest = c.post(f"/v1/payments/{payment_id}/refunds", json={})  # no amount: all that is left
    assert rest.status_code == 201 and rest.json()["amount"] == 400
    assert c.get(f"/v1/payments/{payment_id}").json()["status"] == "refunded"
    assert c.post(f"/v1/payments/{payment_id}/refunds", json={"amount": 1}).status_code == 409
    assert c.post("/v1/payments/pay_nope/refunds", json={"amount": 1}).status_code == 404
    kinds = [w["type"] for w in c.app.state.provider.webhooks_sent]  # type: ignore[attr-defined]
    assert kinds == ["payment.captured", "payment.refunded", "payment.refunded"]
