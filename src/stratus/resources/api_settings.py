"""Settings of an HTTP API and its routes: CORS, throttling and response caching.

Each is a small frozen value validated when it is constructed, so a bad declaration fails
at import with a message naming the setting. The limits are API Gateway's: CORS max age
up to 86400 s, cache TTLs up to 3600 s, throttling in requests per second with a burst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stratus.errors import ValidationError

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.*-]+(:\d{1,5})?$")
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CACHE_KEY = re.compile(r"^(path|query|header)\.[A-Za-z0-9_.+-]+$")


def _strings(label: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError(f"{label} must be a list of strings, got {values!r}")
    return tuple(values)


@dataclass(frozen=True)
class Cors:
    """Cross-origin resource sharing, answered by the gateway as HTTP APIs do.

    ``origins`` are ``scheme://host[:port]`` or ``"*"``; ``methods`` and ``headers`` may be
    ``["*"]``. With ``credentials=True`` the origins must be explicit (AWS rejects ``*``).
    """

    origins: tuple[str, ...] | list[str] = ("*",)
    methods: tuple[str, ...] | list[str] = ("*",)
    headers: tuple[str, ...] | list[str] = ()
    expose_headers: tuple[str, ...] | list[str] = ()
    max_age: int = 0
    credentials: bool = False

    def __post_init__(self) -> None:
        origins = _strings("Cors origins", self.origins)
        for origin in origins:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValidationError(f"Cors origin {origin!r} must be '*' or scheme://host[:port]")
        methods = tuple(m.upper() for m in _strings("Cors methods", self.methods))
        for method in methods:
            if method != "*" and method not in HTTP_METHODS:
                raise ValidationError(f"Cors method {method!r} is not an HTTP method")
        headers = tuple(h.lower() for h in _strings("Cors headers", self.headers))
        expose = tuple(h.lower() for h in _strings("Cors expose_headers", self.expose_headers))
        for header in headers + expose:
            if header != "*" and not _HEADER.match(header):
                raise ValidationError(f"Cors header {header!r} is not a valid header name")
        if isinstance(self.max_age, bool) or not isinstance(self.max_age, int) or not 0 <= self.max_age <= 86400:
            raise ValidationError(f"Cors max_age must be an integer from 0 to 86400, got {self.max_age!r}")
        if not isinstance(self.credentials, bool):
            raise ValidationError("Cors credentials must be a bool")
        if self.credentials and "*" in origins:
            raise ValidationError("Cors credentials=True needs explicit origins, not '*'")
        object.__setattr__(self, "origins", origins)
        object.__setattr__(self, "methods", methods)
        object.__setattr__(self, "headers", headers)
        object.__setattr__(self, "expose_headers", expose)

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def allows_method(self, method: str) -> bool:
        return "*" in self.methods or method.upper() in self.methods

    def settings(self) -> dict[str, Any]:
        return {
            "origins": list(self.origins),
            "methods": list(self.methods),
            "headers": list(self.headers),
            "expose_headers": list(self.expose_headers),
            "max_age": self.max_age,
            "credentials": self.credentials,
        }


@dataclass(frozen=True)
class Throttle:
    """A token bucket: ``rate`` requests per second on average, ``burst`` at once.

    ``client_rate``/``client_burst`` add a bucket per client (the ``x-api-key`` header when
    present, else the source IP), within the route's bucket.
    """

    rate: float
    burst: int
    client_rate: float | None = None
    client_burst: int | None = None

    def __post_init__(self) -> None:
        _positive("Throttle rate", self.rate)
        _positive("Throttle burst", self.burst, integer=True)
        if (self.client_rate is None) != (self.client_burst is None):
            raise ValidationError("Throttle client_rate and client_burst go together")
        if self.client_rate is not None:
            _positive("Throttle client_rate", self.client_rate)
            _positive("Throttle client_burst", self.client_burst, integer=True)

    def settings(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "burst": self.burst,
            "client_rate": self.client_rate,
            "client_burst": self.client_burst,
        }


def _positive(label: str, value: object, *, integer: bool = False) -> None:
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:  # type: ignore[operator]
        raise ValidationError(f"{label} must be a positive {'integer' if integer else 'number'}, got {value!r}")


@dataclass(frozen=True)
class RouteCache:
    """Response caching for a GET/HEAD route: ``ttl`` seconds, keyed by the named parameters.

    ``key`` entries are ``path.<name>``, ``query.<name>`` or ``header.<name>``; the method and
    route are always part of the key. ``max_entries`` bounds the route's memory (LRU).
    """

    ttl: int = 300
    key: tuple[str, ...] | list[str] = field(default_factory=tuple)
    max_entries: int = 1000

    def __post_init__(self) -> None:
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int) or not 0 <= self.ttl <= 3600:
            raise ValidationError(f"RouteCache ttl must be an integer from 0 to 3600 seconds, got {self.ttl!r}")
        keys = _strings("RouteCache key", self.key)
        for k in keys:
            if not _CACHE_KEY.match(k):
                raise ValidationError(f"RouteCache key {k!r} must be path.<name>, query.<name> or header.<name>")
        keys = tuple(k.lower() if k.startswith("header.") else k for k in keys)
        _positive("RouteCache max_entries", self.max_entries, integer=True)
        object.__setattr__(self, "key", keys)

    def settings(self) -> dict[str, Any]:
        return {"ttl": self.ttl, "key": list(self.key), "max_entries": self.max_entries}
