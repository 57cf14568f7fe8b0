"""The checkout saga's steps: each a function the workflow (workflows/checkout.asl.json) calls.

Every step may run more than once (a task whose result was not committed before a crash is
run again), so each is idempotent: events are appended once, stock is reserved once, the
provider is asked with the order id as Idempotency-Key and the ledger keeps one
authorization per order. A step that cannot succeed raises an exception whose class name
is the error the workflow catches to run the compensations.

A customer may cancel an order while its checkout runs. The cancellation gives back what the
order holds by then (``cancellations.settle``); the steps after it see the order cancelled
and stop (``OrderCancelled``), and the compensations give back anything taken in between.
The workflow then ends without publishing ``OrderFailed``: the customer hears of the
cancellation instead.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from systems.ecommerce import event_store, inventory, ledger
from systems.ecommerce.domain import orders
from systems.ecommerce.infra import products
from systems.ecommerce.provider_client import PaymentDeclined  # noqa: F401  (an error the workflow names)


class OrderInvalid(Exception):
    """The order cannot be checked out (no such order, unknown product, not pending)."""


class OrderCancelled(Exception):
    """The customer cancelled the order while it was being checked out."""


def _not_cancelled(order: orders.Order) -> None:
    if order.status in (orders.CANCELLED, orders.REFUNDED):
        raise OrderCancelled(f"order {order.order_id} was cancelled")


def _order(event: dict[str, Any]) -> tuple[orders.Order, list[dict[str, Any]]]:
    order_id = str(event.get("order_id", ""))
    found = event_store.current(order_id)
    if found is None:
        raise OrderInvalid(f"order {order_id!r} does not exist")
    return found


def validate_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order, _ = _order(event)
    _not_cancelled(order)
    if order.status == orders.FAILED:
        raise OrderInvalid(f"order {order.order_id} is {order.status}")
    missing = [
        line["product_id"] for line in order.lines if products.get({"id": line["product_id"]}, projection="id") is None
    ]
    if missing:
        raise OrderInvalid(f"products no longer sold: {', '.join(missing)}")
    return {"customer_id": order.customer_id, "total": order.total, "currency": order.currency}


def reserve_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order, events = _order(event)
    _not_cancelled(order)
    reservation = inventory.reserve(order.order_id, list(order.lines))
    if reservation["status"] == inventory.RELEASED:
        raise inventory.ReservationExpired(f"the stock reservation of order {order.order_id} expired")
    event_store.append(order.order_id, "InventoryReserved", {"expires_at": reservation["expires_at"]}, known=events)
    return {"expires_at": reservation["expires_at"]}


def authorize_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order, events = _order(event)
    _not_cancelled(order)
    method = str(events[0]["data"].get("payment_method_id", ""))
    payment = ledger.authorize(order.order_id, order.customer_id, method, order.total, order.currency)
    event_store.append(order.order_id, "PaymentAuthorized", {"payment_id": payment["id"]}, known=events)
    return {"payment_id": payment["id"], "status": payment["status"]}


def confirm_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order, events = _order(event)
    _not_cancelled(order)
    inventory.confirm(order.order_id)
    confirmed = event_store.append(
        order.order_id,
        "OrderConfirmed",
        {"lines": list(order.lines), "total": order.total, "currency": order.currency},
        known=events,
    )
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "lines": [{"product_id": line["product_id"], "quantity": line["quantity"]} for line in order.lines],
        "total": order.total,
        "currency": order.currency,
        "status": confirmed.status,
    }


def void_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    payment = ledger.void(str(event["order_id"]))
    return {"voided": bool(payment and payment["status"] == ledger.VOIDED)}


def release_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order_id = str(event["order_id"])
    found = event_store.current(order_id)
    cancelled = found is not None and found[0].status in (orders.CANCELLED, orders.REFUNDED)
    return {"released": inventory.release(order_id, confirmed_too=cancelled)}


REASONS = {
    "OutOfStock": "out of stock",
    "PaymentDeclined": "payment declined",
    "ProviderUnavailable": "payment provider unavailable",
    "ReservationExpired": "stock reservation expired",
    "OrderInvalid": "order invalid",
    "OrderCancelled": "order cancelled",
}


def failure_reason(error: dict[str, Any] | None) -> str:
    """A short, customer-safe reason from the workflow's caught error (no stack traces)."""
    if not error:
        return "checkout failed"
    name = str(error.get("Error", ""))
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        message = str(json.loads(error.get("Cause") or "{}").get("errorMessage", ""))
    label = REASONS.get(name, "checkout failed")
    return f"{label}: {message}" if message and name in REASONS else label


def fail_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Mark the order FAILED, unless the customer cancelled it (then say so: the workflow publishes nothing)."""
    order_id = str(event["order_id"])
    reason = failure_reason(event.get("error"))
    found = event_store.current(order_id)
    customer = found[0].customer_id if found is not None else ""
    if found is not None and found[0].status in (orders.CANCELLED, orders.REFUNDED):
        return {"order_id": order_id, "customer_id": customer, "reason": "order cancelled", "status": orders.CANCELLED}
    if found is not None and found[0].status != orders.FAILED:
        event_store.append(order_id, "OrderFailed", {"reason": reason})
    return {"order_id": order_id, "customer_id": customer, "reason": reason, "status": orders.FAILED}
