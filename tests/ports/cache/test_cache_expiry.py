"""TTLs on the cloud's (virtual) clock, LRU eviction, and what a restart keeps."""

from __future__ import annotations

from typing import Any

import pytest


def test_a_value_expires_after_its_ttl(cache: Any, env: Any) -> None:
    cache.set("session", "s1", ttl=60)
    env.advance(59.9)
    assert cache.get("session") == "s1"
    env.advance(0.1)
    assert cache.get("session") is None


def test_set_replaces_the_ttl(cache: Any, env: Any) -> None:
    cache.set("k", 1, ttl=10)
    cache.set("k", 2)  # no TTL any more, as Redis SET without EX
    env.advance(3600)
    assert cache.get("k") == 2
    cache.set("k", 3, ttl=5)
    env.advance(5)
    assert cache.get("k") is None


def test_the_default_ttl_applies_when_none_is_given(harness: Any) -> None:
    short = harness.declare("short", default_ttl=30)
    env = harness.start()
    short.set("a", 1)
    short.set("b", 2, ttl=120)
    assert short.add("c", 3) is True
    env.advance(30)
    assert [short.get("a"), short.get("b"), short.get("c")] == [None, 2, None]
    env.advance(90)
    assert short.get("b") is None


def test_an_expired_key_can_be_added_again_and_is_not_counted(cache: Any, env: Any) -> None:
    cache.set("lock", "old", ttl=1)
    assert cache.add("lock", "new", ttl=100) is False
    env.advance(1)
    assert cache.add("lock", "new", ttl=100) is True
    assert cache.get("lock") == "new"
    cache.set("gone", 1, ttl=1)
    env.advance(2)
    assert cache.delete("gone") is False
    assert cache.delete_many(["gone", "lock"]) == 1


def test_incr_on_an_expired_key_starts_again_from_zero(cache: Any, env: Any) -> None:
    cache.set("hits", 41, ttl=60)
    assert cache.incr("hits") == 42
    env.advance(30)
    assert cache.incr("hits", by=8) == 50  # incr keeps the existing TTL
    env.advance(30)
    assert cache.get("hits") is None
    assert cache.incr("hits") == 1
    env.advance(10**6)
    assert cache.get("hits") == 1  # created by incr without a default TTL: no expiry


def test_a_key_created_by_incr_gets_the_default_ttl(harness: Any) -> None:
    counters = harness.declare("counters", default_ttl=60)
    env = harness.start()
    assert counters.incr("rate:1.2.3.4") == 1
    env.advance(59)
    assert counters.incr("rate:1.2.3.4") == 2
    env.advance(1)
    assert counters.get("rate:1.2.3.4") is None


def test_get_or_load_caches_with_the_ttl(cache: Any, env: Any) -> None:
    loads: list[int] = []

    def loader() -> dict[str, int]:
        loads.append(1)
        return {"n": len(loads)}

    assert cache.get_or_load("p", loader, ttl=10) == {"n": 1}
    assert cache.get_or_load("p", loader, ttl=10) == {"n": 1}
    env.advance(10)
    assert cache.get_or_load("p", loader, ttl=10) == {"n": 2}
    assert len(loads) == 2


@pytest.mark.memory_only
def test_the_memory_adapter_evicts_the_least_recently_used_beyond_max_items(harness: Any) -> None:
    small = harness.declare("small", max_items=3)
    env = harness.start()
    small.set("a", 1)
    small.set("b", 2)
    small.set("c", 3)
    assert small.get("a") == 1  # a is now the most recently used
    small.set("d", 4)  # evicts b
    assert [small.get(k) for k in "abcd"] == [1, None, 3, 4]
    small.delete("d")
    small.set("e", 5, ttl=1)  # e is the most recently used, but expires
    env.advance(1)
    small.set("f", 6)  # the expired e makes room before anything live is evicted
    assert [small.get(k) for k in "acef"] == [1, 3, None, 6]


def test_a_restart_empties_memory_and_keeps_redis(cache: Any, harness: Any, env: Any) -> None:
    cache.set("k", "v", ttl=100)
    cache.incr("n", by=5)
    env.restart()
    if harness.adapter == "memory":
        assert cache.get("k") is None  # an ElastiCache node without persistence restarts empty
        assert cache.incr("n") == 1
    else:
        assert cache.get("k") == "v"
        assert cache.incr("n") == 6
        env.advance(100)
        assert cache.get("k") is None


@pytest.mark.memory_only
def test_many_rewrites_with_ttls_keep_the_newest_values(harness: Any) -> None:
    small = harness.declare("small", max_items=5)
    env = harness.start()
    for round_ in range(300):  # far more deadlines than entries: the heap is compacted
        small.set(f"k{round_ % 5}", round_, ttl=10 + round_)
    env.advance(5)
    small.set("new", "n")  # evicts the least recently used live key, k0
    assert [small.get(f"k{i}") for i in range(5)] == [None, 296, 297, 298, 299]
    assert small.get("new") == "n"
