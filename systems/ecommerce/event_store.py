"""The order event store: an append-only table of (order_id, seq) → event.

Appending is a conditional put on the next sequence number, so two writers cannot both
append event N; the loser re-reads and tries again (or finds its event already there).
Current state is :func:`~systems.ecommerce.domain.orders.replay` of the events, and an
event is accepted only if the domain allows its transition. Appending an event the order
already has (the same type; for refunds, the same refund id) is a no-op, which makes every
workflow step and every settlement safe to run twice.

Each stored event also carries the order's status and refunded amount after it, so the
read models follow the order without replaying it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stratus.errors import ConditionalCheckFailed
from stratus.resources.table import Attr, Key
from systems.ecommerce import shop_time
from systems.ecommerce.domain import orders
from systems.ecommerce.infra import order_events
from systems.ecommerce.web import plain

MAX_ATTEMPTS = 20


def load(order_id: str) -> list[dict[str, Any]]:
    """The order's events, oldest first (a consistent read: what was appended is seen)."""
    return [plain(e) for e in order_events.query_all(Key("order_id").eq(order_id), consistent=True)]


def current(order_id: str) -> tuple[orders.Order, list[dict[str, Any]]] | None:
    events = load(order_id)
    if not events:
        return None
    return orders.replay(order_id, events), events


def append(
    order_id: str, kind: str, data: dict[str, Any] | None = None, *, known: list[dict[str, Any]] | None = None
) -> orders.Order:
    """Append ``kind`` to the order (once); TransitionRejected if the lifecycle does not allow it.

    ``known`` are the order's events as the caller just read them (saves a read; a stale list
    only costs a retry, since the conditional put refuses a sequence number already taken).
    """
    return try_append(order_id, kind, data, known=known)[0]


def try_append(
    order_id: str,
    kind: str,
    data: dict[str, Any] | Callable[[orders.Order], dict[str, Any]] | None = None,
    *,
    known: list[dict[str, Any]] | None = None,
) -> tuple[orders.Order, bool]:
    """As :func:`append`, and whether this call appended it (False: it was there already).

    ``data`` may be a function of the order as it is just before the event, for events that
    describe that state (it is called again if another writer appended first).
    """
    events = known
    for _ in range(MAX_ATTEMPTS):
        if events is None:
            events = load(order_id)
        order = orders.replay(order_id, events)
        payload = data(order) if callable(data) else (data or {})
        if orders.already_applied(order, kind, payload):
            return order, False
        at = shop_time.iso()
        event = {"type": kind, "data": payload, "at": at}
        updated = orders.apply(order, event)
        item = {
            "order_id": order_id,
            "seq": updated.version,
            **event,
            "customer_id": updated.customer_id,
            "order_created_at": updated.created_at or at,
            "status": updated.status,
            "refunded": updated.refunded,
        }
        try:
            order_events.put(item, condition=Attr("order_id").not_exists())
        except ConditionalCheckFailed:
            events = None  # another writer appended this sequence number first: read again
            continue
        return updated, True
    raise RuntimeError(f"order {order_id}: could not append {kind} after {MAX_ATTEMPTS} attempts")


def view(order: orders.Order, events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the API shows of an order."""
    created = events[0]["data"] if events else {}
    return {
        "order_id": order.order_id,
        "status": order.status,
        "lines": list(order.lines),
        "total": order.total,
        "currency": order.currency,
        "shipping_address": created.get("shipping_address"),
        "payment_method_id": created.get("payment_method_id"),
        "failure_reason": order.failure_reason,
        "refunded": order.refunded,
        "refunds": [
            {"refund_id": e["data"].get("refund_id"), "amount": e["data"].get("amount"), "at": e["at"]}
            for e in events
            if e["type"] == "OrderRefunded"
        ],
        "cancellable": order.status in orders.CANCELLABLE,
        "created_at": order.created_at,
        "updated_at": events[-1]["at"] if events else None,
        "history": [{"type": e["type"], "at": e["at"]} for e in events],
    }
