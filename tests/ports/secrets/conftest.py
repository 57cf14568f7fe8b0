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
ADAPTERS = ["local", "aws"]

#: Tests the aws adapter cannot pass on moto, and why.
AWS_SKIPS: dict[str, str] = {
    "test_get_before_any_value_is_not_found": (
        "moto gap: its message omits 'for staging label: AWSCURRENT' that Secrets Manager gives"
    ),
    "test_at_most_20_labels_per_version": "moto gap: no limit of 20 staging labels per version",
    "test_unknown_version_or_mismatched_stage": (
        "moto gap: a VersionStage not on the VersionId is InvalidRequestException (Secrets Manager: "
        "ResourceNotFoundException)"
    ),
    "test_update_stage_rules": (
        "moto gap: a MoveToVersionId that does not exist is InvalidParameterException where the suite expects "
        "ResourceNotFoundException (to confirm on AWS); every earlier step of the test passes on moto"
    ),
    "test_old_unlabelled_versions_are_pruned_beyond_100": "moto gap: unlabelled versions beyond 100 are not pruned",
}


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
    local: LocalEnv | None
    extra: dict[str, Any] = field(default_factory=dict)

    def advance(self, seconds: float) -> None:
        if self.local is None:
            pytest.skip("moves time: needs the local adapter's virtual clock")
        self.local.advance(seconds)

    def restart(self) -> None:
        if self.local is None:
            pytest.skip("restarts the process state: local adapter only")
        self.local.restart()


@pytest.fixture(params=ADAPTERS)
def sm(request: pytest.FixtureRequest) -> Iterator[SecretsEnv]:
    handler = RecordingRotation()
    app = App("payments")
    secret = app.secret("payment-provider", description="PSP API key")
    rotating = app.secret("db-credentials", rotation=RotationSchedule(every_days=30, handler=handler))
    default_rotating = app.secret("webhook-token", rotation=RotationSchedule(every_days=7))
    if request.param == "aws":
        reason = AWS_SKIPS.get(request.node.name) or AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
        from tests.stratus.aws.adapters.moto_cloud import create_secret, moto_cloud

        from stratus.aws.adapters.secrets import AwsSecret

        with moto_cloud() as cloud:
            for s in (secret, rotating, default_rotating):
                create_secret(cloud, s)
                cloud.bind(s, AwsSecret)
            yield SecretsEnv(app, secret, rotating, default_rotating, handler, None)
        return
    with stratus.testing.local(app) as env:
        yield SecretsEnv(app, secret, rotating, default_rotating, handler, env)
