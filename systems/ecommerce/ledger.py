"""Payments: saved cards (provider tokens sealed with KMS), authorizations, captures, voids, refunds.

The ledger is relational (the seeds' "ACID compliance with Aurora"): a payment row and its
ledger entries change in one transaction, one authorization per order (a UNIQUE order_id),
one entry of each kind per payment, and a capture or void is refused unless the balance
allows it (captured + voided never exceed what was authorized). Every step is idempotent:
the checkout workflow may run a step twice after a crash, and the provider is asked with
the order id as its Idempotency-Key.

Refunds (``migrations/002_refunds.sql``) are rows of their own, one per request key, and
take their amount off the payment's refundable balance *before* the provider is asked (a
conditional UPDATE, so concurrent refunds cannot together exceed the capture). A refund the
provider has not confirmed stays PENDING and is retried under the same provider
Idempotency-Key (the refund's id), so a retry never pays twice; one the provider refuses is
marked FAILED and gives its amount back to the balance.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from typing import Any

from stratus.resources.sql import IntegrityError, Transaction
from systems.ecommerce import provider_client, shop_time
from systems.ecommerce.infra import card_key, ledger
from systems.ecommerce.provider_client import PaymentDeclined, ProviderUnavailable

AUTHORIZED, CAPTURED, VOIDED, DECLINED, REFUNDED = "AUTHORIZED", "CAPTURED", "VOIDED", "DECLINED", "REFUNDED"
#: A refund's states.
REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "PENDING", "SUCCEEDED", "FAILED"


class CardRejected(ValueError):
    """The provider would not tokenize the card (invalid number, expired...)."""


class LedgerError(RuntimeError):
    """A capture or void the balance does not allow."""


class NothingToRefund(LedgerError):
    """The order's payment was never captured, or has been refunded in full."""


class RefundTooLarge(LedgerError):
    """The refund asks for more than is left of the capture."""

    def __init__(self, refundable: int) -> None:
        super().__init__(f"only {refundable} (minor units) can still be refunded")
        self.refundable = refundable


class RefundKeyReused(LedgerError):
    """The request key was used for another refund (another order, amount or reason)."""


class RefundRefused(LedgerError):
    """The provider refused the refund (its answer is in the message)."""


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
    done = {CAPTURED, REFUNDED} if kind == "capture" else {status}  # a refunded payment was captured

    def record(tx: Transaction) -> dict[str, Any] | None:
        payment = tx.query_one("SELECT * FROM payments WHERE order_id = :o", {"o": order_id})
        if payment is None or payment["status"] in done:
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


# -- giving money back -------------------------------------------------------------------------


def refunds_of(order_id: str) -> list[dict[str, Any]]:
    return ledger.query("SELECT * FROM refunds WHERE order_id = :o ORDER BY created_at, id", {"o": order_id})


def refund_by_key(key: str) -> dict[str, Any] | None:
    return ledger.query_one("SELECT * FROM refunds WHERE request_key = :k", {"k": key})


def public_refund(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "refund_id": row["id"],
        "order_id": row["order_id"],
        "amount": int(row["amount"]),
        "reason": row["reason"],
        "status": row["status"],
        "created_at": row["created_at"],
    }


def _request_hash(order_id: str, amount: int | None, reason: str) -> str:
    text = json.dumps([order_id, amount, reason], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def refund(order_id: str, amount: int | None, *, key: str, reason: str) -> dict[str, Any]:
    """Refund ``amount`` (None: everything left) of the order's captured payment, once per ``key``.

    Returns the SUCCEEDED refund row. Raises NothingToRefund, RefundTooLarge,
    RefundKeyReused, RefundRefused (now or when this key was first used), or
    ProviderUnavailable (the refund stays PENDING: call again with the same key).
    """
    fingerprint = _request_hash(order_id, amount, reason)
    row = ledger.query_one("SELECT * FROM refunds WHERE request_key = :k", {"k": key})
    if row is None:
        row = _reserve_refund(order_id, amount, key, reason, fingerprint)
    elif row["request_hash"] != fingerprint:
        raise RefundKeyReused("this key was used for another refund request")
    if row["status"] == REFUND_PENDING:
        row = _complete_refund(row)
    if row["status"] == REFUND_FAILED:
        raise RefundRefused(f"the payment provider refused the refund ({row['failure']})")
    return row


def complete_pending_refunds(order_id: str) -> list[dict[str, Any]]:
    """Retry the order's PENDING refunds (a crash or an unavailable provider left them); the order's refunds.

    ProviderUnavailable if the provider still cannot be reached; a refusal marks the refund FAILED.
    """
    for row in refunds_of(order_id):
        if row["status"] == REFUND_PENDING:
            _complete_refund(row)
    return refunds_of(order_id)


def _reserve_refund(order_id: str, amount: int | None, key: str, reason: str, fingerprint: str) -> dict[str, Any]:
    """A PENDING refund row, its amount taken off the payment's refundable balance (one transaction)."""

    def reserve(tx: Transaction) -> dict[str, Any]:
        payment = tx.query_one("SELECT * FROM payments WHERE order_id = :o", {"o": order_id})
        if payment is None or payment["status"] not in (CAPTURED, REFUNDED):
            status = "no payment" if payment is None else f"the payment is {payment['status']}"
            raise NothingToRefund(f"nothing was captured for this order ({status})")
        left = int(payment["amount"]) - int(payment["refunded"])
        if left <= 0:
            raise NothingToRefund("the payment has been refunded in full")
        wanted = left if amount is None else amount
        if wanted > left:
            raise RefundTooLarge(left)
        now = shop_time.iso()
        taken = tx.execute(
            "UPDATE payments SET refunded = refunded + :a, updated_at = :u WHERE id = :id AND refunded + :a <= amount",
            {"a": wanted, "u": now, "id": payment["id"]},
        )
        if taken != 1:  # a concurrent refund took part of the balance first (PostgreSQL, read committed)
            current = tx.scalar("SELECT amount - refunded FROM payments WHERE id = :id", {"id": payment["id"]})
            raise RefundTooLarge(int(current))
        row = {
            "id": uuid.uuid4().hex,
            "payment_id": payment["id"],
            "order_id": order_id,
            "request_key": key,
            "request_hash": fingerprint,
            "amount": wanted,
            "reason": reason,
            "status": REFUND_PENDING,
            "provider_refund_id": None,
            "failure": None,
            "created_at": now,
            "updated_at": now,
        }
        tx.execute(
            "INSERT INTO refunds (id, payment_id, order_id, request_key, request_hash, amount, reason, status, "
            "provider_refund_id, failure, created_at, updated_at) VALUES (:id, :payment_id, :order_id, "
            ":request_key, :request_hash, :amount, :reason, :status, :provider_refund_id, :failure, :created_at, "
            ":updated_at)",
            row,
        )
        return row

    try:
        return ledger.run_transaction(reserve)
    except IntegrityError:  # a concurrent request with this key reserved it first
        row = ledger.query_one("SELECT * FROM refunds WHERE request_key = :k", {"k": key})
        if row is None:
            raise
        if row["request_hash"] != fingerprint:
            raise RefundKeyReused("this key was used for another refund request") from None
        return row


def _complete_refund(row: dict[str, Any]) -> dict[str, Any]:
    """Ask the provider to pay a PENDING refund back (its id is the Idempotency-Key) and record the answer."""
    payment = ledger.query_one("SELECT * FROM payments WHERE id = :p", {"p": row["payment_id"]})
    assert payment is not None
    response = provider_client.call(
        "POST", f"/v1/payments/{payment['provider_payment_id']}/refunds", {"amount": int(row["amount"])}, key=row["id"]
    )
    succeeded = response.status_code in (200, 201)
    answer = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}

    def record(tx: Transaction) -> None:
        now = shop_time.iso()
        if succeeded:
            changed = tx.execute(
                "UPDATE refunds SET status = :s, provider_refund_id = :r, updated_at = :u "
                "WHERE id = :id AND status = :pending",
                {"s": REFUND_SUCCEEDED, "r": answer.get("id"), "u": now, "id": row["id"], "pending": REFUND_PENDING},
            )
            if changed:
                tx.execute(
                    "UPDATE payments SET status = :refunded, updated_at = :u WHERE id = :p AND refunded = amount "
                    "AND status = :captured AND NOT EXISTS "
                    "(SELECT 1 FROM refunds WHERE payment_id = :p AND status = :pending)",
                    {
                        "refunded": REFUNDED,
                        "captured": CAPTURED,
                        "u": now,
                        "p": row["payment_id"],
                        "pending": REFUND_PENDING,
                    },
                )
        else:
            changed = tx.execute(
                "UPDATE refunds SET status = :s, failure = :f, updated_at = :u WHERE id = :id AND status = :pending",
                {
                    "s": REFUND_FAILED,
                    "f": f"{response.status_code} {answer.get('error', '')}".strip(),
                    "u": now,
                    "id": row["id"],
                    "pending": REFUND_PENDING,
                },
            )
            if changed:  # give the amount back to the refundable balance
                tx.execute(
                    "UPDATE payments SET refunded = refunded - :a, updated_at = :u WHERE id = :p",
                    {"a": int(row["amount"]), "u": now, "p": row["payment_id"]},
                )

    ledger.run_transaction(record)
    stored = ledger.query_one("SELECT * FROM refunds WHERE id = :id", {"id": row["id"]})
    assert stored is not None
    return stored


def give_back(order_id: str, reason: str) -> tuple[str, dict[str, Any] | None]:
    """For a cancelled order: void its authorization, or refund everything left of its capture.

    Returns what was done (``"nothing"``, ``"voided"`` or ``"refunded"``) and the refund row
    if there was one. Idempotent (the refund's key is ``cancel-<order>``); raises
    ProviderUnavailable when the provider cannot be reached (call again later).
    """
    payment = payment_of(order_id)
    if payment is None or payment["status"] in (DECLINED, VOIDED):
        return "nothing", None
    if payment["status"] == AUTHORIZED:
        response = provider_client.call("POST", f"/v1/payments/{payment['provider_payment_id']}/void")
        if response.status_code in (200, 201):
            _settle(order_id, "void", VOIDED)
            return "voided", None
        state = response.json().get("status") if response.status_code == 409 else None
        if state not in ("captured", "refunded"):
            raise ProviderUnavailable(f"void refused by the provider ({response.status_code})")
        _settle(order_id, "capture", CAPTURED)  # the capture queue got there first: refund it instead
    try:
        return "refunded", refund(order_id, None, key=f"cancel-{order_id}", reason=reason)
    except NothingToRefund:
        return "nothing", None  # refunded in full already (by an administrator)
