"""The search port's fixture: a bound products index per adapter, with a small catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.search import SearchIndex
from stratus.testing import LocalEnv

#: Adapters under test; an ``aws`` one (on moto) joins later and must implement the same env methods.
ADAPTERS = ["local"]

FIELDS: dict[str, Any] = {
    "name": "text",
    "description": "text",
    "category": "keyword",
    "price": "number",
    "in_stock": "boolean",
    "created": "date",
}

CATALOGUE: dict[str, dict[str, Any]] = {
    "p01": {
        "name": "Gaming Laptop",
        "description": "A fast laptop for gaming; the laptop of champions.",
        "category": "computers",
        "price": 1500,
        "in_stock": True,
        "created": "2024-01-10",
    },
    "p02": {
        "name": "Laptop Sleeve",
        "description": "Protective sleeve.",
        "category": "accessories",
        "price": 25,
        "in_stock": True,
        "created": "2024-02-01",
    },
    "p03": {
        "name": "Office Chair",
        "description": "Ergonomic chair, fits under a desk with your laptop.",
        "category": "furniture",
        "price": 300,
        "in_stock": False,
        "created": "2023-11-20",
    },
    "p04": {
        "name": "Café Mug",
        "description": "Ceramic mug for coffee.",
        "category": "kitchen",
        "price": 12.5,
        "in_stock": True,
        "created": "2024-03-05T10:00:00Z",
    },
    "p05": {
        "name": "Standing Desk",
        "description": "Adjustable desk.",
        "category": "furniture",
        "price": 650,
        "in_stock": True,
        "created": "2024-01-15",
    },
    "p06": {
        "name": "USB-C Cable",
        "description": "Charges phones and computers.",
        "category": "accessories",
        "price": 9.99,
        "in_stock": False,
        "created": "2024-04-01",
    },
    "p07": {
        "name": "Monitor",
        "description": "27 inch display for gaming and office work.",
        "category": "computers",
        "price": 320,
        "in_stock": True,
        "created": "2023-12-01",
    },
    "p08": {
        "name": "Keyboard",
        "description": "Mechanical keyboard with backlight.",
        "category": "computers",
        "price": 89,
        "in_stock": True,
        "created": "2024-02-20",
    },
    "p09": {
        "name": "Desk Lamp",
        "description": "LED lamp for a desk.",
        "category": "furniture",
        "price": 45,
        "in_stock": False,
        "created": "2024-05-02",
    },
    "p10": {
        "name": "Espresso Machine",
        "description": "Makes espresso and café crème.",
        "category": "kitchen",
        "price": 420,
        "in_stock": True,
        "created": "2023-10-10",
    },
    "p11": {
        "name": "Backpack",
        "description": "Carries a laptop and books.",
        "category": "accessories",
        "price": 70,
        "in_stock": True,
        "created": "2024-06-06",
    },
    "p12": {
        "name": "Headphones",
        "description": "Noise cancelling.",
        "category": "audio",
        "price": 199,
        "in_stock": True,
    },
}


@dataclass
class SearchEnv:
    app: App
    products: SearchIndex
    local: LocalEnv

    def restart(self) -> None:
        self.local.restart()


@pytest.fixture(params=ADAPTERS)
def search_env(request: pytest.FixtureRequest) -> Iterator[SearchEnv]:
    app = App("shop")
    products = app.search_index("products", fields=FIELDS)
    with stratus.testing.local(app) as env:
        products.index_many(CATALOGUE)
        yield SearchEnv(app, products, env)


@pytest.fixture
def products(search_env: SearchEnv) -> SearchIndex:
    return search_env.products


@pytest.fixture
def products_catalogue() -> dict[str, dict[str, Any]]:
    return CATALOGUE
