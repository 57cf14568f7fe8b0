"""The cache port's fixture: a bound Cache on each adapter (in memory, Redis, AWS) on a virtual clock.

``aws`` is :class:`stratus.aws.adapters.cache.AwsCache` on the same Redis, its URL read from
``STRATUS_CACHE_<NAME>`` as on AWS (ElastiCache's URL there).
Redis variants are skipped, with the reason, only when the server cannot be reached.
Every test gets a unique app name, so its keys cannot collide with another test's, and
its keys are deleted afterwards.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from stratus import App
from stratus.local.cloud import SERVER_ADAPTERS
from stratus.resources.cache import Cache
from stratus.servers import redis as redis_adapter
from stratus.testing import LocalEnv, local


@functools.cache
def redis_unreachable() -> str | None:
    try:
        client = redis.Redis.from_url(redis_adapter.url(), socket_connect_timeout=3)
        client.ping()
        client.close()
    except redis.RedisError as e:
        return f"Redis at {redis_adapter.redact(redis_adapter.url())} is unreachable: {e}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "memory_only: behaviour of the in-memory adapter only (skipped on Redis)")


AWS_CACHE = "stratus.aws.adapters.cache:AwsCache"


@pytest.fixture(
    params=["memory", pytest.param("redis", marks=pytest.mark.redis), pytest.param("aws", marks=pytest.mark.redis)]
)
def adapter(request: pytest.FixtureRequest) -> str:
    if request.param in ("redis", "aws"):
        if request.node.get_closest_marker("memory_only"):
            pytest.skip("in-memory adapter behaviour: on Redis, eviction follows the server's maxmemory policy")
        if reason := redis_unreachable():
            pytest.skip(reason)
    return str(request.param)


class CacheHarness:
    """Declares caches on one unique app and binds them on one adapter."""

    def __init__(self, adapter: str, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.adapter = adapter
        self.app = App(f"cache-{uuid.uuid4().hex[:10]}")
        self.env: LocalEnv | None = None
        self._local: Any = None
        self._monkeypatch = monkeypatch

    def declare(self, name: str = "hot", **settings: Any) -> Cache:
        cache = self.app.cache(name, **settings)
        if self.adapter == "aws":
            from stratus.aws.adapters._context import env_variable

            assert self._monkeypatch is not None
            self._monkeypatch.setenv(env_variable(cache), redis_adapter.url())
        return cache

    def start(self) -> LocalEnv:
        path = AWS_CACHE if self.adapter == "aws" else SERVER_ADAPTERS["cache"][self.adapter]
        self._local = local(self.app, adapters={"cache": path})
        self.env = self._local.__enter__()
        return self.env

    def close(self) -> None:
        if self._local is not None:
            self._local.__exit__(None, None, None)
        if self.adapter in ("redis", "aws"):
            client = redis.Redis.from_url(redis_adapter.url())
            for name in client.scan_iter(match=f"stratus:{self.app.name}-*"):
                client.delete(name)
            client.close()


@pytest.fixture
def harness(adapter: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CacheHarness]:
    h = CacheHarness(adapter, monkeypatch)
    yield h
    h.close()


@pytest.fixture
def cache(harness: CacheHarness) -> Cache:
    """A bound cache named ``hot`` with default settings."""
    c = harness.declare()
    harness.start()
    return c


@pytest.fixture
def env(cache: Cache, harness: CacheHarness) -> LocalEnv:
    assert harness.env is not None
    return harness.env
