"""The Lambda entrypoint: AWS events in, typed events to the handler, AWS-shaped results out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aws_sample
import pytest

from stratus.aws import entrypoint
from stratus.aws.events import detect, forbidden


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:awssample-inbox",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def eventbridge_event(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "OrderPlaced",
        "source": "shop",
        "account": "123456789012",
        "time": "2026-11-22T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


@pytest.fixture
def lambda_env(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("STRATUS_SYSTEM", "awssample")
    monkeypatch.setenv("STRATUS_APP_MODULE", "aws_sample")
    aws_sample.SEEN.clear()
    entrypoint.reset()
    yield monkeypatch
    entrypoint.reset()


def test_detects_sources_by_shape() -> None:
    assert detect(sqs_event("x")) == "sqs"
    assert detect(eventbridge_event({})) == "eventbridge"
    assert detect({"version": "2.0", "routeKey": "GET /", "requestContext": {"http": {"method": "GET"}}}) == "http"
    assert detect({"requestContext": {"connectionId": "c", "routeKey": "$connect"}}) == "websocket"
    assert detect({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}) == "schedule"
    assert detect({"TaskToken": "t", "input": {}}) == "stepfunctions"
    assert detect({"anything": 1}) == "direct"


def test_eventbridge_event_reaches_the_handler_typed(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("STRATUS_FUNCTION", "placed")
    calls = []

    def fake_query(day: str) -> str:
        calls.append(day)
        return f"audit of {day}"

    lambda_env.setattr(aws_sample, "audit_day", fake_query)
    assert entrypoint.handler(eventbridge_event({"day": "2026-11-22"}), None) == "audit of 2026-11-22"
    assert aws_sample.SEEN == [("eventbridge", "OrderPlaced")]
    assert calls == ["2026-11-22"]


def test_cold_start_binds_once_and_rebinds_for_another_function(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("STRATUS_FUNCTION", "placed")
    first = entrypoint.runtime()
    assert entrypoint.runtime() is first
    assert first.function is aws_sample.placed
    assert aws_sample.orders.is_bound
    lambda_env.setenv("STRATUS_FUNCTION", "process")
    assert entrypoint.runtime().function is aws_sample.process


def test_missing_identity_is_a_clear_error(aws_env: None) -> None:
    entrypoint.reset()
    with pytest.raises(Exception, match="STRATUS_SYSTEM"):
        entrypoint.handler({}, None)


def test_route_groups_are_enforced_like_the_local_gateway() -> None:
    from stratus import App
    from stratus.resources.jwt_authorizer import JwtAuthorizer
    from stratus.resources.userpool import AppClient

    app = App("groups")
    pool = app.user_pool("users", clients=[AppClient("web")], groups=["admins"])
    api = app.http_api("api", authorizer=JwtAuthorizer(pool, audience=["web"]))

    @api.get("/admin", groups=["admins"])
    def admin(request: Any, context: Any) -> dict[str, Any]:
        return {"ok": True}

    def event(groups: str | None) -> dict[str, Any]:
        claims = {} if groups is None else {"cognito:groups": groups}
        return {"version": "2.0", "requestContext": {"http": {}, "authorizer": {"jwt": {"claims": claims}}}}

    denied = forbidden(event(None), admin)
    assert denied is not None and denied["statusCode"] == 403
    assert json.loads(denied["body"]) == {"message": "Forbidden"}
    assert forbidden(event("[admins editors]"), admin) is None
    assert forbidden(event("[editors]"), admin) is not None


def http_event(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "GET /awssample/hello/{name}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example"},
        "pathParameters": {"name": path.rsplit("/", 1)[1]},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "t"},
            "requestId": "r-1",
            "routeKey": "GET /awssample/hello/{name}",
            "stage": "$default",
            "timeEpoch": 1700000000000,
        },
        "isBase64Encoded": False,
    }


def test_http_route_gets_a_request_and_returns_a_v2_response(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("STRATUS_FUNCTION", "hello")
    response = entrypoint.handler(http_event("/awssample/hello/ada"), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"hello": "ada", "method": "GET"}


def test_websocket_connect_answers_200(lambda_env: pytest.MonkeyPatch) -> None:
    lambda_env.setenv("STRATUS_FUNCTION", "connect")
    event = {"requestContext": {"connectionId": "c-1", "routeKey": "$connect", "eventType": "CONNECT"}}
    assert entrypoint.handler(event, None) == {"statusCode": 200}
    assert aws_sample.SEEN == [("websocket", "c-1")]


def test_api_key_routes_are_checked_in_the_function_and_synthesized_without_gateway_auth() -> None:
    from stratus import App
    from stratus.aws.events import authorize
    from stratus.aws.synth import template
    from stratus.resources.api_keys import ApiKeyAuthorizer, ApiKeys, UsagePlan
    from stratus.resources.auth import AuthResult, Forbidden

    app = App("keys")
    partners = ApiKeys(app, "partners", plans=[UsagePlan("basic", throttle=(10, 20), quota=(1000, "DAY"))])
    guard = ApiKeyAuthorizer(partners)
    api = app.http_api("api")

    @api.get("/feed", authorizer=guard)
    def feed(request: Any, context: Any) -> dict[str, Any]:
        return {"caller": request.authorizer}

    resources = template(app)["Resources"]
    (route,) = resources["FunctionFeed"]["Properties"]["Events"].values()
    assert "Auth" not in route["Properties"]
    assert "Auth" not in resources["HttpApiApi"]["Properties"]
    assert resources["FunctionFeed"]["Properties"]["Environment"]["Variables"]["STRATUS_API_KEYS_PARTNERS"] == (
        "keys-partners"
    )
    assert resources["ApiKeysPartners"]["Type"] == "AWS::DynamoDB::Table"

    def refuse(event: Any, route: Any) -> AuthResult:
        raise Forbidden("Forbidden")

    def admit(event: Any, route: Any) -> AuthResult:
        return AuthResult(principal_id="k-1", context={"apiKeyId": "k-1"})

    event: dict[str, Any] = {"version": "2.0", "headers": {"x-api-key": "v"}, "requestContext": {"http": {}}}
    guard.authorize = refuse  # type: ignore[method-assign]
    refused = authorize(event, feed)
    assert refused is not None and refused["statusCode"] == 403
    guard.authorize = admit  # type: ignore[method-assign]
    assert authorize(event, feed) is None
    assert event["requestContext"]["authorizer"] == {"lambda": {"apiKeyId": "k-1"}}
