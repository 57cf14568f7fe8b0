"""CORS as HTTP APIs answer it: preflights by the gateway, headers added to allowed responses.

API Gateway answers a preflight ``OPTIONS`` itself (whatever the routes) and, for an
allowed origin, sets the ``Access-Control-*`` headers on every response, replacing those
the integration set.
"""

from __future__ import annotations

from stratus.resources.api_settings import Cors


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def preflight_headers(cors: Cors, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The headers of the 204 answer to a preflight (none when the origin or method is not allowed)."""
    origin = headers["origin"]
    requested = headers.get("access-control-request-method", "")
    if not cors.allows_origin(origin) or not cors.allows_method(requested):
        return []
    out = [("access-control-allow-origin", _origin_value(cors, origin))]
    methods = ",".join(cors.methods) if "*" not in cors.methods else "*"
    out.append(("access-control-allow-methods", methods))
    if cors.headers:
        allowed = headers.get("access-control-request-headers", "") if "*" in cors.headers else ",".join(cors.headers)
        if allowed:
            out.append(("access-control-allow-headers", allowed))
    if cors.max_age:
        out.append(("access-control-max-age", str(cors.max_age)))
    if cors.credentials:
        out.append(("access-control-allow-credentials", "true"))
    if "*" not in cors.origins:
        out.append(("vary", "Origin"))
    return out


def response_headers(cors: Cors, origin: str | None) -> list[tuple[str, str]]:
    """Headers to add to an ordinary response for ``origin``."""
    if origin is None or not cors.allows_origin(origin):
        return []
    out = [("access-control-allow-origin", _origin_value(cors, origin))]
    if cors.credentials:
        out.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        out.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if "*" not in cors.origins:
        out.append(("vary", "Origin"))
    return out


def _origin_value(cors: Cors, origin: str) -> str:
    return "*" if "*" in cors.origins and not cors.credentials else origin
