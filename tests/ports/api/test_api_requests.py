"""The payload 2.0 event a handler receives, and request models (400/415)."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, Field

from stratus import App
from stratus.resources.api import Request


class NewOrder(BaseModel):
    product: str
    quantity: int = Field(gt=0)


class Paging(BaseModel):
    limit: int = 10
    cursor: str | None = None


def echo_app(seen: dict[str, Any]) -> App:
    app = App("echo")
    api = app.http_api("public")

    @api.any("/echo/{thing}")
    def echo(request: Request, context: Any) -> dict[str, Any]:
        seen["request"] = request
        seen["event"] = dict(request)
        return {"ok": True}

    @api.post("/orders", request=NewOrder, status=201)
    def create_order(request: Request, context: Any) -> dict[str, Any]:
        assert isinstance(request.model, NewOrder)
        return {"product": request.model.product, "quantity": request.model.quantity}

    @api.get("/list", query=Paging)
    def listing(request: Request, context: Any) -> dict[str, Any]:
        return request.query_model.model_dump()

    return app


def test_event_has_the_aws_payload_2_0_shape(serve: Any) -> None:
    seen: dict[str, Any] = {}
    with serve(echo_app(seen)) as (env, client):
        r = client.post(
            "/echo/echo/abc?b=2&a=1&a=3&empty=",
            content=b'{"x": 1}',
            headers={
                "Content-Type": "application/json",
                "X-Multi": "one",
                "User-Agent": "tester/1",
                "Cookie": "session=s1",
            },
        )
        assert r.status_code == 200
    event = seen["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{thing}"
    assert event["rawPath"] == "/echo/abc"
    assert event["rawQueryString"] == "b=2&a=1&a=3&empty="
    assert event["queryStringParameters"] == {"b": "2", "a": "1,3", "empty": ""}
    assert event["pathParameters"] == {"thing": "abc"}
    assert event["cookies"] == ["session=s1"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one"
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"]["method"] == "POST"
    assert ctx["http"]["path"] == "/echo/abc"
    assert ctx["http"]["userAgent"] == "tester/1"
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "ANY /echo/{thing}"
    assert ctx["accountId"] == "000000000000"
    assert ctx["timeEpoch"] == int(env.clock.now() * 1000)
    assert len(ctx["requestId"]) == 16 and len(ctx["apiId"]) == 10
    request = seen["request"]
    assert request.method == "POST" and request.path == "/echo/abc"
    assert request.json() == {"x": 1}
    assert request.cookies == {"session": "s1"}
    assert request.query["a"] == "1,3"
    assert request.request_id == ctx["requestId"]
    assert r.headers["apigw-requestid"] == ctx["requestId"]


def test_repeated_headers_are_comma_joined(serve: Any) -> None:
    seen: dict[str, Any] = {}
    with serve(echo_app(seen)) as (_, client):
        client.get("/echo/echo/x", headers=[("x-dup", "a"), ("x-dup", "b")])
    assert seen["request"].headers["x-dup"] == "a,b"


def test_binary_bodies_arrive_base64_encoded(serve: Any) -> None:
    seen: dict[str, Any] = {}
    payload = bytes(range(256))
    with serve(echo_app(seen)) as (_, client):
        client.put("/echo/echo/bin", content=payload, headers={"content-type": "application/octet-stream"})
    event = seen["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert seen["request"].body == payload


def test_no_body_means_no_body_key(serve: Any) -> None:
    seen: dict[str, Any] = {}
    with serve(echo_app(seen)) as (_, client):
        client.get("/echo/echo/x")
    assert "body" not in seen["event"] and "queryStringParameters" not in seen["event"]
    assert seen["request"].body == b"" and seen["request"].json() is None


def test_request_model_is_validated(serve: Any) -> None:
    with serve(echo_app({})) as (_, client):
        ok = client.post("/echo/orders", json={"product": "p1", "quantity": 2})
        assert ok.status_code == 201 and ok.json() == {"product": "p1", "quantity": 2}
        bad = client.post("/echo/orders", json={"product": "p1", "quantity": 0, "secret": "hunter2"})
        assert bad.status_code == 400
        assert bad.json()["message"] == "Invalid request body"
        assert bad.json()["errors"] == [
            {"loc": ["quantity"], "msg": "Input should be greater than 0", "type": "greater_than"}
        ]
        assert "hunter2" not in bad.text
        missing = client.post("/echo/orders", json={})
        assert {e["loc"][0] for e in missing.json()["errors"]} == {"product", "quantity"}


def test_malformed_json_is_400_and_wrong_type_is_415(serve: Any) -> None:
    with serve(echo_app({})) as (_, client):
        r = client.post("/echo/orders", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["message"]
        r = client.post("/echo/orders", content=b"product=p1", headers={"content-type": "text/plain"})
        assert r.status_code == 415
        r = client.post("/echo/orders")
        assert r.status_code == 400


def test_query_model(serve: Any) -> None:
    with serve(echo_app({})) as (_, client):
        assert client.get("/echo/list?limit=5").json() == {"limit": 5, "cursor": None}
        r = client.get("/echo/list?limit=many")
        assert r.status_code == 400
        assert r.json()["message"] == "Invalid query parameters"
        assert r.json()["errors"][0]["loc"] == ["limit"]


def test_request_accessors_without_authorizer(serve: Any) -> None:
    seen: dict[str, Any] = {}
    with serve(echo_app(seen)) as (_, client):
        client.post("/echo/echo/t", content="héllo".encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
    request = seen["request"]
    assert request.text == "héllo"
    assert request.header("Content-Type") == "text/plain; charset=utf-8"
    assert request.header("missing", "dflt") == "dflt"
    assert request.claims == {} and request.scopes == [] and request.authorizer == {}
    assert request.source_ip and request.user_agent
    assert len(request) == len(request.raw_event) and request["routeKey"] == "ANY /echo/{thing}"
