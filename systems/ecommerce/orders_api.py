"""Placing and reading orders.

``POST /orders`` needs an ``Idempotency-Key`` header. The key (per customer) is recorded
with a hash of the body and the order id before anything else is written: a retry with
the same body returns the same order (200, ``Idempotent-Replayed: true``), the same key
with another body is a 422. Creation is written so that a retry after a crash part-way
finishes it: the OrderCreated event is appended once and the checkout workflow is started
under the order id as its execution name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from typing import Any, cast

from stratus.errors import ConditionalCheckFailed, ValidationError
from stratus.resources.api import Request, Response
from stratus.resources.table import Attr
from stratus.resources.workflow import ExecutionAlreadyExists, Workflow
from systems.ecommerce import carts, catalog, event_store, ledger, projections, shop_time
from systems.ecommerce.domain.cart import CartError, price_lines
from systems.ecommerce.infra import app, idempotency
from systems.ecommerce.models import NewOrder, PageQuery
from systems.ecommerce.web import check_id, customer_id, field_error, invalid, is_admin, not_found, plain

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEY_DAYS = 1


def checkout_workflow() -> Workflow:
    return cast(Workflow, app.resource("workflow", "checkout"))


def _fingerprint(body: NewOrder) -> str:
    text = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _start(order_id: str) -> None:
    with contextlib.suppress(ExecutionAlreadyExists):  # started by an earlier attempt, and finished already
        checkout_workflow().start({"order_id": order_id}, name=order_id)


def _replay(record: dict[str, Any], fingerprint: str, customer: str) -> Response:
    if record["fingerprint"] != fingerprint:
        return Response(
            422, {"message": "this Idempotency-Key was used with a different request body", "order_id": None}
        )
    order_id = str(record["order_id"])
    found = event_store.current(order_id)
    if found is None:
        _create(order_id, customer, record["order"])  # a crash interrupted the first attempt
        found = event_store.current(order_id)
        assert found is not None
    _start(order_id)
    return Response(200, event_store.view(*found), headers={"idempotent-replayed": "true"})


def _create(order_id: str, customer: str, data: dict[str, Any]) -> None:
    event_store.append(order_id, "OrderCreated", {**data, "customer_id": customer})


def place_order(request: Request, context: Any) -> Response:
    body: NewOrder = request.model
    customer = customer_id(request)
    key = request.header("idempotency-key") or ""
    if not KEY_PATTERN.match(key):
        return invalid(field_error(["header", "Idempotency-Key"], "is required: 8-64 letters, digits, '-' or '_'"))
    record_key = f"{customer}#{key}"
    fingerprint = _fingerprint(body)
    existing = idempotency.get({"key": record_key}, consistent=True)
    if existing is not None:
        return _replay(plain(existing), fingerprint, customer)

    cart = None
    if body.lines is None:
        cart = carts.load(customer)
        lines = [{"product_id": line["product_id"], "quantity": line["quantity"]} for line in cart["lines"]]
        if not lines:
            return invalid(field_error(["lines"], "no lines given and the cart is empty"))
        where = "cart"
    else:
        lines = [line.model_dump() for line in body.lines]
        where = "body"
    found = {line["product_id"]: catalog.load(line["product_id"]) for line in lines}
    errors = [
        field_error(
            ["lines", i, "product_id"] if where == "body" else ["cart", "lines", i, "product_id"], "no such product"
        )
        for i, line in enumerate(lines)
        if found[line["product_id"]] is None
    ]
    if ledger.card_of(customer, body.payment_method_id) is None:
        errors.append(field_error(["payment_method_id"], "no such payment method"))
    if errors:
        return invalid(*errors)
    try:
        priced, total, currency = price_lines(lines, found)  # type: ignore[arg-type]
    except CartError as error:
        return invalid(field_error(["lines"], str(error)))
    order_id = uuid.uuid4().hex
    data = {
        "lines": [{k: line[k] for k in ("product_id", "name", "quantity", "unit_price", "amount")} for line in priced],
        "total": total,
        "currency": currency,
        "payment_method_id": body.payment_method_id,
        "shipping_address": body.shipping_address.model_dump(),
    }
    record = {
        "key": record_key,
        "fingerprint": fingerprint,
        "order_id": order_id,
        "order": data,
        "created_at": shop_time.iso(),
        "expires_at": int(shop_time.now()) + KEY_DAYS * 86400,
    }
    try:
        idempotency.put(record, condition=Attr("key").not_exists())
    except ConditionalCheckFailed:  # a concurrent request with this key won
        winner = idempotency.get({"key": record_key}, consistent=True)
        assert winner is not None
        return _replay(plain(winner), fingerprint, customer)
    _create(order_id, customer, data)
    _start(order_id)
    if cart is not None:
        carts.clear(customer, int(cart["version"]))
    found_order = event_store.current(order_id)
    assert found_order is not None
    return Response(202, event_store.view(*found_order), headers={"location": f"/orders/{order_id}"})


def get_order(request: Request, context: Any) -> Response:
    order_id = check_id(request, "id")
    if isinstance(order_id, Response):
        return order_id
    found = event_store.current(order_id)
    if found is None or (found[0].customer_id != customer_id(request) and not is_admin(request)):
        return not_found("order")  # another customer's order does not exist, as far as you know
    return Response(200, event_store.view(*found))


def list_orders(request: Request, context: Any) -> Response:
    query: PageQuery = request.query_model
    try:
        rows, cursor = projections.history_of(customer_id(request), query.limit, query.cursor)
    except ValidationError:
        return invalid(field_error(["cursor"], "is not a cursor this listing returned"))
    return Response(200, {"items": rows, "cursor": cursor})
