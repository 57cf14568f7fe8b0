"""The secrets port's fixture: bound :class:`~stratus.resources.secrets.Secret` handles per adapter.

Tests use only the handles' public API plus ``env.advance`` and ``env.restart``, so the
same suite can run on moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.secrets import RotationEvent, RotationHandler, RotationSchedule, Secret
from stratus.testing import LocalEnv

#: Adapters under test; an ``aws`` one (on moto) joins later and must implement the same env methods.
ADAPTERS = ["local"]


class RecordingRotation(RotationHandler):
    """A handler that records the steps it ran and can be told to fail at one."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []
        self.fail_at: str | None = None
        self.external: dict[str, Any] = {}

    def __call__(self, event: RotationEvent) -> None:
        self.steps.append((event.step, event.token))
        if event.step == self.fail_at:
            raise ConnectionError("database unreachable")
        super().__call__(event)

    def set_secret(self, event: RotationEvent) -> None:
        # The pending value is readable while the rotation runs.
        self.external["password"] = event.secret.get(version_id=event.token, version_stage="AWSPENDING").json()[
            "password"
        ]


@dataclass
class SecretsEnv:
    app: App
    secret: Secret
    rotating: Secret
    default_rotating: Secret
    handler: RecordingRotation
    local: LocalEnv
    extra: dict[str, Any] = field(default_factory=dict)

    def advance(self, seconds: float) -> None:
        self.local.advance(seconds)

    def restart(self) -> None:
        self.local.restart()


@pytest.fixture(params=ADAPTERS)
def sm(request: pytest.FixtureRequest) -> Iterator[SecretsEnv]:
    handler = RecordingRotation()
    app = App("payments")
    secret = app.secret("payment-provider", description="PSP API key")
    rotating = app.secret("db-credentials", rotation=RotationSchedule(every_days=30, handler=handler))
    default_rotating = app.secret("webhook-token", rotation=RotationSchedule(every_days=7))
    with stratus.testing.local(app) as env:
        yield SecretsEnv(app, secret, rotating, default_rotating, handler, env)
