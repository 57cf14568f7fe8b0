"""The order lifecycle: an event-sourced aggregate whose status moves only along allowed transitions.

The current state of an order is the fold of its events (:func:`replay`); a new event is
accepted only if the transition it makes is allowed from the current status, so an event
that arrives late or twice cannot move an order backwards (the store enforces the same
with a conditional write on the sequence number).

An order can be cancelled until it starts shipping (``OrderCancelled``), and money taken
for it can be given back in one or more refunds (``OrderRefunded``, one per refund, never
more than the order's total in all): a refund that completes the total moves the order to
``REFUNDED``; a partial one leaves its status as it was.
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
REFUNDED = "REFUNDED"

#: status → statuses it may move to (terminal statuses move nowhere).
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({RESERVED, FAILED, CANCELLED}),
    RESERVED: frozenset({AUTHORIZED, FAILED, CANCELLED}),
    AUTHORIZED: frozenset({CONFIRMED, FAILED, CANCELLED}),
    CONFIRMED: frozenset({FULFILLING, CANCELLED, REFUNDED}),
    FULFILLING: frozenset({SHIPPED, REFUNDED}),
    SHIPPED: frozenset({REFUNDED}),
    FAILED: frozenset(),
    CANCELLED: frozenset({REFUNDED}),
    REFUNDED: frozenset(),
}

#: Statuses a customer may still cancel from: anything before shipping starts.
CANCELLABLE = frozenset({PENDING, RESERVED, AUTHORIZED, CONFIRMED})
#: Statuses whose payment may have been captured, and so refunded (in part or in full).
REFUNDABLE = frozenset({CONFIRMED, FULFILLING, SHIPPED, CANCELLED})

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
    "OrderRefunded": REFUNDED,  # when it completes the total; a partial refund keeps the status
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
    refunded: int = 0  # minor units given back so far
    confirmed_at: str | None = None
    refund_ids: tuple[str, ...] = ()


def can_transition(current: str, target: str) -> bool:
    if current == "":
        return target == PENDING
    return target in TRANSITIONS.get(current, frozenset())


def already_applied(order: Order, kind: str, data: dict[str, Any]) -> bool:
    """Whether ``kind`` (with ``data``) is in the order already: each event type happens once,
    except refunds, which happen once per refund id."""
    if kind == "OrderRefunded":
        return str(data.get("refund_id")) in order.refund_ids
    return kind in order.history


def _refund_target(order: Order, data: dict[str, Any]) -> tuple[str, int]:
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise TransitionRejected(f"order {order.order_id}: a refund needs a positive amount, got {amount!r}")
    if order.status not in REFUNDABLE:
        raise TransitionRejected(f"order {order.order_id}: a {order.status or 'new'} order cannot be refunded")
    refunded = order.refunded + amount
    if refunded > order.total:
        raise TransitionRejected(
            f"order {order.order_id}: refunds of {refunded} would exceed the order's total of {order.total}"
        )
    return (REFUNDED if refunded == order.total else order.status), refunded


def apply(order: Order, event: dict[str, Any]) -> Order:
    """The order after ``event``; raises TransitionRejected for a transition that is not allowed."""
    kind = event.get("type")
    if kind not in EVENT_STATUS:
        raise TransitionRejected(f"unknown order event type {kind!r}")
    data = event.get("data", {})
    target = EVENT_STATUS[kind]
    if kind == "OrderRefunded":
        target, refunded = _refund_target(order, data)
    elif not can_transition(order.status, target):
        raise TransitionRejected(f"order {order.order_id}: {order.status or 'new'} → {target} is not allowed ({kind})")
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
    elif kind == "OrderConfirmed":
        changes["confirmed_at"] = event.get("at")
    elif kind in ("OrderFailed", "OrderCancelled"):
        changes["failure_reason"] = data.get("reason")
    elif kind == "OrderRefunded":
        changes.update(refunded=refunded, refund_ids=(*order.refund_ids, str(data.get("refund_id"))))
    return replace(order, **changes)


def replay(order_id: str, events: list[dict[str, Any]]) -> Order:
    """Rebuild an order from its events, oldest first."""
    order = Order(order_id)
    for event in events:
        order = apply(order, event)
    return order
