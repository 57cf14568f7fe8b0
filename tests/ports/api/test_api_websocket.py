"""WebSocket APIs: $connect (accept/refuse), route selection, the management API, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from stratus import App
from stratus.resources.websocket import GoneException, WebSocketApi


def chat_app(seen: list[dict[str, Any]]) -> tuple[App, WebSocketApi]:
    app = App("chat")
    ws = app.websocket_api("live")

    @ws.on_connect
    def join(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        if (event.get("queryStringParameters") or {}).get("token") == "bad":
            return {"statusCode": 403}
        if (event.get("queryStringParameters") or {}).get("token") == "boom":
            raise RuntimeError("nope")
        return {"statusCode": 200}

    @ws.on_disconnect
    def leave(event: dict[str, Any], context: Any) -> None:
        seen.append(event)

    @ws.route("sendMessage")
    def send_message(event: dict[str, Any], context: Any) -> None:
        seen.append(event)
        connection_id = event["requestContext"]["connectionId"]
        body = json.loads(event["body"])
        ws.post(connection_id, {"echo": body.get("text"), "route": event["requestContext"]["routeKey"]})
        if body.get("text") == "bye":
            ws.disconnect(connection_id)

    @ws.route("binary")
    def binary(event: dict[str, Any], context: Any) -> None:
        ws.post(event["requestContext"]["connectionId"], b"\x00\x01")

    @ws.route("fail")
    def fail(event: dict[str, Any], context: Any) -> None:
        raise ValueError("secret detail")

    @ws.default
    def fallback(event: dict[str, Any], context: Any) -> None:
        ws.post(event["requestContext"]["connectionId"], "default:" + event["body"])

    return app, ws


def test_connect_event_route_selection_and_post(serve: Any) -> None:
    seen: list[dict[str, Any]] = []
    app, ws = chat_app(seen)
    with serve(app) as (_, client), client.websocket_connect("/chat/live?room=blue", headers={"x-user": "ann"}) as s:
        connect = seen[0]
        ctx = connect["requestContext"]
        assert (ctx["routeKey"], ctx["eventType"], ctx["stage"]) == ("$connect", "CONNECT", "$default")
        assert connect["queryStringParameters"] == {"room": "blue"}
        assert connect["headers"]["x-user"] == "ann"
        assert ctx["connectionId"] and ctx["connectedAt"] and ctx["requestId"] and ctx["domainName"]
        s.send_text(json.dumps({"action": "sendMessage", "text": "hi"}))
        assert s.receive_json() == {"echo": "hi", "route": "sendMessage"}
        message = seen[-1]
        assert message["requestContext"]["eventType"] == "MESSAGE"
        assert message["requestContext"]["connectionId"] == ctx["connectionId"]
        assert message["isBase64Encoded"] is False
        s.send_text(json.dumps({"action": "unknown"}))
        assert s.receive_text() == 'default:{"action": "unknown"}'
        s.send_text("not json at all")
        assert s.receive_text() == "default:not json at all"
        s.send_text(json.dumps({"action": "binary"}))
        assert s.receive_bytes() == b"\x00\x01"
        info = ws.connection(ctx["connectionId"])
        assert info.connection_id == ctx["connectionId"] and info.source_ip


def test_connect_refused_by_status_or_error(serve: Any) -> None:
    app, _ = chat_app([])
    with serve(app) as (_, client):
        for token in ("bad", "boom"):
            with pytest.raises(WebSocketDisconnect), client.websocket_connect(f"/chat/live?token={token}"):
                pass


def test_no_matching_route_without_default_answers_forbidden(serve: Any) -> None:
    app = App("bare")
    ws = app.websocket_api("live", route_selection="$request.body.kind.name")

    @ws.route("ping")
    def ping(event: dict[str, Any], context: Any) -> None:
        ws.post(event["requestContext"]["connectionId"], "pong")

    with serve(app) as (_, client), client.websocket_connect("/bare/live") as s:
        s.send_text(json.dumps({"kind": {"name": "ping"}}))
        assert s.receive_text() == "pong"
        s.send_text(json.dumps({"kind": "ping"}))
        answer = s.receive_json()
        assert answer["message"] == "Forbidden" and answer["connectionId"] and answer["requestId"]


def test_handler_error_is_reported_without_detail(serve: Any) -> None:
    app, _ = chat_app([])
    with serve(app) as (_, client), client.websocket_connect("/chat/live") as s:
        s.send_text(json.dumps({"action": "fail"}))
        answer = s.receive_json()
        assert answer["message"] == "Internal server error"
        assert "secret" not in json.dumps(answer)


def test_server_disconnect_runs_disconnect_and_posting_after_is_gone(serve: Any) -> None:
    seen: list[dict[str, Any]] = []
    app, ws = chat_app(seen)
    with serve(app) as (_, client):
        with client.websocket_connect("/chat/live") as s:
            connection_id = seen[0]["requestContext"]["connectionId"]
            s.send_text(json.dumps({"action": "sendMessage", "text": "bye"}))
            assert s.receive_json()["echo"] == "bye"
            with pytest.raises(WebSocketDisconnect):
                s.receive_text()
        ws.backend.flush()  # type: ignore[attr-defined]
        with pytest.raises(GoneException) as gone:
            ws.post(connection_id, "anyone?")
        assert gone.value.status == 410
        with pytest.raises(GoneException):
            ws.connection(connection_id)
        with pytest.raises(GoneException):
            ws.post("never-existed", "x")
    disconnect = seen[-1]
    assert disconnect["requestContext"]["eventType"] == "DISCONNECT"
    assert disconnect["requestContext"]["connectionId"] == connection_id


def test_client_close_runs_disconnect(serve: Any) -> None:
    seen: list[dict[str, Any]] = []
    app, ws = chat_app(seen)
    with serve(app) as (_, client):
        with client.websocket_connect("/chat/live") as s:
            s.send_text(json.dumps({"action": "sendMessage", "text": "x"}))
            s.receive_json()
            s.close()
        ws.backend.flush()  # type: ignore[attr-defined]
    assert seen[-1]["requestContext"]["routeKey"] == "$disconnect"


def test_idle_connections_are_closed_after_10_minutes_on_the_clock(serve: Any) -> None:
    seen: list[dict[str, Any]] = []
    app, ws = chat_app(seen)
    with serve(app) as (env, client), client.websocket_connect("/chat/live") as s:
        connection_id = seen[0]["requestContext"]["connectionId"]
        env.clock.advance(599)
        env.settle(max_seconds=0)
        s.send_text(json.dumps({"action": "sendMessage", "text": "still here"}))
        assert s.receive_json()["echo"] == "still here"
        env.clock.advance(600)
        env.settle(max_seconds=0)
        with pytest.raises(WebSocketDisconnect) as closed:
            s.receive_text()
        assert closed.value.code == 1001
        with pytest.raises(GoneException):
            ws.post(connection_id, "late")


def test_connections_end_after_2_hours_even_when_active(serve: Any) -> None:
    app, _ = chat_app([])
    with serve(app) as (env, client), client.websocket_connect("/chat/live") as s:
        for _ in range(13):
            env.clock.advance(550)
            env.settle(max_seconds=0)
            s.send_text(json.dumps({"action": "sendMessage", "text": "ping"}))
            assert s.receive_json()["echo"] == "ping"
        env.clock.advance(7200 - 13 * 550)
        env.settle(max_seconds=0)
        with pytest.raises(WebSocketDisconnect):
            s.receive_text()


def test_message_size_limits(serve: Any) -> None:
    from stratus.resources.websocket import PayloadTooLarge

    seen: list[dict[str, Any]] = []
    app, ws = chat_app(seen)
    with serve(app) as (_, client), client.websocket_connect("/chat/live") as s:
        connection_id = seen[0]["requestContext"]["connectionId"]
        with pytest.raises(PayloadTooLarge):
            ws.post(connection_id, "x" * (128 * 1024 + 1))
        s.send_text("y" * (128 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            s.receive_text()
        assert closed.value.code == 1009
