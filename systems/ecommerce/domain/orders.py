"""The order lifecycle: an event-sourced aggregate whose status moves only along allowed transitions.

The current state of an order is the fold of its events (:func:`replay`); a new event is
accepted only if the transition it makes is allowed from the current status, so an event
that arrives late or twice cannot move an order backwards (the store enforces the same
with a conditional write on the sequence number).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

PENDING = "PENDING"
RESERVED = "RESERVED"
AUTHORIZED = "AUTHORIZED"
CONFIRMED = "CONFIRMED"
FULFILLING = "FULFILLING"
SHIPPED = "SHIPPED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"

#: status → statuses it may move to (terminal statuses move nowhere).
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({RESERVED, FAILED, CANCELLED}),
    RESERVED: frozenset({AUTHORIZED, FAILED, CANCELLED}),
    AUTHORIZED: frozenset({CONFIRMED, FAILED}),
    CONFIRMED: frozenset({FULFILLING, CANCELLED}),
    FULFILLING: frozenset({SHIPPED}),
    SHIPPED: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
}

#: event type → the status it moves the order to.
EVENT_STATUS = {
    "OrderCreated": PENDING,
    "InventoryReserved": RESERVED,
    "PaymentAuthorized": AUTHORIZED,
    "OrderConfirmed": CONFIRMED,
    "FulfilmentStarted": FULFILLING,
    "OrderShipped": SHIPPED,
    "OrderFailed": FAILED,
    "OrderCancelled": CANCELLED,
}


class TransitionRejected(ValueError):
    """The event would move the order along a transition that is not allowed."""


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str = ""
    status: str = ""
    lines: tuple[dict[str, Any], ...] = ()
    total: int = 0
    currency: str = "USD"
    version: int = 0  # number of events applied
    failure_reason: str | None = None
    payment_id: str | None = None
    created_at: str | None = None
    history: tuple[str, ...] = field(default=())


def can_transition(current: str, target: str) -> bool:
    if current == "":
        return target == PENDING
    return target in TRANSITIONS.get(current, frozenset())


def apply(order: Order, event: dict[str, Any]) -> Order:
    """The order after ``event``; raises TransitionRejected for a transition that is not allowed."""
    kind = event.get("type")
    if kind not in EVENT_STATUS:
        raise TransitionRejected(f"unknown order event type {kind!r}")
    target = EVENT_STATUS[kind]
    if not can_transition(order.status, target):
        raise TransitionRejected(f"order {order.order_id}: {order.status or 'new'} → {target} is not allowed ({kind})")
    data = event.get("data", {})
    changes: dict[str, Any] = {"status": target, "version": order.version + 1, "history": (*order.history, kind)}
    if kind == "OrderCreated":
        changes.update(
            customer_id=data["customer_id"],
            lines=tuple(data["lines"]),
            total=data["total"],
            currency=data["currency"],
            created_at=event.get("at"),
        )
    elif kind == "PaymentAuthorized":
        changes["payment_id"] = data.get("payment_id")
    elif kind in ("OrderFailed", "OrderCancelled"):
        changes["failure_reason"] = data.get("reason")
    return replace(order, **changes)


def replay(order_id: str, events: list[dict[str, Any]]) -> Order:
    """Rebuild an order from its events, oldest first."""
    order = Order(order_id)
    for event in events:
        order = apply(order, event)
    return order
