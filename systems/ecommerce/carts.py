"""Carts: one per customer, versioned; a write names the version it read (optimistic concurrency).

A write with a stale version is a 409 carrying the current cart, so a client on two
devices never silently overwrites what the other added.
"""

from __future__ import annotations

import contextlib
from typing import Any

from stratus.errors import ConditionalCheckFailed
from stratus.resources.api import Request, Response
from stratus.resources.table import Attr
from systems.ecommerce import catalog, shop_time
from systems.ecommerce.domain.cart import CartError, price_lines
from systems.ecommerce.infra import carts
from systems.ecommerce.models import CartUpdate
from systems.ecommerce.web import conflict, customer_id, field_error, invalid, plain


def load(customer: str) -> dict[str, Any]:
    item = carts.get({"customer_id": customer}, consistent=True)
    return plain(item) if item is not None else {"customer_id": customer, "lines": [], "version": 0}


def view(cart: dict[str, Any]) -> dict[str, Any]:
    """The cart with current prices (products no longer sold are flagged, not dropped)."""
    products = {}
    for line in cart["lines"]:
        product = catalog.load(line["product_id"])
        if product is not None:
            products[line["product_id"]] = product
    available = [line for line in cart["lines"] if line["product_id"] in products]
    total, currency, priced = 0, None, []  # type: tuple[int, str | None, list[dict[str, Any]]]
    if available:
        try:
            priced, total, currency = price_lines(available, products)
        except CartError:
            priced = available
    unavailable = [line["product_id"] for line in cart["lines"] if line["product_id"] not in products]
    return {
        "lines": priced,
        "unavailable": unavailable,
        "total": total,
        "currency": currency,
        "version": cart["version"],
        "updated_at": cart.get("updated_at"),
    }


def get_cart(request: Request, context: Any) -> Response:
    return Response(200, view(load(customer_id(request))))


def put_cart(request: Request, context: Any) -> Response:
    body: CartUpdate = request.model
    customer = customer_id(request)
    lines = [line.model_dump() for line in body.lines]
    errors = [
        field_error(["lines", i, "product_id"], "no such product")
        for i, line in enumerate(lines)
        if catalog.load(line["product_id"]) is None
    ]
    if errors:
        return invalid(*errors)
    products = {line["product_id"]: catalog.load(line["product_id"]) for line in lines}
    if lines:
        try:
            price_lines(lines, products)  # type: ignore[arg-type]
        except CartError as error:
            return invalid(field_error(["lines"], str(error)))
    item = {
        "customer_id": customer,
        "lines": sorted(lines, key=lambda line: line["product_id"]),
        "version": body.version + 1,
        "updated_at": shop_time.iso(),
    }
    condition = Attr("customer_id").not_exists() if body.version == 0 else Attr("version").eq(body.version)
    try:
        carts.put(item, condition=condition)
    except ConditionalCheckFailed:
        return conflict("the cart changed since you read it", cart=view(load(customer)))
    return Response(200, view(item))


def clear(customer: str, version: int) -> None:
    """Empty the cart after an order, unless it changed since the order read it."""
    with contextlib.suppress(ConditionalCheckFailed):
        carts.put(
            {"customer_id": customer, "lines": [], "version": version + 1, "updated_at": shop_time.iso()},
            condition=Attr("version").eq(version),
        )
