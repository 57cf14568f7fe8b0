"""The user pool port's fixture: a bound :class:`~stratus.resources.userpool.UserPool` per adapter.

Codes and temporary passwords are read from the outbox (``<state>/outbox/cognito.jsonl``
locally), the stand-in for the email Cognito would send. Password hashing uses cheap
argon2 parameters here, and only here, so the suite stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import stratus.local.userpool as local_userpool
import stratus.testing
from stratus import App
from stratus.resources.userpool import AppClient, PasswordPolicy, UserPool
from stratus.testing import LocalEnv

#: Adapters under test; an ``aws`` one (on moto) joins later and must implement the same env methods.
ADAPTERS = ["local"]

#: Cheap argon2id parameters: tests only.
FAST_HASHING = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)

PASSWORD = "Correct-Horse1"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_userpool, "HASHING", FAST_HASHING)


@dataclass
class PoolEnv:
    app: App
    pool: UserPool
    by_name: UserPool
    local: LocalEnv

    def advance(self, seconds: float) -> None:
        self.local.advance(seconds)

    def restart(self) -> None:
        self.local.restart()

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        path = self.local.state_dir / "outbox" / "cognito.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [m for m in found if to is None or m["to"] == to]

    def last_code(self, to: str) -> str:
        codes = [m["code"] for m in self.messages(to) if "code" in m]
        assert codes, f"no code was sent to {to}"
        return str(codes[-1])

    def temporary_password(self, to: str) -> str:
        return str([m for m in self.messages(to) if m["kind"] == "invitation"][-1]["temporary_password"])

    def signed_up(self, email: str = "jane@example.com", password: str = PASSWORD, **attrs: str) -> str:
        """Sign up and confirm a user of ``pool``; returns its username (the sub)."""
        result = self.pool.sign_up(email, password, {"name": "Jane", **attrs})
        self.pool.confirm_sign_up(email, self.last_code(email))
        return result.user_sub


def declare(app: App) -> tuple[UserPool, UserPool]:
    pool = app.user_pool(
        "customers",
        password_policy=PasswordPolicy(
            min_length=8, require_upper=True, require_lower=True, require_digits=True, require_symbols=False
        ),
        groups=["admin", "customer"],
        custom_attributes={"tier": "string", "score": "number"},
        clients=[
            AppClient("web", scopes=["orders/read", "orders/write"]),
            AppClient("mobile", scopes=["orders/read"], id_token_minutes=5, access_token_minutes=10),
        ],
        username_attributes=["email"],
    )
    by_name = app.user_pool("staff", clients=[AppClient("console")], auto_confirm=True)
    return pool, by_name


@pytest.fixture(params=ADAPTERS)
def cognito(request: pytest.FixtureRequest) -> Iterator[PoolEnv]:
    app = App("shop")
    pool, by_name = declare(app)
    with stratus.testing.local(app) as env:
        yield PoolEnv(app, pool, by_name, env)
