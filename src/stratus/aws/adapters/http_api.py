"""AwsHttpApi: what a function can ask of its HTTP API on AWS, where API Gateway serves it.

Locally, :class:`stratus.local.gateway.LocalHttpApi` both describes an API and serves it
(routing, throttling, the response cache, ``/openapi.json`` and ``/docs``). On AWS the
serving is API Gateway's (the template declares the routes, CORS, throttling and
authorizers), so this adapter keeps what still makes sense inside a function:

- ``url``: the API's base URL, its physical identity ``STRATUS_HTTP_API_<NAME>``
  (``https://<api-id>.execute-api.<region>.amazonaws.com``; each API has its own domain
  on AWS, so the local prefix is not part of it and routes sit at the root);
- ``api_id``: the id in that host name (None behind a custom domain);
- ``openapi()``: the API's OpenAPI document, generated from the declaration as locally,
  with the AWS URL as its server;
- ``invalidate(path)``: returns 0. A route's response cache (``RouteCache``) is local
  only: HTTP APIs have no response cache and the template declares none, so on AWS no
  response is ever cached and there is nothing to drop; code that invalidates after a
  write runs unchanged.

Serving requests, throttling and caching responses have no counterpart here. The one
serving method of the local adapter a caller could reach, :meth:`document` (the gateway's
``/openapi.json`` and ``/docs`` responses), raises :class:`NotOnAws`, naming what to use instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stratus.aws.adapters import _context
from stratus.errors import StratusError, ValidationError
from stratus.resources.api import HttpApiBackend

if TYPE_CHECKING:
    from stratus.resources.api import HttpApi

_API_ID = re.compile(r"^([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$")


class NotOnAws(StratusError):
    """A local-gateway feature called on AWS, where API Gateway serves the API."""

    code = "UnsupportedOperation"


class AwsHttpApi(HttpApiBackend):
    """One declared HTTP API deployed on API Gateway, at the base URL in ``STRATUS_HTTP_API_<NAME>``."""

    def __init__(self, resource: HttpApi, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        base = _context.physical_id(resource, cloud).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationError(
                f"http_api {resource.name!r}: its physical identity must be the API's https:// base URL, got {base!r}"
            )
        self._url = base
        found = _API_ID.match(parts.hostname)
        self.api_id: str | None = found.group(1) if found else None
        self._openapi: dict[str, object] | None = None

    @property
    def url(self) -> str:
        return self._url

    def invalidate(self, path: str | None = None) -> int:
        """Nothing is cached on AWS (HTTP APIs have no response cache): always 0."""
        return 0

    def openapi(self) -> dict[str, object]:
        """The OpenAPI 3.1 document of the API, with its AWS base URL as the server (built once)."""
        if self._openapi is None:
            # Imported here: the generator lives with the local gateway, whose package pulls in Starlette.
            from stratus.local.gateway.openapi import openapi_document

            self._openapi = openapi_document(self.resource, server_url=self._url)
        return self._openapi

    def document(self, path: str) -> tuple[int, Any, bytes]:
        """Locally, the gateway's ``/openapi.json`` and ``/docs`` responses; on AWS there is no such page."""
        raise NotOnAws(
            f"http_api {self.resource.name!r}: {path} is a page of the local gateway; on AWS, API Gateway serves "
            "the API (call openapi() for its document, or export it from API Gateway)"
        )

    def __repr__(self) -> str:
        return f"<AwsHttpApi {self._url}>"
