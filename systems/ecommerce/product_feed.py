"""What follows a product change (the products table's change stream).

- the search index is kept in step (:func:`~stratus.resources.search_feed.apply_stream_record`);
- the cached copy of the product is dropped (stock changed by a reservation, say);
- stock falling to :data:`LOW_STOCK` or below puts a ``LowStock`` event on the bus, and stock
  coming back from zero a ``BackInStock`` one.
"""

from __future__ import annotations

from typing import Any

from stratus.resources.search_feed import apply_stream_record, decode_image
from systems.ecommerce import catalog
from systems.ecommerce.infra import bus, catalog_search

LOW_STOCK = 5


def to_document(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "name": item.get("name", ""),
        "description": item.get("description", ""),
        "category": item.get("category", ""),
        "price": int(item.get("price", 0)),
        "currency": item.get("currency", "USD"),
        "in_stock": int(item.get("stock", 0)) > 0,
        "stock": int(item.get("stock", 0)),
        "created_at": item.get("created_at", ""),
    }


def stock_event(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """The inventory event a change makes, if any."""
    if new is None:
        return None
    before = int(old.get("stock", 0)) if old is not None else None
    after = int(new.get("stock", 0))
    if before is not None and before > LOW_STOCK >= after:
        return {"type": "LowStock", "product_id": new["id"], "name": new.get("name", ""), "stock": after}
    if before == 0 and after > 0:
        return {"type": "BackInStock", "product_id": new["id"], "name": new.get("name", ""), "stock": after}
    return None


def on_product_change(event: Any, context: Any) -> None:
    raw = getattr(event, "raw_event", event)
    entries = []
    for record in raw.get("Records") or []:
        apply_stream_record(catalog_search, record, id_attribute="id", to_document=to_document)
        data = record.get("dynamodb") or {}
        keys = decode_image(data.get("Keys") or {})
        if "id" in keys:
            catalog.invalidate(str(keys["id"]))
        old = decode_image(data["OldImage"]) if "OldImage" in data else None
        new = decode_image(data["NewImage"]) if "NewImage" in data else None
        change = stock_event(old, new)
        if change is not None:
            entries.append({"source": "shop.inventory", "detail_type": change.pop("type"), "detail": change})
    for i in range(0, len(entries), 10):
        bus.put_events(entries[i : i + 10])
