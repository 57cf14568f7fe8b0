"""The user pool port: Cognito's sign-up, sign-in, tokens, passwords, groups and administration."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import jwt
import pytest

from stratus import App, ValidationError
from stratus.resources.userpool import (
    AliasExists,
    AppClient,
    ChallengeRequired,
    ClientNotFound,
    CodeMismatch,
    ExpiredCode,
    GroupNotFound,
    InvalidParameter,
    InvalidPassword,
    LimitExceededError,
    NotAuthorized,
    PasswordPolicy,
    UsernameExists,
    UserNotConfirmed,
    UserNotFound,
)

if TYPE_CHECKING:
    from conftest import PoolEnv

EMAIL = "jane@example.com"
PASSWORD = "Correct-Horse1"  # as in conftest


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# Declarations.


@pytest.mark.parametrize(
    "client",
    [
        {"id_token_minutes": 4},
        {"access_token_minutes": 1441},
        {"refresh_token_days": 0.5 / 24},
        {"refresh_token_days": 3651},
        {"scopes": ["not a scope"]},
        {"scopes": ["noserver"]},
        {"name": ""},
    ],
)
def test_bad_client_settings_fail_at_declaration(client: dict) -> None:
    settings = {"name": "web", **client}
    with pytest.raises(ValidationError):
        AppClient(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"password_policy": PasswordPolicy(min_length=8), "clients": []},
        {"groups": ["a", "a"]},
        {"custom_attributes": {"tier": "blob"}},
        {"custom_attributes": {"custom:tier": "string"}},
        {"username_attributes": ["nickname"]},
        {"mfa": True},
    ],
)
def test_bad_pool_settings_fail_and_leave_nothing(settings: dict) -> None:
    app = App("bad")
    kwargs = {"clients": [AppClient("web")], **settings}
    with pytest.raises(ValidationError):
        app.user_pool("users", **kwargs)
    assert app.resources == []


def test_password_policy_ranges() -> None:
    with pytest.raises(ValidationError):
        PasswordPolicy(min_length=5)
    with pytest.raises(ValidationError):
        PasswordPolicy(min_length=100)
    assert PasswordPolicy(min_length=99).min_length == 99


def test_valid_extremes_are_accepted() -> None:
    client = AppClient("c", id_token_minutes=5, access_token_minutes=1440, refresh_token_days=3650)
    assert client.refresh_token_seconds == 3650 * 86400
    assert AppClient("h", refresh_token_days=1 / 24).refresh_token_seconds == 3600


# Sign-up and confirmation.


def test_sign_up_sends_a_code_and_confirming_enables_sign_in(cognito: PoolEnv) -> None:
    pool = cognito.pool
    result = pool.sign_up(EMAIL, PASSWORD, {"name": "Jane", "custom:tier": "gold"})
    assert not result.user_confirmed
    assert result.code_delivery is not None
    assert result.code_delivery.destination == "j***@e***"
    assert result.code_delivery.delivery_medium == "EMAIL"
    with pytest.raises(UserNotConfirmed):
        pool.initiate_auth("web", EMAIL, PASSWORD)
    code = cognito.last_code(EMAIL)
    assert len(code) == 6 and code.isdigit()
    pool.confirm_sign_up(EMAIL, code)
    user = pool.admin_get_user(EMAIL)
    assert user.status == "CONFIRMED"
    assert user.username == result.user_sub == user.sub
    assert user.attributes["email_verified"] == "true"
    assert user.attributes["custom:tier"] == "gold"
    tokens = pool.initiate_auth("web", EMAIL, PASSWORD)
    assert tokens.token_type == "Bearer" and tokens.expires_in == 3600


def test_outbox_is_private(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    path = cognito.local.state_dir / "outbox" / "cognito.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sign_up_twice_is_refused(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    with pytest.raises(UsernameExists, match="email already exists"):
        cognito.pool.sign_up("JANE@example.com", PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short1", "not long enough"),
        ("nouppercase1", "uppercase"),
        ("NOLOWERCASE1", "lowercase"),
        ("NoDigitsHere", "numeric"),
    ],
)
def test_password_policy_is_enforced(cognito: PoolEnv, password: str, message: str) -> None:
    with pytest.raises(InvalidPassword, match=message) as caught:
        cognito.pool.sign_up(EMAIL, password)
    assert caught.value.code == "InvalidPasswordException"
    with pytest.raises(UserNotFound):
        cognito.pool.admin_get_user(EMAIL)


def test_symbols_required_by_default(cognito: PoolEnv) -> None:
    with pytest.raises(InvalidPassword, match="symbol"):
        cognito.by_name.sign_up("bob", "NoSymbols123")
    cognito.by_name.sign_up("bob", "With-Symbol123")


def test_username_must_be_an_email_when_email_is_the_username(cognito: PoolEnv) -> None:
    with pytest.raises(InvalidParameter, match="email"):
        cognito.pool.sign_up("jane", PASSWORD)


def test_unknown_attributes_are_refused(cognito: PoolEnv) -> None:
    with pytest.raises(InvalidParameter, match="custom:colour"):
        cognito.pool.sign_up(EMAIL, PASSWORD, {"custom:colour": "red"})
    with pytest.raises(InvalidParameter):
        cognito.pool.sign_up(EMAIL, PASSWORD, {"email_verified": "true"})
    with pytest.raises(InvalidParameter, match="number"):
        cognito.pool.sign_up(EMAIL, PASSWORD, {"custom:score": "lots"})


def test_wrong_code_then_right_code(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    code = cognito.last_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(CodeMismatch) as caught:
        cognito.pool.confirm_sign_up(EMAIL, wrong)
    assert caught.value.code == "CodeMismatchException"
    cognito.pool.confirm_sign_up(EMAIL, code)
    with pytest.raises(NotAuthorized, match="CONFIRMED"):
        cognito.pool.confirm_sign_up(EMAIL, code)


def test_too_many_wrong_codes_burn_the_code(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    code = cognito.last_code(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(CodeMismatch):
            cognito.pool.confirm_sign_up(EMAIL, wrong)
    with pytest.raises(LimitExceededError):
        cognito.pool.confirm_sign_up(EMAIL, wrong)
    with pytest.raises(LimitExceededError):
        cognito.pool.confirm_sign_up(EMAIL, code)  # even the right one, now
    cognito.pool.resend_confirmation_code(EMAIL)
    cognito.pool.confirm_sign_up(EMAIL, cognito.last_code(EMAIL))
    assert cognito.pool.admin_get_user(EMAIL).status == "CONFIRMED"


def test_codes_expire_after_24_hours(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    code = cognito.last_code(EMAIL)
    cognito.advance(24 * 3600 + 1)
    with pytest.raises(ExpiredCode):
        cognito.pool.confirm_sign_up(EMAIL, code)


def test_resend_replaces_the_code_and_is_rate_limited(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    first = cognito.last_code(EMAIL)
    for _ in range(4):
        cognito.pool.resend_confirmation_code(EMAIL)
    with pytest.raises(LimitExceededError):
        cognito.pool.resend_confirmation_code(EMAIL)
    latest = cognito.last_code(EMAIL)
    if latest != first:
        with pytest.raises(CodeMismatch):
            cognito.pool.confirm_sign_up(EMAIL, first)
    cognito.advance(3601)
    cognito.pool.resend_confirmation_code(EMAIL)
    cognito.pool.confirm_sign_up(EMAIL, cognito.last_code(EMAIL))


def test_unknown_users_are_not_revealed(cognito: PoolEnv) -> None:
    cognito.signed_up()
    with pytest.raises(NotAuthorized) as unknown:
        cognito.pool.initiate_auth("web", "nobody@example.com", PASSWORD)
    with pytest.raises(NotAuthorized) as wrong:
        cognito.pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    assert str(unknown.value) == str(wrong.value) == "Incorrect username or password."
    delivery = cognito.pool.forgot_password("nobody@example.com")
    assert delivery.delivery_medium == "EMAIL"
    assert cognito.messages("nobody@example.com") == []
    assert cognito.pool.resend_confirmation_code("nobody@example.com").delivery_medium == "EMAIL"
    with pytest.raises(CodeMismatch):
        cognito.pool.confirm_sign_up("nobody@example.com", "123456")


def test_admin_confirm_sign_up(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    cognito.pool.admin_confirm_sign_up(EMAIL)
    assert cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token


def test_auto_confirm_pool_signs_in_at_once(cognito: PoolEnv) -> None:
    result = cognito.by_name.sign_up("bob", "Bob-Password1", {"email": "bob@example.com"})
    assert result.user_confirmed and result.code_delivery is None
    tokens = cognito.by_name.initiate_auth("console", "BOB", "Bob-Password1")  # case-insensitive
    assert claims(tokens.id_token)["cognito:username"] == "bob"


# Tokens.


def test_id_and_access_token_claims_are_cognitos(cognito: PoolEnv) -> None:
    sub = cognito.signed_up(**{"custom:tier": "gold"})
    cognito.pool.admin_add_user_to_group(EMAIL, "customer")
    cognito.pool.admin_add_user_to_group(EMAIL, "admin")
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    now = int(cognito.local.clock.now())
    header = jwt.get_unverified_header(tokens.id_token)
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in cognito.pool.jwks()["keys"]}
    id_claims = claims(tokens.id_token)
    assert id_claims["sub"] == sub
    assert id_claims["iss"] == cognito.pool.issuer == "http://127.0.0.1:8000/shop-customers"
    assert id_claims["aud"] == cognito.pool.client_id("web")
    assert id_claims["token_use"] == "id"
    assert id_claims["email"] == EMAIL and id_claims["email_verified"] is True
    assert id_claims["cognito:username"] == sub
    assert id_claims["cognito:groups"] == ["admin", "customer"]
    assert id_claims["custom:tier"] == "gold"
    assert id_claims["name"] == "Jane"
    assert id_claims["iat"] == now == id_claims["auth_time"]
    assert id_claims["exp"] == now + 3600
    assert {"event_id", "origin_jti", "jti"} <= id_claims.keys()
    access = claims(tokens.access_token)
    assert access["token_use"] == "access"
    assert access["client_id"] == cognito.pool.client_id("web")
    assert "aud" not in access
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "orders/read", "orders/write"]
    assert access["username"] == sub
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert access["cognito:groups"] == ["admin", "customer"]
    assert "email" not in access
    assert tokens.refresh_token and "." not in tokens.refresh_token  # opaque


def test_tokens_are_hidden_in_repr(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in str(tokens)


def test_client_validity_settings_shape_the_tokens(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("mobile", EMAIL, PASSWORD)
    now = int(cognito.local.clock.now())
    assert claims(tokens.id_token)["exp"] == now + 300
    assert claims(tokens.access_token)["exp"] == now + 600
    assert tokens.expires_in == 600
    with pytest.raises(ClientNotFound):
        cognito.pool.initiate_auth("desktop", EMAIL, PASSWORD)


def test_signing_key_survives_restart_and_is_sealed(cognito: PoolEnv) -> None:
    cognito.signed_up()
    kids = {k["kid"] for k in cognito.pool.jwks()["keys"]}
    token = cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    cognito.restart()
    assert {k["kid"] for k in cognito.pool.jwks()["keys"]} == kids
    assert cognito.pool.get_user(token).username
    raw = (cognito.local.state_dir / "userpools.db").read_bytes()
    assert b"PRIVATE KEY" not in raw
    for key in cognito.pool.jwks()["keys"]:
        assert "d" not in key and "p" not in key  # public parts only
        assert key["alg"] == "RS256" and key["use"] == "sig" and key["kty"] == "RSA"


def test_key_rotation_keeps_old_kid_until_its_tokens_expire(cognito: PoolEnv) -> None:
    cognito.signed_up()
    old_token = cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = cognito.pool.rotate_signing_key()
    assert new_kid != old_kid
    assert {k["kid"] for k in cognito.pool.jwks()["keys"]} == {old_kid, new_kid}
    new_token = cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert cognito.pool.get_user(old_token).username  # still valid
    cognito.advance(3600 + 120)
    assert {k["kid"] for k in cognito.pool.jwks()["keys"]} == {new_kid}


def test_refresh_gives_new_tokens_from_the_same_session(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.advance(3000)
    refreshed = cognito.pool.refresh("web", tokens.refresh_token or "")
    assert refreshed.refresh_token is None
    old, new = claims(tokens.access_token), claims(refreshed.access_token)
    assert new["origin_jti"] == old["origin_jti"]
    assert new["auth_time"] == old["auth_time"] and new["iat"] == old["iat"] + 3000
    assert new["jti"] != old["jti"]
    with pytest.raises(NotAuthorized, match="Invalid Refresh Token"):
        cognito.pool.refresh("mobile", tokens.refresh_token or "")  # another client's token
    with pytest.raises(NotAuthorized, match="Invalid Refresh Token"):
        cognito.pool.refresh("web", "not-a-refresh-token")


def test_refresh_tokens_expire(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.advance(30 * 86400 + 1)
    with pytest.raises(NotAuthorized, match="expired"):
        cognito.pool.refresh("web", tokens.refresh_token or "")


def test_refresh_tokens_are_stored_hashed(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.restart()
    raw = b"".join(p.read_bytes() for p in cognito.local.state_dir.glob("userpools.db*"))
    assert (tokens.refresh_token or "").encode() not in raw
    assert PASSWORD.encode() not in raw


def test_get_user_and_expiry(cognito: PoolEnv) -> None:
    sub = cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    user = cognito.pool.get_user(tokens.access_token)
    assert user.sub == sub and user.attributes["email"] == EMAIL
    with pytest.raises(NotAuthorized, match="Invalid Access Token"):
        cognito.pool.get_user(tokens.id_token)
    cognito.advance(3600 + 6)
    with pytest.raises(NotAuthorized, match="Access Token has expired"):
        cognito.pool.get_user(tokens.access_token)


def test_global_sign_out_revokes_refresh_and_access_tokens(cognito: PoolEnv) -> None:
    cognito.signed_up()
    first = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    second = cognito.pool.initiate_auth("mobile", EMAIL, PASSWORD)
    cognito.pool.global_sign_out(first.access_token)
    for tokens, client in ((first, "web"), (second, "mobile")):
        with pytest.raises(NotAuthorized, match="revoked"):
            cognito.pool.get_user(tokens.access_token)
        with pytest.raises(NotAuthorized, match="revoked"):
            cognito.pool.refresh(client, tokens.refresh_token or "")
    fresh = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    assert cognito.pool.get_user(fresh.access_token).attributes["email"] == EMAIL


def test_revoke_token_revokes_one_session(cognito: PoolEnv) -> None:
    cognito.signed_up()
    first = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    second = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.pool.revoke_token("web", first.refresh_token or "")
    with pytest.raises(NotAuthorized):
        cognito.pool.refresh("web", first.refresh_token or "")
    with pytest.raises(NotAuthorized):
        cognito.pool.get_user(first.access_token)
    assert cognito.pool.refresh("web", second.refresh_token or "").access_token
    cognito.pool.revoke_token("web", "unknown-token")  # as Cognito: no error


# Brute force.


def test_repeated_failures_lock_the_user_with_a_growing_cool_down(cognito: PoolEnv) -> None:
    cognito.signed_up()
    for _ in range(5):
        with pytest.raises(NotAuthorized, match="Incorrect"):
            cognito.pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)  # even the right password
    cognito.advance(1.5)
    with pytest.raises(NotAuthorized, match="Incorrect"):
        cognito.pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    cognito.advance(1.5)  # the lockout doubled to 2 s
    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.advance(1)
    assert cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    # Success resets the counter.
    with pytest.raises(NotAuthorized, match="Incorrect"):
        cognito.pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    assert cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token


def test_lockout_survives_restart(cognito: PoolEnv) -> None:
    cognito.signed_up()
    for _ in range(10):
        with pytest.raises(NotAuthorized):
            cognito.pool.initiate_auth("web", EMAIL, "Wrong-Password1")
    cognito.restart()
    with pytest.raises(NotAuthorized, match="Password attempts exceeded"):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)


# Passwords.


def test_forgot_password_flow(cognito: PoolEnv) -> None:
    cognito.signed_up()
    delivery = cognito.pool.forgot_password(EMAIL)
    assert delivery.destination == "j***@e***"
    code = cognito.last_code(EMAIL)
    with pytest.raises(InvalidPassword):
        cognito.pool.confirm_forgot_password(EMAIL, code, "weak")
    cognito.pool.confirm_forgot_password(EMAIL, code, "New-Password2")
    with pytest.raises(NotAuthorized):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    assert cognito.pool.initiate_auth("web", EMAIL, "New-Password2").access_token
    with pytest.raises(CodeMismatch):
        cognito.pool.confirm_forgot_password(EMAIL, code, "Other-Password3")  # used once


def test_reset_codes_expire_after_an_hour(cognito: PoolEnv) -> None:
    cognito.signed_up()
    cognito.pool.forgot_password(EMAIL)
    code = cognito.last_code(EMAIL)
    cognito.advance(3601)
    with pytest.raises(ExpiredCode):
        cognito.pool.confirm_forgot_password(EMAIL, code, "New-Password2")


def test_forgot_password_needs_a_verified_email(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    with pytest.raises(InvalidParameter, match="verified"):
        cognito.pool.forgot_password(EMAIL)


def test_change_password(cognito: PoolEnv) -> None:
    cognito.signed_up()
    token = cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    with pytest.raises(NotAuthorized, match="Incorrect"):
        cognito.pool.change_password(token, "Wrong-Password1", "New-Password2")
    with pytest.raises(InvalidPassword):
        cognito.pool.change_password(token, PASSWORD, "short")
    cognito.pool.change_password(token, PASSWORD, "New-Password2")
    assert cognito.pool.initiate_auth("web", EMAIL, "New-Password2").access_token


# Administration.


def test_admin_created_user_must_set_a_new_password(cognito: PoolEnv) -> None:
    user = cognito.pool.admin_create_user("ops@example.com", {"name": "Ops"})
    assert user.status == "FORCE_CHANGE_PASSWORD"
    temporary = cognito.temporary_password("ops@example.com")
    assert temporary not in repr(user)
    with pytest.raises(ChallengeRequired) as caught:
        cognito.pool.initiate_auth("web", "ops@example.com", temporary)
    challenge = caught.value
    assert challenge.challenge_name == "NEW_PASSWORD_REQUIRED"
    assert challenge.session not in repr(challenge)
    with pytest.raises(NotAuthorized):
        cognito.pool.respond_to_new_password_challenge("web", "ops@example.com", "x" * 40, "New-Password2")
    tokens = cognito.pool.respond_to_new_password_challenge(
        "web", "ops@example.com", challenge.session, "New-Password2"
    )
    assert claims(tokens.id_token)["email"] == "ops@example.com"
    assert cognito.pool.admin_get_user("ops@example.com").status == "CONFIRMED"
    with pytest.raises(NotAuthorized):  # the session was for the temporary password
        cognito.pool.respond_to_new_password_challenge("web", "ops@example.com", challenge.session, "Other-Pass3")


def test_temporary_passwords_expire(cognito: PoolEnv) -> None:
    cognito.pool.admin_create_user("ops@example.com", temporary_password="Temp-Pass123")
    cognito.advance(7 * 86400 + 1)
    with pytest.raises(NotAuthorized, match="expired"):
        cognito.pool.initiate_auth("web", "ops@example.com", "Temp-Pass123")
    cognito.pool.admin_set_user_password("ops@example.com", "Perm-Pass123", permanent=True)
    assert cognito.pool.initiate_auth("web", "ops@example.com", "Perm-Pass123").access_token


def test_disable_enable_delete(cognito: PoolEnv) -> None:
    cognito.signed_up()
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.pool.admin_disable_user(EMAIL)
    assert not cognito.pool.admin_get_user(EMAIL).enabled
    with pytest.raises(NotAuthorized, match="disabled"):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    with pytest.raises(NotAuthorized):
        cognito.pool.get_user(tokens.access_token)
    with pytest.raises(NotAuthorized):
        cognito.pool.refresh("web", tokens.refresh_token or "")
    cognito.pool.admin_enable_user(EMAIL)
    fresh = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.pool.admin_delete_user(EMAIL)
    with pytest.raises(UserNotFound):
        cognito.pool.admin_get_user(EMAIL)
    with pytest.raises(NotAuthorized):
        cognito.pool.get_user(fresh.access_token)
    with pytest.raises(NotAuthorized, match="Incorrect"):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.pool.sign_up(EMAIL, PASSWORD)  # the email is free again


def test_groups(cognito: PoolEnv) -> None:
    cognito.signed_up()
    cognito.pool.admin_add_user_to_group(EMAIL, "customer")
    cognito.pool.admin_add_user_to_group(EMAIL, "customer")  # idempotent
    assert cognito.pool.admin_list_groups_for_user(EMAIL) == ["customer"]
    with pytest.raises(GroupNotFound) as caught:
        cognito.pool.admin_add_user_to_group(EMAIL, "staff")
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(UserNotFound):
        cognito.pool.admin_add_user_to_group("nobody@example.com", "customer")
    tokens = cognito.pool.initiate_auth("web", EMAIL, PASSWORD)
    cognito.pool.admin_remove_user_from_group(EMAIL, "customer")
    assert cognito.pool.admin_list_groups_for_user(EMAIL) == []
    assert claims(tokens.id_token)["cognito:groups"] == ["customer"]
    refreshed = cognito.pool.refresh("web", tokens.refresh_token or "")
    assert "cognito:groups" not in claims(refreshed.id_token)


def test_update_attributes_and_verify_new_email(cognito: PoolEnv) -> None:
    cognito.signed_up()
    cognito.pool.sign_up("other@example.com", PASSWORD)
    token = cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token
    with pytest.raises(AliasExists):
        cognito.pool.update_user_attributes(token, {"email": "other@example.com"})
    deliveries = cognito.pool.update_user_attributes(
        token, {"email": "jane@new.example", "custom:tier": "silver", "custom:score": 7}
    )
    assert [d.attribute_name for d in deliveries] == ["email"]
    user = cognito.pool.get_user(token)
    assert user.attributes["email"] == "jane@new.example"
    assert user.attributes["email_verified"] == "false"
    assert user.attributes["custom:tier"] == "silver" and user.attributes["custom:score"] == "7"
    with pytest.raises(CodeMismatch):
        cognito.pool.verify_user_attribute(
            token, "email", "000000" if cognito.last_code("jane@new.example") != "000000" else "111111"
        )
    cognito.pool.verify_user_attribute(token, "email", cognito.last_code("jane@new.example"))
    assert cognito.pool.get_user(token).attributes["email_verified"] == "true"
    assert cognito.pool.initiate_auth("web", "jane@new.example", PASSWORD).access_token
    with pytest.raises(NotAuthorized):
        cognito.pool.initiate_auth("web", EMAIL, PASSWORD)


def test_users_survive_restart(cognito: PoolEnv) -> None:
    sub = cognito.signed_up()
    cognito.pool.admin_add_user_to_group(EMAIL, "admin")
    cognito.restart()
    assert cognito.pool.admin_get_user(EMAIL).sub == sub
    assert cognito.pool.admin_list_groups_for_user(EMAIL) == ["admin"]
    assert cognito.pool.initiate_auth("web", EMAIL, PASSWORD).access_token


def test_client_ids_are_stable_and_distinct(cognito: PoolEnv) -> None:
    web, mobile = cognito.pool.client_id("web"), cognito.pool.client_id("mobile")
    assert web != mobile and len(web) == 26
    cognito.restart()
    assert cognito.pool.client_id("web") == web
    with pytest.raises(ClientNotFound):
        cognito.pool.client_id("tv")


def test_codes_survive_restart(cognito: PoolEnv) -> None:
    cognito.pool.sign_up(EMAIL, PASSWORD)
    code = cognito.last_code(EMAIL)
    cognito.restart()
    cognito.pool.confirm_sign_up(EMAIL, code)
    assert cognito.pool.admin_get_user(EMAIL).status == "CONFIRMED"
