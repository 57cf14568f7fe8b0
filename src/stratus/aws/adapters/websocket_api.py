"""AwsWebSocketApi: a WebSocket API's management handle on the API Gateway Management API, through boto3.

On AWS, API Gateway serves the connections and runs the route functions (the template
wires them); what a function does with the handle — ``post``, ``disconnect``,
``connection`` — is the Management API (``PostToConnection``, ``DeleteConnection``,
``GetConnection``) at the API's ``@connections`` endpoint, which is the resource's physical
identity: ``STRATUS_WEBSOCKET_API_<NAME>`` = ``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>``.

boto3's ``apigatewaymanagementapi`` client needs that endpoint as its ``endpoint_url`` and
signs for the API's region, read from the endpoint's host (else the cloud's region): it is the
cloud's client (its session and credentials) with both overridden
(``cloud.client(service, endpoint_url=..., region=...)``). The
handle's ``url`` is the one clients connect to: the same address with ``wss://``.

Errors: ``GoneException`` (410, the connection is closed or never existed) is the port's
:class:`~stratus.resources.websocket.GoneException`, ``PayloadTooLargeException`` its
:class:`~stratus.resources.websocket.PayloadTooLarge`, ``ForbiddenException`` an
:class:`~stratus.errors.AccessDenied` and ``LimitExceededException`` a
:class:`~stratus.errors.Throttled`.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import AccessDenied, StratusError, Throttled, ValidationError
from stratus.resources.websocket import ConnectionInfo, GoneException, PayloadTooLarge, WebSocketBackend

if TYPE_CHECKING:
    from stratus.resources.websocket import WebSocketApi

_ERRORS: dict[str, type[StratusError]] = {
    "GoneException": GoneException,
    "PayloadTooLargeException": PayloadTooLarge,
    "ForbiddenException": AccessDenied,
    "LimitExceededException": Throttled,
    "TooManyRequestsException": Throttled,
    "BadRequestException": ValidationError,
}
_REGION = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def region_of(endpoint: str) -> str | None:
    """The region in an ``execute-api`` host name (None for a custom domain or an emulator)."""
    found = _REGION.search(urlsplit(endpoint).hostname or "")
    return found.group(1) if found else None


class AwsWebSocketApi(WebSocketBackend):
    """The management API of one WebSocket API, at the endpoint in ``STRATUS_WEBSOCKET_API_<NAME>``."""

    def __init__(self, resource: WebSocketApi, cloud: Any, *, client: Any = None) -> None:
        self.resource = resource
        self.cloud = cloud
        endpoint = _context.physical_id(resource, cloud).rstrip("/")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationError(
                f"websocket_api {resource.name!r}: its physical identity must be the https:// @connections "
                f"endpoint URL, got {endpoint!r}"
            )
        self.endpoint = endpoint
        self.region = (
            region_of(endpoint)
            or getattr(cloud, "region", None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """A boto3 ``apigatewaymanagementapi`` client for this API's endpoint (made on first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _context.client(
                        "apigatewaymanagementapi", self.cloud, endpoint_url=self.endpoint, region=self.region
                    )
        return self._client

    @property
    def url(self) -> str:
        """Where clients connect: the endpoint with ``wss://`` (``ws://`` for a plain-HTTP emulator)."""
        scheme, rest = self.endpoint.split("://", 1)
        return ("wss://" if scheme == "https" else "ws://") + rest

    def _call(self, operation: str, connection_id: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(ConnectionId=connection_id, **params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            code = _context.error_code(error)
            if code == "GoneException":
                raise GoneException(f"connection {connection_id} is gone") from None
            raise _context.translate_error(error, _ERRORS) from None

    def post(self, connection_id: str, data: bytes | str) -> None:
        self._call("post_to_connection", connection_id, Data=data.encode() if isinstance(data, str) else data)

    def disconnect(self, connection_id: str) -> None:
        self._call("delete_connection", connection_id)

    def connection(self, connection_id: str) -> ConnectionInfo:
        response = self._call("get_connection", connection_id)
        identity = response.get("Identity") or {}
        connected = _context.utc(response.get("ConnectedAt")) or datetime.fromtimestamp(0, UTC)
        return ConnectionInfo(
            connection_id=connection_id,
            connected_at=connected,
            last_active_at=_context.utc(response.get("LastActiveAt")) or connected,
            source_ip=str(identity.get("SourceIp", "")),
            user_agent=str(identity.get("UserAgent", "")),
        )

    def __repr__(self) -> str:
        return f"<AwsWebSocketApi {self.endpoint}>"
