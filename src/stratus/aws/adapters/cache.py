"""AwsCache: the cache port on ElastiCache (Redis OSS / Valkey), through the Redis adapter.

ElastiCache runs Redis, so this adapter is :class:`stratus.servers.redis.RedisCache` (the
one the conformance suite runs against a real Redis: hashes with a clock deadline, Lua
scripts for ``add``/``incr``/deletes, a real expiry as a safety net) with its server taken
from the resource's physical identity, ``STRATUS_CACHE_<NAME>`` = the cache's URL
(``rediss://host:port``: TLS, which ElastiCache Serverless requires).

One difference: ElastiCache Serverless runs in cluster mode only, where a script or
command touching several keys must have them all in one hash slot (else ``CROSSSLOT``).
``delete_many``, ``invalidate_prefix`` and ``clear`` therefore group their keys by slot
and issue one script (or ``UNLINK``) per slot; every other operation touches one key. The
keys keep the Redis adapter's layout, so a cache's keys spread over the shards.

Untested on ElastiCache itself: the tests run this adapter against a standalone Redis
(where the grouping is merely more round trips). Whether ``SCAN`` through the serverless
endpoint visits every shard is ElastiCache's to guarantee; prefix invalidation relies on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from redis.crc import key_slot

from stratus.aws.adapters import _context
from stratus.errors import ValidationError
from stratus.servers.redis import RedisCache, _glob_escape, redact

if TYPE_CHECKING:
    from stratus.resources.cache import Cache

_SCHEMES = ("redis://", "rediss://")


def by_slot(names: Iterable[str]) -> list[list[str]]:
    """``names`` grouped by Redis cluster hash slot (order kept within a group)."""
    groups: dict[int, list[str]] = defaultdict(list)
    for name in names:
        groups[key_slot(name.encode())].append(name)
    return list(groups.values())


class AwsCache(RedisCache):
    """One declared cache on ElastiCache, at the URL in ``STRATUS_CACHE_<NAME>``."""

    def __init__(self, resource: Cache, cloud: Any) -> None:
        server = _context.physical_id(resource, cloud)
        if not server.startswith(_SCHEMES):
            raise ValidationError(
                f"cache {resource.name!r}: its physical identity must be a redis:// or rediss:// URL, "
                f"got {redact(server)!r}"
            )
        # A cloud that shares clients (the local one, in tests) closes them itself.
        self._owns_client = not callable(getattr(cloud, "shared", None))
        super().__init__(resource, cloud, server_url=server)

    def _delete_names(self, names: list[str]) -> int:
        now = repr(self.clock.now())
        return sum(int(self._delete(keys=group, args=[now])) for group in by_slot(names))

    def delete_many(self, keys: list[str]) -> int:
        names = [self.prefix + k for k in keys]
        with self._errors():
            return self._delete_names(names)

    def invalidate_prefix(self, prefix: str) -> int:
        pattern = _glob_escape(self.prefix + prefix) + "*"
        with self._errors():
            return sum(self._delete_names(batch) for batch in self._scan(pattern))

    def clear(self) -> None:
        with self._errors():
            for batch in self._scan(_glob_escape(self.prefix) + "*"):
                for group in by_slot(batch):
                    self.client.unlink(*group)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __repr__(self) -> str:
        return f"<AwsCache {self.resource.qualified_name} at {redact(self.url)}>"
