"""Response caching: hits, key parameters, bypass, TTL on the clock, invalidation from code."""

from __future__ import annotations

import itertools
from typing import Any

from stratus import App
from stratus.resources.api import HttpApi, Request, Response, RouteCache


def cached_app() -> tuple[App, HttpApi]:
    app = App("cch")
    api = app.http_api("public")
    counter = itertools.count(1)

    @api.get("/products/{id}", cache=RouteCache(ttl=60, key=["path.id", "query.lang"]))
    def product(request: Request, context: Any) -> dict[str, Any]:
        return {"id": request.path_params["id"], "n": next(counter), "lang": request.query.get("lang")}

    @api.get("/flaky/{id}", cache=RouteCache(ttl=60, key=["path.id"]))
    def flaky(request: Request, context: Any) -> Response:
        return Response(500 if request.query.get("fail") else 200, {"n": next(counter)})

    @api.get("/shared/{id}", cache=RouteCache(ttl=60))
    def shared(request: Request, context: Any) -> dict[str, Any]:
        return {"id": request.path_params["id"], "n": next(counter)}

    return app, api


def test_hit_and_key_parameters(serve: Any) -> None:
    app, _ = cached_app()
    with serve(app) as (env, client):
        first = client.get("/cch/products/1").json()
        assert client.get("/cch/products/1").json() == first
        assert client.get("/cch/products/2").json()["n"] != first["n"]
        assert client.get("/cch/products/1?lang=fr").json()["n"] != first["n"]
        assert client.get("/cch/products/1?other=x").json() == first  # not part of the key
        # the key names no parameter here: every id shares one entry, as API Gateway would
        a = client.get("/cch/shared/a").json()
        assert client.get("/cch/shared/b").json() == a
        records = [r["cache"] for r in env.cloud.shared("functions", lambda: None).logs.read("access")]
        assert records[:2] == ["miss", "hit"]


def test_client_max_age_0_bypasses_and_refreshes(serve: Any) -> None:
    app, _ = cached_app()
    with serve(app) as (_, client):
        first = client.get("/cch/products/1").json()
        fresh = client.get("/cch/products/1", headers={"Cache-Control": "max-age=0"}).json()
        assert fresh["n"] != first["n"]
        assert client.get("/cch/products/1").json() == fresh


def test_ttl_expires_on_the_clock(serve: Any) -> None:
    app, _ = cached_app()
    with serve(app) as (env, client):
        first = client.get("/cch/products/1").json()
        env.clock.advance(59)
        assert client.get("/cch/products/1").json() == first
        env.clock.advance(1)
        assert client.get("/cch/products/1").json() != first


def test_only_200s_are_cached(serve: Any) -> None:
    app, _ = cached_app()
    with serve(app) as (_, client):
        failed = client.get("/cch/flaky/1?fail=1")
        assert failed.status_code == 500
        ok = client.get("/cch/flaky/1")
        assert ok.status_code == 200


def test_invalidate_from_code(serve: Any) -> None:
    app, api = cached_app()
    with serve(app) as (_, client):
        one = client.get("/cch/products/1").json()
        two = client.get("/cch/products/2").json()
        assert api.invalidate("/products/1") == 1
        assert client.get("/cch/products/1").json() != one
        assert client.get("/cch/products/2").json() == two
        assert api.invalidate() == 2
        assert client.get("/cch/products/2").json() != two
