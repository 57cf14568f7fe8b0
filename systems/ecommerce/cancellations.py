"""Cancelling orders and refunding them.

``POST /orders/{id}/cancel`` (the order's customer, or an administrator) cancels an order
that has not started shipping: ``OrderCancelled`` is appended (a conditional write on the
order's next sequence number, allowed only from a cancellable status), then the order is
*settled*: its stock comes back (held or confirmed), and its payment is voided if it was
only authorized or refunded in full if it was captured. The order ends ``CANCELLED``, or
``REFUNDED`` once the refund is done. A checkout still running stops at its next step and
compensates whatever it takes in between (see :mod:`systems.ecommerce.checkout`).

``POST /orders/{id}/refund`` (administrators) refunds a captured payment, in full or in
parts, never more than was captured in all; a full refund of an order that has not shipped
is a cancellation, and is refused as a refund. It needs an ``Idempotency-Key``: a retry
gets the same refund back, the key with another body is a 422.

Idempotency: an order is cancelled once (the natural key), and the refund a cancellation
makes is keyed ``cancel-<order>`` in the ledger, so repeating a cancel never refunds twice.
A repeated cancel is a 409, or the first answer again (``Idempotent-Replayed: true``) with
the ``Idempotency-Key`` of the request that cancelled it.

Settlement is idempotent and retried: before anything is written a message goes to the
``order-settlements`` queue (delayed), whose consumer settles the order again; if the
request dies part-way, or the payment provider is unavailable (the answer is then 202 with
the refund pending), the queue finishes the job (after five failed receives the message
moves to its dead-letter queue, which ``POST /admin/failed-settlements/redrive`` or the
``redrive-failed-settlements`` command puts back). Each refund the provider confirmed is appended to the
order as ``OrderRefunded`` (once per refund id).

The event store's stream publishes ``OrderCancelled`` and ``OrderRefunded`` on the bus
(:func:`publish_order_events`), where the notifications pick them up: an event is published
if and only if it was stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from pydantic import ValidationError as ModelError

from stratus.errors import ConditionalCheckFailed
from stratus.resources.api import Request, Response
from stratus.resources.search_feed import decode_image
from stratus.resources.table import Attr
from systems.ecommerce import event_store, inventory, ledger, shop_time
from systems.ecommerce.domain import orders
from systems.ecommerce.infra import bus, idempotency, settlements, settlements_dlq
from systems.ecommerce.models import CancelOrder, RefundRequest
from systems.ecommerce.orders_api import KEY_PATTERN
from systems.ecommerce.provider_client import ProviderUnavailable
from systems.ecommerce.web import check_id, conflict, customer_id, field_error, invalid, is_admin, not_found

#: The reason recorded on the refund a cancellation makes (part of its idempotency fingerprint).
CANCEL_REFUND_REASON = "order cancelled"
#: How long the safety-net settlement message waits before it is first delivered (seconds).
SETTLE_DELAY = 30
KEY_DAYS = 1


# -- settling: giving back what an order holds --------------------------------------------------


def settle(order_id: str) -> dict[str, Any]:
    """Finish what is outstanding for the order: a cancelled order's stock and payment, pending refunds.

    Idempotent. Raises ProviderUnavailable (and RefundRefused) when the provider cannot
    finish it now; the settlements queue calls again.
    """
    found = event_store.current(order_id)
    if found is None:
        return {"payment": "nothing"}
    order = found[0]
    payment = "nothing"
    if "OrderCancelled" in order.history:
        inventory.restore(order_id)
        payment, _ = ledger.give_back(order_id, CANCEL_REFUND_REASON)
    record_refunds(order_id)
    return {"payment": payment}


def record_refunds(order_id: str) -> orders.Order | None:
    """Complete the order's pending refunds and append ``OrderRefunded`` for each the provider paid."""
    unavailable: ProviderUnavailable | None = None
    try:
        rows = ledger.complete_pending_refunds(order_id)
    except ProviderUnavailable as error:
        rows, unavailable = ledger.refunds_of(order_id), error
    order = None
    paid = [row for row in rows if row["status"] == ledger.REFUND_SUCCEEDED]
    payment = ledger.payment_of(order_id) if paid else None
    for row in paid:
        assert payment is not None
        order = event_store.append(
            order_id,
            "OrderRefunded",
            {
                "refund_id": row["id"],
                "amount": int(row["amount"]),
                "currency": str(payment["currency"]),
                "reason": row["reason"],
            },
        )
    if unavailable is not None:
        raise unavailable
    return order


def _safety_net(order_id: str) -> None:
    """Ask the settlements queue to settle the order later, whatever happens to this request."""
    settlements.send(json.dumps({"order_id": order_id}), delay=SETTLE_DELAY)


def redrive_settlements(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Move every message of the settlements DLQ back to its queue (once the provider is healthy again)."""
    waiting = settlements_dlq.attributes().get("ApproximateNumberOfMessages", 0)
    task = settlements_dlq.redrive()
    return {"task": task.handle, "messages": waiting, "status": task.status}


def settle_messages(event: Any, context: Any) -> dict[str, Any]:
    """The order-settlements queue's consumer: settle each order; failures are retried."""
    raw = getattr(event, "raw_event", event)
    failures = []
    for record in raw.get("Records") or []:
        try:
            settle(str(json.loads(record["body"])["order_id"]))
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


# -- the routes ---------------------------------------------------------------------------------


def _optional_body(request: Request) -> CancelOrder | Response:
    """The cancel route's body is optional (an empty POST cancels without a reason)."""
    if not request.body.strip():
        return CancelOrder()
    try:
        return CancelOrder.model_validate_json(request.body)
    except ModelError as error:
        fields = [field_error(list(e["loc"]), e["msg"], e["type"]) for e in error.errors()]
        if any(e["type"] == "json_invalid" for e in fields):
            return Response(400, {"message": "Malformed JSON in request body"})
        return invalid(*fields, message="Invalid request body")


def _key(request: Request) -> str | Response | None:
    key = request.header("idempotency-key")
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        return invalid(field_error(["header", "Idempotency-Key"], "must be 8-64 letters, digits, '-' or '_'"))
    return key


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def _not_cancellable(order: orders.Order) -> Response:
    status = order.status
    if "OrderCancelled" in order.history:
        message = "the order is already cancelled"
    elif status == orders.SHIPPED:
        message = "the order has shipped and can no longer be cancelled"
    elif status == orders.FULFILLING:
        message = "the order is being shipped and can no longer be cancelled"
    elif status == orders.REFUNDED:
        message = "the order has been refunded in full; there is nothing to cancel"
    else:
        message = f"the order is {status} ({order.failure_reason or 'checkout failed'}); there is nothing to cancel"
    return conflict(message, status=status)


def _answer(order_id: str, status: int, settled: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    found = event_store.current(order_id)
    assert found is not None
    return Response(status, {**event_store.view(*found), "payment": settled["payment"]}, headers=headers)


def _settle_now(order_id: str) -> dict[str, Any]:
    """Settle in the request; if the provider is unavailable, say so (the queue finishes it later)."""
    try:
        return settle(order_id)
    except ProviderUnavailable:
        return {"payment": "pending"}
    except ledger.RefundRefused:  # the provider will not pay it back: the queue's DLQ holds it for an operator
        return {"payment": "refund_refused"}


def _cancelled_data(by: str, reason: str) -> Any:
    def data(order: orders.Order) -> dict[str, Any]:
        described: dict[str, Any] = {"reason": reason, "by": by, "total": order.total, "currency": order.currency}
        if order.confirmed_at is not None:  # its sales were counted on that day: the read model takes them back
            described["unsold"] = {
                "day": order.confirmed_at[:10],
                "lines": [
                    {"product_id": line["product_id"], "quantity": line["quantity"], "amount": line["amount"]}
                    for line in order.lines
                ],
            }
        return described

    return data


def cancel_order(request: Request, context: Any) -> Response:
    order_id = check_id(request, "id")
    if isinstance(order_id, Response):
        return order_id
    body = _optional_body(request)
    if isinstance(body, Response):
        return body
    key = _key(request)
    if isinstance(key, Response):
        return key
    caller, admin = customer_id(request), is_admin(request)
    found = event_store.current(order_id)
    if found is None or (found[0].customer_id != caller and not admin):
        return not_found("order")  # another customer's order does not exist, as far as you know
    order, events = found
    fingerprint = _fingerprint("cancel", order_id, body.reason)
    record_key = f"{caller}#cancel#{key}"
    if key is not None:
        record = idempotency.get({"key": record_key}, consistent=True)
        if record is not None:
            if record["fingerprint"] != fingerprint:
                return Response(422, {"message": "this Idempotency-Key was used with another request"})
            return _answer(order_id, 200, _settle_now(order_id), {"idempotent-replayed": "true"})
    if order.status not in orders.CANCELLABLE:
        if "OrderCancelled" in order.history:
            _settle_now(order_id)  # finish an earlier cancellation that was interrupted
        return _not_cancellable(order)
    by = "customer" if order.customer_id == caller else "shop"
    reason = body.reason or ("cancelled by the customer" if by == "customer" else "cancelled by the shop")
    _safety_net(order_id)
    try:
        cancelled, appended = event_store.try_append(
            order_id, "OrderCancelled", _cancelled_data(by, reason), known=events
        )
    except orders.TransitionRejected:
        current = event_store.current(order_id)
        assert current is not None
        return _not_cancellable(current[0])  # it started shipping a moment ago
    if not appended:
        return _not_cancellable(cancelled)  # a concurrent request cancelled it first
    settled = _settle_now(order_id)
    if key is not None:
        with contextlib.suppress(ConditionalCheckFailed):
            idempotency.put(
                {
                    "key": record_key,
                    "fingerprint": fingerprint,
                    "order_id": order_id,
                    "created_at": shop_time.iso(),
                    "expires_at": int(shop_time.now()) + KEY_DAYS * 86400,
                },
                condition=Attr("key").not_exists(),
            )
    return _answer(order_id, 202 if settled["payment"] == "pending" else 200, settled)


def refund_order(request: Request, context: Any) -> Response:
    order_id = check_id(request, "id")
    if isinstance(order_id, Response):
        return order_id
    body: RefundRequest = request.model
    key = _key(request)
    if isinstance(key, Response):
        return key
    if key is None:
        return invalid(field_error(["header", "Idempotency-Key"], "is required: 8-64 letters, digits, '-' or '_'"))
    found = event_store.current(order_id)
    if found is None:
        return not_found("order")
    order = found[0]
    ledger_key = f"refund#{key}"
    replay = ledger.refund_by_key(ledger_key) is not None
    if not replay:
        if body.amount is not None and body.amount > order.total:
            return invalid(field_error(["amount"], f"exceeds the order's total of {order.total}"))
        if order.status == orders.REFUNDED:
            return conflict("the order has been refunded in full", status=order.status, refundable=0)
        if order.status not in orders.REFUNDABLE:
            return conflict(f"a {order.status} order has no captured payment to refund", status=order.status)
        full = body.amount is None or body.amount >= order.total - order.refunded
        if full and order.status in (orders.CONFIRMED, orders.FULFILLING):
            return conflict(
                "the order has not shipped: cancel it instead (POST /orders/{id}/cancel), which also restocks it",
                status=order.status,
            )
    _safety_net(order_id)
    try:
        row = ledger.refund(order_id, body.amount, key=ledger_key, reason=body.reason)
    except ledger.RefundKeyReused:
        return Response(422, {"message": "this Idempotency-Key was used with another request"})
    except ledger.RefundTooLarge as error:
        return conflict(f"only {error.refundable} can still be refunded", refundable=error.refundable)
    except ledger.NothingToRefund as error:
        return conflict(str(error))
    except ledger.RefundRefused as error:
        return Response(502, {"message": str(error)})
    except ProviderUnavailable:
        pending = ledger.refund_by_key(ledger_key)
        assert pending is not None
        return Response(
            202,
            {
                "message": "the payment provider is unavailable; the refund will be retried",
                "refund": ledger.public_refund(pending),
            },
        )
    with contextlib.suppress(ProviderUnavailable):
        record_refunds(order_id)
    current = event_store.current(order_id)
    assert current is not None
    answer = {"refund": ledger.public_refund(row), "order": event_store.view(*current)}
    return Response(200, answer, headers={"idempotent-replayed": "true"}) if replay else Response(201, answer)


# -- the event store's stream → the bus -----------------------------------------------------------

PUBLISHED = ("OrderCancelled", "OrderRefunded")


def publish_order_events(event: Any, context: Any) -> None:
    """Stream handler (filtered to PUBLISHED events): put each stored event on the bus."""
    raw = getattr(event, "raw_event", event)
    entries = []
    for record in raw.get("Records") or []:
        if record.get("eventName") != "INSERT":
            continue
        stored = decode_image(record["dynamodb"]["NewImage"])
        if stored.get("type") not in PUBLISHED:
            continue
        data = dict(stored.get("data") or {})
        detail = {
            "order_id": stored["order_id"],
            "customer_id": stored["customer_id"],
            "status": stored.get("status"),
            "refunded_total": int(stored.get("refunded") or 0),
            **{k: v for k, v in data.items() if k in ("reason", "by", "total", "currency", "refund_id", "amount")},
        }
        entries.append((str(stored["type"]), json.loads(json.dumps(detail, default=int))))
    for kind, detail in entries:
        bus.put(source="shop.orders", detail_type=kind, detail=detail)
