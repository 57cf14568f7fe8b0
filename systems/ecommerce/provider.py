"""A local stand-in for the external payment provider (the "third-party API" of the seeds).

A separate HTTP service, as a real provider is: the shop reaches it over HTTP only.
It tokenizes cards (the shop never keeps a card number), authorizes, captures, voids and
refunds (in full or in parts, never more than was captured) payments idempotently
(``Idempotency-Key``), and can be made slow or flaky (``latency``, ``failure_rate``) to
exercise the shop's retries and compensations. Deterministic decline
rules make tests exact: card 4000 0000 0000 0002 is always declined, and so is any
amount ending in 13 minor units.

Webhooks (``payment.captured``, ``payment.voided``, ``payment.refunded``) are signed with
:func:`~systems.ecommerce.domain.payments.sign_webhook` and posted to ``webhook_url``.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from systems.ecommerce.domain.payments import Card, CardError, sign_webhook

DECLINED_CARD = "4000000000000002"


@dataclass
class ProviderSettings:
    webhook_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    webhook_url: str | None = None
    latency: float = 0.0  # seconds added to every call
    failure_rate: float = 0.0  # share of calls answered 503
    seed: int | None = None
    now: Callable[[], float] = time.time
    #: Where to keep tokens, payments and idempotency records (SQLite) so they survive a restart,
    #: as a real provider's do; None keeps them in memory only.
    state_file: str | None = None


class ProviderState:
    """Tokens, payments and idempotency records (the provider is someone else's system).

    Held in memory and, with ``state_file``, written through to SQLite so a restarted
    provider still knows its tokens and answers a retried Idempotency-Key the same way.
    """

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.tokens: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.random = random.Random(settings.seed)
        self.webhooks_sent: list[dict[str, Any]] = []
        # One client for every webhook: a client per post would build an SSL context each time
        # (tens of milliseconds of CPU, holding the GIL).
        self.webhook_client = httpx.Client(timeout=5)
        self._db: sqlite3.Connection | None = None
        if settings.state_file:
            self._db = sqlite3.connect(settings.state_file, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS kv (kind TEXT, key TEXT, value TEXT, PRIMARY KEY (kind, key))")
            for kind, key, value in self._db.execute("SELECT kind, key, value FROM kv"):
                data = json.loads(value)
                if kind == "token":
                    self.tokens[key] = data
                elif kind == "payment":
                    self.payments[key] = data
                elif kind == "refund":
                    self.refunds[key] = data
                else:
                    self.idempotency[key] = (data[0], data[1])

    def close(self) -> None:
        self.webhook_client.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    def save(self, kind: str, key: str, value: Any) -> None:
        """Keep one record (call with the lock held); written through when there is a state file."""
        records: dict[str, dict[str, Any]] = {
            "token": self.tokens,
            "payment": self.payments,
            "refund": self.refunds,
            "idempotency": self.idempotency,
        }
        records[kind][key] = value
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (kind, key, json.dumps(value)))


def create_provider_app(settings: ProviderSettings | None = None) -> Starlette:
    state = ProviderState(settings or ProviderSettings())

    def guard() -> JSONResponse | None:
        if state.settings.latency:
            time.sleep(state.settings.latency)
        if state.settings.failure_rate and state.random.random() < state.settings.failure_rate:
            return JSONResponse({"error": "service_unavailable"}, status_code=503)
        return None

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def idempotent(request: Request, body: dict[str, Any], make: Callable[[], JSONResponse]) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        if not key:
            return make()
        with state.lock:
            seen = state.idempotency.get(key)
            if seen is not None:
                if seen[1] != body:
                    return JSONResponse({"error": "idempotency_key_reused"}, status_code=409)
                return JSONResponse(state.payments.get(seen[0]) or state.refunds[seen[0]], status_code=200)
        response = make()
        if response.status_code in (200, 201):
            payment = json.loads(bytes(response.body))
            with state.lock:
                state.save("idempotency", key, (payment["id"], body))
        return response

    async def tokenize(request: Request) -> JSONResponse:
        if (failure := guard()) is not None:
            return failure
        body = await body_of(request)
        card = Card(
            str(body.get("number", "")),
            int(body.get("exp_month", 0) or 0),
            int(body.get("exp_year", 0) or 0),
            str(body.get("cvc", "")),
        )
        moment = time.gmtime(state.settings.now())
        try:
            card.validate(year=moment.tm_year, month=moment.tm_mon)
        except CardError as error:
            return JSONResponse({"error": "invalid_card", "message": str(error)}, status_code=402)
        token = f"tok_{uuid.uuid4().hex}"
        with state.lock:
            state.save("token", token, {"last4": card.last4, "declined": card.number.replace(" ", "") == DECLINED_CARD})
        return JSONResponse({"token": token, "last4": card.last4}, status_code=201)

    async def authorize(request: Request) -> JSONResponse:
        if (failure := guard()) is not None:
            return failure
        body = await body_of(request)

        def make() -> JSONResponse:
            token = state.tokens.get(str(body.get("token")))
            amount = body.get("amount")
            if token is None:
                return JSONResponse({"error": "unknown_token"}, status_code=400)
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                return JSONResponse({"error": "invalid_amount"}, status_code=400)
            declined = token["declined"] or amount % 100 == 13
            payment = {
                "id": f"pay_{uuid.uuid4().hex}",
                "status": "declined" if declined else "authorized",
                "amount": amount,
                "currency": body.get("currency", "USD"),
                "last4": token["last4"],
                "decline_code": "card_declined" if declined else None,
            }
            with state.lock:
                state.save("payment", payment["id"], payment)
            return JSONResponse(payment, status_code=201)

        return idempotent(request, body, make)

    def change(status_from: str, status_to: str, event: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> JSONResponse:
            if (failure := guard()) is not None:
                return failure
            payment_id = request.path_params["payment_id"]
            with state.lock:
                payment = state.payments.get(payment_id)
                if payment is None:
                    return JSONResponse({"error": "not_found"}, status_code=404)
                if payment["status"] == status_to:
                    return JSONResponse(payment)  # repeating a capture or void is harmless
                if payment["status"] != status_from:
                    return JSONResponse({"error": "invalid_state", "status": payment["status"]}, status_code=409)
                payment["status"] = status_to
                state.save("payment", payment_id, payment)
                snapshot = dict(payment)
            send_webhook(event, snapshot)
            return JSONResponse(snapshot)

        return handler

    async def show(request: Request) -> JSONResponse:
        if (failure := guard()) is not None:
            return failure
        with state.lock:
            payment = state.payments.get(request.path_params["payment_id"])
            snapshot = None if payment is None else dict(payment)
        if snapshot is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(snapshot)

    async def refund(request: Request) -> JSONResponse:
        if (failure := guard()) is not None:
            return failure
        body = await body_of(request)
        payment_id = request.path_params["payment_id"]

        def make() -> JSONResponse:
            amount = body.get("amount")
            with state.lock:
                payment = state.payments.get(payment_id)
                if payment is None:
                    return JSONResponse({"error": "not_found"}, status_code=404)
                if payment["status"] != "captured":
                    return JSONResponse({"error": "invalid_state", "status": payment["status"]}, status_code=409)
                remaining = int(payment["amount"]) - int(payment.get("amount_refunded", 0))
                if amount is None:
                    amount = remaining
                if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                    return JSONResponse({"error": "invalid_amount"}, status_code=400)
                if amount > remaining:
                    return JSONResponse({"error": "amount_too_large", "refundable": remaining}, status_code=400)
                refunded = {
                    "id": f"re_{uuid.uuid4().hex}",
                    "payment_id": payment_id,
                    "amount": amount,
                    "currency": payment["currency"],
                    "status": "succeeded",
                }
                payment["amount_refunded"] = int(payment.get("amount_refunded", 0)) + amount
                if payment["amount_refunded"] == payment["amount"]:
                    payment["status"] = "refunded"
                state.save("payment", payment_id, payment)
                state.save("refund", refunded["id"], refunded)
                snapshot = dict(payment)
            send_webhook("payment.refunded", snapshot)
            return JSONResponse(refunded, status_code=201)

        return idempotent(request, {**body, "payment_id": payment_id}, make)

    def send_webhook(event_type: str, payment: dict[str, Any]) -> None:
        event = {"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "data": payment}
        state.webhooks_sent.append(event)
        url = state.settings.webhook_url
        if not url:
            return
        body = json.dumps(event).encode()
        header = sign_webhook(body, state.settings.webhook_secret, int(state.settings.now()))

        def post() -> None:
            # A real provider retries later; the shop reconciles either way.
            with contextlib.suppress(httpx.HTTPError):
                state.webhook_client.post(
                    url,
                    content=body,
                    headers={"Provider-Signature": header, "Content-Type": "application/json"},
                    timeout=5,
                )

        threading.Thread(target=post, daemon=True).start()

    app = Starlette(
        routes=[
            Route("/v1/tokens", tokenize, methods=["POST"]),
            Route("/v1/payments", authorize, methods=["POST"]),
            Route("/v1/payments/{payment_id}", show, methods=["GET"]),
            Route(
                "/v1/payments/{payment_id}/capture",
                change("authorized", "captured", "payment.captured"),
                methods=["POST"],
            ),
            Route("/v1/payments/{payment_id}/void", change("authorized", "voided", "payment.voided"), methods=["POST"]),
            Route("/v1/payments/{payment_id}/refunds", refund, methods=["POST"]),
        ]
    )
    app.state.provider = state
    return app
