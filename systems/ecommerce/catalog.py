"""The product catalog: admin writes, public reads through a read-through cache, categories.

Product reads go through the ``product-cache`` (ElastiCache's role): a miss loads the item
from the table and keeps it for a few minutes; every write drops the cached copy, and so
does the change-stream handler (:mod:`systems.ecommerce.product_feed`) for writes made by
anything else (reservations changing stock). The product page is also cached by the gateway
for :data:`PAGE_TTL` seconds and dropped on the same occasions; its "also bought" list may
lag that long behind new orders.
"""

from __future__ import annotations

import uuid
from typing import Any

from stratus.errors import ConditionalCheckFailed, ValidationError
from stratus.resources.api import Request, Response
from stratus.resources.table import Attr, Key
from systems.ecommerce import shop_time
from systems.ecommerce.domain import recommendations
from systems.ecommerce.infra import also_bought, api, catalog_search, product_cache, products
from systems.ecommerce.models import ListQuery, NewProduct, ProductChange, StockChange
from systems.ecommerce.web import check_id, field_error, invalid, not_found, plain

CACHE_TTL = 300
PAGE_TTL = 30
PUBLIC_FIELDS = (
    "id",
    "name",
    "description",
    "category",
    "attributes",
    "price",
    "currency",
    "stock",
    "images",
    "created_at",
    "updated_at",
)


def cache_key(product_id: str) -> str:
    return f"product:{product_id}"


def public(item: dict[str, Any]) -> dict[str, Any]:
    product = {k: plain(item[k]) for k in PUBLIC_FIELDS if k in item}
    product["in_stock"] = int(product.get("stock", 0)) > 0
    product["images"] = [
        {"id": image_id, "variants": image.get("variants", {})}
        for image_id, image in sorted((product.get("images") or {}).items(), key=lambda kv: kv[1].get("at", ""))
    ]
    return product


def load(product_id: str) -> dict[str, Any] | None:
    """A product through the read-through cache (None: no such product; misses are not cached)."""

    def from_table() -> dict[str, Any] | None:
        item = products.get({"id": product_id})
        return public(item) if item is not None else None

    cached = product_cache.get(cache_key(product_id))
    if cached is not None:
        return dict(cached)
    product = from_table()
    if product is not None:
        product_cache.set(cache_key(product_id), product, ttl=CACHE_TTL)
    return product


def invalidate(product_id: str) -> None:
    """Drop every cached copy of the product: the read-through cache's and the gateway's page."""
    product_cache.delete(cache_key(product_id))
    api.invalidate(f"/products/{product_id}")


# -- routes --------------------------------------------------------------------------------------


def list_products(request: Request, context: Any) -> Response:
    query: ListQuery = request.query_model
    try:
        if query.category:
            page = products.query(
                Key("category").eq(query.category), index="by_category", limit=query.limit, cursor=query.cursor
            )
        else:
            page = products.scan(limit=query.limit, cursor=query.cursor)
    except ValidationError:
        return invalid(field_error(["cursor"], "is not a cursor this listing returned"))
    return Response(200, {"items": [public(i) for i in page.items], "cursor": page.cursor})


def get_product(request: Request, context: Any) -> Response:
    product_id = check_id(request, "id")
    if isinstance(product_id, Response):
        return product_id
    product = load(product_id)
    if product is None:
        return not_found("product")
    product["also_bought"] = also_bought_for(product_id)
    return Response(200, product)


def also_bought_for(product_id: str, limit: int = 5) -> list[dict[str, Any]]:
    counts = {str(i["other_id"]): int(i["count"]) for i in also_bought.query_all(Key("product_id").eq(product_id))}
    out = []
    for other in recommendations.top(counts, limit):
        product = load(other)
        if product is not None:
            out.append({k: product[k] for k in ("id", "name", "price", "currency", "in_stock")})
    return out


def create_product(request: Request, context: Any) -> Response:
    body: NewProduct = request.model
    now = shop_time.iso()
    item = {
        "id": uuid.uuid4().hex,
        **body.model_dump(),
        "images": {},
        "created_at": now,
        "updated_at": now,
    }
    products.put(item, condition=Attr("id").not_exists())
    return Response(201, public(item), headers={"location": f"/products/{item['id']}"})


def update_product(request: Request, context: Any) -> Response:
    product_id = check_id(request, "id")
    if isinstance(product_id, Response):
        return product_id
    body: ProductChange = request.model
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    changes["updated_at"] = shop_time.iso()
    try:
        item = products.update({"id": product_id}, set=changes, condition=Attr("id").exists(), returns="ALL_NEW")
    except ConditionalCheckFailed:
        return not_found("product")
    invalidate(product_id)
    assert item is not None
    return Response(200, public(item))


def set_stock(request: Request, context: Any) -> Response:
    product_id = check_id(request, "id")
    if isinstance(product_id, Response):
        return product_id
    body: StockChange = request.model
    now = shop_time.iso()
    try:
        if body.stock is not None:
            item = products.update(
                {"id": product_id},
                set={"stock": body.stock, "updated_at": now},
                condition=Attr("id").exists(),
                returns="ALL_NEW",
            )
        else:
            adjust = int(body.adjust or 0)
            item = products.update(
                {"id": product_id},
                set={"stock": Attr("stock") + adjust, "updated_at": now},
                condition=Attr("id").exists() & Attr("stock").gte(-adjust if adjust < 0 else 0),
                returns="ALL_NEW",
            )
    except ConditionalCheckFailed:
        if products.get({"id": product_id}, projection="id") is None:
            return not_found("product")
        return invalid(field_error(["adjust"], "would make the stock negative"))
    invalidate(product_id)
    assert item is not None
    return Response(200, public(item))


def delete_product(request: Request, context: Any) -> Response:
    product_id = check_id(request, "id")
    if isinstance(product_id, Response):
        return product_id
    old = products.delete({"id": product_id}, return_old=True)
    if old is None:
        return not_found("product")
    invalidate(product_id)
    return Response(204)


def list_categories(request: Request, context: Any) -> Response:
    """Categories with how many products each has (the search index's facet counts)."""
    result = catalog_search.search("", facets=["category"], size=0)
    counts = result.facets.get("category", {})
    return Response(200, {"items": [{"category": c, "products": n} for c, n in sorted(counts.items())]})
