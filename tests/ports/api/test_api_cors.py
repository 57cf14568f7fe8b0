"""CORS as HTTP APIs answer it: the gateway answers preflights and decorates responses."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.resources.api import Cors, Request, Response

ORIGIN = "https://shop.example"


def cors_app() -> App:
    app = App("cors")
    api = app.http_api(
        "public",
        cors=Cors(
            origins=[ORIGIN],
            methods=["GET", "POST"],
            headers=["authorization", "content-type"],
            expose_headers=["x-total"],
            max_age=600,
            credentials=True,
        ),
    )

    @api.get("/items")
    def items(request: Request, context: Any) -> Response:
        return Response(200, [], headers={"access-control-allow-origin": "*"})

    return app


def test_preflight_is_answered_by_the_gateway(serve: Any) -> None:
    with serve(cors_app()) as (env, client):
        r = client.options(
            "/cors/items",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"},
        )
        assert r.status_code == 204
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert r.headers["access-control-allow-methods"] == "GET,POST"
        assert r.headers["access-control-allow-headers"] == "authorization,content-type"
        assert r.headers["access-control-max-age"] == "600"
        assert r.headers["access-control-allow-credentials"] == "true"
        # even for a path without routes
        assert (
            client.options(
                "/cors/nowhere", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
            ).status_code
            == 204
        )
        # no function ran
        assert env.cloud.shared("functions", lambda: None).logs.read("functions") == []


def test_preflight_from_other_origin_or_method_gets_no_cors_headers(serve: Any) -> None:
    with serve(cors_app()) as (_, client):
        for origin, method in (("https://evil.example", "GET"), (ORIGIN, "DELETE")):
            r = client.options("/cors/items", headers={"Origin": origin, "Access-Control-Request-Method": method})
            assert r.status_code == 204
            assert "access-control-allow-origin" not in r.headers


def test_responses_carry_cors_headers_for_allowed_origins_only(serve: Any) -> None:
    with serve(cors_app()) as (_, client):
        r = client.get("/cors/items", headers={"Origin": ORIGIN})
        assert r.headers["access-control-allow-origin"] == ORIGIN  # the gateway's, not the handler's "*"
        assert r.headers["access-control-expose-headers"] == "x-total"
        assert r.headers["access-control-allow-credentials"] == "true"
        r = client.get("/cors/items", headers={"Origin": "https://evil.example"})
        assert r.headers.get("access-control-allow-origin") == "*"  # what the handler set is left alone
        r = client.get("/cors/missing", headers={"Origin": ORIGIN})
        assert r.status_code == 404 and r.headers["access-control-allow-origin"] == ORIGIN
