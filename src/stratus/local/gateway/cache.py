"""Response caching per route, as API Gateway's stage cache: TTL, declared key, LRU-bounded.

Only 200 responses to GET/HEAD are stored. A client's ``Cache-Control: max-age=0`` skips
the lookup and refreshes the entry (API Gateway's invalidation header); ``api.invalidate``
drops entries from code. Entries expire on the cloud's clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from stratus.clock import Clock
from stratus.resources.api import Route


@dataclass(frozen=True)
class CachedResponse:
    expires: float
    raw_path: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


CacheKey = tuple[str, str, tuple[str | None, ...]]


def cache_key(
    route: Route, method: str, path_params: dict[str, str], query: dict[str, str], headers: dict[str, str]
) -> CacheKey:
    assert route.cache is not None
    values: list[str | None] = []
    for k in route.cache.key:
        where, _, name = k.partition(".")
        source = path_params if where == "path" else query if where == "query" else headers
        values.append(source.get(name))
    return (route.key, method, tuple(values))


class ResponseCache:
    """The cached responses of one API (shared LRU bound: the largest route max_entries)."""

    def __init__(self, clock: Clock, max_entries: int) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self.clock.now():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(
        self, key: CacheKey, ttl: int, raw_path: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._entries[key] = CachedResponse(self.clock.now() + ttl, raw_path, status, headers, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, path: str | None) -> int:
        with self._lock:
            if path is None:
                n = len(self._entries)
                self._entries.clear()
                return n
            doomed = [k for k, e in self._entries.items() if e.raw_path == path]
            for k in doomed:
                del self._entries[k]
            return len(doomed)

    def __len__(self) -> int:
        return len(self._entries)
