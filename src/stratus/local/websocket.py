"""The local WebSocket API: connections served by the gateway, routes run as functions.

The gateway hands each WebSocket handshake under the API's prefix to :meth:`serve`:
``$connect`` runs first (a non-2xx ``statusCode`` or an error refuses the handshake with
403, as AWS does), then every message is routed with the route selection expression and
``$disconnect`` runs when either side closes. The management API (``post``,
``disconnect``, ``connection``) may be called from any thread; it schedules the send on
the connection's event loop. Connections are in memory only, as on AWS they do not
survive the server, and the 10-minute idle and 2-hour limits are enforced on the cloud's
clock by a pump.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import functools
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.local.gateway.events import headers_dict, query_dict, request_id
from stratus.local.gateway.hub import hub_of
from stratus.local.pumps import IDLE, PumpResult
from stratus.resources.api_paths import BadPath
from stratus.resources.websocket import (
    CONNECT,
    DEFAULT,
    DISCONNECT,
    IDLE_TIMEOUT,
    MAX_CONNECTION_DURATION,
    MAX_MESSAGE_BYTES,
    ConnectionInfo,
    GoneException,
    WebSocketApi,
    WebSocketBackend,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.websocket")
#: API Gateway's integration timeout for WebSocket routes.
INTEGRATION_TIMEOUT = 29.0
SEND_TIMEOUT = 10.0


@dataclass(eq=False)
class _Connection:
    id: str
    send: Any
    loop: asyncio.AbstractEventLoop
    connected_at: float
    last_active_at: float
    source_ip: str
    user_agent: str
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    close_code: int = 1000
    close_reason: str = "Normal closure"


def _connection_id() -> str:
    return base64.b64encode(os.urandom(11)).decode("ascii")


def _request_time(now: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


class LocalWebSocketApi(WebSocketBackend):
    def __init__(self, resource: WebSocketApi, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.hub = hub_of(cloud)
        self.clock = cloud.clock
        self.prefix = resource.prefix
        other = self.hub.websocket_apis.get(self.prefix)
        if other is not None and other.resource is not resource:
            raise ValidationError(f"websocket_api {resource.qualified_name!r}: prefix {self.prefix!r} is in use")
        self.api_id = _api_id(resource.qualified_name)
        self.connections: dict[str, _Connection] = {}
        self._pending: set[concurrent.futures.Future[None]] = set()
        self.hub.websocket_apis[self.prefix] = self
        self.name = f"websocket-{resource.qualified_name}"
        cloud.add_pump(self)

    @property
    def url(self) -> str:
        return self.cloud.base_url.replace("http", "ws", 1).rstrip("/") + self.prefix

    # -- the event shapes ----------------------------------------------------------------
    def _context(
        self, conn_id: str, route_key: str, event_type: str, connected_at: float, source_ip: str, user_agent: str
    ) -> dict[str, Any]:
        now = self.clock.now()
        req = request_id()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": req,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": "$default",
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "requestId": req,
            "domainName": f"{self.api_id}.execute-api.localhost",
            "connectionId": conn_id,
            "apiId": self.api_id,
        }

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        function = self.resource.routes.get(route_key)
        if function is None:
            return None
        loop = asyncio.get_running_loop()
        call = functools.partial(self.hub.engine.invoke, function, event, source="websocket")
        return await asyncio.wait_for(loop.run_in_executor(self.hub.executor, call), INTEGRATION_TIMEOUT)

    # -- serving -------------------------------------------------------------------------
    async def serve(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        conn_id = _connection_id()
        headers, cookies = headers_dict(scope.get("headers", []))
        if cookies:
            headers["cookie"] = "; ".join(cookies)
        client = scope.get("client")
        source_ip = client[0] if client else "127.0.0.1"
        user_agent = headers.get("user-agent", "")
        now = self.clock.now()
        try:
            raw_query = scope.get("query_string", b"").decode("latin-1")
            query = query_dict(raw_query) if raw_query else {}
        except BadPath:
            await send({"type": "websocket.close", "code": 1008})
            return
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": {k: v.split(",") for k, v in headers.items()},
            "requestContext": self._context(conn_id, CONNECT, "CONNECT", now, source_ip, user_agent),
            "isBase64Encoded": False,
        }
        if query:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: v.split(",") for k, v in query.items()}
        try:
            result = await self._invoke(CONNECT, event)
        except Exception as error:  # the $connect function failed or timed out: refuse
            log.info("websocket %s: $connect refused (%s)", self.resource.qualified_name, type(error).__name__)
            await send({"type": "websocket.close", "code": 1008})
            return
        if isinstance(result, dict) and "statusCode" in result:
            status = result.get("statusCode")
            if not isinstance(status, int) or not 200 <= status < 300:
                await send({"type": "websocket.close", "code": 1008})
                return
        await send({"type": "websocket.accept"})
        conn = _Connection(conn_id, send, asyncio.get_running_loop(), now, now, source_ip, user_agent)
        self.connections[conn_id] = conn
        reason = ("Client-side close frame status not set", 1005)
        closer = asyncio.ensure_future(conn.closing.wait())
        try:
            while True:
                receiver = asyncio.ensure_future(receive())
                done, _ = await asyncio.wait({receiver, closer}, return_when=asyncio.FIRST_COMPLETED)
                if receiver not in done:
                    receiver.cancel()
                    reason = (conn.close_reason, conn.close_code)
                    break
                message = receiver.result()
                if message["type"] == "websocket.disconnect":
                    reason = ("Client closed the connection", int(message.get("code", 1005)))
                    break
                await self._message(conn, message)
        finally:
            closer.cancel()
            conn.closed = True
            self.connections.pop(conn_id, None)
            event = {
                "headers": headers,
                "requestContext": {
                    **self._context(conn_id, DISCONNECT, "DISCONNECT", conn.connected_at, source_ip, user_agent),
                    "disconnectStatusCode": reason[1],
                    "disconnectReason": reason[0],
                },
                "isBase64Encoded": False,
            }
            # On the worker pool, so it runs even when the server cancels this task on shutdown.
            future = self.hub.executor.submit(self._disconnected, event)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.wrap_future(future))  # cancelling must not cancel the job

    def _disconnected(self, event: dict[str, Any]) -> None:
        function = self.resource.routes.get(DISCONNECT)
        if function is None:
            return
        try:
            self.hub.engine.invoke(function, event, source="websocket")
        except Exception as error:  # best effort, as on AWS
            log.info("websocket %s: $disconnect failed (%s)", self.resource.qualified_name, type(error).__name__)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for pending ``$disconnect`` invocations (for tests and orderly shutdown)."""
        concurrent.futures.wait(list(self._pending), timeout=timeout)

    async def _message(self, conn: _Connection, message: dict[str, Any]) -> None:
        text = message.get("text")
        data = message.get("bytes")
        size = len(text.encode("utf-8")) if text is not None else len(data or b"")
        if size > MAX_MESSAGE_BYTES:
            await self._close(conn, 1009, "Message too big")
            return
        conn.last_active_at = self.clock.now()
        if text is not None:
            body, encoded = text, False
        else:
            body, encoded = base64.b64encode(data or b"").decode("ascii"), True
        route_key = self.resource.select_route(text) if text is not None else DEFAULT
        context = self._context(conn.id, route_key, "MESSAGE", conn.connected_at, conn.source_ip, conn.user_agent)
        context["messageId"] = request_id()
        if route_key not in self.resource.routes:
            await self._send(conn, {"message": "Forbidden", "connectionId": conn.id, "requestId": context["requestId"]})
            return
        event = {"requestContext": context, "body": body, "isBase64Encoded": encoded}
        try:
            await self._invoke(route_key, event)
        except Exception as error:
            name = self.resource.qualified_name
            log.info("websocket %s: route %s failed (%s)", name, route_key, type(error).__name__)
            if not conn.closed:
                await self._send(
                    conn,
                    {"message": "Internal server error", "connectionId": conn.id, "requestId": context["requestId"]},
                )

    async def _send(self, conn: _Connection, payload: dict[str, Any]) -> None:
        import json

        await conn.send({"type": "websocket.send", "text": json.dumps(payload, separators=(",", ":"))})

    async def _close(self, conn: _Connection, code: int, reason: str) -> None:
        if conn.closed:
            return
        conn.closed = True
        conn.close_code, conn.close_reason = code, reason
        try:
            await conn.send({"type": "websocket.close", "code": code, "reason": reason})
        finally:
            conn.closing.set()

    # -- management API ------------------------------------------------------------------
    def _live(self, connection_id: str) -> _Connection:
        conn = self.connections.get(connection_id)
        if conn is None or conn.closed:
            raise GoneException(f"connection {connection_id} is gone")
        return conn

    def _run(self, conn: _Connection, coro: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is conn.loop:
            conn.loop.create_task(coro)
            return
        future = asyncio.run_coroutine_threadsafe(coro, conn.loop)
        try:
            future.result(SEND_TIMEOUT)
        except Exception:
            raise GoneException(f"connection {conn.id} is gone") from None

    def post(self, connection_id: str, data: bytes | str) -> None:
        conn = self._live(connection_id)
        message = (
            {"type": "websocket.send", "text": data}
            if isinstance(data, str)
            else {"type": "websocket.send", "bytes": data}
        )
        self._run(conn, conn.send(message))

    def disconnect(self, connection_id: str) -> None:
        conn = self._live(connection_id)
        self._run(conn, self._close(conn, 1000, "Going away"))

    def connection(self, connection_id: str) -> ConnectionInfo:
        conn = self._live(connection_id)
        return ConnectionInfo(
            connection_id=conn.id,
            connected_at=datetime.fromtimestamp(conn.connected_at, tz=UTC),
            last_active_at=datetime.fromtimestamp(conn.last_active_at, tz=UTC),
            source_ip=conn.source_ip,
            user_agent=conn.user_agent,
        )

    # -- the pump: idle and maximum-duration limits --------------------------------------
    def pump(self) -> PumpResult:
        now = self.clock.now()
        worked = False
        next_due: float | None = None
        for conn in list(self.connections.values()):
            if conn.closed:
                continue
            due = min(conn.last_active_at + IDLE_TIMEOUT, conn.connected_at + MAX_CONNECTION_DURATION)
            if due <= now:
                with contextlib.suppress(GoneException):
                    self._run(conn, self._close(conn, 1001, "Going away"))
                worked = True
            else:
                next_due = due if next_due is None else min(next_due, due)
        if worked:
            return PumpResult(True, next_due)
        return PumpResult(False, next_due) if next_due is not None else IDLE

    def close(self) -> None:
        if self.hub.websocket_apis.get(self.prefix) is self:
            del self.hub.websocket_apis[self.prefix]


def _api_id(name: str) -> str:
    import hashlib

    return base64.b32encode(hashlib.sha1(name.encode()).digest()).decode().lower()[:10]
