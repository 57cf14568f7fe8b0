"""After an order is placed: capture the payment, then fulfil and ship (SQS consumers).

OrderPlaced goes to the ``payment-captures`` queue (a bus rule). Capturing talks to the
provider; a message that keeps failing (provider down) moves after three receives to the
``failed-payments`` dead-letter queue, from where :func:`redrive_failed_payments` puts it
back once the provider is healthy. A captured order goes on to the ``order-processing``
queue, whose consumer starts fulfilment and ships it (its own DLQ catches poison messages).
An order cancelled before its turn is neither captured nor shipped.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.resources.api import Request, Response
from systems.ecommerce import event_store, ledger
from systems.ecommerce.domain import orders
from systems.ecommerce.infra import bus, failed_payments, order_processing


def _bodies(event: Any) -> list[tuple[str, dict[str, Any]]]:
    raw = getattr(event, "raw_event", event)
    return [(r["messageId"], json.loads(r["body"])) for r in raw.get("Records") or []]


def _order_id(body: dict[str, Any]) -> str:
    detail = body.get("detail", body)
    return str(detail["order_id"])


def capture_payments(event: Any, context: Any) -> dict[str, Any]:
    failures = []
    for message_id, body in _bodies(event):
        try:
            order_id = _order_id(body)
            found = event_store.current(order_id)
            if found is not None and found[0].status in (orders.CANCELLED, orders.REFUNDED):
                continue  # cancelled meanwhile: its authorization is voided, not captured
            ledger.capture(order_id)
            order_processing.send(json.dumps({"order_id": order_id}))
        except Exception:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def process_orders(event: Any, context: Any) -> dict[str, Any]:
    failures = []
    for message_id, body in _bodies(event):
        try:
            ship(_order_id(body))
        except Exception:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def ship(order_id: str) -> None:
    found = event_store.current(order_id)
    if found is None or found[0].status not in (orders.CONFIRMED, orders.FULFILLING):
        return
    try:
        event_store.append(order_id, "FulfilmentStarted", {"warehouse": "local-1"}, known=found[1])
    except orders.TransitionRejected:
        return  # cancelled (or refunded) a moment ago: nothing to ship
    shipped = event_store.append(order_id, "OrderShipped", {"carrier": "stratus-post", "tracking": order_id[:12]})
    bus.put(
        source="shop.fulfilment",
        detail_type="OrderShipped",
        detail={"order_id": order_id, "customer_id": shipped.customer_id},
    )


def redrive_failed_payments(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Move every message of the failed-payments DLQ back to the capture queue."""
    waiting = failed_payments.attributes().get("ApproximateNumberOfMessages", 0)
    task = failed_payments.redrive()
    return {"task": task.handle, "messages": waiting, "status": task.status}


def redrive_route(request: Request, context: Any) -> Response:
    return Response(202, redrive_failed_payments())
