"""Sign-up with an emailed confirmation code, sign-in, token refresh and password reset, through the
user pool (Cognito's role).

Sign-up creates an unconfirmed account and emails a 6-digit code (locally the user pool
writes it to ``<state>/outbox/cognito.jsonl``); ``POST /auth/confirm`` confirms the account
with it, and only then can the customer sign in and get order notifications (the email, and
the phone number if one was given, are subscribed to the notifications topic at that
moment). ``POST /auth/resend-code`` sends a new code; ``POST /auth/forgot-password`` emails a
reset code and ``POST /auth/reset-password`` sets a new password with it.

Errors never tell whether an email is registered where Cognito would not: a failed sign-in
is one 401 whatever the reason, and resending or asking for a reset code answers the same
for an unknown email (the user pool prevents user-existence errors). Sign-up itself says
an email is taken (409), as Cognito does. Signing in to an unconfirmed account with the
right password is a 403 that says to confirm it first.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.api import Request, Response
from stratus.resources.userpool import (
    CodeDelivery,
    CodeMismatch,
    ExpiredCode,
    InvalidPassword,
    LimitExceededError,
    NotAuthorized,
    UsernameExists,
    UserNotConfirmed,
)
from systems.ecommerce.infra import notifications, users
from systems.ecommerce.models import ConfirmSignUp, EmailOnly, Refresh, ResetPassword, SignIn, SignUp
from systems.ecommerce.web import conflict, field_error, invalid

CLIENT = "web"
TOO_MANY = "too many attempts or codes; wait a while and try again"


def _delivery(delivery: CodeDelivery | None) -> dict[str, Any] | None:
    return None if delivery is None else asdict(delivery)


def _code_error(error: Exception) -> Response:
    """A wrong, expired or over-tried code."""
    if isinstance(error, LimitExceededError):
        return Response(429, {"message": TOO_MANY})
    if isinstance(error, ExpiredCode):
        return invalid(field_error(["code"], "has expired; ask for a new one"))
    return invalid(field_error(["code"], "is not the code we sent"))


def sign_up(request: Request, context: Any) -> Response:
    body: SignUp = request.model
    email = body.email.lower()
    attributes = {"name": body.name, **({"phone_number": body.phone} if body.phone else {})}
    try:
        result = users.sign_up(email, body.password.get_secret_value(), attributes)
    except InvalidPassword as error:
        return invalid(field_error(["password"], str(error)))
    except UsernameExists:
        return conflict("an account with this email exists; sign in, or confirm it (POST /auth/resend-code)")
    except ValidationError as error:
        return invalid(field_error(["body"], str(error)))
    return Response(
        201,
        {
            "user_id": result.user_sub,
            "confirmed": result.user_confirmed,
            "code_delivery": _delivery(result.code_delivery),
        },
    )


def confirm(request: Request, context: Any) -> Response:
    body: ConfirmSignUp = request.model
    email = body.email.lower()
    try:
        users.confirm_sign_up(email, body.code)
    except (CodeMismatch, ExpiredCode, LimitExceededError) as error:
        return _code_error(error)
    except NotAuthorized:
        return conflict("this account is confirmed already; sign in")
    user = users.admin_get_user(email)
    # Order notifications by email (and SMS), each filtered to this customer's own messages.
    mine = {"customer_id": [user.sub]}
    notifications.subscribe_email(email, filter_policy=mine)
    if user.attributes.get("phone_number"):
        notifications.subscribe_sms(user.attributes["phone_number"], filter_policy=mine)
    return Response(200, {"user_id": user.sub, "confirmed": True})


def resend_code(request: Request, context: Any) -> Response:
    body: EmailOnly = request.model
    try:
        delivery = users.resend_confirmation_code(body.email.lower())
    except LimitExceededError:
        return Response(429, {"message": TOO_MANY})
    except ValidationError:  # the user pool's "User is already confirmed."
        return conflict("this account is confirmed already; sign in")
    return Response(202, {"code_delivery": _delivery(delivery)})


def forgot_password(request: Request, context: Any) -> Response:
    body: EmailOnly = request.model
    try:
        delivery = users.forgot_password(body.email.lower())
    except LimitExceededError:
        return Response(429, {"message": TOO_MANY})
    except ValidationError:  # no verified email to send a code to: the account was never confirmed
        return conflict("this account is not confirmed; confirm it first (POST /auth/resend-code)")
    except NotAuthorized:
        return Response(403, {"message": "this account is disabled"})
    return Response(202, {"code_delivery": _delivery(delivery)})


def reset_password(request: Request, context: Any) -> Response:
    body: ResetPassword = request.model
    try:
        users.confirm_forgot_password(body.email.lower(), body.code, body.password.get_secret_value())
    except InvalidPassword as error:
        return invalid(field_error(["password"], str(error)))
    except (CodeMismatch, ExpiredCode, LimitExceededError) as error:
        return _code_error(error)
    return Response(200, {"reset": True})


def _tokens(tokens: Any) -> dict[str, Any]:
    return {
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "token_type": tokens.token_type,
    }


def sign_in(request: Request, context: Any) -> Response:
    body: SignIn = request.model
    try:
        tokens = users.initiate_auth(CLIENT, body.email.lower(), body.password.get_secret_value())
    except UserNotConfirmed:  # only said once the password is right
        return Response(
            403,
            {
                "message": "confirm your email first with the code we sent (POST /auth/confirm), "
                "or ask for a new one (POST /auth/resend-code)",
                "code": "UserNotConfirmed",
            },
        )
    except (NotAuthorized, ValidationError):
        return Response(401, {"message": "incorrect email or password"})
    return Response(200, _tokens(tokens))


def refresh(request: Request, context: Any) -> Response:
    body: Refresh = request.model
    try:
        tokens = users.refresh(CLIENT, body.refresh_token.get_secret_value())
    except (NotAuthorized, ValidationError):
        return Response(401, {"message": "the refresh token is not valid"})
    return Response(200, _tokens(tokens))
