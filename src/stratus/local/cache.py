"""The cache port in process memory: a bounded LRU map with TTLs on the cloud's clock.

Why by hand: ``functools.lru_cache`` caches function results, not a keyed store with
per-key TTLs, add-if-absent and atomic counters, and ``cachetools`` is not a
dependency; an ``OrderedDict`` behind one lock plus a heap of deadlines is the whole
structure. Expired entries are dropped when touched and, when the map is full, in
deadline order (the heap); beyond ``max_items`` the least recently used live key is
evicted, as Redis's ``allkeys-lru`` policy does. Nothing is persisted: a restart starts empty,
like an ElastiCache node without persistence.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from stratus.resources.cache import Cache, CacheBackend, codec
from stratus.resources.cache.errors import NotAnInteger

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud


class MemoryCache(CacheBackend):
    def __init__(self, resource: Cache, cloud: LocalCloud) -> None:
        self.resource = resource
        self.clock = cloud.clock
        self.max_items = resource.max_items
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        #: (deadline, key) of every entry stored with a TTL; stale pairs are skipped lazily.
        self._deadlines: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> tuple[bytes, float | None] | None:
        """The entry of ``key`` if it has not expired (an expired one is dropped); lock held."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= now:
            del self._entries[key]
            return None
        return entry

    def _store(self, key: str, data: bytes, deadline: float | None, now: float) -> None:
        self._entries[key] = (data, deadline)
        self._entries.move_to_end(key)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, key))
            if len(self._deadlines) > 2 * len(self._entries) + 64:
                self._deadlines = [(d, k) for k, (_, d) in self._entries.items() if d is not None]
                heapq.heapify(self._deadlines)
        if len(self._entries) > self.max_items:
            while self._deadlines and self._deadlines[0][0] <= now:
                due, k = heapq.heappop(self._deadlines)
                entry = self._entries.get(k)
                if entry is not None and entry[1] == due:
                    del self._entries[k]
            while len(self._entries) > self.max_items:
                self._entries.popitem(last=False)

    def _deadline(self, ttl: float | None, now: float) -> float | None:
        return None if ttl is None else now + ttl

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._live(key, self.clock.now())
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def set(self, key: str, data: bytes, ttl: float | None) -> None:
        with self._lock:
            now = self.clock.now()
            self._store(key, data, self._deadline(ttl, now), now)

    def add(self, key: str, data: bytes, ttl: float | None) -> bool:
        with self._lock:
            now = self.clock.now()
            if self._live(key, now) is not None:
                return False
            self._store(key, data, self._deadline(ttl, now), now)
            return True

    def delete_many(self, keys: list[str]) -> int:
        with self._lock:
            now = self.clock.now()
            found = 0
            for key in keys:
                if self._live(key, now) is not None:
                    del self._entries[key]
                    found += 1
            return found

    def incr(self, key: str, by: int, ttl_if_new: float | None) -> int:
        with self._lock:
            now = self.clock.now()
            entry = self._live(key, now)
            if entry is None:
                value, deadline = by, self._deadline(ttl_if_new, now)
            else:
                if not codec.is_integer(entry[0]):
                    raise NotAnInteger(f"value of key {key!r} is not an integer")
                value, deadline = int(entry[0]) + by, entry[1]
                if not codec.INT64_MIN <= value <= codec.INT64_MAX:
                    raise NotAnInteger(f"incr of key {key!r} by {by} would overflow a 64-bit integer")
            self._store(key, str(value).encode("ascii"), deadline, now)
            return value

    def invalidate_prefix(self, prefix: str) -> int:
        with self._lock:
            now = self.clock.now()
            found = 0
            for key in [k for k in self._entries if k.startswith(prefix)]:
                if self._live(key, now) is not None:
                    del self._entries[key]
                    found += 1
            return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._deadlines.clear()
