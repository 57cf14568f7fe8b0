"""AwsCache on the Redis at 127.0.0.1:6379, named by the cache's physical identity (a Redis URL).

The whole cache port suite also runs on this adapter (``tests/ports/cache``, variant ``aws``);
these tests cover what is particular to it: the URL from the cloud, keys grouped by hash
slot for ElastiCache Serverless's cluster mode, and who closes the client.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.crc import key_slot
from tests.ports.cache.conftest import redis_unreachable

from stratus import App, ValidationError
from stratus.aws.adapters.cache import AwsCache, by_slot
from stratus.clock import VirtualClock
from stratus.resources.cache import Cache, CacheUnavailable
from stratus.servers import redis as redis_adapter


class Cloud:
    """Physical identities and a clock, and no ``shared``: as AwsCloud."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = VirtualClock()

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        return self.url


@pytest.fixture
def server() -> str:
    if reason := redis_unreachable():
        pytest.skip(reason)
    return redis_adapter.url()


@pytest.fixture
def app() -> Iterator[App]:
    app = App(f"awscache-{uuid.uuid4().hex[:10]}")
    yield app
    client = redis.Redis.from_url(redis_adapter.url())
    for name in client.scan_iter(match=f"stratus:{app.name}-*"):
        client.delete(name)
    client.close()


def bound(app: App, cloud: Cloud, name: str = "hot") -> tuple[Cache, AwsCache]:
    cache = app.cache(name)
    backend = AwsCache(cache, cloud)
    cache.bind(backend)
    return cache, backend


def test_by_slot_groups_keys_that_share_a_hash_slot() -> None:
    names = [f"stratus:shop-hot:k{i}" for i in range(50)]
    groups = by_slot(names)
    assert sorted(n for g in groups for n in g) == sorted(names)
    assert all(len({key_slot(n.encode()) for n in g}) == 1 for g in groups)
    assert len(groups) == len({key_slot(n.encode()) for n in names}) > 1


def test_the_cache_runs_on_the_url_of_its_physical_identity(server: str, app: App) -> None:
    cloud = Cloud(server)
    cache, backend = bound(app, cloud)
    assert backend.url == server
    cache.set("user:1", {"name": "Ada"}, ttl=30)
    cache.incr("hits", by=3)
    raw = redis.Redis.from_url(server)
    try:
        assert raw.exists(f"stratus:{app.name}-hot:user:1") == 1
    finally:
        raw.close()
    assert cache.get("user:1") == {"name": "Ada"}
    assert cache.incr("hits") == 4
    cloud.clock.advance(31)  # the cloud's clock decides expiry, as locally
    assert cache.get("user:1") is None


def test_multi_key_deletes_touch_one_hash_slot_per_script(server: str, app: App) -> None:
    cache, backend = bound(app, Cloud(server))
    keys = [f"k{i}" for i in range(40)]
    for k in keys:
        cache.set(k, k)
    calls: list[list[str]] = []
    script = backend._delete

    def recording(keys: list[str], args: list[Any]) -> Any:
        calls.append(list(keys))
        return script(keys=keys, args=args)

    backend._delete = recording
    assert cache.delete_many(keys[:20]) == 20
    assert cache.invalidate_prefix("k3") == 10  # k30..k39 (k3 itself is gone already)
    assert len(calls) > 2
    for group in calls:
        assert len({key_slot(n.encode()) for n in group}) == 1  # no CROSSSLOT on a cluster
    assert [cache.get(k) for k in ("k0", "k19", "k20", "k39")] == [None, None, "k20", None]
    cache.clear()
    assert cache.get("k20") is None


def test_a_url_that_is_not_redis_is_refused_without_its_password(app: App) -> None:
    with pytest.raises(ValidationError, match=r"redis:// or rediss:// URL, got 'https://u:\*\*\*@cache'") as info:
        AwsCache(app.cache("hot"), Cloud("https://u:hunter2@cache"))
    assert "hunter2" not in str(info.value)


def test_an_unreachable_cache_is_unavailable_and_closing_releases_the_client(app: App) -> None:
    cache, backend = bound(app, Cloud("rediss://default:hunter2@127.0.0.1:1"))
    assert "hunter2" not in repr(backend)
    with pytest.raises(CacheUnavailable, match=r"cannot reach Redis at rediss://default:\*\*\*@127\.0\.0\.1:1") as info:
        cache.set("k", 1)
    assert "hunter2" not in str(info.value)
    closed: list[bool] = []
    backend.client.close = lambda: closed.append(True)  # type: ignore[method-assign]
    backend.close()
    assert closed == [True]  # no cloud shares it: the adapter owns its client


def test_bound_through_aws_cloud_from_the_environment(server: str, app: App) -> None:
    from stratus.aws.cloud import AwsCloud

    cache = app.cache("hot")
    with AwsCloud(environ={"STRATUS_CACHE_HOT": server}) as cloud:
        cloud.bind(app)
        cache.set("k", [1, 2])
        assert cache.get("k") == [1, 2]
        client: Any = getattr(cache.backend, "client")  # noqa: B009 - through the deferred adapter
        closed: list[bool] = []
        real_close = client.close

        def close() -> None:
            closed.append(True)
            real_close()

        client.close = close
    assert closed == [True]  # closing the cloud closed the adapter, which owns its client
