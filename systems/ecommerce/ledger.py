"""Payments: saved cards (provider tokens sealed with KMS), authorizations, captures and voids.

The ledger is relational (the seeds' "ACID compliance with Aurora"): a payment row and its
ledger entries change in one transaction, one authorization per order (a UNIQUE order_id),
one entry of each kind per payment, and a capture or void is refused unless the balance
allows it (captured + voided never exceed what was authorized). Every step is idempotent:
the checkout workflow may run a step twice after a crash, and the provider is asked with
the order id as its Idempotency-Key.
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from typing import Any

from stratus.resources.sql import IntegrityError, Transaction
from systems.ecommerce import provider_client, shop_time
from systems.ecommerce.infra import card_key, ledger
from systems.ecommerce.provider_client import PaymentDeclined, ProviderUnavailable

AUTHORIZED, CAPTURED, VOIDED, DECLINED = "AUTHORIZED", "CAPTURED", "VOIDED", "DECLINED"


class CardRejected(ValueError):
    """The provider would not tokenize the card (invalid number, expired...)."""


class LedgerError(RuntimeError):
    """A capture or void the balance does not allow."""


# -- saved cards -------------------------------------------------------------------------------


def save_card(customer_id: str, number: str, exp_month: int, exp_year: int, cvc: str) -> dict[str, Any]:
    """Tokenize at the provider, keep the token sealed under the card key and the last four digits."""
    response = provider_client.call(
        "POST", "/v1/tokens", {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}
    )
    if response.status_code != 201:
        raise CardRejected(str(response.json().get("message") or "the card was refused"))
    answer = response.json()
    sealed = card_key.seal(answer["token"].encode(), context={"customer_id": customer_id})
    method = {
        "id": uuid.uuid4().hex,
        "customer_id": customer_id,
        "token_sealed": base64.b64encode(sealed).decode(),
        "last4": str(answer["last4"]),
        "exp_month": exp_month,
        "exp_year": exp_year,
        "created_at": shop_time.iso(),
    }
    ledger.execute(
        "INSERT INTO payment_methods (id, customer_id, token_sealed, last4, exp_month, exp_year, created_at) "
        "VALUES (:id, :customer_id, :token_sealed, :last4, :exp_month, :exp_year, :created_at)",
        method,
    )
    return public_card(method)


def public_card(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "last4": row["last4"], "exp_month": row["exp_month"], "exp_year": row["exp_year"]}


def cards_of(customer_id: str) -> list[dict[str, Any]]:
    rows = ledger.query(
        "SELECT * FROM payment_methods WHERE customer_id = :c ORDER BY created_at, id", {"c": customer_id}
    )
    return [public_card(r) for r in rows]


def card_of(customer_id: str, method_id: str) -> dict[str, Any] | None:
    return ledger.query_one(
        "SELECT * FROM payment_methods WHERE id = :id AND customer_id = :c", {"id": method_id, "c": customer_id}
    )


def _token(method: dict[str, Any]) -> str:
    sealed = base64.b64decode(method["token_sealed"])
    return card_key.open(sealed, context={"customer_id": method["customer_id"]}).decode()


# -- authorizations, captures, voids -----------------------------------------------------------


def payment_of(order_id: str) -> dict[str, Any] | None:
    return ledger.query_one("SELECT * FROM payments WHERE order_id = :o", {"o": order_id})


def entries_of(payment_id: str) -> list[dict[str, Any]]:
    return ledger.query(
        "SELECT kind, amount FROM ledger_entries WHERE payment_id = :p ORDER BY kind", {"p": payment_id}
    )


def authorize(order_id: str, customer_id: str, method_id: str, amount: int, currency: str) -> dict[str, Any]:
    """Authorize ``amount`` for the order once; PaymentDeclined or ProviderUnavailable otherwise."""
    existing = payment_of(order_id)
    if existing is not None:
        if existing["status"] == DECLINED:
            raise PaymentDeclined(f"payment declined ({existing['decline_code']})")
        return existing
    method = card_of(customer_id, method_id)
    if method is None:
        raise PaymentDeclined("the payment method does not exist")
    response = provider_client.call(
        "POST", "/v1/payments", {"token": _token(method), "amount": amount, "currency": currency}, key=order_id
    )
    if response.status_code not in (200, 201):
        raise PaymentDeclined(f"the provider refused the payment ({response.status_code})")
    answer = response.json()
    now = shop_time.iso()
    row = {
        "id": uuid.uuid4().hex,
        "order_id": order_id,
        "customer_id": customer_id,
        "provider_payment_id": answer["id"],
        "amount": amount,
        "currency": currency,
        "status": DECLINED if answer["status"] == "declined" else AUTHORIZED,
        "decline_code": answer.get("decline_code"),
        "created_at": now,
        "updated_at": now,
    }

    def record(tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO payments (id, order_id, customer_id, provider_payment_id, amount, currency, status, "
            "decline_code, created_at, updated_at) VALUES (:id, :order_id, :customer_id, :provider_payment_id, "
            ":amount, :currency, :status, :decline_code, :created_at, :updated_at)",
            row,
        )
        if row["status"] == AUTHORIZED:
            _entry(tx, row["id"], "authorization", amount)

    with contextlib.suppress(IntegrityError):  # a concurrent run of this step recorded it first
        ledger.run_transaction(record)
    stored = payment_of(order_id)
    assert stored is not None
    if stored["status"] == DECLINED:
        raise PaymentDeclined(f"payment declined ({stored['decline_code']})")
    return stored


def _entry(tx: Transaction, payment_id: str, kind: str, amount: int) -> None:
    tx.execute(
        "INSERT INTO ledger_entries (id, payment_id, kind, amount, at) VALUES (:id, :p, :k, :a, :at)",
        {"id": uuid.uuid4().hex, "p": payment_id, "k": kind, "a": amount, "at": shop_time.iso()},
    )


def _settle(order_id: str, kind: str, status: str) -> dict[str, Any] | None:
    """Record a capture or a void in the ledger, checking the balance; idempotent."""

    def record(tx: Transaction) -> dict[str, Any] | None:
        payment = tx.query_one("SELECT * FROM payments WHERE order_id = :o", {"o": order_id})
        if payment is None or payment["status"] == status:
            return payment
        if payment["status"] != AUTHORIZED:
            raise LedgerError(f"cannot {kind} a payment that is {payment['status']}")
        authorized = tx.scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE payment_id = :p "
            "AND kind = 'authorization'",
            {"p": payment["id"]},
        )
        settled = tx.scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE payment_id = :p "
            "AND kind IN ('capture', 'void')",
            {"p": payment["id"]},
        )
        if int(settled) + int(payment["amount"]) > int(authorized):
            raise LedgerError(f"{kind} of {payment['amount']} exceeds the authorized balance")
        _entry(tx, payment["id"], kind, int(payment["amount"]))
        tx.execute(
            "UPDATE payments SET status = :s, updated_at = :u WHERE id = :id",
            {"s": status, "u": shop_time.iso(), "id": payment["id"]},
        )
        return {**payment, "status": status}

    return ledger.run_transaction(record)


def capture(order_id: str) -> dict[str, Any] | None:
    """Capture the order's authorization at the provider, then in the ledger."""
    payment = payment_of(order_id)
    if payment is None or payment["status"] != AUTHORIZED:
        return payment
    response = provider_client.call("POST", f"/v1/payments/{payment['provider_payment_id']}/capture")
    if response.status_code not in (200, 201):
        raise ProviderUnavailable(f"capture refused by the provider ({response.status_code})")
    return _settle(order_id, "capture", CAPTURED)


def void(order_id: str) -> dict[str, Any] | None:
    """Void the order's authorization (compensation); nothing to do if there is none."""
    payment = payment_of(order_id)
    if payment is None or payment["status"] != AUTHORIZED:
        return payment
    response = provider_client.call("POST", f"/v1/payments/{payment['provider_payment_id']}/void")
    if response.status_code not in (200, 201):
        raise ProviderUnavailable(f"void refused by the provider ({response.status_code})")
    return _settle(order_id, "void", VOIDED)


def confirm_from_webhook(provider_payment_id: str, status: str) -> bool:
    """Apply a provider webhook (``captured``/``voided``) to the ledger; False if the payment is unknown."""
    payment = ledger.query_one("SELECT * FROM payments WHERE provider_payment_id = :p", {"p": provider_payment_id})
    if payment is None:
        return False
    if status == "captured":
        _settle(payment["order_id"], "capture", CAPTURED)
    elif status == "voided":
        _settle(payment["order_id"], "void", VOIDED)
    return True
