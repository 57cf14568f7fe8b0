"""Inventory: reservations that take stock in one all-or-nothing transaction, and expire.

Reserving puts a HELD reservation and decrements every line's stock in one transaction,
each decrement conditional on enough stock, so either every line is reserved or none is
(and two buyers of the last unit cannot both get it). Confirming moves HELD → CONFIRMED;
releasing (a compensation, or expiry) moves HELD → RELEASED and gives the stock back in
one transaction. A reservation not confirmed within :data:`HOLD_SECONDS` is released by
the sweep, and the checkout that held it then fails rather than sells stock it no longer has.
Cancelling an order (:func:`restore`) gives back what it holds, held or confirmed, and leaves
a RELEASED reservation behind so that a checkout still running cannot reserve afterwards.
"""

from __future__ import annotations

from typing import Any

from stratus.errors import ConditionalCheckFailed
from stratus.resources.table import Attr, Key, TransactionCanceled, transact_write
from systems.ecommerce import shop_time
from systems.ecommerce.infra import products, reservations
from systems.ecommerce.web import plain

HOLD_SECONDS = 15 * 60
HELD, CONFIRMED, RELEASED = "HELD", "CONFIRMED", "RELEASED"


class OutOfStock(Exception):
    """A line asks for more than the stock left."""


class ReservationExpired(Exception):
    """The reservation was released (expired) before the order was confirmed."""


def reserve(order_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Hold stock for every line, or raise OutOfStock; holding again is a no-op."""
    existing = reservations.get({"order_id": order_id}, consistent=True)
    if existing is not None:
        return plain(existing)
    now = shop_time.now()
    held: list[dict[str, Any]] = [
        {"product_id": str(line["product_id"]), "quantity": int(line["quantity"])} for line in lines
    ]
    reservation: dict[str, Any] = {
        "order_id": order_id,
        "status": HELD,
        "lines": held,
        "reserved_at": shop_time.iso(now),
        "expires_at": int(now + HOLD_SECONDS),
    }
    actions = [reservations.tx_put(reservation, condition=Attr("order_id").not_exists())]
    for line in held:
        actions.append(
            products.tx_update(
                {"id": line["product_id"]},
                set={"stock": Attr("stock") - line["quantity"]},
                condition=Attr("id").exists() & Attr("stock").gte(line["quantity"]),
            )
        )
    try:
        transact_write(actions)
    except TransactionCanceled as cancelled:
        if cancelled.reasons[0].code == "ConditionalCheckFailed":
            return plain(reservations.get({"order_id": order_id}, consistent=True) or reservation)
        short = [
            held[i - 1]["product_id"]
            for i, reason in enumerate(cancelled.reasons)
            if i and reason.code == "ConditionalCheckFailed"
        ]
        raise OutOfStock(f"not enough stock for {', '.join(short) or 'a product'}") from None
    return reservation


def confirm(order_id: str) -> None:
    """HELD → CONFIRMED (again: no-op); ReservationExpired if it was released."""
    try:
        reservations.update(
            {"order_id": order_id},
            set={"status": CONFIRMED},
            condition=Attr("status").is_in(HELD, CONFIRMED),
        )
    except ConditionalCheckFailed:
        raise ReservationExpired(f"the stock reservation of order {order_id} expired") from None


def release(order_id: str, *, confirmed_too: bool = False) -> bool:
    """HELD → RELEASED and the stock back, in one transaction; False if there was nothing held.

    With ``confirmed_too`` a CONFIRMED reservation is released as well (its order was cancelled).
    """
    reservation = reservations.get({"order_id": order_id}, consistent=True)
    if reservation is None or reservation["status"] not in ((HELD, CONFIRMED) if confirmed_too else (HELD,)):
        return False
    actions = [
        reservations.tx_update(
            {"order_id": order_id},
            set={"status": RELEASED, "released_at": shop_time.iso()},
            condition=Attr("status").eq(reservation["status"]),
        )
    ]
    for line in reservation["lines"]:
        if products.get({"id": line["product_id"]}, projection="id") is None:
            continue  # deleted since: there is no stock to give back
        actions.append(
            products.tx_update(
                {"id": line["product_id"]},
                set={"stock": Attr("stock") + int(line["quantity"])},
                condition=Attr("id").exists(),
            )
        )
    try:
        transact_write(actions)
    except TransactionCanceled:
        return False  # released (or confirmed) meanwhile, or a product vanished: the sweep retries
    return True


def restore(order_id: str, attempts: int = 5) -> bool:
    """A cancelled order's stock back, held or confirmed; True if this call gave it back.

    With no reservation yet, a RELEASED one is written so that a checkout still running
    cannot reserve any more (:func:`reserve` returns it, and the checkout fails).
    """
    for _ in range(attempts):
        current = reservations.get({"order_id": order_id}, consistent=True)
        if current is None:
            tombstone = {"order_id": order_id, "status": RELEASED, "lines": [], "released_at": shop_time.iso()}
            try:
                reservations.put(tombstone, condition=Attr("order_id").not_exists())
                return False
            except ConditionalCheckFailed:
                continue  # the checkout reserved meanwhile: release that
        if current["status"] == RELEASED:
            return False
        if release(order_id, confirmed_too=True):
            return True
    raise RuntimeError(f"could not give back the stock of order {order_id} (try again)")


def expire_due() -> int:
    """Release every HELD reservation past its expiry; returns how many were released."""
    now = int(shop_time.now())
    due = reservations.query_all(
        Key("status").eq(HELD) & Key("expires_at").lte(now), index="by_status", projection="order_id"
    )
    return sum(1 for item in list(due) if release(str(item["order_id"])))
