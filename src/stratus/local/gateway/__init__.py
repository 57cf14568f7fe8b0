"""The local API Gateway: HTTP APIs (payload 2.0) and WebSocket APIs served by one ASGI app.

- :class:`LocalHttpApi` is the adapter bound to each declared HttpApi;
- :func:`build_gateway` returns the ASGI app (a :class:`Gateway`) for every API of a cloud, and
  :func:`serve` runs it with uvicorn (127.0.0.1 by default);
- :func:`on_request` registers a listener for every served request (metrics, traces).
"""

from stratus.local.gateway.adapter import LocalHttpApi
from stratus.local.gateway.app import Gateway, build_gateway, serve, settle_garbage_collector
from stratus.local.gateway.hub import GatewayHub, hub_of, on_request

__all__ = [
    "Gateway",
    "GatewayHub",
    "LocalHttpApi",
    "build_gateway",
    "hub_of",
    "on_request",
    "serve",
    "settle_garbage_collector",
]
