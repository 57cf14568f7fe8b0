"""Handler results converted to HTTP API responses, and failures that must not leak."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from stratus import App
from stratus.resources.api import Request, Response


class Product(BaseModel):
    id: str
    price: int


def responses_app() -> App:
    app = App("resp")
    api = app.http_api("public")

    @api.get("/dict")
    def as_dict(request: Request, context: Any) -> dict[str, Any]:
        return {"a": 1}

    @api.get("/list")
    def as_list(request: Request, context: Any) -> list[int]:
        return [1, 2]

    @api.get("/none")
    def as_none(request: Request, context: Any) -> None:
        return None

    @api.get("/text")
    def as_text(request: Request, context: Any) -> str:
        return "héllo"

    @api.get("/model")
    def as_model(request: Request, context: Any) -> Product:
        return Product(id="p", price=3)

    @api.get("/bytes")
    def as_bytes(request: Request, context: Any) -> Response:
        return Response(200, b"\x00\xffPNG", headers={"Content-Type": "image/png"})

    @api.post("/created", status=201)
    def created(request: Request, context: Any) -> dict[str, str]:
        return {"id": "new"}

    @api.get("/full")
    def full(request: Request, context: Any) -> Response:
        return Response(202, {"queued": True}, headers={"X-Thing": "1"}, cookies=["a=1; Path=/", "b=2; HttpOnly"])

    @api.get("/raw")
    def raw(request: Request, context: Any) -> dict[str, Any]:
        return {"statusCode": 418, "headers": {"content-type": "text/plain"}, "body": "teapot"}

    @api.get("/typed", response=Product)
    def typed(request: Request, context: Any) -> dict[str, Any]:
        return {"id": "p", "price": "7", "internal": "dropped"}

    @api.get("/invalid", response=Product)
    def invalid(request: Request, context: Any) -> dict[str, Any]:
        return {"id": "p"}

    @api.get("/boom")
    def boom(request: Request, context: Any) -> None:
        raise RuntimeError("database password is hunter2")

    @api.get("/malformed")
    def malformed(request: Request, context: Any) -> dict[str, Any]:
        return {"statusCode": "teapot"}

    return app


def test_plain_values_become_json_text_or_no_content(serve: Any) -> None:
    with serve(responses_app()) as (_, client):
        r = client.get("/resp/dict")
        assert (r.status_code, r.headers["content-type"], r.json()) == (200, "application/json", {"a": 1})
        assert client.get("/resp/list").json() == [1, 2]
        r = client.get("/resp/none")
        assert r.status_code == 204 and r.content == b""
        r = client.get("/resp/text")
        assert r.text == "héllo" and r.headers["content-type"].startswith("text/plain")
        assert client.get("/resp/model").json() == {"id": "p", "price": 3}
        assert client.post("/resp/created").status_code == 201


def test_binary_headers_cookies_and_raw_lambda_responses(serve: Any) -> None:
    with serve(responses_app()) as (_, client):
        r = client.get("/resp/bytes")
        assert r.content == b"\x00\xffPNG" and r.headers["content-type"] == "image/png"
        r = client.get("/resp/full")
        assert r.status_code == 202 and r.json() == {"queued": True}
        assert r.headers["x-thing"] == "1"
        assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
        r = client.get("/resp/raw")
        assert (r.status_code, r.text) == (418, "teapot")


def test_response_model_shapes_output(serve: Any) -> None:
    with serve(responses_app()) as (_, client):
        assert client.get("/resp/typed").json() == {"id": "p", "price": 7}


def test_failures_are_500_with_only_a_request_id(serve: Any) -> None:
    with serve(responses_app()) as (_, client):
        for path in ("/resp/invalid", "/resp/boom", "/resp/malformed"):
            r = client.get(path)
            assert r.status_code == 500, path
            assert r.json() == {"message": "Internal Server Error"}
            assert r.headers["apigw-requestid"]
            assert "hunter2" not in r.text and "Traceback" not in r.text


def test_direct_call_returns_the_lambda_response(serve: Any) -> None:
    app = responses_app()
    function = next(f for f in app.functions() if f.name == "as_dict")
    event = {"version": "2.0", "rawPath": "/dict", "requestContext": {"http": {"method": "GET"}}}
    assert function(event) == {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": '{"a":1}',
        "isBase64Encoded": False,
    }
