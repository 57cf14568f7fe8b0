"""Product search: full text with category, price and stock filters, facets and sorting."""

from __future__ import annotations

from typing import Any

from stratus.errors import ValidationError
from stratus.resources.api import Request, Response
from systems.ecommerce.infra import catalog_search
from systems.ecommerce.models import SearchQuery
from systems.ecommerce.web import field_error, invalid

SORTS = {"relevance": None, "price": ["price", "_id"], "-price": ["-price", "_id"], "newest": ["-created_at", "_id"]}
RESULT_FIELDS = ("id", "name", "category", "price", "currency", "in_stock")


def search_products(request: Request, context: Any) -> Response:
    query: SearchQuery = request.query_model
    filters: dict[str, Any] = {}
    if query.category:
        filters["category"] = query.category
    if query.in_stock is not None:
        filters["in_stock"] = query.in_stock
    ranges = {}
    if query.min_price is not None or query.max_price is not None:
        ranges["price"] = (query.min_price, query.max_price)
    sort = SORTS[query.sort] if query.q or query.sort != "relevance" else ["-created_at", "_id"]
    try:
        result = catalog_search.search(
            query.q,
            filters=filters,
            ranges=ranges,
            facets=["category", "in_stock"],
            sort=sort,
            size=query.size,
            cursor=query.cursor,
        )
    except ValidationError:
        return invalid(field_error(["cursor"], "is not a cursor of this search"))
    facets = {
        name: {str(k).lower() if isinstance(k, bool) else str(k): v for k, v in counts.items()}
        for name, counts in result.facets.items()
    }
    return Response(
        200,
        {
            "total": result.total,
            "items": [
                {k: hit.document.get(k) for k in RESULT_FIELDS} | {"score": round(hit.score, 4)} for hit in result.hits
            ],
            "facets": facets,
            "cursor": result.cursor,
        },
    )
