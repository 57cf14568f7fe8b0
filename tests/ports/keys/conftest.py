"""The keys port's fixture: a bound :class:`~stratus.resources.keys.Key` per adapter.

Tests use only the handle's public API plus ``env.advance`` (time passes) and
``env.restart`` (a new process reopens the state), so the same suite can run on moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import stratus.testing
from stratus import App
from stratus.resources.keys import Key
from stratus.testing import LocalEnv

#: Adapters under test; an ``aws`` one (on moto) joins later and must implement the same env methods.
ADAPTERS = ["local"]


@dataclass
class KeyEnv:
    app: App
    key: Key
    other: Key
    auto: Key
    local: LocalEnv

    def advance(self, seconds: float) -> None:
        self.local.advance(seconds)

    def restart(self) -> None:
        self.local.restart()


@pytest.fixture(params=ADAPTERS)
def kms(request: pytest.FixtureRequest) -> Iterator[KeyEnv]:
    app = App("vault")
    key = app.key("payments", description="card data")
    other = app.key("profiles")
    auto = app.key("rotating", rotation=90)
    with stratus.testing.local(app) as env:
        yield KeyEnv(app, key, other, auto, env)
