"""Sign-up, sign-in and token refresh, through the user pool (Cognito's role).

Errors never tell whether an email is registered: a failed sign-in is one 401 whatever the
reason, as Cognito answers with user-existence errors prevented.
"""

from __future__ import annotations

from typing import Any

from stratus.errors import ValidationError
from stratus.resources.api import Request, Response
from stratus.resources.userpool import InvalidPassword, NotAuthorized, UsernameExists, UserNotConfirmed
from systems.ecommerce.infra import notifications, users
from systems.ecommerce.models import Refresh, SignIn, SignUp
from systems.ecommerce.web import field_error, invalid

CLIENT = "web"


def sign_up(request: Request, context: Any) -> Response:
    body: SignUp = request.model
    email = body.email.lower()
    try:
        result = users.sign_up(email, body.password.get_secret_value(), {"name": body.name})
    except InvalidPassword as error:
        return invalid(field_error(["password"], str(error)))
    except UsernameExists:
        return Response(409, {"message": "an account with this email exists; sign in instead"})
    except ValidationError as error:
        return invalid(field_error(["body"], str(error)))
    # Order notifications by email, filtered to this customer's own messages.
    mine = {"customer_id": [result.user_sub]}
    notifications.subscribe_email(email, filter_policy=mine)
    if body.phone:
        notifications.subscribe_sms(body.phone, filter_policy=mine)
    return Response(201, {"user_id": result.user_sub, "confirmed": result.user_confirmed})


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
    except (NotAuthorized, UserNotConfirmed, ValidationError):
        return Response(401, {"message": "incorrect email or password"})
    return Response(200, _tokens(tokens))


def refresh(request: Request, context: Any) -> Response:
    body: Refresh = request.model
    try:
        tokens = users.refresh(CLIENT, body.refresh_token.get_secret_value())
    except (NotAuthorized, ValidationError):
        return Response(401, {"message": "the refresh token is not valid"})
    return Response(200, _tokens(tokens))
