"""The OpenAPI 3.1 document and the offline docs page; a schemathesis run finds no 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from stratus import App
from stratus.resources.api import Request, Response, Throttle
from stratus.resources.auth import Authorizer, AuthResult, Unauthorized


class Product(BaseModel):
    id: str
    name: str = Field(min_length=1, max_length=50)
    price: int = Field(ge=0)


class NewProduct(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    price: int = Field(ge=0, le=1_000_000)


class Search(BaseModel):
    q: str = ""
    limit: int = Field(10, ge=1, le=100)


class Always(Authorizer):
    kind = "jwt"
    name = "bearer"

    def authorize(self, event: dict[str, Any], route: Any) -> AuthResult:
        if "authorization" not in (event.get("headers") or {}):
            raise Unauthorized("missing")
        return AuthResult("u", {"sub": "u"}, ["products/write"], {})


def catalog_app() -> App:
    app = App("catalog")
    api = app.http_api("public", description="Products", throttle=Throttle(rate=10_000, burst=10_000))
    products: dict[str, Product] = {"p1": Product(id="p1", name="Lamp", price=30)}

    @api.get("/products", query=Search, response=list[Product], tags=["products"])
    def list_products(request: Request, context: Any) -> list[Product]:
        """List products matching a query."""
        search: Search = request.query_model
        return [p for p in products.values() if search.q.lower() in p.name.lower()][: search.limit]

    @api.get("/products/{id}", response=Product)
    def get_product(request: Request, context: Any) -> Product | Response:
        """Read one product."""
        found = products.get(request.path_params["id"])
        return found if found is not None else Response(404, {"message": "no such product"})

    @api.post(
        "/products", request=NewProduct, response=Product, status=201, authorizer=Always(), scopes=["products/write"]
    )
    def create_product(request: Request, context: Any) -> Product:
        new: NewProduct = request.model
        product = Product(id=f"p{len(products) + 1}", name=new.name, price=new.price)
        products[product.id] = product
        return product

    @api.any("/anything/{proxy+}")
    def anything(request: Request, context: Any) -> dict[str, str]:
        return {"path": request.path_params["proxy"]}

    return app


def test_document_is_openapi_3_1_with_every_route_and_schema(serve: Any) -> None:
    with serve(catalog_app()) as (_, client):
        r = client.get("/catalog/openapi.json")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        doc = r.json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["description"] == "Products"
    paths = doc["paths"]
    assert set(paths) == {"/products", "/products/{id}", "/anything/{proxy+}"}
    listing = paths["/products"]["get"]
    assert listing["summary"] == "List products matching a query."
    assert {p["name"]: p["in"] for p in listing["parameters"]} == {"q": "query", "limit": "query"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Product"
    }
    create = paths["/products"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewProduct"}
    assert set(create["responses"]) >= {"201", "400", "401", "403", "415", "429"}
    assert create["security"] == [{"bearer": ["products/write"]}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert paths["/products/{id}"]["get"]["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert "x-amazon-apigateway-any-method" in paths["/anything/{proxy+}"]
    schemas = doc["components"]["schemas"]
    assert schemas["Product"]["properties"]["price"]["minimum"] == 0
    assert schemas["NewProduct"]["required"] == ["name", "price"]


def test_docs_page_is_served_and_self_contained(serve: Any) -> None:
    with serve(catalog_app()) as (_, client):
        r = client.get("/catalog/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '"/catalog/openapi.json"' in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing fetched from elsewhere
    assert "<script src" not in r.text


def test_a_route_of_the_same_path_wins_over_the_docs(serve: Any) -> None:
    app = App("own")
    api = app.http_api("public")

    @api.get("/docs")
    def own_docs(request: Request, context: Any) -> str:
        return "mine"

    with serve(app) as (_, client):
        assert client.get("/own/docs").text == "mine"
        assert client.get("/own/openapi.json").json()["paths"]["/docs"]


def test_schemathesis_finds_no_server_errors(serve: Any) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    with serve(catalog_app()) as (env, client):
        schema = schemathesis.openapi.from_asgi("/catalog/openapi.json", client.app)
        schema.config.base_url = "http://testserver/catalog"
        failures: list[str] = []

        @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=schema.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url="http://testserver/catalog")
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        check()
        served = env.cloud.shared("functions", lambda: None).logs.read("access")
    assert failures == []
    assert len(served) >= 50 and {r["route"] for r in served} >= {"GET /products", "POST /products"}
