"""Access log lines and request listeners; the health endpoint; APIs of several apps."""

from __future__ import annotations

import warnings
from typing import Any

from stratus import App
from stratus.local.gateway import build_gateway, on_request
from stratus.resources.api import Request
from stratus.testing import local

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def two_apps() -> tuple[App, App]:
    shop, blog = App("shop"), App("blog")
    shop_api = shop.http_api("public")
    blog_api = blog.http_api("public")

    @shop_api.post("/orders")
    def order(request: Request, context: Any) -> str:
        return "shop"

    @blog_api.get("/posts")
    def posts(request: Request, context: Any) -> str:
        return "blog"

    return shop, blog


def test_access_log_and_listeners_never_see_secrets() -> None:
    records: list[dict[str, Any]] = []
    with local(*two_apps()) as env:
        on_request(env.cloud, records.append)

        def broken(record: dict[str, Any]) -> None:
            raise RuntimeError("listener bug")

        on_request(env.cloud, broken)  # a failing listener does not break serving
        client = TestClient(build_gateway(env.cloud))
        r = client.post(
            "/shop/orders?token=x", content=b"card=4111111111111111", headers={"Authorization": "Bearer s3cr3t"}
        )
        assert r.text == "shop"
        assert client.get("/blog/posts").text == "blog"
        logged = env.cloud.shared("functions", lambda: None).logs.read("access")  # type: ignore[attr-defined]
    assert [r["route"] for r in records] == ["POST /orders", "GET /posts"]
    first = records[0]
    assert {k: first[k] for k in ("api", "method", "path", "status")} == {
        "api": "shop-public",
        "method": "POST",
        "path": "/orders",
        "status": 200,
    }
    assert first["duration_ms"] >= 0 and first["request_id"] and first["source_ip"]
    assert logged == records
    text = str(logged)
    assert "s3cr3t" not in text and "4111" not in text


def test_health_and_unknown_paths() -> None:
    with local(*two_apps()) as env:
        client = TestClient(build_gateway(env.cloud))
        health = client.get("/_health").json()
        assert health["status"] == "ok" and health["http_apis"] == ["/blog", "/shop"]
        r = client.get("/nowhere")
        assert r.status_code == 404 and r.json() == {"message": "Not Found"}
        # the presigned-URL server is mounted: an unknown bucket is S3's NoSuchBucket
        assert b"NoSuchBucket" in client.get("/_s3/none/key?X-Amz-Signature=x").content


def test_url_and_restart() -> None:
    shop, blog = two_apps()
    with local(shop, blog) as env:
        api = next(iter(shop.resources_of("http_api")))
        assert api.url == "http://127.0.0.1:8000/shop"  # type: ignore[attr-defined]
        env.restart()
        client = TestClient(build_gateway(env.cloud))
        assert client.post("/shop/orders").text == "shop"


def test_an_api_at_the_root_leaves_the_gateway_paths_alone() -> None:
    app = App("rooted")
    api = app.http_api("public", prefix="")

    @api.default()
    def everything(request: Request, context: Any) -> dict[str, str]:
        return {"path": request.path}

    with local(app) as env:
        client = TestClient(build_gateway(env.cloud))
        assert client.get("/anything/at/all").json() == {"path": "/anything/at/all"}
        assert client.get("/_health").json()["http_apis"] == [""]
