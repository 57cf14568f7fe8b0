"""Saved cards and the provider's webhooks.

``POST /payment-methods`` sends the card to the provider (never stored or logged here)
and keeps its sealed token and last four digits. ``POST /webhooks/payments`` accepts the
provider's signed events: the HMAC signature and its timestamp (within the replay window,
on the gateway's clock) must verify, and each event id is applied once.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.errors import ConditionalCheckFailed
from stratus.resources.api import Request, Response
from stratus.resources.table import Attr
from systems.ecommerce import ledger, provider_client, shop_time
from systems.ecommerce.domain.payments import Card, CardError, WebhookRejected, verify_webhook
from systems.ecommerce.infra import webhook_events
from systems.ecommerce.models import NewCard
from systems.ecommerce.provider_client import ProviderUnavailable
from systems.ecommerce.web import customer_id, field_error, invalid

DEDUPE_DAYS = 30
MAX_WEBHOOK_BYTES = 64 * 1024


def add_card(request: Request, context: Any) -> Response:
    body: NewCard = request.model
    number = body.number.get_secret_value().replace(" ", "")
    card = Card(number, body.exp_month, body.exp_year, body.cvc.get_secret_value())
    today = shop_time.iso()
    try:
        card.validate(year=int(today[:4]), month=int(today[5:7]))
    except CardError as error:
        where = "number" if "number" in str(error) else "cvc" if "CVC" in str(error) else "exp_year"
        return invalid(field_error([where], str(error)))
    try:
        saved = ledger.save_card(customer_id(request), number, body.exp_month, body.exp_year, card.cvc)
    except ledger.CardRejected as error:
        return invalid(field_error(["number"], str(error)))
    except ProviderUnavailable:
        return Response(503, {"message": "the payment provider is unavailable; try again"})
    return Response(201, saved)


def list_cards(request: Request, context: Any) -> Response:
    return Response(200, {"items": ledger.cards_of(customer_id(request))})


def provider_webhook(request: Request, context: Any) -> Response:
    body = request.body
    if len(body) > MAX_WEBHOOK_BYTES:
        return Response(413, {"message": "webhook body too large"})
    epoch = request.raw_event.get("requestContext", {}).get("timeEpoch")
    now = float(epoch) / 1000.0 if isinstance(epoch, int | float) else shop_time.now()
    try:
        verify_webhook(body, request.header("provider-signature"), provider_client.webhook_secret(), now=now)
    except WebhookRejected as error:
        return Response(401, {"message": f"webhook rejected: {error}"})
    try:
        event = json.loads(body)
        event_id, kind, payment = str(event["id"]), str(event["type"]), event["data"]
        provider_payment_id = str(payment["id"])
    except (ValueError, KeyError, TypeError):
        return invalid(field_error(["body"], "not a provider event (id, type, data.id)"))
    if webhook_events.get({"event_id": event_id}, consistent=True) is not None:
        return Response(200, {"received": True, "duplicate": True})
    status = {"payment.captured": "captured", "payment.voided": "voided"}.get(kind)
    applied = False
    if status is not None:
        try:
            applied = ledger.confirm_from_webhook(provider_payment_id, status)
        except ledger.LedgerError:
            applied = False  # the ledger already moved the payment elsewhere; nothing to apply
    try:
        webhook_events.put(
            {
                "event_id": event_id,
                "type": kind,
                "applied": applied,
                "received_at": shop_time.iso(now),
                "expires_at": int(now) + DEDUPE_DAYS * 86400,
            },
            condition=Attr("event_id").not_exists(),
        )
    except ConditionalCheckFailed:
        return Response(200, {"received": True, "duplicate": True})
    return Response(200, {"received": True, "duplicate": False, "applied": applied})
