"""A running shop for end-to-end tests: the app on the embedded adapters, the gateway, the provider."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient
from systems.ecommerce.app import app
from systems.ecommerce.commands import create_admin

from stratus.local import userpool as local_userpool
from stratus.local.gateway import build_gateway
from stratus.testing import LocalEnv, local

PREFIX = "/ecommerce"
PASSWORD = "Corr3ct-horse!"
CARD = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
DECLINED = {**CARD, "number": "4000000000000002"}
ADDRESS = {"name": "Ada", "line1": "1 Loop Rd", "city": "Cupertino", "postal_code": "95014", "country": "US"}


@dataclass
class Shop:
    env: LocalEnv
    http: TestClient
    admin: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{PREFIX}{path}"

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url(path), headers=headers, **kwargs)

    def codes(self, email: str, kind: str = "sign_up") -> list[str]:
        """The codes the user pool "emailed" to ``email`` (its outbox), oldest first."""
        path = self.env.state_dir / "outbox" / "cognito.jsonl"
        if not path.exists():
            return []
        sent = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [str(m["code"]) for m in sent if m["to"] == email and m["kind"] == kind and "code" in m]

    def last_code(self, email: str, kind: str = "sign_up") -> str:
        codes = self.codes(email, kind)
        assert codes, f"no {kind} code was sent to {email}"
        return codes[-1]

    def register(self, email: str, password: str = PASSWORD, **extra: Any) -> None:
        """Sign up and confirm with the emailed code, through the API."""
        body = {"email": email, "password": password, "name": "C", **extra}
        answer = self.call("POST", "/auth/sign-up", json=body)
        assert answer.status_code == 201, answer.text
        confirmed = self.call("POST", "/auth/confirm", json={"email": email, "code": self.last_code(email)})
        assert confirmed.status_code == 200, confirmed.text

    def sign_in(self, email: str, password: str = PASSWORD) -> str:
        answer = self.call("POST", "/auth/sign-in", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id_token"])

    def sign_up(self, email: str | None = None, **extra: Any) -> str:
        """A new, confirmed customer, signed in: their ID token."""
        email = email or f"c-{uuid.uuid4().hex[:10]}@example.com"
        self.register(email, **extra)
        return self.sign_in(email)

    def product(self, **overrides: Any) -> dict[str, Any]:
        body = {"name": "Blue mug", "description": "A mug", "category": "kitchen", "price": 1250, "stock": 10}
        body.update(overrides)
        answer = self.call("POST", "/products", self.admin_token, json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    @property
    def admin_token(self) -> str:
        return self.admin["token"]

    def card(self, token: str, card: dict[str, Any] | None = None) -> str:
        answer = self.call("POST", "/payment-methods", token, json=card or CARD)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def order(self, token: str, lines: list[dict[str, Any]], method: str, key: str | None = None) -> Any:
        body = {"payment_method_id": method, "shipping_address": ADDRESS, "lines": lines}
        return self.call("POST", "/orders", token, json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})

    def settle(self) -> None:
        self.env.settle(max_seconds=120)


def open_shop(env: LocalEnv) -> Shop:
    env.startup()
    shop = Shop(env, TestClient(build_gateway(env.cloud)))
    email = f"admin-{uuid.uuid4().hex[:8]}@shop.example"
    create_admin(email, PASSWORD)
    answer = shop.call("POST", "/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    shop.admin = {"email": email, "token": answer.json()["id_token"]}
    return shop


FAST_HASHING = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_userpool, "HASHING", FAST_HASHING)  # cheap argon2: tests only


@pytest.fixture
def shop() -> Iterator[Shop]:
    with local(app) as env:
        yield open_shop(env)


def jpeg(width: int = 1600, height: int = 900) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()
