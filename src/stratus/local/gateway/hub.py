"""What the gateway shares per cloud: the bound APIs, the worker threads, the access log.

One :class:`GatewayHub` per cloud (``cloud.shared("gateway")``): adapters register their
APIs here when an App is bound, and every gateway app built for the cloud serves what is
registered, so binding another App later makes it reachable at once. Handlers and
authorizers run on the hub's thread pool, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from stratus.local.functions import FunctionEngine
from stratus.local.gateway.workers import Workers

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.gateway")

RequestListener = Callable[[dict[str, Any]], None]


class GatewayHub:
    """Registry of served APIs, worker pool and request listeners of one cloud."""

    WORKERS = 32

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.engine: FunctionEngine = cloud.shared("functions", lambda: FunctionEngine(cloud))
        self.logs = self.engine.logs
        self.http_apis: dict[str, Any] = {}  # prefix -> LocalHttpApi
        self.websocket_apis: dict[str, Any] = {}  # prefix -> LocalWebSocketApi
        #: Called with each access record (metrics, traces); must be quick and must not raise.
        self.listeners: list[RequestListener] = []
        #: HTTP handlers and authorizers run here (see :mod:`~stratus.local.gateway.workers`).
        self.workers = Workers(self.WORKERS, "stratus-gateway")
        #: WebSocket routes, whose disconnect handlers shutdown waits for, run here.
        self.executor = ThreadPoolExecutor(max_workers=self.WORKERS, thread_name_prefix="stratus-websocket")

    def on_request(self, listener: RequestListener) -> None:
        self.listeners.append(listener)

    def emit(self, record: dict[str, Any]) -> None:
        """Write one access-log line and tell the listeners."""
        self.logs.write("access", record)
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # a listener must never break serving
                log.exception("request listener %r failed", listener)

    def find_http(self, path: str) -> Any:
        """The HTTP API whose prefix ``path`` is under (longest prefix wins)."""
        best = None
        for prefix, api in self.http_apis.items():
            if (path == prefix or path.startswith(prefix + "/") or prefix == "") and (
                best is None or len(prefix) > len(best[0])
            ):
                best = (prefix, api)
        return best[1] if best else None

    def close(self) -> None:
        self.workers.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


def hub_of(cloud: LocalCloud) -> GatewayHub:
    return cloud.shared("gateway", lambda: GatewayHub(cloud))


def on_request(cloud: LocalCloud, listener: RequestListener) -> None:
    """Register ``listener(record)`` for every request the gateway serves on ``cloud``."""
    hub_of(cloud).on_request(listener)
