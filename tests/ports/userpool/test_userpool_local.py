"""Local specifics of the user pool: the JWKS and OpenID documents served for the gateway."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pytest

from stratus.local.userpool import jwks_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

if TYPE_CHECKING:
    from conftest import PoolEnv


def test_jwks_and_openid_configuration_are_served(cognito: PoolEnv) -> None:
    client = TestClient(jwks_app(cognito.local.cloud))
    jwks = client.get("/shop-customers/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert jwks.json() == cognito.pool.jwks()
    config = client.get("/shop-customers/.well-known/openid-configuration").json()
    assert config["issuer"] == cognito.pool.issuer
    assert config["jwks_uri"] == cognito.pool.issuer + "/.well-known/jwks.json"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert client.get("/shop-nothing/.well-known/jwks.json").status_code == 404
    assert client.get("/shop-staff/.well-known/jwks.json").json()["keys"][0]["kty"] == "RSA"


def test_jwks_routes_can_join_another_app(cognito: PoolEnv) -> None:
    from starlette.applications import Starlette

    from stratus.local.userpool import jwks_routes

    client = TestClient(Starlette(routes=jwks_routes(cognito.local.cloud)))
    assert client.get("/shop-customers/.well-known/jwks.json").json() == cognito.pool.jwks()


def test_settings_describe_the_declaration(cognito: PoolEnv) -> None:
    settings = cognito.pool.settings()
    assert settings["username_attributes"] == ["email"]
    assert settings["password_policy"]["require_symbols"] is False
    assert [c["name"] for c in settings["clients"]] == ["web", "mobile"]
    assert settings["custom_attributes"] == {"tier": "string", "score": "number"}


def _hashes(cognito: PoolEnv) -> list[str]:
    db = cognito.local.cloud.storage.database("userpools")
    return [row[0] for row in db.execute("SELECT password_hash FROM up_users")]


def test_passwords_are_argon2id_and_upgraded_at_sign_in(cognito: PoolEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    import stratus.local.userpool as local_userpool

    cognito.signed_up()
    (before,) = _hashes(cognito)
    assert before.startswith("$argon2id$") and "m=1024,t=1,p=1" in before
    stronger = local_userpool.PasswordHashing(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(local_userpool, "HASHING", stronger)
    cognito.restart()
    cognito.pool.initiate_auth("web", "jane@example.com", "Correct-Horse1")
    (after,) = _hashes(cognito)
    assert "m=2048,t=2,p=1" in after
    assert cognito.pool.initiate_auth("web", "jane@example.com", "Correct-Horse1").access_token


def test_default_hashing_is_not_weak() -> None:
    import stratus.local.userpool as local_userpool

    defaults = local_userpool.PasswordHashing()
    assert (defaults.time_cost, defaults.memory_cost, defaults.parallelism) == (3, 65536, 4)
