"""Carts: lines of product and quantity, with limits a real shop enforces."""

from __future__ import annotations

from typing import Any

MAX_LINES = 50
MAX_QUANTITY = 99


class CartError(ValueError):
    """A cart change that cannot be made (bad quantity, too many lines)."""


def set_quantity(lines: list[dict[str, Any]], product_id: str, quantity: int) -> list[dict[str, Any]]:
    """The cart's lines with ``product_id`` at ``quantity`` (0 removes it); the input is not changed."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise CartError(f"quantity must be a whole number from 0 to {MAX_QUANTITY}")
    out = [dict(line) for line in lines if line["product_id"] != product_id]
    if quantity:
        out.append({"product_id": product_id, "quantity": quantity})
    if len(out) > MAX_LINES:
        raise CartError(f"a cart holds at most {MAX_LINES} different products")
    return sorted(out, key=lambda line: line["product_id"])


def price_lines(
    lines: list[dict[str, Any]], products: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], int, str]:
    """Priced lines, the total in minor units and the currency; every product must exist and share a currency."""
    priced = []
    total = 0
    currency = ""
    for line in lines:
        product = products.get(line["product_id"])
        if product is None:
            raise CartError(f"product {line['product_id']} does not exist")
        if currency and product["currency"] != currency:
            raise CartError("all products in one order must share a currency")
        currency = product["currency"]
        amount = int(product["price"]) * int(line["quantity"])
        total += amount
        priced.append({**line, "unit_price": int(product["price"]), "amount": amount, "name": product["name"]})
    if not priced:
        raise CartError("the cart is empty")
    return priced, total, currency
