"""The local backend of an HttpApi: its compiled routes, throttle buckets and response cache.

Constructed by :class:`~stratus.local.cloud.LocalCloud` when the App is bound; it registers
the API with the cloud's :class:`~stratus.local.gateway.hub.GatewayHub`, so every gateway
app of the cloud serves it under its prefix.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

from stratus.errors import ValidationError
from stratus.local.gateway.cache import ResponseCache
from stratus.local.gateway.docs import docs_page
from stratus.local.gateway.hub import hub_of
from stratus.local.gateway.matching import RouteTable
from stratus.local.gateway.openapi import openapi_document
from stratus.local.gateway.responses import Headers
from stratus.local.gateway.throttle import Throttler
from stratus.resources.api import HttpApi, HttpApiBackend

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud


def api_id(qualified_name: str) -> str:
    """A stable 10-character id, shaped like API Gateway's."""
    return base64.b32encode(hashlib.sha1(qualified_name.encode()).digest()).decode().lower()[:10]


class LocalHttpApi(HttpApiBackend):
    def __init__(self, resource: HttpApi, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.hub = hub_of(cloud)
        self.prefix = resource.prefix
        other = self.hub.http_apis.get(self.prefix)
        if other is not None and other.resource is not resource:
            raise ValidationError(
                f"http_api {resource.qualified_name!r}: prefix {self.prefix!r} is already served for "
                f"{other.resource.qualified_name!r}; give one of them another prefix"
            )
        self.api_id = api_id(resource.qualified_name)
        self.routes = RouteTable(resource.routes)
        self.throttler = Throttler(cloud.clock)
        sizes = [r.cache.max_entries for r in resource.routes if r.cache is not None]
        self.cache = ResponseCache(cloud.clock, max(sizes) if sizes else 1000)
        self._documents: dict[str, tuple[int, Headers, bytes]] = {}
        self.hub.http_apis[self.prefix] = self

    @property
    def url(self) -> str:
        return self.cloud.base_url.rstrip("/") + self.prefix

    def invalidate(self, path: str | None = None) -> int:
        return self.cache.invalidate(path)

    def openapi(self) -> dict[str, object]:
        return openapi_document(self.resource, server_url=self.url)

    def document(self, path: str) -> tuple[int, Headers, bytes]:
        """``/openapi.json`` or ``/docs`` (built once)."""
        cached = self._documents.get(path)
        if cached is None:
            if path == "/openapi.json":
                body = json.dumps(self.openapi(), separators=(",", ":")).encode()
                cached = (200, [(b"content-type", b"application/json")], body)
            else:
                html = docs_page(self.resource.name, self.prefix + "/openapi.json")
                cached = (200, [(b"content-type", b"text/html; charset=utf-8")], html.encode())
            self._documents[path] = cached
        status, headers, body = cached
        return status, list(headers), body

    def close(self) -> None:
        if self.hub.http_apis.get(self.prefix) is self:
            del self.hub.http_apis[self.prefix]
