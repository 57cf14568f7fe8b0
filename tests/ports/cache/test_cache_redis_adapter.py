"""What is particular to the Redis adapter: key layout, the server-side expiry net, and errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from stratus import App
from stratus.local.cloud import SERVER_ADAPTERS
from stratus.resources.cache import CacheUnavailable
from stratus.servers import redis as redis_adapter
from stratus.testing import local

REDIS = {"cache": SERVER_ADAPTERS["cache"]["redis"]}


@pytest.mark.redis
def test_keys_are_prefixed_and_carry_a_real_expiry_as_a_safety_net(harness: Any, adapter: str) -> None:
    if adapter != "redis":
        pytest.skip("Redis adapter only")
    hot = harness.declare("hot")
    harness.start()
    hot.set("with-ttl", 1, ttl=30)
    hot.set("without", 2)
    client = redis.Redis.from_url(redis_adapter.url())
    try:
        prefix = f"stratus:{harness.app.name}-hot:"
        assert sorted(client.scan_iter(match=prefix + "*")) == [
            (prefix + "with-ttl").encode(),
            (prefix + "without").encode(),
        ]
        assert 30_000 < client.pttl(prefix + "with-ttl") <= (30 + redis_adapter.GRACE_SECONDS) * 1000
        assert client.pttl(prefix + "without") == -1
    finally:
        client.close()


def test_an_unreachable_server_is_cache_unavailable_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATUS_REDIS_URL", "redis://user:hunter2@127.0.0.1:1/0")
    app = App(f"cache-{uuid.uuid4().hex[:10]}")
    hot = app.cache("hot")
    with local(app, adapters=REDIS):
        with pytest.raises(
            CacheUnavailable, match=r"cannot reach Redis at redis://user:\*\*\*@127\.0\.0\.1:1/0"
        ) as info:
            hot.set("k", 1)
        assert "hunter2" not in str(info.value)
        assert info.value.code == "ServiceUnavailable"
