"""Serving one HTTP API over ASGI: the request pipeline API Gateway runs before and after a Lambda.

limits (431 headers, 413 body) -> CORS preflight -> docs -> route match (404) -> path
checks (400) -> throttling (429) -> authorizer (401/403) -> cache -> invoke the route's
function on a worker thread under the integration timeout (504) -> response conversion
(500 on a bad answer) -> CORS headers -> access log and listeners.

Raw ASGI rather than Starlette request objects: this is the hot path of every local
request, and the event has to be built from the raw parts anyway.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError
from stratus.local.gateway import cors as cors_rules
from stratus.local.gateway.cache import cache_key
from stratus.local.gateway.events import build_event, headers_dict, query_dict, request_id
from stratus.local.gateway.responses import BadLambdaResponse, Headers, from_lambda, gateway_error
from stratus.observability import tracing
from stratus.observability.hub import attach
from stratus.resources.api_paths import BadPath
from stratus.resources.auth import Forbidden, Unauthorized, check_requirements
from stratus.resources.function import FunctionError, FunctionTimeout, TooManyRequests

if TYPE_CHECKING:
    from stratus.local.gateway.adapter import LocalHttpApi
    from stratus.resources.api import Route

log = logging.getLogger("stratus.gateway")

#: API Gateway HTTP API limits.
MAX_BODY = 10 * 1024 * 1024
MAX_HEADERS = 10 * 1024
DOC_PATHS = ("/openapi.json", "/docs")

Result = tuple[int, Headers, bytes]


class Pipeline:
    """Handles the ASGI http requests under one API's prefix."""

    def __init__(self, api: LocalHttpApi, *, debug: bool = False) -> None:
        self.api = api
        self.hub = api.hub
        self.debug = debug
        self.observability = attach(api.cloud)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        api = self.api
        req_id = request_id()
        method: str = scope["method"]
        raw = scope.get("raw_path")
        full_path = raw.decode("latin-1") if raw else scope["path"]
        full_path = full_path.split("?", 1)[0]
        raw_path = full_path[len(api.prefix) :] or "/"
        client = scope.get("client")
        source_ip = client[0] if client else "127.0.0.1"
        headers, cookies = headers_dict(scope["headers"])
        record: dict[str, Any] = {"route": None, "cache": None}
        try:
            status, out_headers, body = await self._handle(
                scope, receive, method, raw_path, headers, cookies, source_ip, req_id, record
            )
        except Exception as error:  # a gateway bug must still answer like API Gateway, without detail
            log.error("gateway failed on %s %s: %s", method, raw_path, type(error).__name__)
            status, out_headers, body = gateway_error(500, "Internal Server Error")
        cors = api.resource.cors
        if cors is not None and not record.get("preflight"):
            extra = cors_rules.response_headers(cors, headers.get("origin"))
            if extra:
                names = {n.encode() for n, _ in extra}
                out_headers = [h for h in out_headers if h[0] not in names]
                out_headers.extend((n.encode(), v.encode()) for n, v in extra)
        out_headers.append((b"apigw-requestid", req_id.encode()))
        out_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        self.hub.emit(
            {
                "time": round(self.hub.clock.now(), 3),  # epoch seconds on the cloud's clock
                "api": api.resource.qualified_name,
                "method": method,
                "path": raw_path,
                "route": record["route"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": req_id,
                "source_ip": source_ip,
                "cache": record["cache"],
            }
        )

    async def _handle(
        self,
        scope: dict[str, Any],
        receive: Any,
        method: str,
        raw_path: str,
        headers: dict[str, str],
        cookies: list[str],
        source_ip: str,
        req_id: str,
        record: dict[str, Any],
    ) -> Result:
        api = self.api
        resource = api.resource
        header_bytes = sum(len(n) + len(v) for n, v in scope["headers"])
        if header_bytes > MAX_HEADERS:
            return gateway_error(431, "Request Header Fields Too Large")
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            return gateway_error(400, "Bad Request")
        if declared is not None and int(declared) > MAX_BODY:
            return gateway_error(413, "Request Entity Too Large")
        if resource.cors is not None and cors_rules.is_preflight(method, headers):
            record["preflight"] = True
            pre = cors_rules.preflight_headers(resource.cors, headers)
            return 204, [(n.encode(), v.encode()) for n, v in pre], b""
        match = api.routes.match(method, raw_path)
        user_static = match is not None and match[0].template is not None and match[0].template.is_static
        if raw_path in DOC_PATHS and method in ("GET", "HEAD") and not user_static:
            return api.document(raw_path)
        if match is None:
            extra = {"routes": api.routes.keys()} if self.debug else {}
            return gateway_error(404, "Not Found", **extra)
        route, parts = match
        record["route"] = route.key
        try:
            path_params = route.template.bind(parts) if route.template is not None else {}
            raw_query = scope.get("query_string", b"").decode("latin-1")
            query = query_dict(raw_query) if raw_query else {}
        except BadPath as error:
            return gateway_error(400, error.message)
        throttle = route.throttle or resource.throttle
        if throttle is not None:
            wait = api.throttler.check(route.key, throttle, headers.get("x-api-key") or source_ip)
            if wait:
                status, hdrs, body = gateway_error(429, "Too Many Requests")
                return status, [*hdrs, (b"retry-after", str(wait).encode())], body
        body_or_none = await _read_body(receive)
        if body_or_none is None:
            return gateway_error(413, "Request Entity Too Large")
        event = build_event(
            route_key=route.key,
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            cookies=cookies,
            query=query,
            path_params=path_params,
            body=body_or_none,
            source_ip=source_ip,
            api_id=api.api_id,
            account_id=api.cloud.account_id,
            now=self.hub.clock.now(),
            req_id=req_id,
        )
        if route.authorizer is not None:
            denied = await self._authorize(route, event)
            if denied is not None:
                return denied
        key = None
        if route.cache is not None and method in ("GET", "HEAD"):
            key = cache_key(route, method, path_params, query, headers)
            if "max-age=0" not in headers.get("cache-control", "").replace(" ", ""):
                hit = api.cache.get(key)
                if hit is not None:
                    record["cache"] = "hit"
                    return hit.status, list(hit.headers), hit.body
            record["cache"] = "miss"
        result = await self._invoke(route, event)
        if key is not None and result[0] == 200 and route.cache is not None:
            api.cache.put(key, route.cache.ttl, raw_path, result[0], list(result[1]), result[2])
        return result

    async def _authorize(self, route: Route, event: dict[str, Any]) -> Result | None:
        authorizer = route.authorizer
        assert authorizer is not None

        def run() -> dict[str, Any]:
            result = authorizer.authorize(event, route)
            check_requirements(result, route.scopes, route.groups)
            return authorizer.request_context(result)

        try:
            async with asyncio.timeout(route.timeout):
                context = await self.hub.workers.run(run)
        except Unauthorized as error:
            status, headers, body = gateway_error(401, "Unauthorized")
            reason = _quoted(error.reason)
            challenge = f'Bearer error="invalid_token", error_description="{reason}"'
            return status, [*headers, (b"www-authenticate", challenge.encode("latin-1", "replace"))], body
        except Forbidden:
            return gateway_error(403, "Forbidden")
        except TimeoutError:
            return gateway_error(504, "Service Unavailable")
        except Exception as error:
            if getattr(error, "status", None) == 429:  # usage-plan throttle or quota (API keys)
                status, headers, body = gateway_error(429, getattr(error, "reason", "Too Many Requests"))
                retry_after = getattr(error, "retry_after", None)
                if retry_after is not None:
                    headers = [*headers, (b"retry-after", str(max(1, math.ceil(retry_after))).encode())]
                return status, headers, body
            # The authorizer failed: API Gateway answers 500.
            log.warning("authorizer %s failed: %s", authorizer.name, type(error).__name__)
            return gateway_error(500, "Internal Server Error")
        event["requestContext"]["authorizer"] = context
        return None

    async def _invoke(self, route: Route, event: dict[str, Any]) -> Result:
        engine = self.hub.engine
        incoming = event.get("headers", {}).get("x-amzn-trace-id")
        attributes = {"http.method": event["requestContext"]["http"]["method"], "http.route": route.key}

        def call() -> Any:
            # Opened in the worker thread, so the invocation (and everything it sends) joins this trace.
            with tracing.span(route.key, "server", attributes, parent=incoming or None, hub=self.observability):
                return engine.invoke(route.function, event, source="http")

        try:
            async with asyncio.timeout(route.timeout):  # no extra task per request, unlike wait_for
                output = await self.hub.workers.run(call)
        except (TimeoutError, FunctionTimeout):
            return gateway_error(504, "Service Unavailable")
        except TooManyRequests:
            return gateway_error(503, "Service Unavailable")
        except FunctionError:
            return gateway_error(500, "Internal Server Error")
        except StratusError as error:
            log.warning("route %s failed: %s", route.key, error.code)
            return gateway_error(500, "Internal Server Error")
        try:
            return from_lambda(output)
        except BadLambdaResponse as error:
            log.warning("route %s returned a malformed response: %s", route.key, error)
            return gateway_error(500, "Internal Server Error")


async def _read_body(receive: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def _quoted(text: str) -> str:
    cleaned = "".join(c for c in text if c.isprintable() and c not in '"\\')
    return cleaned[:200]
