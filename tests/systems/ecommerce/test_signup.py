"""Sign-up with an emailed confirmation code, resending it, and resetting a forgotten password."""

from __future__ import annotations

import uuid

from tests.systems.ecommerce.conftest import PASSWORD, Shop


def new_email() -> str:
    return f"s-{uuid.uuid4().hex[:10]}@example.com"


def sign_in(shop: Shop, email: str, password: str = PASSWORD) -> object:
    return shop.call("POST", "/auth/sign-in", json={"email": email, "password": password})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sign_up_needs_the_emailed_code_before_sign_in(shop: Shop) -> None:
    email = new_email()
    answer = shop.call("POST", "/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "Sam"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["confirmed"] is False
    assert body["code_delivery"]["delivery_medium"] == "EMAIL" and email not in body["code_delivery"]["destination"]
    # Not confirmed: no sign-in, whether the password is right (403, says why) or wrong (the usual 401).
    unconfirmed = sign_in(shop, email)
    assert unconfirmed.status_code == 403 and unconfirmed.json()["code"] == "UserNotConfirmed"  # type: ignore[attr-defined]
    assert "id_token" not in unconfirmed.json()  # type: ignore[attr-defined]
    assert sign_in(shop, email, "Wr0ng-password!").status_code == 401  # type: ignore[attr-defined]
    code = shop.last_code(email)
    rejected = shop.call("POST", "/auth/confirm", json={"email": email, "code": wrong(code)})
    assert rejected.status_code == 400 and rejected.json()["errors"][0]["loc"] == ["code"]
    assert sign_in(shop, email).status_code == 403  # type: ignore[attr-defined]
    confirmed = shop.call("POST", "/auth/confirm", json={"email": email, "code": code})
    assert confirmed.status_code == 200 and confirmed.json() == {"user_id": body["user_id"], "confirmed": True}
    tokens = sign_in(shop, email)
    assert tokens.status_code == 200  # type: ignore[attr-defined]
    assert shop.call("GET", "/cart", tokens.json()["id_token"]).status_code == 200  # type: ignore[attr-defined]
    again = shop.call("POST", "/auth/confirm", json={"email": email, "code": code})
    assert again.status_code == 409


def test_codes_can_be_resent_and_are_not_guessable(shop: Shop) -> None:
    email = new_email()
    shop.call("POST", "/auth/sign-up", json={"email": email, "password": PASSWORD, "name": "R"})
    first = shop.last_code(email)
    resent = shop.call("POST", "/auth/resend-code", json={"email": email})
    assert resent.status_code == 202 and resent.json()["code_delivery"]["delivery_medium"] == "EMAIL"
    second = shop.last_code(email)
    assert len(shop.codes(email)) == 2
    if first != second:  # the new code replaces the old one
        assert shop.call("POST", "/auth/confirm", json={"email": email, "code": first}).status_code == 400
    # An unknown email answers like a known one: no way to tell who has an account.
    nobody = shop.call("POST", "/auth/resend-code", json={"email": "nobody-here@example.com"})
    assert nobody.status_code == 202
    unknown = shop.call("POST", "/auth/confirm", json={"email": "nobody-here@example.com", "code": "123456"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["loc"] == ["code"]
    # Guessing is cut short: at the fifth wrong code (the old one counted) even the right one is refused.
    tried = 1 if first != second else 0
    statuses = [
        shop.call("POST", "/auth/confirm", json={"email": email, "code": wrong(second)}).status_code
        for _ in range(5 - tried)
    ]
    assert statuses == [400] * (4 - tried) + [429]
    assert shop.call("POST", "/auth/confirm", json={"email": email, "code": second}).status_code == 429
    assert sign_in(shop, email).status_code == 403  # type: ignore[attr-defined]
    # A fresh code works.
    assert shop.call("POST", "/auth/resend-code", json={"email": email}).status_code == 202
    assert shop.call("POST", "/auth/confirm", json={"email": email, "code": shop.last_code(email)}).status_code == 200
    assert sign_in(shop, email).status_code == 200  # type: ignore[attr-defined]
    assert shop.call("POST", "/auth/resend-code", json={"email": email}).status_code == 409  # confirmed already


def test_a_forgotten_password_is_reset_with_an_emailed_code(shop: Shop) -> None:
    email = new_email()
    shop.register(email)
    asked = shop.call("POST", "/auth/forgot-password", json={"email": email})
    assert asked.status_code == 202
    code = shop.last_code(email, "forgot_password")
    new_password = "N3w-passw0rd!"
    bad_code = shop.call(
        "POST", "/auth/reset-password", json={"email": email, "code": wrong(code), "password": new_password}
    )
    assert bad_code.status_code == 400 and bad_code.json()["errors"][0]["loc"] == ["code"]
    weak = shop.call("POST", "/auth/reset-password", json={"email": email, "code": code, "password": "weakweakweak"})
    assert weak.status_code == 400 and weak.json()["errors"][0]["loc"] == ["password"]
    reset = shop.call("POST", "/auth/reset-password", json={"email": email, "code": code, "password": new_password})
    assert reset.status_code == 200
    assert sign_in(shop, email).status_code == 401  # type: ignore[attr-defined]
    assert sign_in(shop, email, new_password).status_code == 200  # type: ignore[attr-defined]
    assert shop.call("POST", "/auth/forgot-password", json={"email": "nobody-here@example.com"}).status_code == 202
    # An account never confirmed has no verified email to send a reset code to.
    unconfirmed = new_email()
    shop.call("POST", "/auth/sign-up", json={"email": unconfirmed, "password": PASSWORD, "name": "U"})
    assert shop.call("POST", "/auth/forgot-password", json={"email": unconfirmed}).status_code == 409


def test_auth_input_is_validated_with_field_errors(shop: Shop) -> None:
    bad = shop.call("POST", "/auth/confirm", json={"email": "not-an-email", "code": "12ab", "extra": True})
    assert bad.status_code == 400
    assert {e["loc"][0] for e in bad.json()["errors"]} == {"email", "code", "extra"}
    assert shop.call("POST", "/auth/resend-code", json={}).status_code == 400
    short = shop.call("POST", "/auth/reset-password", json={"email": new_email(), "code": "123456", "password": "x"})
    assert short.status_code == 400 and short.json()["errors"][0]["loc"] == ["password"]
