"""The Cognito adapter's own behaviour: identity, token verification, error mapping, what Cognito cannot do.

Most tests run on moto (``cognito_aws``): moto signs its tokens with its own key and serves the
matching JWKS at Cognito's URL (``https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/
jwks.json``) to ``requests``, so the adapter verifies them exactly as it verifies Cognito's. The
error-mapping tests answer with Cognito's real error codes through botocore's ``Stubber``, since moto
raises only some of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import jwt
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.ports.userpool.conftest import PASSWORD, JwksFetcher, aws_pools, declare

import stratus.aws.adapters.user_pool as adapter
from stratus import App
from stratus.aws.adapters.user_pool import JWKS_REFETCH, JWKS_TTL, AwsUserPool, JwksUnavailable, UnsupportedOperation
from stratus.clock import SystemClock, VirtualClock
from stratus.errors import NotBound, ResourceNotFound, StratusError
from stratus.resources.userpool import (
    AppClient,
    ChallengeRequired,
    CodeMismatch,
    ExpiredCode,
    GroupNotFound,
    InvalidParameter,
    InvalidPassword,
    LimitExceededError,
    NotAuthorized,
    TooManyFailedAttempts,
    TooManyRequests,
    UsernameExists,
    UserNotConfirmed,
    UserNotFound,
    UserPool,
)

EMAIL = "jane@example.com"


@dataclass
class CognitoEnv:
    pool: UserPool
    staff: UserPool
    cloud: Any
    fetcher: JwksFetcher
    clock: VirtualClock

    def catch_up(self) -> None:
        """Bring the virtual clock to real time (moto stamps tokens with the real time)."""
        self.clock.set(max(self.clock.now(), time.time()))

    def signed_in(self, client: str = "web") -> Any:
        self.pool.sign_up(EMAIL, PASSWORD, {"name": "Jane"})
        self.pool.confirm_sign_up(EMAIL, "123456")  # moto checks no sign-up code
        tokens = self.pool.initiate_auth(client, EMAIL, PASSWORD)
        self.catch_up()
        return tokens


@pytest.fixture
def cognito_aws() -> Iterator[CognitoEnv]:
    app = App("shop")
    pool, staff = declare(app)
    clock = VirtualClock(time.time())
    with aws_pools(app, pool, staff, clock=clock) as (cloud, fetcher):
        yield CognitoEnv(pool, staff, cloud, fetcher, clock)


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def forged(payload: dict[str, Any], kid: str = "dummy", key: Any = None) -> str:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


# Identity and keys.


def test_issuer_and_client_ids_are_cognitos(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    pool_id = cognito_aws.cloud.physical_id(pool)
    clients = json.loads(cognito_aws.cloud.physical_id(pool, "CLIENTS"))
    assert pool.issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert pool.client_id("web") == clients["web"] != pool.client_id("mobile") == clients["mobile"]
    tokens = cognito_aws.signed_in()
    id_claims, access = claims(tokens.id_token), claims(tokens.access_token)
    assert id_claims["iss"] == access["iss"] == pool.issuer
    assert id_claims["aud"] == access["client_id"] == clients["web"]
    assert id_claims["cognito:username"] == access["username"] == id_claims["sub"]  # email pools: the sub


def test_jwks_comes_from_cognitos_well_known_url_and_is_cached(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    tokens = cognito_aws.signed_in()
    keys = pool.jwks()["keys"]
    assert cognito_aws.fetcher.urls == [f"{pool.issuer}/.well-known/jwks.json"]
    assert jwt.get_unverified_header(tokens.id_token)["kid"] in {k["kid"] for k in keys}
    assert all("d" not in k and k["kty"] == "RSA" for k in keys)
    pool.verify_token(tokens.id_token)
    pool.jwks()
    assert len(cognito_aws.fetcher.urls) == 1  # cached
    cognito_aws.clock.advance(JWKS_TTL + 1)
    pool.jwks()
    assert len(cognito_aws.fetcher.urls) == 2  # fetched again after an hour


def test_what_cognito_cannot_do_is_named(cognito_aws: CognitoEnv) -> None:
    with pytest.raises(UnsupportedOperation, match="rotate_signing_key") as caught:
        cognito_aws.pool.rotate_signing_key()
    assert caught.value.code == "UnsupportedOperation"
    with pytest.raises(UnsupportedOperation, match="is_session_revoked"):
        cognito_aws.pool.is_session_revoked("some-origin-jti")


# Token verification.


def test_verify_token_checks_signature_issuer_use_and_client(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    tokens = cognito_aws.signed_in()
    id_claims = pool.verify_token(tokens.id_token, token_use="id", clients=["web"])
    assert id_claims["token_use"] == "id" and id_claims["email"] == EMAIL
    assert pool.verify_token(tokens.access_token, token_use="access")["token_use"] == "access"
    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        pool.verify_token(tokens.id_token, token_use="access")
    with pytest.raises(NotAuthorized, match="Invalid Token"):
        pool.verify_token(tokens.access_token, clients=["mobile"])
    header, payload, signature = tokens.id_token.split(".")
    changed = jwt.utils.base64url_encode(json.dumps({**id_claims, "sub": "someone-else"}).encode()).decode()
    with pytest.raises(NotAuthorized):
        pool.verify_token(f"{header}.{changed}.{signature}")
    with pytest.raises(NotAuthorized):  # moto's kid, another key
        pool.verify_token(forged(id_claims))
    none_header = jwt.utils.base64url_encode(b'{"alg":"none","kid":"dummy"}').decode()
    unsigned = f"{none_header}.{payload}."  # the genuine claims, unsigned
    with pytest.raises(NotAuthorized):
        pool.verify_token(unsigned)
    cognito_aws.staff.sign_up("bob", "Bob-Password1")
    cognito_aws.staff.admin_confirm_sign_up("bob")
    other = cognito_aws.staff.initiate_auth("console", "bob", "Bob-Password1")
    assert cognito_aws.staff.verify_token(other.id_token)["cognito:username"] == "bob"
    with pytest.raises(NotAuthorized):  # a token of another pool: another issuer
        pool.verify_token(other.id_token)


def test_expired_tokens_are_refused_on_the_clouds_clock(cognito_aws: CognitoEnv) -> None:
    tokens = cognito_aws.signed_in()
    assert cognito_aws.pool.get_user(tokens.access_token).sub == claims(tokens.id_token)["sub"]
    cognito_aws.clock.advance(3600 + 6)
    with pytest.raises(NotAuthorized, match="Id Token has expired"):
        cognito_aws.pool.verify_token(tokens.id_token, token_use="id")
    with pytest.raises(NotAuthorized, match="Access Token has expired"):
        cognito_aws.pool.get_user(tokens.access_token)  # refused here: moto itself would still accept it


def test_revoked_access_tokens_are_refused_and_id_tokens_live_on(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    tokens = cognito_aws.signed_in()
    pool.global_sign_out(tokens.access_token)
    with pytest.raises(NotAuthorized, match="Access Token has been revoked"):
        pool.verify_token(tokens.access_token)
    with pytest.raises(NotAuthorized, match="Access Token has been revoked"):
        pool.get_user(tokens.access_token)
    with pytest.raises(NotAuthorized, match="revoked"):
        pool.refresh("web", tokens.refresh_token or "")
    # Cognito offers no revocation check for ID tokens: they verify until they expire.
    assert pool.verify_token(tokens.id_token)["token_use"] == "id"


def test_an_unknown_key_id_fetches_the_keys_again_at_most_once_a_minute(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    tokens = cognito_aws.signed_in()
    pool.verify_token(tokens.id_token)
    assert len(cognito_aws.fetcher.urls) == 1
    stranger = forged(claims(tokens.id_token), kid="rotated-in")
    with pytest.raises(NotAuthorized, match="Invalid Token"):
        pool.verify_token(stranger)
    assert len(cognito_aws.fetcher.urls) == 1  # fetched less than a minute ago
    cognito_aws.clock.advance(JWKS_REFETCH + 1)
    with pytest.raises(NotAuthorized):
        pool.verify_token(stranger)
    assert len(cognito_aws.fetcher.urls) == 2
    with pytest.raises(NotAuthorized):
        pool.verify_token(stranger)
    assert len(cognito_aws.fetcher.urls) == 2
    assert pool.verify_token(tokens.id_token)["sub"]


# Users.


def test_unknown_users_are_not_revealed_on_cognito(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    cognito_aws.signed_in()
    # moto answers UserNotFoundException to each of these; Cognito with PreventUserExistenceErrors does not.
    with pytest.raises(NotAuthorized) as unknown:
        pool.initiate_auth("web", "nobody@example.com", PASSWORD)
    with pytest.raises(NotAuthorized) as wrong:
        pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    assert str(unknown.value) == str(wrong.value) == "Incorrect username or password."
    with pytest.raises(CodeMismatch, match="Invalid verification code"):
        pool.confirm_sign_up("nobody@example.com", "123456")
    # moto makes up its own plausible delivery for an unknown user (Cognito does too); no error either way.
    assert pool.forgot_password("nobody@example.com").delivery_medium == "EMAIL"


def test_get_user_is_the_full_record(cognito_aws: CognitoEnv) -> None:
    tokens = cognito_aws.signed_in()
    user = cognito_aws.pool.get_user(tokens.access_token)
    assert user.username == user.sub == claims(tokens.access_token)["sub"]
    assert (user.status, user.enabled) == ("CONFIRMED", True)
    assert user.attributes["email"] == EMAIL and user.attributes["name"] == "Jane"
    assert user.created.tzinfo is not None and abs(user.created.timestamp() - time.time()) < 120


def test_new_password_challenge_with_a_given_temporary_password(cognito_aws: CognitoEnv) -> None:
    pool = cognito_aws.pool
    user = pool.admin_create_user("ops@example.com", {"name": "Ops"}, temporary_password="Temp-Pass123")
    assert user.status == "FORCE_CHANGE_PASSWORD" and user.attributes["email"] == "ops@example.com"
    with pytest.raises(ChallengeRequired) as caught:
        pool.initiate_auth("web", "ops@example.com", "Temp-Pass123")
    challenge = caught.value
    assert challenge.challenge_name == "NEW_PASSWORD_REQUIRED"
    assert challenge.session not in repr(challenge)
    tokens = pool.respond_to_new_password_challenge("web", "ops@example.com", challenge.session, "New-Password2")
    assert claims(tokens.id_token)["email"] == "ops@example.com"
    assert pool.admin_get_user("ops@example.com").status == "CONFIRMED"
    assert pool.initiate_auth("web", "ops@example.com", "New-Password2").access_token


def test_secrets_never_reach_error_messages(cognito_aws: CognitoEnv) -> None:
    tokens = cognito_aws.signed_in()
    cognito_aws.pool.global_sign_out(tokens.access_token)
    with pytest.raises(NotAuthorized) as caught:  # moto's message for this is the access token itself
        cognito_aws.pool.global_sign_out(tokens.access_token)
    assert tokens.access_token not in str(caught.value)
    assert tokens.access_token not in repr(caught.value.args)


# Without moto: the environment contract, Cognito's error codes, the default JWKS request.


class StubCloud:
    """Identity and a client for one pool, with no AWS behind it."""

    def __init__(self, client: Any, clients: str | None = None, clock: Any = None) -> None:
        self._client = client
        self._clients = json.dumps({"web": "webclientid", "mobile": "mobileclientid"}) if clients is None else clients
        self.clock = clock or SystemClock()

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        return self._clients if suffix == "CLIENTS" else "us-east-1_abc"

    def client(self, service: str) -> Any:
        return self._client


def stubbed(clients: str | None = None, clock: Any = None) -> tuple[UserPool, Stubber, StubCloud]:
    app = App("shop")
    pool, _ = declare(app)
    client = boto3.client("cognito-idp", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    cloud = StubCloud(client, clients, clock)
    pool.bind(AwsUserPool(pool, cloud))
    return pool, Stubber(client), cloud


def test_client_ids_come_from_the_clients_variable() -> None:
    pool, _, _ = stubbed(clients=json.dumps({"web": "webclientid"}))
    assert pool.client_id("web") == "webclientid"
    with pytest.raises(NotBound, match="STRATUS_USER_POOL_CUSTOMERS_CLIENTS"):
        pool.client_id("mobile")
    with pytest.raises(NotBound, match="STRATUS_USER_POOL_CUSTOMERS_CLIENTS"):
        stubbed(clients="not json")
    with pytest.raises(NotBound, match="JSON object"):
        stubbed(clients=json.dumps(["web"]))


_CALLS: dict[str, tuple[str, Any]] = {
    "sign_up": ("sign_up", lambda p: p.sign_up(EMAIL, PASSWORD)),
    "confirm": ("confirm_sign_up", lambda p: p.confirm_sign_up(EMAIL, "123456")),
    "sign_in": ("initiate_auth", lambda p: p.initiate_auth("web", EMAIL, PASSWORD)),
    "refresh": ("initiate_auth", lambda p: p.refresh("web", "refresh-token-value")),
    "add_to_group": ("admin_add_user_to_group", lambda p: p.admin_add_user_to_group(EMAIL, "admin")),
    "get": ("admin_get_user", lambda p: p.admin_get_user(EMAIL)),
}


@pytest.mark.parametrize(
    ("call", "code", "expected", "message"),
    [
        ("sign_up", "UsernameExistsException", UsernameExists, None),
        ("sign_up", "InvalidPasswordException", InvalidPassword, None),
        ("sign_up", "InvalidParameterException", InvalidParameter, None),
        ("confirm", "CodeMismatchException", CodeMismatch, None),
        ("confirm", "ExpiredCodeException", ExpiredCode, None),
        ("confirm", "LimitExceededException", LimitExceededError, None),
        ("confirm", "NotAuthorizedException", NotAuthorized, None),
        ("confirm", "UserNotFoundException", CodeMismatch, "Invalid verification code provided, please try again."),
        ("sign_in", "UserNotConfirmedException", UserNotConfirmed, None),
        ("sign_in", "TooManyFailedAttemptsException", TooManyFailedAttempts, None),
        ("sign_in", "TooManyRequestsException", TooManyRequests, None),
        ("sign_in", "PasswordResetRequiredException", NotAuthorized, None),
        ("sign_in", "UserNotFoundException", NotAuthorized, "Incorrect username or password."),
        ("refresh", "UserNotFoundException", NotAuthorized, "Invalid Refresh Token"),
        ("add_to_group", "ResourceNotFoundException", GroupNotFound, None),
        ("add_to_group", "UserNotFoundException", UserNotFound, None),
        ("get", "ResourceNotFoundException", ResourceNotFound, None),
    ],
)
def test_cognito_errors_map_onto_the_ports(call: str, code: str, expected: type, message: str | None) -> None:
    pool, stubber, _ = stubbed()
    operation, run = _CALLS[call]
    stubber.add_client_error(operation, service_error_code=code, service_message="Cognito says no.")
    with stubber, pytest.raises(expected) as caught:
        run(pool)
    assert type(caught.value) is expected  # not merely a subclass (GroupNotFound is a ResourceNotFound)
    assert str(caught.value) == (message or "Cognito says no.")


def test_an_unmapped_error_keeps_its_code() -> None:
    pool, stubber, _ = stubbed()
    stubber.add_client_error("admin_get_user", service_error_code="InternalErrorException", service_message="boom")
    with stubber, pytest.raises(StratusError) as caught:
        pool.admin_get_user(EMAIL)
    assert caught.value.code == "InternalErrorException" and "boom" in str(caught.value)


def test_public_calls_go_through_the_first_client_and_unknown_users_get_a_plausible_delivery() -> None:
    pool, stubber, _ = stubbed()
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": True, "UserSub": "sub-1"},
        {
            "ClientId": "webclientid",
            "Username": EMAIL,
            "Password": PASSWORD,
            "UserAttributes": [{"Name": "name", "Value": "Jane"}, {"Name": "email", "Value": EMAIL}],
        },
    )
    stubber.add_client_error("resend_confirmation_code", service_error_code="UserNotFoundException")
    stubber.add_client_error("confirm_forgot_password", service_error_code="UserNotFoundException")
    with stubber:
        result = pool.sign_up(EMAIL, PASSWORD, {"name": "Jane"})
        assert (result.user_sub, result.user_confirmed, result.code_delivery) == ("sub-1", True, None)  # auto_confirm
        assert pool.resend_confirmation_code(EMAIL).destination == "j***@e***"
        with pytest.raises(CodeMismatch):
            pool.confirm_forgot_password(EMAIL, "123456", "New-Password2")
    stubber.assert_no_pending_responses()


def test_revocation_disabled_on_the_client_is_refused_before_any_call() -> None:
    app = App("shop")
    pool = app.user_pool("customers", clients=[AppClient("web", enable_token_revocation=False)])
    client = boto3.client("cognito-idp", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    pool.bind(AwsUserPool(pool, StubCloud(client, json.dumps({"web": "webclientid"}))))
    with Stubber(client), pytest.raises(InvalidParameter, match="not enabled"):
        pool.revoke_token("web", "refresh-token-value")


class JwksServer:
    """Answers the default JWKS request (httpx) in place of Cognito; fails once told to."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        self.requests: list[httpx.Request] = []
        self.failing = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failing:
            return httpx.Response(500, json={"message": "down"})
        return httpx.Response(200, json={"keys": [{**self.public, "kid": "k1", "alg": "RS256", "use": "sig"}]})


@pytest.fixture
def served_jwks(monkeypatch: pytest.MonkeyPatch) -> JwksServer:
    server = JwksServer()
    monkeypatch.setattr(adapter, "_http", httpx.Client(transport=httpx.MockTransport(server)))
    return server


def test_default_jwks_request_and_stale_keys_when_it_fails(served_jwks: JwksServer) -> None:
    clock = VirtualClock(time.time())
    pool, _, _ = stubbed(clock=clock)
    assert [k["kid"] for k in pool.jwks()["keys"]] == ["k1"]
    url = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"
    assert [str(r.url) for r in served_jwks.requests] == [url]
    served_jwks.failing = True
    clock.advance(JWKS_TTL + 1)
    assert [k["kid"] for k in pool.jwks()["keys"]] == ["k1"]  # stale keys beat none
    assert len(served_jwks.requests) == 2
    pool.jwks()
    assert len(served_jwks.requests) == 2  # the failed fetch is not retried on every call
    clock.advance(JWKS_REFETCH + 1)
    pool.jwks()
    assert len(served_jwks.requests) == 3  # but again a minute later
    fresh, _, _ = stubbed(clock=clock)
    with pytest.raises(JwksUnavailable, match=r"well-known/jwks\.json"):
        fresh.jwks()


def test_bound_through_the_environment_contract() -> None:
    """AwsCloud finds the pool and its clients in ``STRATUS_USER_POOL_<NAME>[_CLIENTS]``."""
    from tests.ports.userpool.conftest import create_user_pool
    from tests.stratus.aws.adapters.moto_cloud import moto_cloud

    from stratus.aws.cloud import AwsCloud

    app = App("shop")
    pool, staff = declare(app)
    with moto_cloud() as moto:
        create_user_pool(moto, pool)
        environ = {
            "STRATUS_USER_POOL_CUSTOMERS": moto.physical_id(pool),
            "STRATUS_USER_POOL_CUSTOMERS_CLIENTS": moto.physical_id(pool, "CLIENTS"),
        }
        with AwsCloud(environ=environ, region="us-east-1") as cloud:
            cloud.bind(app)
            assert pool.issuer.endswith("/" + environ["STRATUS_USER_POOL_CUSTOMERS"])
            pool.sign_up(EMAIL, PASSWORD)
            pool.admin_confirm_sign_up(EMAIL)
            tokens = pool.initiate_auth("mobile", EMAIL, PASSWORD)
            clients = json.loads(environ["STRATUS_USER_POOL_CUSTOMERS_CLIENTS"])
            assert claims(tokens.access_token)["client_id"] == clients["mobile"]
            with pytest.raises(NotBound, match="STRATUS_USER_POOL_STAFF"):
                staff.admin_get_user("bob")
