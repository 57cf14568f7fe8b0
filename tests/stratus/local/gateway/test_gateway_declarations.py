"""Declaring HTTP and WebSocket APIs: bad declarations fail at once, naming what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from stratus import App, ValidationError
from stratus.resources.api import Cors, HttpApi, Request, RouteCache, Throttle
from stratus.resources.auth import FunctionAuthorizer


def handler(request: Request, context: Any) -> None:
    return None


def api() -> HttpApi:
    return App("decl").http_api("public")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("products", "must start with '/'"),
        ("/a//b", "empty segment"),
        ("/a/", "empty segment"),
        ("/a/{id", "whole {param}"),
        ("/a/x{id}", "whole {param}"),
        ("/{proxy+}/more", "must be the last segment"),
        ("/{id}/{id}", "appears twice"),
        ("/a/..", "not allowed"),
        ("/a b", "not allowed"),
    ],
)
def test_bad_templates_name_the_route(path: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match="route") as info:
        api().get(path)(handler)
    assert fragment in str(info.value)


def test_duplicate_and_equivalent_routes_are_refused() -> None:
    a = api()
    a.get("/items/{id}")(handler)
    with pytest.raises(ValidationError, match=r"'GET /items/\{id\}'"):
        a.get("/items/{id}", name="again")(handler)
    with pytest.raises(ValidationError, match="conflicts"):
        a.get("/items/{other}", name="other")(handler)
    a.post("/items/{id}", name="post_item")(handler)  # another method is fine
    a.default(name="fallback")(handler)
    with pytest.raises(ValidationError, match="conflicts"):
        a.default(name="fallback2")(handler)


def test_route_settings_are_validated() -> None:
    class Model(BaseModel):
        x: int

    a = api()
    with pytest.raises(ValidationError, match="method"):
        a.route("FETCH", "/x")(handler)
    with pytest.raises(ValidationError, match="timeout"):
        a.get("/x", timeout=31)(handler)
    with pytest.raises(ValidationError, match="only GET and HEAD"):
        a.post("/x", cache=RouteCache(ttl=5))(handler)
    with pytest.raises(ValidationError, match="names no path parameter"):
        a.get("/x", cache=RouteCache(ttl=5, key=["path.id"]))(handler)
    with pytest.raises(ValidationError, match="need an authorizer"):
        a.get("/x", scopes=["a"])(handler)
    with pytest.raises(ValidationError, match="pydantic model"):
        a.post("/x", request=dict)(handler)
    with pytest.raises(ValidationError, match="plain handler"):
        a.get("/y")(a.get("/x", request=Model)(handler))


def test_route_declares_a_function_with_its_settings_and_trigger() -> None:
    a = api()
    fn = a.post("/orders", timeout=10, memory=512, status=201)(handler)
    assert fn.name == "handler" and fn.timeout == 10 and fn.memory == 512
    assert fn.event_class is Request
    [trigger] = fn.triggers
    assert trigger.kind == "http" and trigger.source is a and trigger.options["route"].key == "POST /orders"
    assert a.settings()["routes"][0]["status"] == 201


def test_settings_values_are_checked() -> None:
    with pytest.raises(ValidationError, match="credentials"):
        Cors(origins=["*"], credentials=True)
    with pytest.raises(ValidationError, match="origin"):
        Cors(origins=["shop.example"])
    with pytest.raises(ValidationError, match="max_age"):
        Cors(max_age=100000)
    with pytest.raises(ValidationError, match="rate"):
        Throttle(rate=0, burst=1)
    with pytest.raises(ValidationError, match="go together"):
        Throttle(rate=1, burst=1, client_rate=1)
    with pytest.raises(ValidationError, match="ttl"):
        RouteCache(ttl=4000)
    with pytest.raises(ValidationError, match="key"):
        RouteCache(key=["cookie.x"])


def test_prefixes_default_to_the_app_and_must_be_unique() -> None:
    app = App("shop")
    assert app.http_api("public").prefix == "/shop"
    with pytest.raises(ValidationError, match="already used"):
        app.http_api("admin")
    assert app.http_api("admin", prefix="/shop-admin").prefix == "/shop-admin"
    with pytest.raises(ValidationError, match="reserved"):
        app.http_api("s3", prefix="/_s3")
    assert app.websocket_api("live").prefix == "/shop/live"
    with pytest.raises(ValidationError, match="route_selection"):
        app.websocket_api("other", route_selection="$request.header.x")


def test_function_authorizer_settings() -> None:
    app = App("authz")

    @app.function
    def check(event: Any, context: Any) -> dict[str, bool]:
        return {"isAuthorized": True}

    with pytest.raises(ValidationError, match="identity source"):
        FunctionAuthorizer(check, identity_sources=["header.x"])
    with pytest.raises(ValidationError, match="cache_ttl"):
        FunctionAuthorizer(check, cache_ttl=7200)
    with pytest.raises(ValidationError, match="declared function"):
        FunctionAuthorizer(handler)  # type: ignore[arg-type]
    assert FunctionAuthorizer(check).settings()["function"] == "check"
