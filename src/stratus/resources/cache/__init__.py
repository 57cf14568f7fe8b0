"""The cache port (ElastiCache for Redis): a shared, expiring key-value cache in front of slower stores.

    hot = app.cache("hot", max_items=10_000, default_ttl=300)

    profile = hot.get_or_load(f"user:{uid}", lambda: users.get({"id": uid}), ttl=60)
    hot.incr(f"rate:{ip}")                 # atomic counter
    hot.invalidate_prefix(f"user:{uid}")   # after a write

Semantics follow Redis: ``add`` is ``SET NX``, ``incr`` is ``INCRBY`` (a missing key
starts at 0; 64-bit; a non-integer value is an error), a TTL is counted from the
write that sets it and ``set`` replaces the value and its TTL, while ``incr`` keeps an
existing key's TTL. Expiry is measured on the cloud's clock on every adapter.

Keys are non-empty strings of at most 250 UTF-8 bytes (memcached's limit, so keys
port to either ElastiCache engine). Values are JSON-compatible data plus ``Decimal``
and ``bytes`` (see :mod:`stratus.resources.cache.codec`), at most ``max_value_bytes``
encoded (1 MiB by default, memcached's item size). ``None`` cannot be stored: ``get``
returns None for a miss. A cache is a cache: the in-memory adapter evicts the least
recently used key beyond ``max_items`` and starts empty after a restart, as an
ElastiCache node without persistence does (Redis keeps values across a client restart).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.base import Resource
from stratus.resources.cache import codec
from stratus.resources.cache.backend import CacheBackend
from stratus.resources.cache.errors import CacheUnavailable, NotAnInteger, ValueTooLarge

if TYPE_CHECKING:
    from stratus.app import App

__all__ = ["Cache", "CacheBackend", "CacheUnavailable", "NotAnInteger", "ValueTooLarge"]

MAX_KEY_BYTES = 250
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024


class _Flight:
    """One in-progress load of a key that other callers wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.data: bytes | None = None
        self.error: BaseException | None = None


class Cache(Resource[CacheBackend]):
    """A key-value cache (ElastiCache Redis on AWS; in memory or Redis locally)."""

    kind = "cache"

    def __init__(
        self,
        app: App,
        name: str,
        *,
        max_items: int = 10_000,
        default_ttl: float | None = None,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
    ) -> None:
        super().__init__(app, name)
        if type(max_items) is not int or max_items < 1:
            raise ValidationError(f"cache {name!r}: max_items must be a positive integer, got {max_items!r}")
        if type(max_value_bytes) is not int or max_value_bytes < 1:
            raise ValidationError(
                f"cache {name!r}: max_value_bytes must be a positive integer, got {max_value_bytes!r}"
            )
        self.max_items = max_items
        self.default_ttl = _check_ttl(default_ttl, "default_ttl")
        self.max_value_bytes = max_value_bytes
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        return {"max_items": self.max_items, "default_ttl": self.default_ttl, "max_value_bytes": self.max_value_bytes}

    def get(self, key: str) -> Any:
        """The value of ``key``, or None if it is absent or expired."""
        data = self.backend.get(_check_key(key))
        return None if data is None else codec.decode(data)

    def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store ``value``, replacing any previous value and TTL; it expires ``ttl`` (or ``default_ttl``) seconds on."""
        key = _check_key(key)
        self.backend.set(key, self._encode(key, value), self._ttl(ttl))

    def add(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` only if ``key`` has no live value (``SET NX``); whether it was stored."""
        key = _check_key(key)
        return self.backend.add(key, self._encode(key, value), self._ttl(ttl))

    def delete(self, key: str) -> bool:
        """Remove ``key``; whether it had a live value."""
        return self.backend.delete_many([_check_key(key)]) == 1

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove every key in ``keys``; how many had a live value."""
        if isinstance(keys, str):
            raise ValidationError("delete_many takes a list of keys, not one str")
        checked = list(dict.fromkeys(_check_key(k) for k in keys))
        return self.backend.delete_many(checked) if checked else 0

    def incr(self, key: str, by: int = 1) -> int:
        """Atomically add ``by`` to the integer at ``key`` and return the result (a missing key starts at 0)."""
        key = _check_key(key)
        if type(by) is not int or not codec.INT64_MIN <= by <= codec.INT64_MAX:
            raise ValidationError(f"incr of key {key!r}: by must be a 64-bit integer, got {by!r}")
        return self.backend.incr(key, by, self.default_ttl)

    def get_or_load(self, key: str, loader: Callable[[], Any], *, ttl: float | None = None) -> Any:
        """The cached value of ``key``, or ``loader()``'s result, cached (read-through).

        Concurrent misses of one key in this process call ``loader`` once; the others
        wait for its result (or its exception). A loader returning None is not cached.
        """
        key = _check_key(key)
        ttl = self._ttl(ttl)
        data = self.backend.get(key)
        if data is not None:
            return codec.decode(data)
        with self._flights_lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return None if flight.data is None else codec.decode(flight.data)
        try:
            data = self.backend.get(key)  # a load that finished just before we led
            if data is None:
                value = loader()
                if value is not None:
                    data = self._encode(key, value)
                    self.backend.set(key, data, ttl)
            flight.data = data
            return None if data is None else codec.decode(data)
        except BaseException as e:
            flight.error = e
            raise
        finally:
            with self._flights_lock:
                del self._flights[key]
            flight.done.set()

    def invalidate_prefix(self, prefix: str) -> int:
        """Remove every key that starts with ``prefix``; how many had a live value."""
        if not isinstance(prefix, str):
            raise ValidationError(f"prefix must be a str, got {type(prefix).__name__}")
        if len(prefix.encode()) > MAX_KEY_BYTES:
            raise ValidationError(f"prefix is longer than the {MAX_KEY_BYTES}-byte key limit")
        return self.backend.invalidate_prefix(prefix)

    def clear(self) -> None:
        """Remove every key of this cache."""
        self.backend.clear()

    def _encode(self, key: str, value: Any) -> bytes:
        data = codec.encode(key, value)
        if len(data) > self.max_value_bytes:
            raise ValueTooLarge(
                f"value for key {key!r} is {len(data)} bytes encoded, over this cache's "
                f"{self.max_value_bytes}-byte limit (max_value_bytes)"
            )
        return data

    def _ttl(self, ttl: float | None) -> float | None:
        return self.default_ttl if ttl is None else _check_ttl(ttl, "ttl")


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise ValidationError(f"cache key must be a non-empty str, got {key!r}")
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise ValidationError(f"cache key {key[:40]!r}... is {size} bytes; the limit is {MAX_KEY_BYTES} UTF-8 bytes")
    return key


def _check_ttl(ttl: object, setting: str) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < 10**9:
        raise ValidationError(f"{setting} must be a positive number of seconds (below 10**9), got {ttl!r}")
    return float(ttl)
