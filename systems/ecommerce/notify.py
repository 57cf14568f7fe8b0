"""Customer notifications: order events become an SNS message (email subscribers get it in the
outbox) and an entry in the customer's inbox (``GET /me/notifications``)."""

from __future__ import annotations

import json
from typing import Any

from stratus.resources.table import Key
from systems.ecommerce import shop_time
from systems.ecommerce.domain.money import Money
from systems.ecommerce.infra import notifications, notifications_inbox
from systems.ecommerce.web import plain

SUBJECTS = {
    "OrderPlaced": "Your order is confirmed",
    "OrderFailed": "We could not place your order",
    "OrderShipped": "Your order is on its way",
    "OrderCancelled": "Your order is cancelled",
    "OrderRefunded": "Your refund is on its way",
}


def message_for(kind: str, detail: dict[str, Any]) -> str:
    order = detail.get("order_id", "")
    if kind == "OrderPlaced":
        total = Money(int(detail.get("total", 0)), str(detail.get("currency", "USD"))).display()
        return f"Thank you! Order {order} is confirmed: {total}."
    if kind == "OrderFailed":
        return f"Order {order} could not be placed ({detail.get('reason', 'checkout failed')}). You were not charged."
    if kind == "OrderCancelled":
        return (
            f"Order {order} is cancelled ({detail.get('reason', 'cancelled')}). "
            "Any hold on your card is released, and anything you paid is refunded."
        )
    if kind == "OrderRefunded":
        amount = Money(int(detail.get("amount", 0)), str(detail.get("currency", "USD"))).display()
        return f"We refunded {amount} for order {order}; it can take a few days to reach your account."
    return f"Order {order} has shipped."


def on_order_event(event: Any, context: Any) -> None:
    """Bus rule target for OrderPlaced, OrderFailed, OrderShipped, OrderCancelled and OrderRefunded."""
    raw = getattr(event, "raw_event", event)
    kind = str(raw.get("detail-type", ""))
    detail = dict(raw.get("detail") or {})
    customer = str(detail.get("customer_id", ""))
    if kind not in SUBJECTS or not customer:
        return
    text = message_for(kind, detail)
    notifications.publish(
        {
            "default": json.dumps({"type": kind, "order_id": detail.get("order_id"), "message": text}),
            "email": text,
            "sms": text[:140],
        },
        subject=SUBJECTS[kind],
        attributes={"customer_id": customer, "type": kind},
        per_protocol=True,
    )
    notifications_inbox.put(
        {
            "customer_id": customer,
            "sort_key": f"{shop_time.iso()}#{raw.get('id', '')}",
            "type": kind,
            "order_id": detail.get("order_id"),
            "message": text,
        }
    )


def inbox(customer: str, limit: int = 20) -> list[dict[str, Any]]:
    page = notifications_inbox.query(Key("customer_id").eq(customer), forward=False, limit=limit)
    return [{k: plain(v) for k, v in item.items() if k not in ("customer_id", "sort_key")} for item in page.items]
