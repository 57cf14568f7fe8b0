"""The request a route handler receives: API Gateway's HTTP API payload format 2.0, typed.

``Request`` is a read-only Mapping over the event dict exactly as AWS delivers it (so it
can be passed around, logged or re-serialized as the raw event), with accessors for the
parts a handler needs. When the route declared ``request=Model`` or ``query=Model`` the
route wrapper validates them before the handler runs and exposes them as ``model`` and
``query_model``; failures never reach the handler (they become 400/415 responses).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from stratus.resources.api_response import Response

_JSON_TYPES = ("application/json",)


class RequestRejected(Exception):
    """A request the route refuses before its handler runs; carries the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"request rejected with {response.status}")
        self.response = response


class Request(Mapping[str, Any]):
    """An HTTP API (payload format 2.0) event."""

    __slots__ = ("_body", "_event", "model", "query_model")

    def __init__(self, event: Mapping[str, Any]) -> None:
        self._event: Mapping[str, Any] = event._event if isinstance(event, Request) else event
        self._body: bytes | None = None
        #: The validated body model, when the route declared ``request=Model``.
        self.model: Any = None
        #: The validated query model, when the route declared ``query=Model``.
        self.query_model: Any = None

    # Mapping over the raw event
    def __getitem__(self, key: str) -> Any:
        return self._event[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._event)

    def __len__(self) -> int:
        return len(self._event)

    @property
    def raw_event(self) -> Mapping[str, Any]:
        return self._event

    @property
    def _context(self) -> Mapping[str, Any]:
        return self._event.get("requestContext") or {}

    @property
    def method(self) -> str:
        return str((self._context.get("http") or {}).get("method", ""))

    @property
    def path(self) -> str:
        return str(self._event.get("rawPath", ""))

    @property
    def route_key(self) -> str:
        return str(self._event.get("routeKey", ""))

    @property
    def path_params(self) -> dict[str, str]:
        return dict(self._event.get("pathParameters") or {})

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; a repeated parameter's values are comma-joined, as AWS does."""
        return dict(self._event.get("queryStringParameters") or {})

    @property
    def headers(self) -> dict[str, str]:
        """Headers with lower-case names; repeated headers comma-joined."""
        return dict(self._event.get("headers") or {})

    def header(self, name: str, default: str | None = None) -> str | None:
        return (self._event.get("headers") or {}).get(name.lower(), default)

    @property
    def cookies(self) -> dict[str, str]:
        jar: dict[str, str] = {}
        for cookie in self._event.get("cookies") or []:
            name, _, value = cookie.partition("=")
            jar.setdefault(name.strip(), value.strip())
        return jar

    @property
    def body(self) -> bytes:
        if self._body is None:
            raw = self._event.get("body")
            if raw is None:
                self._body = b""
            elif self._event.get("isBase64Encoded"):
                self._body = base64.b64decode(raw)
            else:
                self._body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        return self._body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def authorizer(self) -> dict[str, Any]:
        """``requestContext.authorizer`` as the gateway set it ({jwt: ...} or {lambda: ...})."""
        return dict(self._context.get("authorizer") or {})

    @property
    def claims(self) -> dict[str, Any]:
        """The JWT claims of the caller (empty without a JWT authorizer)."""
        return dict(((self._context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {})

    @property
    def scopes(self) -> list[str]:
        return list(((self._context.get("authorizer") or {}).get("jwt") or {}).get("scopes") or [])

    @property
    def request_id(self) -> str:
        return str(self._context.get("requestId", ""))

    @property
    def source_ip(self) -> str:
        return str((self._context.get("http") or {}).get("sourceIp", ""))

    @property
    def user_agent(self) -> str:
        return str((self._context.get("http") or {}).get("userAgent", ""))

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"

    # -- model validation (called by the route wrapper before the handler) ------------
    def validate_models(self, body_model: type[BaseModel] | None, query_model: type[BaseModel] | None) -> None:
        """Set ``model``/``query_model``; RequestRejected (400/415) when the input does not fit."""
        if query_model is not None:
            try:
                self.query_model = query_model.model_validate(self.query)
            except ModelError as error:
                raise RequestRejected(_invalid("Invalid query parameters", error)) from None
        if body_model is not None:
            content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
            if self.body and not (content_type in _JSON_TYPES or content_type.endswith("+json")):
                raise RequestRejected(Response(415, {"message": "Unsupported Media Type: expected application/json"}))
            try:
                data = json.loads(self.body) if self.body else None
            except (ValueError, UnicodeDecodeError):
                raise RequestRejected(Response(400, {"message": "Malformed JSON in request body"})) from None
            if data is None:
                raise RequestRejected(Response(400, {"message": "Request body is required"}))
            try:
                self.model = body_model.model_validate(data)
            except ModelError as error:
                raise RequestRejected(_invalid("Invalid request body", error)) from None


def _invalid(message: str, error: ModelError) -> Response:
    """A 400 naming each failing field; never echoes the input values."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return Response(400, {"message": message, "errors": errors})
