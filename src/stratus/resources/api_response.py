"""What a route handler returns, converted to the HTTP API (payload 2.0) Lambda response.

Handlers return a :class:`Response`, or a dict, list, str, pydantic model or None, and
:func:`to_lambda_result` turns any of them into ``{statusCode, headers, body,
isBase64Encoded, cookies}``: what AWS expects from the Lambda and what the local gateway
turns into the HTTP response, so the same handler behaves the same in both places.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as ModelError

from stratus import jsontext

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


class ResponseValidationFailed(Exception):
    """The handler's result does not fit the route's ``response`` model (a 500 to the client)."""


def json_default(value: Any) -> Any:
    """JSON for what tables and models hand back: Decimal, sets, bytes, models."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def dump_json(value: Any) -> str:
    return jsontext.compact(value, json_default)


class Response:
    """An HTTP response: status, body (bytes, str, JSON-able or a pydantic model), headers, cookies."""

    __slots__ = ("body", "cookies", "headers", "status")

    def __init__(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ) -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"Response status must be an integer from 100 to 599, got {status!r}")
        self.status = status
        self.body = body
        self.headers = {k.lower(): str(v) for k, v in (headers or {}).items()}
        self.cookies = list(cookies or [])

    def to_lambda_result(self) -> dict[str, Any]:
        headers = dict(self.headers)
        body = self.body
        encoded = False
        if body is None:
            text = ""
        elif isinstance(body, bytes | bytearray | memoryview):
            text = base64.b64encode(bytes(body)).decode("ascii")
            encoded = True
            headers.setdefault("content-type", BINARY)
        elif isinstance(body, str):
            text = body
            headers.setdefault("content-type", TEXT)
        else:
            text = dump_json(body.model_dump(mode="json", by_alias=True) if isinstance(body, BaseModel) else body)
            headers.setdefault("content-type", JSON)
        result: dict[str, Any] = {
            "statusCode": self.status,
            "headers": headers,
            "body": text,
            "isBase64Encoded": encoded,
        }
        if self.cookies:
            result["cookies"] = list(self.cookies)
        return result

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def to_lambda_result(value: Any, *, status: int = 200, model: Any = None) -> dict[str, Any]:
    """Convert a handler's return value; ``model`` (a pydantic type) validates and shapes the body.

    A dict that already has ``statusCode`` is taken as a Lambda response, as AWS does.
    """
    if isinstance(value, Response):
        if model is not None and value.body is not None and 200 <= value.status < 300:
            value = Response(value.status, _shape(value.body, model), value.headers, value.cookies)
        return value.to_lambda_result()
    if isinstance(value, dict) and "statusCode" in value:
        return value
    if value is None and model is None:
        return Response(204 if status == 200 else status).to_lambda_result()
    if model is not None:
        value = _shape(value, model)
    return Response(status, value).to_lambda_result()


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _shape(value: Any, model: Any) -> Any:
    """Validate ``value`` against ``model`` and return its JSON form; ResponseValidationFailed otherwise."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    try:
        if isinstance(value, BaseModel) and isinstance(model, type) and isinstance(value, model):
            return value.model_dump(mode="json", by_alias=True)
        if isinstance(value, BaseModel):
            value = value.model_dump()
        return adapter.dump_python(adapter.validate_python(value), mode="json", by_alias=True)
    except ModelError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "<root>" for e in error.errors())
        name = getattr(model, "__name__", str(model))
        raise ResponseValidationFailed(f"response does not match {name}: {fields}") from None
