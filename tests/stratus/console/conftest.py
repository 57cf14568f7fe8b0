"""Fixtures: the sample system on a virtual clock, with the console mounted on its gateway."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))

import console_sample
from console_support import LOCAL, REMOTE, mounted

from stratus.local import userpool as local_userpool
from stratus.testing import LocalEnv, local


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        local_userpool, "HASHING", local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def env() -> Iterator[LocalEnv]:
    with local(console_sample.app) as env:
        yield env


@pytest.fixture
def client(env: LocalEnv) -> TestClient:
    """A browser on this machine (loopback peer, Host: 127.0.0.1)."""
    return TestClient(mounted(env), base_url="http://127.0.0.1:8000", client=LOCAL)


@pytest.fixture
def remote(env: LocalEnv) -> TestClient:
    """A browser on another machine."""
    return TestClient(mounted(env), base_url="http://192.0.2.1:8000", client=REMOTE)
