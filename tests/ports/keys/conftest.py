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
ADAPTERS = ["local", "aws"]

#: Tests the aws adapter cannot pass on moto, and why.
AWS_SKIPS: dict[str, str] = {
    "test_flipping_any_byte_is_detected": (
        "moto gap: a tampered ciphertext is AccessDeniedException (KMS: InvalidCiphertextException)"
    ),
    "test_ciphertext_of_another_key_is_refused": (
        "moto gap: another key's ciphertext is AccessDeniedException (KMS: IncorrectKeyException)"
    ),
    "test_on_demand_rotation_limit": "moto gap: no limit on RotateKeyOnDemand calls",
    "test_automatic_rotation_is_due_by_the_clock": (
        "moves time (virtual clock); moto's GetKeyRotationStatus also omits RotationPeriodInDays"
    ),
    "test_disable_and_enable": "moto gap: a disabled key still encrypts and decrypts",
    "test_deletion_can_be_cancelled_and_comes_back_disabled": (
        "moto gap: a key pending deletion still decrypts; the test also moves time"
    ),
}


@dataclass
class KeyEnv:
    app: App
    key: Key
    other: Key
    auto: Key
    local: LocalEnv | None

    def advance(self, seconds: float) -> None:
        if self.local is None:
            pytest.skip("moves time: needs the local adapter's virtual clock")
        self.local.advance(seconds)

    def restart(self) -> None:
        if self.local is None:
            pytest.skip("restarts the process state: local adapter only")
        self.local.restart()


@pytest.fixture(params=ADAPTERS)
def kms(request: pytest.FixtureRequest) -> Iterator[KeyEnv]:
    app = App("vault")
    key = app.key("payments", description="card data")
    other = app.key("profiles")
    auto = app.key("rotating", rotation=90)
    if request.param == "aws":
        reason = AWS_SKIPS.get(request.node.name) or AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
        from tests.stratus.aws.adapters.moto_cloud import create_key, moto_cloud

        from stratus.aws.adapters.keys import AwsKey

        with moto_cloud() as cloud:
            for k in (key, other, auto):
                create_key(cloud, k)
                cloud.bind(k, AwsKey)
            yield KeyEnv(app, key, other, auto, None)
        return
    with stratus.testing.local(app) as env:
        yield KeyEnv(app, key, other, auto, env)
