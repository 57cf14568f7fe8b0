"""'Customers who bought this also bought': co-occurrence counts updated from OrderPlaced events.

Each order adds its pairs once (a marker in the same transaction makes a redelivered event
a no-op); orders with more products than fit one transaction count their first pairs.
"""

from __future__ import annotations

from typing import Any

from stratus.resources.table import Attr, TransactionCanceled, transact_write
from systems.ecommerce.domain.recommendations import co_occurrences
from systems.ecommerce.infra import also_bought, projection_marks

MAX_PAIRS = 99  # a transaction holds 100 actions: the marker and the pairs


def record_order(order_id: str, product_ids: list[str]) -> bool:
    pairs = co_occurrences(product_ids)[:MAX_PAIRS]
    if not pairs:
        return False
    actions = [projection_marks.tx_put({"mark": f"reco#{order_id}"}, condition=Attr("mark").not_exists())]
    actions += [also_bought.tx_update({"product_id": a, "other_id": b}, add={"count": 1}) for a, b in pairs]
    try:
        transact_write(actions)
    except TransactionCanceled as cancelled:
        if cancelled.reasons[0].code == "ConditionalCheckFailed":
            return False
        raise
    return True


def on_order_placed(event: Any, context: Any) -> None:
    raw = getattr(event, "raw_event", event)
    detail = raw.get("detail") or {}
    record_order(str(detail["order_id"]), [str(line["product_id"]) for line in detail.get("lines", [])])
