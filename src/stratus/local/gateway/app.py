"""One ASGI app for every API bound to a cloud: ``build_gateway(cloud)`` and ``serve(cloud)``.

Each HttpApi is served under its prefix (``/<app>`` by default) and each WebSocketApi at
its own; ``/_s3`` serves presigned bucket URLs and ``/_health`` answers liveness. The
prefix dispatch is a thin ASGI app in front of Starlette, so API requests
skip Starlette's routing and request objects on the hot path.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router

from stratus.local.affinity import pin_to_one_cpu
from stratus.local.bucket_http import create_app as create_bucket_app
from stratus.local.gateway.http import Pipeline
from stratus.local.gateway.hub import GatewayHub, hub_of

if TYPE_CHECKING:
    from starlette.requests import Request

    from stratus.local.cloud import LocalCloud


#: Paths the gateway itself serves, even when an API is mounted at the root.
_RESERVED = ("/_health", "/_s3/", "/_console")


class Gateway:
    """The ASGI app: requests under an API's prefix go straight to that API's pipeline, the rest (health,
    presigned bucket URLs, the console, JWKS) to a Starlette app.

    In front of Starlette rather than inside its middleware stack, so an API request pays for no
    Starlette layer at all (its error middleware wraps every ``send``); the pipeline answers its own
    errors as API Gateway does.
    """

    def __init__(self, app: Starlette, hub: GatewayHub, debug: bool) -> None:
        self.app = app
        self.hub = hub
        self.debug = debug
        self._pipelines: dict[int, Pipeline] = {}

    @property
    def router(self) -> Router:
        """The Starlette router of the gateway's own routes (to mount more, e.g. in tests)."""
        return self.app.router

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http" and not scope["path"].startswith(_RESERVED):
            api = self.hub.find_http(scope["path"])
            if api is not None:
                pipeline = self._pipelines.get(id(api))
                if pipeline is None or pipeline.api is not api:
                    pipeline = self._pipelines[id(api)] = Pipeline(api, debug=self.debug)
                await pipeline(scope, receive, send)
                return
        elif kind == "websocket":
            ws = self.hub.websocket_apis.get(scope["path"].rstrip("/") or "/")
            if ws is not None:
                await ws.serve(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_gateway(cloud: LocalCloud, *, debug: bool = False) -> Gateway:
    """The ASGI app serving every HttpApi and WebSocketApi bound to ``cloud``."""
    from stratus.observability.hub import attach

    hub = hub_of(cloud)
    observability = attach(cloud)
    if observability.on_request not in hub.listeners:
        hub.on_request(observability.on_request)  # per-route Count, 4XX/5XX and Latency metrics

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "apps": [app.name for app in cloud.apps],
                "http_apis": sorted(hub.http_apis),
                "websocket_apis": sorted(hub.websocket_apis),
            }
        )

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"message": "Not Found"}, status_code=404)

    from stratus.console import create_console
    from stratus.local.userpool import jwks_routes

    routes = [
        Route("/_health", health, methods=["GET"]),
        Mount("/_s3", app=create_bucket_app(cloud, prefix="")),
        Mount("/_console", app=create_console(cloud)),
        *jwks_routes(cloud),  # /<app>-<pool>/.well-known/jwks.json and openid-configuration
    ]
    own = Starlette(debug=False, routes=routes, exception_handlers={404: not_found})
    return Gateway(own, hub, debug)


def settle_garbage_collector() -> None:
    """Move what exists now (declarations, compiled patterns and definitions, engines) out of the cyclic
    collector's sight, and let young collections run less often.

    A serving process allocates a little per request and keeps almost nothing; without this, each
    full collection walks every long-lived object, and those pauses are the tail of request latency.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def serve(
    cloud: LocalCloud,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    debug: bool = False,
    one_cpu: bool = True,
    **options: Any,
) -> None:
    """Serve the gateway with uvicorn until interrupted (what `stratus up` runs); ``one_cpu`` keeps the
    process on one CPU (see :mod:`stratus.local.affinity`)."""
    import uvicorn

    if one_cpu:
        pin_to_one_cpu()
    cloud.base_url = f"http://{host}:{port}"
    gateway = build_gateway(cloud, debug=debug)
    settle_garbage_collector()
    # No proxy headers: the gateway is the edge, and a client must not set its own sourceIp (throttling keys on it).
    options.setdefault("proxy_headers", False)
    uvicorn.run(gateway, host=host, port=port, log_level="warning", **options)
