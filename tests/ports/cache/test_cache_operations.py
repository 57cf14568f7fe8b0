"""Counters, read-through loading and prefix invalidation, including under threads."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from stratus import ValidationError
from stratus.resources.cache import NotAnInteger


def test_incr_starts_at_zero_and_adds(cache: Any) -> None:
    assert cache.incr("n") == 1
    assert cache.incr("n", by=10) == 11
    assert cache.incr("n", by=-20) == -9
    assert cache.get("n") == -9
    cache.set("m", 7)
    assert cache.incr("m") == 8


def test_incr_on_a_non_integer_is_refused_and_changes_nothing(cache: Any) -> None:
    for value in ("7", 1.5, Decimal("1"), [1], True):
        cache.set("v", value)
        with pytest.raises(NotAnInteger, match="value of key 'v' is not an integer"):
            cache.incr("v")
        assert cache.get("v") == value


def test_incr_overflow_is_refused(cache: Any) -> None:
    cache.set("n", 2**63 - 1)
    with pytest.raises(NotAnInteger, match="overflow"):
        cache.incr("n")
    assert cache.get("n") == 2**63 - 1
    with pytest.raises(ValidationError, match="by must be a 64-bit integer"):
        cache.incr("n", by=2**63)
    with pytest.raises(ValidationError, match="by must be a 64-bit integer"):
        cache.incr("n", by=1.0)


def test_incr_is_atomic_under_threads(cache: Any) -> None:
    start = threading.Barrier(8)
    seen: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        mine = [cache.incr("hits") for _ in range(100)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get("hits") == 800
    assert sorted(seen) == list(range(1, 801))  # every caller saw a distinct value


class MissCounter:
    """Wraps a bound backend to let a test wait until readers have missed."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.misses = 0
        self.changed = threading.Condition()

    def get(self, key: str) -> Any:
        data = self._backend.get(key)
        if data is None:
            with self.changed:
                self.misses += 1
                self.changed.notify_all()
        return data

    def wait_for_misses(self, n: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.misses >= n, timeout=10)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def test_concurrent_misses_of_one_key_call_the_loader_once(cache: Any) -> None:
    counter = MissCounter(cache.backend)
    cache.bind(counter)
    calls: list[int] = []
    release = threading.Event()

    def slow_loader() -> dict[str, str]:
        calls.append(1)
        release.wait(10)
        return {"profile": "ann"}

    results: list[Any] = []

    def reader() -> None:
        results.append(cache.get_or_load("user:1", slow_loader))

    readers = [threading.Thread(target=reader) for _ in range(6)]
    for t in readers:
        t.start()
    # Every reader has missed (the leader twice: before and after taking the lead) while
    # the loader is still running.
    assert counter.wait_for_misses(7)
    release.set()
    for t in readers:
        t.join()
    assert calls == [1]
    assert results == [{"profile": "ann"}] * 6
    assert cache.get("user:1") == {"profile": "ann"}


def test_a_failing_loader_fails_every_waiter_and_caches_nothing(cache: Any) -> None:
    counter = MissCounter(cache.backend)
    cache.bind(counter)
    release = threading.Event()
    calls: list[int] = []

    def failing() -> Any:
        calls.append(1)
        release.wait(10)
        raise LookupError("no such user")

    errors: list[BaseException] = []

    def reader() -> None:
        try:
            cache.get_or_load("user:2", failing)
        except LookupError as e:
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    assert counter.wait_for_misses(4)
    release.set()
    for t in readers:
        t.join()
    assert calls == [1]
    assert [str(e) for e in errors] == ["no such user"] * 3
    assert cache.get("user:2") is None
    assert cache.get_or_load("user:2", lambda: "found") == "found"  # the next miss loads again


def test_a_loader_returning_none_is_not_cached(cache: Any) -> None:
    calls: list[int] = []

    def nothing() -> None:
        calls.append(1)

    assert cache.get_or_load("k", nothing) is None
    assert cache.get_or_load("k", nothing) is None
    assert calls == [1, 1]


def test_invalidate_prefix_removes_only_matching_live_keys(cache: Any, env: Any) -> None:
    for key in ("user:1:profile", "user:1:feed", "user:10:profile", "user:2:profile", "users"):
        cache.set(key, key)
    cache.set("user:1:old", 1, ttl=1)
    env.advance(1)
    assert cache.invalidate_prefix("user:1:") == 2
    assert cache.get("user:1:profile") is None
    assert cache.get("user:10:profile") == "user:10:profile"
    assert cache.invalidate_prefix("user:") == 2
    assert cache.get("users") == "users"
    assert cache.invalidate_prefix("nothing") == 0


def test_glob_characters_in_a_prefix_are_literal(cache: Any) -> None:
    cache.set("a*b:1", 1)
    cache.set("axb:1", 2)
    cache.set("a[x]b", 3)
    cache.set("a?c", 4)
    assert cache.invalidate_prefix("a*") == 1
    assert cache.invalidate_prefix("a[") == 1
    assert cache.invalidate_prefix("a?") == 1
    assert cache.get("axb:1") == 2


def test_clear_empties_only_this_cache(harness: Any) -> None:
    one = harness.declare("one")
    two = harness.declare("two")
    harness.start()
    one.set("k", 1)
    two.set("k", 2)
    one.clear()
    assert one.get("k") is None
    assert two.get("k") == 2
