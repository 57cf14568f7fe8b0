"""API Gateway's limits and integration failures: 413, 431, 504, 503."""

from __future__ import annotations

import time
from typing import Any

from stratus import App
from stratus.resources.api import Request


def limits_app() -> App:
    app = App("lim")
    api = app.http_api("public")

    @api.post("/upload")
    def upload(request: Request, context: Any) -> dict[str, int]:
        return {"size": len(request.body)}

    @api.get("/slow", timeout=1)
    def slow(request: Request, context: Any) -> str:
        time.sleep(1.5)
        return "late"

    @api.get("/busy", reserved_concurrency=0)
    def busy(request: Request, context: Any) -> str:
        return "never"

    return app


def test_body_over_10_mb_is_413(serve: Any) -> None:
    with serve(limits_app()) as (_, client):
        assert client.post("/lim/upload", content=b"x" * 1000).json() == {"size": 1000}
        r = client.post("/lim/upload", content=b"x" * (10 * 1024 * 1024 + 1))
        assert r.status_code == 413
        assert r.json() == {"message": "Request Entity Too Large"}


def test_oversized_headers_are_431(serve: Any) -> None:
    with serve(limits_app()) as (_, client):
        r = client.post("/lim/upload", headers={"x-big": "y" * 11000})
        assert r.status_code == 431


def test_integration_timeout_is_504(serve: Any) -> None:
    with serve(limits_app()) as (_, client):
        r = client.get("/lim/slow")
        assert r.status_code == 504
        assert r.json() == {"message": "Service Unavailable"}
        assert "late" not in r.text


def test_function_throttled_is_503(serve: Any) -> None:
    with serve(limits_app()) as (_, client):
        r = client.get("/lim/busy")
        assert r.status_code == 503
        assert r.json() == {"message": "Service Unavailable"}
