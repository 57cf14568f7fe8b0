"""What an adapter of the cache port implements.

Keys arrive validated and values encoded (:mod:`stratus.resources.cache.codec`); TTLs
are in seconds and measured on the cloud's clock, so expiry is testable on a virtual
clock whatever the adapter. ``incr`` works on the codec's integer form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class CacheBackend(ABC):
    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The live value of ``key``, or None if absent or expired."""

    @abstractmethod
    def set(self, key: str, data: bytes, ttl: float | None) -> None:
        """Store ``data`` (replacing any value and its expiry), expiring ``ttl`` seconds from now."""

    @abstractmethod
    def add(self, key: str, data: bytes, ttl: float | None) -> bool:
        """Store ``data`` only if ``key`` has no live value; whether it did."""

    @abstractmethod
    def delete_many(self, keys: list[str]) -> int:
        """Remove ``keys``; how many had a live value."""

    @abstractmethod
    def incr(self, key: str, by: int, ttl_if_new: float | None) -> int:
        """Atomically add ``by`` (a missing or expired key starts at 0, with ``ttl_if_new``); the new value.

        Raises :class:`~stratus.resources.cache.errors.NotAnInteger`.
        """

    @abstractmethod
    def invalidate_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix``; how many had a live value."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every key of this cache."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
