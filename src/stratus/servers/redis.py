"""The cache port on Redis (what ElastiCache for Redis runs), with redis-py.

Each key of a cache is a Redis hash ``stratus:<app>-<name>:<key>`` holding the encoded
value (field ``v``) and, when it expires, its deadline on the cloud's clock (field
``d``, epoch seconds). Reads and the read-modify-write operations compare that
deadline with ``clock.now()`` — in Lua scripts, so ``add``, ``incr`` and deletes stay
atomic — which is what lets the same suite run on a virtual clock. A real Redis
expiry, ``ttl`` plus a minute of grace, is set as well so that keys nobody reads
again still leave the server. ``incr`` is ``HINCRBY`` on field ``v``: the codec stores
integers as decimal text, so it is Redis's own 64-bit arithmetic.

The server comes from ``STRATUS_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), or from
the ``server_url`` a subclass passes (:class:`stratus.aws.adapters.cache.AwsCache`); one
client (and connection pool) per URL is shared by the caches of a cloud that offers
``shared`` (a cloud without it gives each cache its own client). Prefix scans
(``invalidate_prefix``, ``clear``) use ``SCAN``, so they are not atomic with respect to
concurrent writes, as on any Redis. (On a Redis *cluster* the multi-key delete script
needs its keys in one slot: this adapter assumes cluster mode disabled, and
:class:`~stratus.aws.adapters.cache.AwsCache`, for ElastiCache Serverless, groups keys by slot.)
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import redis

from stratus.resources.cache import Cache, CacheBackend
from stratus.resources.cache.errors import CacheUnavailable, NotAnInteger

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

T = TypeVar("T")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
#: Real-time slack added to the server-side expiry; the logical expiry is the clock deadline.
GRACE_SECONDS = 60.0
_SCAN_BATCH = 500

# A key is live unless it has a deadline at or before now (ARGV[1]).
_EXPIRE_IF_DUE = """
local function expire_if_due(key, now)
  local d = redis.call('HGET', key, 'd')
  if d and tonumber(d) <= now then
    redis.call('DEL', key)
    return true
  end
  return false
end
"""

_ADD = (
    _EXPIRE_IF_DUE
    + """
local now = tonumber(ARGV[1])
expire_if_due(KEYS[1], now)
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'd', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
"""
)

_INCR = (
    _EXPIRE_IF_DUE
    + """
local now = tonumber(ARGV[1])
expire_if_due(KEYS[1], now)
local fresh = redis.call('EXISTS', KEYS[1]) == 0
local n = redis.pcall('HINCRBY', KEYS[1], 'v', ARGV[2])
if type(n) == 'table' and n.err then return n end
if fresh and ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'd', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return n
"""
)

_DELETE = (
    _EXPIRE_IF_DUE
    + """
local now = tonumber(ARGV[1])
local live = 0
for _, key in ipairs(KEYS) do
  if not expire_if_due(key, now) and redis.call('DEL', key) == 1 then live = live + 1 end
end
return live
"""
)


def url() -> str:
    return os.environ.get("STRATUS_REDIS_URL", DEFAULT_URL)


def key_prefix(qualified_name: str) -> str:
    return f"stratus:{qualified_name}:"


def redact(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisCache(CacheBackend):
    """A :class:`~stratus.resources.cache.Cache` on a Redis server."""

    def __init__(self, resource: Cache, cloud: LocalCloud, *, server_url: str | None = None) -> None:
        self.resource = resource
        self.clock = cloud.clock
        self.url = server_url or url()
        self.prefix = key_prefix(resource.qualified_name)
        shared = getattr(cloud, "shared", None)
        self.client: redis.Redis = shared(f"redis:{self.url}", self._client) if callable(shared) else self._client()
        self._add = self.client.register_script(_ADD)
        self._incr = self.client.register_script(_INCR)
        self._delete = self.client.register_script(_DELETE)

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=30)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise CacheUnavailable(f"cannot reach Redis at {redact(self.url)}: {e}") from e

    def _call(self, fn: Callable[[], T]) -> T:
        with self._errors():
            return fn()

    def _expiry(self, ttl: float | None) -> tuple[str, int]:
        """The deadline on the cloud's clock (as text, '' for none) and the real expiry in ms."""
        if ttl is None:
            return "", 0
        return repr(self.clock.now() + ttl), max(1, math.ceil((ttl + GRACE_SECONDS) * 1000))

    def get(self, key: str) -> bytes | None:
        data, deadline = self._call(lambda: self.client.hmget(self.prefix + key, "v", "d"))
        if data is None or (deadline is not None and float(deadline) <= self.clock.now()):
            return None
        return data if isinstance(data, bytes) else data.encode()

    def set(self, key: str, data: bytes, ttl: float | None) -> None:
        name = self.prefix + key
        deadline, ms = self._expiry(ttl)
        with self._errors(), self.client.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.hset(name, "v", data)
            if deadline:
                pipe.hset(name, "d", deadline)
                pipe.pexpire(name, ms)
            pipe.execute()

    def add(self, key: str, data: bytes, ttl: float | None) -> bool:
        deadline, ms = self._expiry(ttl)
        args: list[bytes | str | int] = [repr(self.clock.now()), data, deadline, ms]
        return bool(self._call(lambda: self._add(keys=[self.prefix + key], args=args)))

    def delete_many(self, keys: list[str]) -> int:
        names = [self.prefix + k for k in keys]
        return int(self._call(lambda: self._delete(keys=names, args=[repr(self.clock.now())])))

    def incr(self, key: str, by: int, ttl_if_new: float | None) -> int:
        deadline, ms = self._expiry(ttl_if_new)
        args: list[bytes | str | int] = [repr(self.clock.now()), by, deadline, ms]
        try:
            return int(self._call(lambda: self._incr(keys=[self.prefix + key], args=args)))
        except redis.ResponseError as e:
            if "overflow" in str(e):
                raise NotAnInteger(f"incr of key {key!r} by {by} would overflow a 64-bit integer") from e
            if "not an integer" in str(e):
                raise NotAnInteger(f"value of key {key!r} is not an integer") from e
            raise

    def _scan(self, pattern: str) -> Iterator[list[str]]:
        batch: list[str] = []
        for name in self.client.scan_iter(match=pattern, count=_SCAN_BATCH):
            batch.append(name.decode() if isinstance(name, bytes) else name)
            if len(batch) >= _SCAN_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def invalidate_prefix(self, prefix: str) -> int:
        pattern = _glob_escape(self.prefix + prefix) + "*"
        with self._errors():
            return sum(int(self._delete(keys=b, args=[repr(self.clock.now())])) for b in self._scan(pattern))

    def clear(self) -> None:
        with self._errors():
            for batch in self._scan(_glob_escape(self.prefix) + "*"):
                self.client.unlink(*batch)
