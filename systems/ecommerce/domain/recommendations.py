"""Item-to-item recommendations: "customers who bought this also bought", from co-occurrence counts.

Each placed order adds one to the count of every ordered pair of distinct products in it;
the recommendations for a product are the products it co-occurs with most (ties broken by
product id, so results are stable).
"""

from __future__ import annotations

from itertools import permutations

MAX_PRODUCTS_PER_ORDER = 50


def co_occurrences(product_ids: list[str]) -> list[tuple[str, str]]:
    """The (product, other) pairs an order contributes, each once."""
    distinct = sorted(set(product_ids))[:MAX_PRODUCTS_PER_ORDER]
    return list(permutations(distinct, 2))


def top(counts: dict[str, int], limit: int = 5) -> list[str]:
    """The ``limit`` products with the highest counts."""
    return [p for p, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
