"""The queue port's conformance fixtures: each test runs once per adapter.

A test declares its queues on ``harness.app``, then calls ``harness.start()``; the
harness binds them to the adapter under test. Time moves only through
``harness.advance`` (the local adapter's virtual clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.queue import Queue
from stratus.testing import LocalEnv

ADAPTERS = ["local"]


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.app = App("qtest")
        self._stack = ExitStack()
        self._env: LocalEnv | None = None

    def queue(self, name: str, **settings: Any) -> Queue:
        return self.app.queue(name, **settings)

    def start(self) -> LocalEnv:
        self._env = self._stack.enter_context(stratus.testing.local(self.app))
        return self._env

    @property
    def env(self) -> LocalEnv:
        assert self._env is not None, "call harness.start() first"
        return self._env

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
def queue(harness: Harness) -> Queue:
    """A bound standard queue with the default settings."""
    q = harness.queue("orders")
    harness.start()
    return q


@pytest.fixture
def fifo(harness: Harness) -> Queue:
    """A bound FIFO queue (explicit deduplication ids)."""
    q = harness.queue("orders.fifo", fifo=True)
    harness.start()
    return q
