"""The stream port's conformance fixtures: each test runs once per adapter.

A test declares its streams on ``harness.app``, then calls ``harness.start()``; time
moves only through ``harness.advance`` (the local adapter's virtual clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.stream import Stream
from stratus.testing import LocalEnv

ADAPTERS = ["local"]


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.app = App("stest")
        self._stack = ExitStack()
        self._env: LocalEnv | None = None

    def stream(self, name: str, **settings: Any) -> Stream:
        return self.app.stream(name, **settings)

    def start(self) -> LocalEnv:
        self._env = self._stack.enter_context(stratus.testing.local(self.app))
        return self._env

    @property
    def env(self) -> LocalEnv:
        assert self._env is not None, "call harness.start() first"
        return self._env

    def now(self) -> float:
        return self.env.clock.now()

    def advance(self, seconds: float) -> None:
        if self.adapter != "local":
            pytest.skip("moves time: needs the local adapter's virtual clock")
        self.env.advance(seconds)

    def restart(self) -> None:
        if self.adapter != "local":
            pytest.skip("restarts the process state: local adapter only")
        self.env.restart()

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = Harness(request.param)
    yield h
    h.close()


@pytest.fixture
def stream(harness: Harness) -> Stream:
    """A bound one-shard stream."""
    s = harness.stream("events")
    harness.start()
    return s


@pytest.fixture
def four(harness: Harness) -> Stream:
    """A bound four-shard stream."""
    s = harness.stream("sharded", shards=4)
    harness.start()
    return s


def _read_all(s: Stream, shard_id: str, iterator_type: str = "TRIM_HORIZON", **kwargs: Any) -> list[Any]:
    """Every record from an iterator to the end of what is there now."""
    iterator = s.get_shard_iterator(shard_id, iterator_type, **kwargs)  # type: ignore[arg-type]
    records = []
    while iterator:
        result = s.get_records(iterator)
        records += result.records
        if not result.records:
            break
        iterator = result.next_shard_iterator
    return records


@pytest.fixture
def read_all() -> Any:
    """``read_all(stream, shard_id, iterator_type="TRIM_HORIZON", **kwargs)``: every record from there on."""
    return _read_all
