"""WebSocket APIs (API Gateway WebSocket APIs): connections, route selection, management API.

    ws = app.websocket_api("live", route_selection="$request.body.action")

    @ws.on_connect
    def join(event, context): ...          # non-2xx statusCode (or raising) refuses the connection

    @ws.route("sendMessage")
    def send(event, context):
        ws.post(event["requestContext"]["connectionId"], {"echo": event["body"]})

Each route declares a function that receives AWS's WebSocket event (``requestContext``
with ``routeKey``, ``eventType`` CONNECT/MESSAGE/DISCONNECT, ``connectionId``...). The
management API (``post``, ``disconnect``, ``connection``) works from any function;
posting to a closed connection raises :class:`GoneException` (410) as AWS does.
Connections live in memory: like AWS, they do not survive a restart of the server.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError, ValidationError
from stratus.resources.base import Resource
from stratus.resources.function import Function, Trigger

if TYPE_CHECKING:
    from stratus.app import App

CONNECT, DISCONNECT, DEFAULT = "$connect", "$disconnect", "$default"
#: AWS's limits: 128 KB per message, 10 minutes idle, 2 hours per connection.
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_TIMEOUT = 600.0
MAX_CONNECTION_DURATION = 7200.0
_SELECTION = re.compile(r"^\$\{?request\.body\.([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\}?$")
_ROUTE_KEY = re.compile(r"^[^\s]{1,128}$")


class GoneException(StratusError):
    """The connection is closed or never existed (the management API's 410)."""

    code = "GoneException"
    status = 410


class PayloadTooLarge(ValidationError):
    code = "PayloadTooLargeException"
    status = 413


@dataclass(frozen=True)
class ConnectionInfo:
    """What ``GetConnection`` returns."""

    connection_id: str
    connected_at: datetime
    last_active_at: datetime
    source_ip: str
    user_agent: str


class WebSocketBackend(ABC):
    """The management API a runtime implements."""

    @abstractmethod
    def post(self, connection_id: str, data: bytes | str) -> None: ...

    @abstractmethod
    def disconnect(self, connection_id: str) -> None: ...

    @abstractmethod
    def connection(self, connection_id: str) -> ConnectionInfo: ...

    @property
    @abstractmethod
    def url(self) -> str: ...


class WebSocketApi(Resource[WebSocketBackend]):
    """A declared WebSocket API: a route selection expression and its route functions."""

    kind = "websocket_api"
    max_name_length = 128

    def __init__(
        self,
        app: App,
        name: str,
        *,
        route_selection: str = "$request.body.action",
        prefix: str | None = None,
        description: str = "",
    ) -> None:
        super().__init__(app, name)
        m = _SELECTION.match(route_selection) if isinstance(route_selection, str) else None
        if m is None:
            raise ValidationError(
                f"websocket_api {name!r}: route_selection must be $request.body.<field>, got {route_selection!r}"
            )
        prefix = f"/{app.name}/{name}" if prefix is None else prefix
        if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.endswith("/"):
            raise ValidationError(f"websocket_api {name!r}: prefix must start with '/' and not end with '/'")
        for other in app.resources_of("websocket_api"):
            if getattr(other, "prefix", None) == prefix:
                raise ValidationError(f"websocket_api {name!r}: prefix {prefix!r} is already used by {other.name!r}")
        self.route_selection = route_selection
        self.selection_path: tuple[str, ...] = tuple(m.group(1).split("."))
        self.prefix = prefix
        self.description = description
        self.routes: dict[str, Function] = {}

    def route(self, key: str, **function_settings: Any) -> Callable[[Callable[..., Any]], Function]:
        """Declare the function for messages whose selected value is ``key``."""
        if not isinstance(key, str) or not _ROUTE_KEY.match(key):
            raise ValidationError(f"websocket_api {self.name!r}: route key {key!r} must be 1-128 non-space characters")
        if key.startswith("$") and key not in (CONNECT, DISCONNECT, DEFAULT):
            raise ValidationError(f"websocket_api {self.name!r}: {key!r} is not a predefined route")
        if key in self.routes:
            raise ValidationError(f"websocket_api {self.name!r}: route {key!r} is already declared")
        name = function_settings.pop("name", None)

        def declare(handler: Callable[..., Any]) -> Function:
            if isinstance(handler, Function):
                raise ValidationError(f"websocket_api {self.name!r}: decorate the plain handler for route {key!r}")
            function = self.app.function(name=name or handler.__name__, **function_settings)(handler)
            function.add_trigger(Trigger(self, "websocket", {"api": self.name, "route": key}))
            self.routes[key] = function
            return function

        return declare

    def on_connect(self, handler: Callable[..., Any]) -> Function:
        return self.route(CONNECT)(handler)

    def on_disconnect(self, handler: Callable[..., Any]) -> Function:
        return self.route(DISCONNECT)(handler)

    def default(self, handler: Callable[..., Any]) -> Function:
        return self.route(DEFAULT)(handler)

    def select_route(self, body: Any) -> str:
        """The route key for a message body (``$default`` when the expression selects nothing)."""
        import json

        try:
            value: Any = json.loads(body)
        except (TypeError, ValueError):
            return DEFAULT
        for part in self.selection_path:
            if not isinstance(value, dict) or part not in value:
                return DEFAULT
            value = value[part]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            key = str(value)
            return key if key in self.routes and not key.startswith("$") else DEFAULT
        return DEFAULT

    # -- management API ---------------------------------------------------------------
    def post(self, connection_id: str, data: str | bytes | dict[str, Any] | list[Any]) -> None:
        """Send ``data`` to a connected client (dicts and lists as JSON text)."""
        if isinstance(data, dict | list):
            import json

            data = json.dumps(data, separators=(",", ":"), default=str)
        if not isinstance(data, str | bytes):
            raise ValidationError(f"post: data must be str, bytes, dict or list, got {type(data).__name__}")
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        if size > MAX_MESSAGE_BYTES:
            raise PayloadTooLarge(f"post: message of {size} bytes exceeds {MAX_MESSAGE_BYTES} bytes")
        self.backend.post(_connection_id(connection_id), data)

    def disconnect(self, connection_id: str) -> None:
        self.backend.disconnect(_connection_id(connection_id))

    def connection(self, connection_id: str) -> ConnectionInfo:
        return self.backend.connection(_connection_id(connection_id))

    @property
    def url(self) -> str:
        return self.backend.url

    def settings(self) -> dict[str, Any]:
        return {
            "route_selection": self.route_selection,
            "prefix": self.prefix,
            "routes": {k: f.name for k, f in self.routes.items()},
        }


def _connection_id(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 128:
        raise ValidationError(f"connection id must be a non-empty string, got {value!r}")
    return value
