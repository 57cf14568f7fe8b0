"""The user pool port's fixture: a bound :class:`~stratus.resources.userpool.UserPool` per adapter.

Codes and temporary passwords are read from the outbox, the stand-in for the email Cognito
would send: locally ``<state>/outbox/cognito.jsonl``; on moto (``aws``), which sends nothing,
the env records what the adapter's calls would have sent (see :class:`AwsPoolEnv`).
Password hashing uses cheap argon2 parameters here, and only here, so the suite stays fast.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.ports.harness_base import AwsEnv

import stratus.local.userpool as local_userpool
import stratus.testing
from stratus import App
from stratus.clock import Clock
from stratus.resources.userpool import AppClient, PasswordPolicy, UserPool
from stratus.testing import LocalEnv

#: Adapters under test.
ADAPTERS = ["local", "aws"]

#: Cheap argon2id parameters: tests only.
FAST_HASHING = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)

PASSWORD = "Correct-Horse1"

_ANY_CODE = "moto gap: ConfirmSignUp accepts any code"
_NO_RESEND = "moto gap: ResendConfirmationCode is not implemented"

#: Tests the aws adapter cannot pass on moto (or that are about the local adapter only), and why.
AWS_SKIPS: dict[str, str] = {
    "test_sign_up_sends_a_code_and_confirming_enables_sign_in": (
        "moto gap: ConfirmSignUp does not set email_verified (Cognito verifies the address the code went to); "
        "every earlier step passes on moto"
    ),
    "test_sign_up_twice_is_refused": (
        "moto gap: sign-in names are case-sensitive (JANE@example.com signs up as another user), and "
        "UsernameExistsException's message is the username"
    ),
    "test_wrong_code_then_right_code": _ANY_CODE,
    "test_too_many_wrong_codes_burn_the_code": _ANY_CODE,
    "test_resend_replaces_the_code_and_is_rate_limited": _NO_RESEND,
    "test_unknown_users_are_not_revealed": (
        _NO_RESEND + " (the sign-in and forgot-password halves are in test_userpool_aws.py)"
    ),
    "test_auto_confirm_pool_signs_in_at_once": (
        "moto gap: no pre-sign-up Lambda trigger runs (the template's auto_confirm), and sign-in names are "
        "case-sensitive"
    ),
    "test_id_and_access_token_claims_are_cognitos": (
        "moto gap: tokens carry no event_id, email_verified, name or custom scopes; the test also checks the "
        "local issuer and clock (Cognito's claims are checked in test_userpool_aws.py)"
    ),
    "test_client_validity_settings_shape_the_tokens": (
        "moto gap: tokens live 3600 s whatever the client's IdTokenValidity/AccessTokenValidity"
    ),
    "test_key_rotation_keeps_old_kid_until_its_tokens_expire": (
        "Cognito manages its signing keys: rotate_signing_key is UnsupportedOperation on AWS "
        "(test_userpool_aws.py checks it)"
    ),
    "test_revoke_token_revokes_one_session": "moto gap: RevokeToken is not implemented",
    "test_repeated_failures_lock_the_user_with_a_growing_cool_down": "moto gap: no lockout after failed sign-ins",
    "test_lockout_survives_restart": "moto gap: no lockout after failed sign-ins",
    "test_forgot_password_flow": (
        "moto gap: a reset code used once is ExpiredCodeException where the suite expects CodeMismatchException "
        "(to confirm on AWS); every earlier step passes on moto"
    ),
    "test_forgot_password_needs_a_verified_email": "moto gap: ForgotPassword does not require a verified email",
    "test_change_password": (
        "moto gap: a wrong previous password is NotAuthorizedException with the username as its message "
        "(Cognito: 'Incorrect username or password.')"
    ),
    "test_admin_created_user_must_set_a_new_password": (
        "moto gap: AdminCreateUser without TemporaryPassword generates none and sends no invitation "
        "(test_userpool_aws.py runs the challenge with a given temporary password)"
    ),
    "test_disable_enable_delete": "moto gap: a disabled user's refresh token still refreshes",
    "test_update_attributes_and_verify_new_email": (
        "moto gap: UpdateUserAttributes returns no CodeDeliveryDetails, leaves email_verified as it was, and "
        "VerifyUserAttribute is not implemented"
    ),
}

#: Test modules that inspect the local adapter itself.
LOCAL_ONLY_MODULES = ("test_userpool_local",)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_userpool, "HASHING", FAST_HASHING)


@dataclass
class PoolEnv:
    """What the suite uses besides the handles: time, restarts and the "emails" sent."""

    app: App
    pool: UserPool
    by_name: UserPool
    #: The local runtime (``LocalEnv``), or on aws a stand-in whose clock and state folder skip the test.
    local: Any

    def advance(self, seconds: float) -> None:
        self.local.advance(seconds)

    def restart(self) -> None:
        self.local.restart()

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

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


@dataclass
class LocalPoolEnv(PoolEnv):
    local: LocalEnv

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        path = self.local.state_dir / "outbox" / "cognito.jsonl"
        if not path.exists():
            return []
        found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [m for m in found if to is None or m["to"] == to]


@dataclass
class AwsPoolEnv(PoolEnv):
    """The pools on moto. moto sends no email, so the env records, from the adapter's own calls, what would go out.

    - ``SignUp`` answered unconfirmed: a confirmation code to the sign-up name. moto checks no sign-up
      code (any code confirms), so the recorded code is a random stand-in.
    - ``ForgotPassword``: the reset code moto returns in its ``x-moto-forgot-password-confirmation-code``
      header (a code moto does check), to the name the call used.
    - ``AdminCreateUser`` with a ``TemporaryPassword`` and no ``MessageAction=SUPPRESS``: the invitation.
    """

    outbox: list[dict[str, Any]] = field(default_factory=list)
    _params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.outbox if to is None or m["to"] == to]

    def listen(self, client: Any) -> list[tuple[str, Any, str]]:
        """Register the recorders on the Cognito client; returns what to unregister."""
        handlers: list[tuple[str, Any, str]] = []
        for operation in ("SignUp", "ForgotPassword", "AdminCreateUser"):
            handlers.append((f"provide-client-params.cognito-idp.{operation}", self._remember, f"up-in-{operation}"))
            handlers.append((f"after-call.cognito-idp.{operation}", self._record, f"up-out-{operation}"))
        for event, handler, unique in handlers:
            client.meta.events.register(event, handler, unique_id=unique)
        return handlers

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params[model.name] = dict(params)

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if "Error" in parsed:
            return
        params = self._params.pop(model.name, {})
        attributes = {a["Name"]: a["Value"] for a in params.get("UserAttributes", [])}
        to = str(params.get("Username", ""))
        if model.name == "SignUp" and not parsed.get("UserConfirmed"):
            code = f"{secrets.randbelow(1_000_000):06d}"
            self.outbox.append({"to": to, "kind": "sign_up", "username": parsed.get("UserSub"), "code": code})
        elif model.name == "ForgotPassword":
            headers = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            code = headers.get("x-moto-forgot-password-confirmation-code")
            if code:
                self.outbox.append({"to": to, "kind": "forgot_password", "code": code})
        elif (
            model.name == "AdminCreateUser"
            and params.get("MessageAction") != "SUPPRESS"
            and params.get("TemporaryPassword")
        ):
            invitation = {"kind": "invitation", "temporary_password": params["TemporaryPassword"]}
            self.outbox.append({"to": attributes.get("email", to), **invitation})


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


# moto: pools made the way the template (stratus.aws.synth.kinds.identity) makes them.

_TYPES = {"string": "String", "number": "Number", "boolean": "Boolean", "datetime": "DateTime"}


def create_user_pool(cloud: Any, pool: UserPool) -> str:
    """A Cognito user pool with its clients and groups, as the template declares them; records both identities.

    One difference from the template: no pre-sign-up trigger (moto runs none). The template's
    account recovery setting (verified email first) matters here too: moto also uses it for
    sign-up code deliveries (without it, moto answers with a made-up phone number).
    """
    from stratus.aws.synth.kinds.identity import ACCOUNT_RECOVERY

    client = cloud.client("cognito-idp")
    policy = pool.password_policy
    params: dict[str, Any] = {
        "PoolName": pool.qualified_name,
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": policy.min_length,
                "RequireUppercase": policy.require_upper,
                "RequireLowercase": policy.require_lower,
                "RequireNumbers": policy.require_digits,
                "RequireSymbols": policy.require_symbols,
                "TemporaryPasswordValidityDays": policy.temporary_password_days,
            }
        },
        "MfaConfiguration": "OFF",
        "AccountRecoverySetting": ACCOUNT_RECOVERY,
    }
    if pool.username_attributes:
        params["UsernameAttributes"] = list(pool.username_attributes)
    if "email" in pool.username_attributes:
        params["AutoVerifiedAttributes"] = ["email"]
    if pool.custom_attributes:
        params["Schema"] = [
            {"Name": attr, "AttributeDataType": _TYPES[kind], "Mutable": True}
            for attr, kind in pool.custom_attributes.items()
        ]
    pool_id = str(client.create_user_pool(**params)["UserPool"]["Id"])
    ids: dict[str, str] = {}
    for app_client in pool.clients.values():
        made = client.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=app_client.name,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            IdTokenValidity=app_client.id_token_minutes,
            AccessTokenValidity=app_client.access_token_minutes,
            RefreshTokenValidity=max(60, int(app_client.refresh_token_days * 24 * 60)),
            TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "minutes"},
            EnableTokenRevocation=app_client.enable_token_revocation,
            PreventUserExistenceErrors="ENABLED",
        )
        ids[app_client.name] = str(made["UserPoolClient"]["ClientId"])
    for group in pool.groups:
        client.create_group(UserPoolId=pool_id, GroupName=group)
    cloud.set_id(pool, pool_id)
    cloud.set_id(pool, json.dumps(ids), "CLIENTS")
    return pool_id


class JwksFetcher:
    """``cloud.fetch_json`` for moto: moto serves Cognito's JWKS URL to ``requests`` (which it intercepts)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> Any:
        import requests

        self.urls.append(url)
        response = requests.get(url, timeout=30)
        response.raise_for_status()
        return response.json()


@contextmanager
def aws_pools(app: App, *pools: UserPool, clock: Clock | None = None) -> Iterator[tuple[Any, JwksFetcher]]:
    """moto, the pools created in it and bound to ``AwsUserPool``; yields the cloud and its JWKS fetcher."""
    from tests.stratus.aws.adapters.moto_cloud import moto_cloud

    from stratus.aws.adapters.user_pool import AwsUserPool

    with moto_cloud(clock) as made:
        cloud: Any = made
        fetcher = JwksFetcher()
        cloud.fetch_json = fetcher
        for pool in pools:
            create_user_pool(cloud, pool)
            cloud.bind(pool, AwsUserPool)
        yield cloud, fetcher


def aws_skip_reason(request: pytest.FixtureRequest) -> str | None:
    module = request.node.module.__name__.rpartition(".")[2]
    if module in LOCAL_ONLY_MODULES:
        return "local-only inspection: the local adapter's JWKS routes, password hashes and state"
    return AWS_SKIPS.get(request.node.originalname) or AWS_SKIPS.get(request.node.name)


@pytest.fixture(params=ADAPTERS)
def cognito(request: pytest.FixtureRequest) -> Iterator[PoolEnv]:
    app = App("shop")
    pool, by_name = declare(app)
    if request.param == "aws":
        reason = aws_skip_reason(request)
        if reason:
            pytest.skip(reason)
        with aws_pools(app, pool, by_name) as (cloud, _):
            env = AwsPoolEnv(app, pool, by_name, AwsEnv(cloud))
            client = cloud.client("cognito-idp")
            handlers = env.listen(client)
            try:
                yield env
            finally:
                for event, handler, unique in handlers:
                    client.meta.events.unregister(event, handler, unique_id=unique)
        return
    with stratus.testing.local(app) as local:
        yield LocalPoolEnv(app, pool, by_name, local)
