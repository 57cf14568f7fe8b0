"""Read models projected from the order event store (the query side of CQRS).

- ``order-history``: per customer, one row per order with its latest status (newest first).
- ``sales-daily``: units and revenue per product per day, counted when an order is confirmed,
  and taken back from that day if the order is cancelled.

Projection is idempotent under at-least-once delivery: history rows only move forward
(conditional on the event's sequence number) and a confirmed order's sales are added in one
transaction with a marker that exists once per order. :func:`rebuild` empties both and
replays every event from the store, which must give the same rows as the live projection.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from stratus.errors import ConditionalCheckFailed
from stratus.resources.search_feed import decode_image
from stratus.resources.table import Attr, Key, TransactionCanceled, transact_write
from systems.ecommerce.domain.orders import EVENT_STATUS
from systems.ecommerce.infra import order_events, order_history, projection_marks, sales_daily
from systems.ecommerce.web import plain


def history_key(event: dict[str, Any]) -> dict[str, str]:
    return {"customer_id": event["customer_id"], "sort_key": f"{event['order_created_at']}#{event['order_id']}"}


def project(event: dict[str, Any]) -> None:
    """Apply one stored event (a row of the event store) to the read models."""
    key = history_key(event)
    if event["type"] == "OrderCreated":
        data = event["data"]
        order_history.update(
            key,
            set={
                "order_id": event["order_id"],
                "total": int(data["total"]),
                "currency": data["currency"],
                "items": sum(int(line["quantity"]) for line in data["lines"]),
                "created_at": event["order_created_at"],
            },
        )
    # Stored events carry the order's status and refunded amount after them (older ones: the status only).
    changes: dict[str, Any] = {
        "status_seq": int(event["seq"]),
        "status": event.get("status") or EVENT_STATUS[event["type"]],
        "refunded": int(event.get("refunded") or 0),
    }
    if event["type"] in ("OrderFailed", "OrderCancelled"):
        changes["failure_reason"] = event["data"].get("reason")
    with contextlib.suppress(ConditionalCheckFailed):  # a later event was projected already
        order_history.update(
            key, set=changes, condition=Attr("status_seq").not_exists() | Attr("status_seq").lt(int(event["seq"]))
        )
    if event["type"] == "OrderConfirmed":
        _count_sales(event, str(event["at"])[:10], event["data"]["lines"], f"sales#{event['order_id']}", 1)
    elif event["type"] == "OrderCancelled" and event["data"].get("unsold"):
        unsold = event["data"]["unsold"]
        _count_sales(event, str(unsold["day"]), unsold["lines"], f"unsold#{event['order_id']}", -1)


def _count_sales(event: dict[str, Any], day: str, lines: list[dict[str, Any]], mark: str, sign: int) -> None:
    """Add (sign 1) or take back (sign -1) an order's lines on ``day``, once per ``mark``."""
    actions = [projection_marks.tx_put({"mark": mark}, condition=Attr("mark").not_exists())]
    for line in lines:
        actions.append(
            sales_daily.tx_update(
                {"product_id": line["product_id"], "day": day},
                add={"units": sign * int(line["quantity"]), "revenue": sign * int(line["amount"]), "orders": sign},
                set={"currency": event["data"].get("currency") or "USD"},
            )
        )
    try:
        transact_write(actions)
    except TransactionCanceled as cancelled:
        if cancelled.reasons[0].code != "ConditionalCheckFailed":
            raise  # not a duplicate: let the stream retry


def on_order_events(event: Any, context: Any) -> None:
    """Stream handler: project every new event of the event store."""
    for record in _records(event):
        if record.get("eventName") != "INSERT":
            continue
        project(decode_image(record["dynamodb"]["NewImage"]))


def _records(event: Any) -> list[dict[str, Any]]:
    raw = getattr(event, "raw_event", event)
    return list(raw.get("Records") or [])


# -- rebuilding from zero ----------------------------------------------------------------------


def _clear(table: Any, keys: tuple[str, ...]) -> int:
    removed = 0
    batch: list[dict[str, Any]] = []
    names = {f"#k{i}": key for i, key in enumerate(keys)}
    for item in list(table.scan_all(projection=", ".join(names), names=names)):
        batch.append({k: item[k] for k in keys})
        if len(batch) == 25:
            table.batch_write(delete=batch)
            removed += len(batch)
            batch = []
    if batch:
        table.batch_write(delete=batch)
        removed += len(batch)
    return removed


def all_events() -> Iterable[dict[str, Any]]:
    """Every stored event, grouped by order and in sequence order within each."""
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in order_events.scan_all():
        by_order[str(item["order_id"])].append(plain(item))
    for order_id in sorted(by_order):
        yield from sorted(by_order[order_id], key=lambda e: int(e["seq"]))


def rebuild(event: Any = None, context: Any = None) -> dict[str, int]:
    """Empty the read models and project every event again; returns counts."""
    _clear(order_history, ("customer_id", "sort_key"))
    _clear(sales_daily, ("product_id", "day"))
    marks = [m for m in projection_marks.scan_all() if str(m["mark"]).startswith(("sales#", "unsold#"))]
    for i in range(0, len(marks), 25):
        projection_marks.batch_write(delete=[{"mark": m["mark"]} for m in marks[i : i + 25]])
    count = 0
    for stored in all_events():
        project(stored)
        count += 1
    return {"events": count}


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Both read models as sorted plain rows (to compare a rebuild with the live projection)."""
    history = sorted((plain(i) for i in order_history.scan_all()), key=lambda r: (r["customer_id"], r["sort_key"]))
    sales = sorted((plain(i) for i in sales_daily.scan_all()), key=lambda r: (r["product_id"], r["day"]))
    return {"order_history": history, "sales_daily": sales}


def history_of(customer_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    page = order_history.query(Key("customer_id").eq(customer_id), forward=False, limit=limit, cursor=cursor)
    rows = [
        {
            "order_id": r["order_id"],
            "status": r.get("status"),
            "total": r.get("total"),
            "currency": r.get("currency"),
            "items": r.get("items"),
            "created_at": r.get("created_at"),
            "failure_reason": r.get("failure_reason"),
            "refunded": r.get("refunded", 0),
        }
        for r in (plain(i) for i in page.items)
        if "order_id" in r
    ]
    return rows, page.cursor
