"""Throttling: token buckets per route and per client, refilled on the cloud's clock."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.resources.api import Request, Throttle


def throttled_app() -> App:
    app = App("thr")
    api = app.http_api("public", throttle=Throttle(rate=1, burst=3))

    @api.get("/default")
    def default_limits(request: Request, context: Any) -> str:
        return "ok"

    @api.get("/other")
    def other(request: Request, context: Any) -> str:
        return "ok"

    @api.get("/tight", throttle=Throttle(rate=0.5, burst=1))
    def tight(request: Request, context: Any) -> str:
        return "ok"

    @api.get("/per-client", throttle=Throttle(rate=100, burst=100, client_rate=1, client_burst=2))
    def per_client(request: Request, context: Any) -> str:
        return "ok"

    return app


def test_burst_then_429_with_retry_after_then_refill(serve: Any) -> None:
    with serve(throttled_app()) as (env, client):
        assert [client.get("/thr/default").status_code for _ in range(3)] == [200, 200, 200]
        r = client.get("/thr/default")
        assert r.status_code == 429
        assert r.json() == {"message": "Too Many Requests"}
        assert r.headers["retry-after"] == "1"
        # each route has its own bucket
        assert client.get("/thr/other").status_code == 200
        env.clock.advance(1)
        assert client.get("/thr/default").status_code == 200
        assert client.get("/thr/default").status_code == 429
        env.clock.advance(10)  # refills up to the burst only
        assert [client.get("/thr/default").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_route_throttle_overrides_the_api_default(serve: Any) -> None:
    with serve(throttled_app()) as (env, client):
        assert client.get("/thr/tight").status_code == 200
        r = client.get("/thr/tight")
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        env.clock.advance(2)
        assert client.get("/thr/tight").status_code == 200


def test_per_client_buckets_use_api_key_or_source_ip(serve: Any) -> None:
    with serve(throttled_app()) as (env, client):
        codes = [client.get("/thr/per-client", headers={"x-api-key": "k1"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.get("/thr/per-client", headers={"x-api-key": "k2"}).status_code == 200
        assert client.get("/thr/per-client").status_code == 200  # by source IP
        env.clock.advance(1)
        assert client.get("/thr/per-client", headers={"x-api-key": "k1"}).status_code == 200
