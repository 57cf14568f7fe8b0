"""Route matching with HTTP APIs' precedence, path parameters and what is refused."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.resources.api import Request


def routed_app() -> App:
    app = App("shop")
    api = app.http_api("public")

    def answer(tag: str) -> Any:
        def handler(request: Request, context: Any) -> dict[str, Any]:
            return {"route": tag, "params": request.path_params, "key": request.route_key}

        handler.__name__ = tag
        return handler

    api.get("/items/special")(answer("static"))
    api.get("/items/{id}")(answer("param"))
    api.any("/items/{id}")(answer("any_param"))
    api.get("/items/{id}/parts/{part}")(answer("nested"))
    api.get("/files/{path+}")(answer("greedy"))
    api.get("/files/readme")(answer("files_static"))
    api.get("/")(answer("root"))
    api.default()(answer("fallback"))
    return app


def test_static_beats_param_beats_greedy_and_default_is_last(serve: Any) -> None:
    with serve(routed_app()) as (_, client):
        assert client.get("/shop/items/special").json()["route"] == "static"
        assert client.get("/shop/items/7").json() == {
            "route": "param",
            "params": {"id": "7"},
            "key": "GET /items/{id}",
        }
        assert client.get("/shop/items/7/parts/9").json()["params"] == {"id": "7", "part": "9"}
        assert client.get("/shop/files/readme").json()["route"] == "files_static"
        assert client.get("/shop/files/a/b/c.txt").json()["params"] == {"path": "a/b/c.txt"}
        assert client.get("/shop/").json()["route"] == "root"
        assert client.get("/shop/nothing/here").json()["route"] == "fallback"
        assert client.get("/shop/nothing/here").json()["key"] == "$default"


def test_method_route_beats_any(serve: Any) -> None:
    with serve(routed_app()) as (_, client):
        assert client.get("/shop/items/7").json()["route"] == "param"
        assert client.delete("/shop/items/7").json()["route"] == "any_param"
        # a method without a route of its own and no ANY match falls to $default
        assert client.post("/shop/files/x").json()["route"] == "fallback"


def test_path_parameters_are_percent_decoded(serve: Any) -> None:
    with serve(routed_app()) as (_, client):
        assert client.get("/shop/items/caf%C3%A9%20au%20lait").json()["params"] == {"id": "café au lait"}


def test_unknown_route_is_404_and_debug_lists_routes(serve: Any) -> None:
    app = App("tiny")
    api = app.http_api("public")

    @api.get("/ping")
    def ping(request: Request, context: Any) -> str:
        return "pong"

    with serve(app) as (_, client):
        r = client.get("/tiny/pong")
        assert r.status_code == 404
        assert r.json() == {"message": "Not Found"}
        assert client.post("/tiny/ping").status_code == 404
        assert client.get("/elsewhere").status_code == 404
    with serve(app, debug=True) as (_, client):
        assert client.get("/tiny/pong").json() == {"message": "Not Found", "routes": ["GET /ping"]}


def test_traversal_and_bad_encoding_are_400(serve: Any) -> None:
    with serve(routed_app()) as (_, client):
        for path in ("/shop/items/..%2F..%2Fetc", "/shop/items/%2e%2e", "/shop/items/%zz", "/shop/items/%C3%28"):
            r = client.get(path)
            assert r.status_code == 400, path
            assert "message" in r.json()
        assert client.get("/shop/files/a/%2e%2e/b").status_code == 400
        assert client.get("/shop/items/1?q=%FF").status_code == 400


def test_head_request_has_no_body(serve: Any) -> None:
    app = App("heads")
    api = app.http_api("public")

    @api.route("HEAD", "/thing")
    def head_thing(request: Request, context: Any) -> dict[str, str]:
        return {"ok": "yes"}

    with serve(app) as (_, client):
        r = client.head("/heads/thing")
        assert r.status_code == 200
        assert r.content == b""
        assert r.headers["content-length"] == str(len(b'{"ok":"yes"}'))
