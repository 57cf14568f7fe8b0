"""JwtAuthorizer: every forged, foreign, stale or revoked token is refused; real ones pass with their claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

import stratus.local.userpool as local_userpool
import stratus.testing
from stratus import App, ValidationError
from stratus.resources.auth import AuthResult, Unauthorized
from stratus.resources.jwt_authorizer import JwtAuthorizer
from stratus.resources.userpool import AppClient, PasswordPolicy, Tokens, UserPool
from stratus.testing import LocalEnv

EMAIL = "jane@example.com"
PASSWORD = "Correct-Horse1"


FAST = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


@dataclass
class Setup:
    env: LocalEnv
    pool: UserPool
    other: UserPool
    authorizer: JwtAuthorizer
    tokens: Tokens
    mobile: Tokens
    foreign: Tokens

    def event(self, authorization: str | None) -> dict[str, Any]:
        headers = {} if authorization is None else {"authorization": authorization}
        return {"headers": headers, "requestContext": {"timeEpoch": int(self.env.clock.now() * 1000)}}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A token signed with the pool's real private key (to test claim checks)."""
        kid, private = self.pool.backend._signing_key()  # type: ignore[attr-defined]
        algorithm = header.pop("alg", "RS256")
        return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid, **header})

    def claims(self, **changes: Any) -> dict[str, Any]:
        _, access = decode(self.tokens.access_token)
        return {**access, **changes}

    def check(self, token: str) -> AuthResult:
        return self.authorizer.authorize(self.event(f"Bearer {token}"), None)  # type: ignore[arg-type]


@contextmanager
def make_setup() -> Iterator[Setup]:
    app = App("shop")
    policy = PasswordPolicy(require_symbols=False)
    pool = app.user_pool(
        "customers",
        password_policy=policy,
        groups=["admin", "customer"],
        clients=[AppClient("web", scopes=["orders/read", "orders/write"]), AppClient("mobile")],
        username_attributes=["email"],
        auto_confirm=True,
    )
    other = app.user_pool("partners", password_policy=policy, clients=[AppClient("web")], auto_confirm=True)
    authorizer = JwtAuthorizer(pool, audience=["web"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_userpool, "HASHING", FAST)  # cheap argon2: tests only
        with stratus.testing.local(app) as env:
            pool.sign_up(EMAIL, PASSWORD)
            pool.admin_add_user_to_group(EMAIL, "customer")
            tokens = pool.initiate_auth("web", EMAIL, PASSWORD)
            mobile = pool.initiate_auth("mobile", EMAIL, PASSWORD)
            other.sign_up("jane", PASSWORD)
            foreign = other.initiate_auth("web", "jane", PASSWORD)
            yield Setup(env, pool, other, authorizer, tokens, mobile, foreign)


@pytest.fixture(scope="module")
def shared() -> Iterator[Setup]:
    """For tests that change nothing (no clock moves, no sign-outs)."""
    with make_setup() as setup:
        yield setup


@pytest.fixture
def setup() -> Iterator[Setup]:
    with make_setup() as setup:
        yield setup


_ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def attacker_key() -> rsa.RSAPrivateKey:
    return _ATTACKER


def forged_hs256_with_public_key(s: Setup) -> str:
    kid = decode(s.tokens.access_token)[0]["kid"]
    jwk = next(k for k in s.pool.jwks()["keys"] if k["kid"] == kid)
    public = RSAAlgorithm.from_jwk(jwk)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[union-attr]
    signing_input = f"{segment({'alg': 'HS256', 'kid': kid})}.{segment(s.claims())}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def alg_none(s: Setup) -> str:
    kid = decode(s.tokens.access_token)[0]["kid"]
    return f"{segment({'alg': 'none', 'kid': kid})}.{segment(s.claims())}."


def unknown_kid(s: Setup) -> str:
    return jwt.encode(s.claims(), attacker_key(), algorithm="RS256", headers={"kid": "not-a-known-kid"})


def attacker_key_with_known_kid(s: Setup) -> str:
    kid = decode(s.tokens.access_token)[0]["kid"]
    return jwt.encode(s.claims(), attacker_key(), algorithm="RS256", headers={"kid": kid})


def jku_elsewhere(s: Setup) -> str:
    kid = decode(s.tokens.access_token)[0]["kid"]
    return jwt.encode(
        s.claims(), attacker_key(), algorithm="RS256", headers={"kid": kid, "jku": "https://evil.example/jwks.json"}
    )


def embedded_jwk(s: Setup) -> str:
    key = attacker_key()
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return jwt.encode(s.claims(), key, algorithm="RS256", headers={"kid": "evil", "jwk": jwk})


def x5u_elsewhere(s: Setup) -> str:
    return jwt.encode(
        s.claims(), attacker_key(), algorithm="RS256", headers={"kid": "evil", "x5u": "https://evil.example/cert"}
    )


def tampered_payload(s: Setup) -> str:
    header, _, signature = s.tokens.access_token.split(".")
    return f"{header}.{segment(s.claims(sub='someone-else', scope='orders/admin'))}.{signature}"


def tampered_signature(s: Setup) -> str:
    header, payload, signature = s.tokens.access_token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"


def now(s: Setup) -> int:
    return int(s.env.clock.now())


FORGERIES: dict[str, tuple[Callable[[Setup], str], str]] = {
    "alg none": (alg_none, "algorithm"),
    "HS256 signed with the public key": (forged_hs256_with_public_key, "algorithm"),
    "RS512 with the pool's key": (lambda s: s.sign(s.claims(), alg="RS512"), "algorithm"),
    "PS256 with the pool's key": (lambda s: s.sign(s.claims(), alg="PS256"), "algorithm"),
    "unknown kid": (unknown_kid, "unknown key id"),
    "missing kid": (lambda s: jwt.encode(s.claims(), attacker_key(), algorithm="RS256"), "key id"),
    "attacker key under a known kid": (attacker_key_with_known_kid, "bad signature"),
    "jku pointing elsewhere": (jku_elsewhere, "bad signature"),
    "embedded jwk header": (embedded_jwk, "unknown key id"),
    "x5u pointing elsewhere": (x5u_elsewhere, "unknown key id"),
    "crit header": (lambda s: s.sign(s.claims(), crit=["exp"]), "critical"),
    "tampered payload": (tampered_payload, "bad signature"),
    "tampered signature": (tampered_signature, "bad signature"),
    "wrong issuer": (lambda s: s.sign(s.claims(iss="https://evil.example/pool")), "wrong issuer"),
    "issuer with trailing slash": (lambda s: s.sign(s.claims(iss=s.pool.issuer + "/")), "wrong issuer"),
    "wrong client_id": (lambda s: s.sign(s.claims(client_id="someoneelse")), "wrong client"),
    "access token of another client": (lambda s: s.mobile.access_token, "wrong client"),
    "id token of another client": (lambda s: s.mobile.id_token, "wrong audience"),
    "id token without aud": (
        lambda s: s.sign({k: v for k, v in decode(s.tokens.id_token)[1].items() if k != "aud"}),
        "wrong audience",
    ),
    "wrong token_use": (lambda s: s.sign(s.claims(token_use="refresh")), "token_use"),
    "missing token_use": (lambda s: s.sign({k: v for k, v in s.claims().items() if k != "token_use"}), "token_use"),
    "expired": (lambda s: s.sign(s.claims(exp=now(s) - 6)), "expired"),
    "missing exp": (lambda s: s.sign({k: v for k, v in s.claims().items() if k != "exp"}), "exp"),
    "exp as a string": (lambda s: s.sign(s.claims(exp=str(now(s) + 600))), "exp"),
    "nbf in the future": (lambda s: s.sign(s.claims(nbf=now(s) + 60)), "not yet valid"),
    "iat in the future": (lambda s: s.sign(s.claims(iat=now(s) + 60)), "future"),
    "token of another pool": (lambda s: s.foreign.access_token, "unknown key id"),
    "id token of another pool": (lambda s: s.foreign.id_token, "unknown key id"),
    "malformed base64": (lambda s: "eyJhbGciOiJSUzI1NiJ9.@@@.abc", "malformed"),
    "bad json header": (lambda s: f"{b64(b'not json')}.{segment({})}.abc", "malformed"),
    "two segments": (lambda s: ".".join(s.tokens.access_token.split(".")[:2]), "malformed"),
    "four segments": (lambda s: s.tokens.access_token + ".abc", "malformed"),
    "garbage": (lambda s: "not-a-jwt", "malformed"),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_and_invalid_tokens_are_rejected(shared: Setup, name: str) -> None:
    make, reason = FORGERIES[name]
    token = make(shared)
    with pytest.raises(Unauthorized) as caught:
        shared.check(token)
    assert caught.value.status == 401
    assert reason in caught.value.reason
    assert token not in caught.value.reason


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc", "bearer a b"],
)
def test_missing_or_malformed_authorization_is_rejected(shared: Setup, authorization: str | None) -> None:
    with pytest.raises(Unauthorized):
        shared.authorizer.authorize(shared.event(authorization), None)  # type: ignore[arg-type]


def test_raw_token_without_scheme_is_rejected(shared: Setup) -> None:
    with pytest.raises(Unauthorized, match="Bearer"):
        shared.authorizer.authorize(shared.event(shared.tokens.access_token), None)  # type: ignore[arg-type]


def test_valid_access_token_gives_claims_scopes_and_groups(shared: Setup) -> None:
    result = shared.check(shared.tokens.access_token)
    user = shared.pool.admin_get_user(EMAIL)
    assert result.principal_id == user.sub
    assert result.scopes == ["aws.cognito.signin.user.admin", "orders/read", "orders/write"]
    assert result.groups == ["customer"]
    assert result.claims["token_use"] == "access"
    assert result.claims["client_id"] == shared.pool.client_id("web")
    assert shared.authorizer.request_context(result)["jwt"]["scopes"] == result.scopes


def test_valid_id_token_gives_claims_and_no_scopes(shared: Setup) -> None:
    result = shared.check(shared.tokens.id_token)
    assert result.claims["email"] == EMAIL
    assert result.claims["aud"] == shared.pool.client_id("web")
    assert result.scopes == []
    assert result.groups == ["customer"]


def test_bearer_scheme_is_case_insensitive(shared: Setup) -> None:
    result = shared.authorizer.authorize(shared.event(f"bearer {shared.tokens.access_token}"), None)  # type: ignore[arg-type]
    assert result.principal_id


def test_leeway_is_five_seconds(setup: Setup) -> None:
    token = setup.tokens.access_token
    expires = decode(token)[1]["exp"]
    setup.env.clock.set(expires + 5)
    assert setup.check(token).principal_id
    setup.env.clock.set(expires + 6)
    with pytest.raises(Unauthorized, match="expired"):
        setup.check(token)


def test_several_audiences(shared: Setup) -> None:
    both = JwtAuthorizer(shared.pool, audience=["web", "mobile"])
    event = shared.event(f"Bearer {shared.mobile.id_token}")
    assert both.authorize(event, None).claims["aud"] == shared.pool.client_id("mobile")  # type: ignore[arg-type]


def test_revoked_after_global_sign_out(setup: Setup) -> None:
    assert setup.check(setup.tokens.access_token)
    setup.pool.global_sign_out(setup.tokens.access_token)
    for token in (setup.tokens.access_token, setup.tokens.id_token):
        with pytest.raises(Unauthorized, match="revoked"):
            setup.check(token)


def test_revoked_after_the_user_is_disabled(setup: Setup) -> None:
    setup.pool.admin_disable_user(EMAIL)
    with pytest.raises(Unauthorized, match="revoked"):
        setup.check(setup.tokens.access_token)


def test_tokens_signed_before_a_key_rotation_stay_valid(setup: Setup) -> None:
    setup.pool.rotate_signing_key()
    assert setup.check(setup.tokens.access_token).principal_id
    fresh = setup.pool.initiate_auth("web", EMAIL, PASSWORD)
    assert decode(fresh.access_token)[0]["kid"] != decode(setup.tokens.access_token)[0]["kid"]
    assert setup.check(fresh.access_token).principal_id


def test_survives_restart(setup: Setup) -> None:
    setup.env.restart()
    assert setup.check(setup.tokens.access_token).principal_id


def test_declaration_errors(shared: Setup) -> None:
    with pytest.raises(ValidationError, match="tv"):
        JwtAuthorizer(shared.pool, audience=["tv"])
    with pytest.raises(ValidationError):
        JwtAuthorizer(shared.pool, audience=[])
    with pytest.raises(ValidationError):
        JwtAuthorizer(shared.pool, audience=["web"], identity_source="$request.body.token")
    with pytest.raises(ValidationError):
        JwtAuthorizer(shared.pool, audience=["web"], leeway=60)
    with pytest.raises(ValidationError):
        JwtAuthorizer.from_jwks("not a url", ["x"], dict)


def test_other_identity_source(shared: Setup) -> None:
    authorizer = JwtAuthorizer(shared.pool, audience=["web"], identity_source="$request.header.X-Id-Token")
    event = shared.event(None)
    event["headers"]["x-id-token"] = shared.tokens.id_token
    assert authorizer.authorize(event, None).claims["email"] == EMAIL  # type: ignore[arg-type]


# Another issuer (the AWS mode): same rules, keys from a provider.


def test_from_jwks_validates_another_issuers_tokens(shared: Setup) -> None:
    key = attacker_key()
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "alg": "RS256", "use": "sig"}
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
    calls = []

    def provider() -> dict[str, Any]:
        calls.append(1)
        return {"keys": [jwk]}

    authorizer = JwtAuthorizer.from_jwks(issuer, ["client-1"], provider)
    t = now(shared)
    good = {"sub": "u1", "iss": issuer, "client_id": "client-1", "token_use": "access", "scope": "a/b", "iat": t}
    token = jwt.encode({**good, "exp": t + 60}, key, algorithm="RS256", headers={"kid": "k1"})
    result = authorizer.authorize(shared.event(f"Bearer {token}"), None)  # type: ignore[arg-type]
    assert result.scopes == ["a/b"] and calls
    wrong = jwt.encode({**good, "exp": t + 60, "client_id": "client-2"}, key, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(Unauthorized, match="wrong client"):
        authorizer.authorize(shared.event(f"Bearer {wrong}"), None)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match="unknown key id"):
        authorizer.authorize(shared.event(f"Bearer {shared.tokens.access_token}"), None)  # type: ignore[arg-type]


# Through the local gateway: 401 with a challenge, 403 for a missing scope, claims in the handler.


def test_through_the_gateway() -> None:
    import warnings

    from stratus.local.gateway import build_gateway
    from stratus.resources.api import Request

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    app = App("shop")
    pool = app.user_pool(
        "customers",
        password_policy=PasswordPolicy(require_symbols=False),
        groups=["admin"],
        clients=[AppClient("web", scopes=["orders/read"])],
        username_attributes=["email"],
        auto_confirm=True,
    )
    api = app.http_api("public")
    authorizer = JwtAuthorizer(pool, audience=["web"])

    @api.get("/orders", authorizer=authorizer, scopes=["orders/read"])
    def orders(request: Request, context: Any) -> dict[str, Any]:
        return {"sub": request.claims["sub"], "scopes": request.scopes}

    @api.post("/orders", authorizer=authorizer, scopes=["orders/write"])
    def create(request: Request, context: Any) -> str:
        return "created"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_userpool, "HASHING", FAST)
        with stratus.testing.local(app) as env:
            client = TestClient(build_gateway(env.cloud))
            pool.sign_up(EMAIL, PASSWORD)
            tokens = pool.initiate_auth("web", EMAIL, PASSWORD)
            sub = pool.admin_get_user(EMAIL).sub
            ok = client.get("/shop/orders", headers={"Authorization": f"Bearer {tokens.access_token}"})
            assert ok.status_code == 200
            assert ok.json() == {"sub": sub, "scopes": ["aws.cognito.signin.user.admin", "orders/read"]}
            missing = client.get("/shop/orders")
            assert missing.status_code == 401 and missing.json() == {"message": "Unauthorized"}
            assert missing.headers["www-authenticate"].startswith("Bearer")
            forged = client.get("/shop/orders", headers={"Authorization": f"Bearer {alg_none_for(tokens)}"})
            assert forged.status_code == 401
            assert "algorithm" in forged.headers["www-authenticate"]
            no_scope = client.post("/shop/orders", headers={"Authorization": f"Bearer {tokens.access_token}"})
            assert no_scope.status_code == 403 and no_scope.json() == {"message": "Forbidden"}
            pool.global_sign_out(tokens.access_token)
            revoked = client.get("/shop/orders", headers={"Authorization": f"Bearer {tokens.access_token}"})
            assert revoked.status_code == 401


def alg_none_for(tokens: Tokens) -> str:
    header, payload = decode(tokens.access_token)
    return f"{segment({**header, 'alg': 'none'})}.{segment(payload)}."
