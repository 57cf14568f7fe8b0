"""AwsUserPool: the user pool port on Amazon Cognito user pools, through boto3 (``cognito-idp``).

Users, passwords, codes, lockouts, sessions and signing keys are Cognito's own: this adapter
turns the handle's checked requests into Cognito calls and Cognito's answers and errors into
the port's. The pool is ``STRATUS_USER_POOL_<NAME>`` (its id) and its app clients
``STRATUS_USER_POOL_<NAME>_CLIENTS`` (JSON, client name -> client id), as
:mod:`stratus.aws.cloud` describes.

Which API serves what:

- Public, client-scoped calls (``SignUp``, ``ConfirmSignUp``, ``ResendConfirmationCode``,
  ``ForgotPassword``, ``ConfirmForgotPassword``) take a ``ClientId`` the port does not ask
  for; they go through the first declared client. Sign-in is ``InitiateAuth`` with
  ``USER_PASSWORD_AUTH`` (new password challenges: ``RespondToAuthChallenge``) and
  ``REFRESH_TOKEN_AUTH``; the template enables both flows on every client.
- ``admin_*`` methods call the Cognito action of the same name (``AdminDisableUser``...), which
  is what the function's role is granted. ``get_user`` calls ``GetUser`` (which also tells
  whether Cognito still honours the token) and then ``AdminGetUser`` for what ``GetUser`` does
  not return (status, enabled, dates), so a function calling ``get_user`` needs
  ``cognito-idp:AdminGetUser`` too.
- ``auto_confirm`` is the template's pre-sign-up trigger: ``SignUp`` answers ``UserConfirmed``.

Errors. Cognito's error codes map onto the port's classes; where the local adapter hides
whether a user exists (``PreventUserExistenceErrors``, which the template enables), so does
this one even if a pool answers ``UserNotFoundException``: sign-in fails with "Incorrect
username or password.", a code for an unknown user is a ``CodeMismatch`` and code deliveries to
unknown users are answered with a plausible masked destination.

Tokens are verified here, not by a call: :func:`stratus.resources.userpool_tokens.verify_jwt`
with the issuer ``https://cognito-idp.<region>.amazonaws.com/<pool id>`` and the keys
published at ``<issuer>/.well-known/jwks.json`` (fetched with ``cloud.fetch_json(url)`` when
the cloud offers it, else with httpx; cached for an hour and fetched again, at most once a
minute, when a token names a key id not in the cache). Access tokens used by the port's calls
are verified first, so malformed, expired or foreign tokens fail with the local adapter's
messages without a round trip; ``verify_token`` then asks Cognito (``GetUser``) whether an
access token was revoked. There is no Cognito API telling whether an ID token's session was
revoked: such ID tokens verify until they expire, as with any JWT library on AWS.

What Cognito cannot do raises :class:`UnsupportedOperation`: ``rotate_signing_key`` (Cognito
manages its signing keys itself) and ``is_session_revoked`` (no API looks up a session by
``origin_jti``; verify an access token with ``verify_token`` instead).

Passwords, codes and tokens are never logged nor put in errors or ``repr``.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import NotBound, ResourceNotFound, StratusError, Throttled
from stratus.resources.userpool import (
    AliasExists,
    ChallengeRequired,
    CodeDelivery,
    CodeMismatch,
    ExpiredCode,
    GroupNotFound,
    InvalidParameter,
    InvalidPassword,
    LimitExceededError,
    NotAuthorized,
    SignUpResult,
    Tokens,
    TooManyFailedAttempts,
    TooManyRequests,
    User,
    UsernameExists,
    UserNotConfirmed,
    UserNotFound,
    UserPoolBackend,
    UserPoolError,
)
from stratus.resources.userpool_tokens import InvalidToken, KeyCache, verify_jwt

if TYPE_CHECKING:
    from stratus.resources.userpool import UserPool

#: How long fetched signing keys serve before they are fetched again (seconds on the cloud's clock).
JWKS_TTL = 3600.0
#: The least time between two fetches caused by tokens naming a key id the cache does not hold.
JWKS_REFETCH = 60.0
#: Timeout of the JWKS request, in seconds.
HTTP_TIMEOUT = 5.0

_INCORRECT = "Incorrect username or password."
_BAD_CODE = "Invalid verification code provided, please try again."
_REVOKED = "Access Token has been revoked"
_EPOCH = datetime.fromtimestamp(0, UTC)


class UnsupportedOperation(UserPoolError):
    """What the port offers and Cognito cannot do; the message names the operation."""

    code = "UnsupportedOperation"


class JwksUnavailable(UserPoolError):
    """The pool's signing keys could not be fetched, and none were fetched before."""

    code = "JwksUnavailable"


#: Cognito error codes -> the port's errors (calls may override some, see ``_call``).
_ERRORS: dict[str, type[StratusError]] = {
    "InvalidParameterException": InvalidParameter,
    "InvalidPasswordException": InvalidPassword,
    "UsernameExistsException": UsernameExists,
    "AliasExistsException": AliasExists,
    "UserNotFoundException": UserNotFound,
    "UserNotConfirmedException": UserNotConfirmed,
    "NotAuthorizedException": NotAuthorized,
    "PasswordResetRequiredException": NotAuthorized,  # "Password reset required for the user", as locally
    "UnauthorizedException": NotAuthorized,
    "CodeMismatchException": CodeMismatch,
    "ExpiredCodeException": ExpiredCode,
    "LimitExceededException": LimitExceededError,
    "TooManyRequestsException": TooManyRequests,
    "TooManyFailedAttemptsException": TooManyFailedAttempts,
    "ResourceNotFoundException": ResourceNotFound,
    "ThrottlingException": Throttled,
}

Overrides = dict[str, Any]  # error code -> callable(message) -> StratusError


def translate(error: ClientError, overrides: Overrides | None = None, hidden: tuple[str, ...] = ()) -> StratusError:
    """The port error for a Cognito error; ``hidden`` values (tokens, passwords, codes) never reach its message."""
    code = _context.error_code(error)
    make = (overrides or {}).get(code)
    failure = make(_context.error_message(error)) if make is not None else _context.translate_error(error, _ERRORS)
    message = failure.message
    for secret in hidden:
        if secret and len(secret) >= 4 and secret in message:
            message = message.replace(secret, "<hidden>")
    if message != failure.message:
        failure.message = message
        failure.args = (message,)
    return failure


def _token_message(reason: str, token_use: object) -> str:
    """The local adapter's wording for a token that does not verify."""
    what = {"id": "Id Token", "access": "Access Token"}.get(str(token_use), "Token")
    if reason == "expired":
        return f"{what} has expired"
    return f"Invalid {what}"


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def _fake_delivery(name: str) -> CodeDelivery:
    """What Cognito answers for an unknown user when it must not reveal that (PreventUserExistenceErrors)."""
    if "@" in name:
        return CodeDelivery(_mask_email(name), "EMAIL", "email")
    return CodeDelivery(f"{name[:1]}***@{name[-1:]}***", "EMAIL", "email")


def _delivery(details: dict[str, Any] | None, name: str) -> CodeDelivery:
    if not details or not details.get("Destination"):
        return _fake_delivery(name)
    return CodeDelivery(
        str(details["Destination"]),
        str(details.get("DeliveryMedium") or "EMAIL"),
        str(details.get("AttributeName") or "email"),
    )


def _attribute_list(attributes: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]


def _user(record: dict[str, Any], attributes_key: str) -> User:
    attributes = {str(a["Name"]): str(a.get("Value", "")) for a in record.get(attributes_key) or []}
    return User(
        username=str(record["Username"]),
        sub=attributes.get("sub", ""),
        status=str(record.get("UserStatus", "")),
        enabled=bool(record.get("Enabled", True)),
        attributes=attributes,
        created=_context.utc(record.get("UserCreateDate")) or _EPOCH,
        modified=_context.utc(record.get("UserLastModifiedDate")) or _EPOCH,
    )


def _tokens(response: dict[str, Any]) -> Tokens:
    """Tokens from an AuthenticationResult, or the challenge Cognito asked for instead."""
    result = response.get("AuthenticationResult")
    if result:
        return Tokens(
            id_token=str(result["IdToken"]),
            access_token=str(result["AccessToken"]),
            refresh_token=str(result["RefreshToken"]) if result.get("RefreshToken") else None,
            expires_in=int(result.get("ExpiresIn", 3600)),
            token_type=str(result.get("TokenType") or "Bearer"),
        )
    challenge = response.get("ChallengeName")
    if challenge:
        parameters = {str(k): str(v) for k, v in (response.get("ChallengeParameters") or {}).items()}
        raise ChallengeRequired(str(challenge), str(response.get("Session") or ""), parameters)
    raise StratusError("Cognito answered the sign-in with neither tokens nor a challenge")


# The JWKS request, made with httpx (a Stratus dependency) unless the cloud offers ``fetch_json``.

_http: Any = None
_http_lock = threading.Lock()


def _get_json(url: str) -> Any:
    global _http
    with _http_lock:
        if _http is None:
            import httpx

            _http = httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)
        http = _http
    response = http.get(url, headers={"accept": "application/json"})
    response.raise_for_status()
    return response.json()


class AwsUserPool(UserPoolBackend):
    """One Cognito user pool, by the id in ``STRATUS_USER_POOL_<NAME>`` and its clients in ``..._CLIENTS``."""

    def __init__(self, resource: UserPool, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.pool_id = _context.physical_id(resource, cloud)
        self._client_ids = self._parse_clients(_context.physical_id(resource, cloud, "CLIENTS"))
        self.client = _context.client("cognito-idp", cloud)
        region = self.pool_id.partition("_")[0] if "_" in self.pool_id else None
        region = region or getattr(cloud, "region", None) or "us-east-1"
        self._issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.pool_id}"
        self._keys = KeyCache()
        self._jwks_cache: dict[str, Any] | None = None
        self._jwks_at = 0.0
        self._jwks_tried = float("-inf")
        self._jwks_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<AwsUserPool {self.pool_id}>"

    # Identity.

    def _parse_clients(self, raw: str) -> dict[str, str]:
        variable = _context.env_variable(self.resource, "CLIENTS")
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
        ):
            raise NotBound(
                f"user pool {self.resource.name!r}: {variable} must be a JSON object of app client name to client id"
            )
        return dict(parsed)

    @property
    def issuer(self) -> str:
        return self._issuer

    def client_id(self, client: str) -> str:
        found = self._client_ids.get(client)
        if found is None:
            variable = _context.env_variable(self.resource, "CLIENTS")
            raise NotBound(
                f"user pool {self.resource.name!r}: app client {client!r} has no id in {variable} "
                "(the deployed template predates the client?)"
            )
        return found

    def _first_client_id(self) -> str:
        return self.client_id(next(iter(self.resource.clients)))

    def _audiences(self, clients: list[str] | None) -> list[str]:
        if clients is not None:
            return [self.client_id(c) for c in clients]
        return [self._client_ids[c] for c in self.resource.clients if c in self._client_ids]

    def _now(self) -> float:
        return _context.clock(self.cloud).now()

    # Calls.

    def _call(
        self, operation: str, *, overrides: Overrides | None = None, hidden: tuple[str, ...] = (), **params: Any
    ) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as error:
            raise translate(error, overrides, hidden) from None

    def _admin(self, operation: str, username: str, *, overrides: Overrides | None = None, **params: Any) -> Any:
        return self._call(operation, overrides=overrides, UserPoolId=self.pool_id, Username=username, **params)

    def _code_delivery(self, operation: str, username: str, **params: Any) -> CodeDelivery:
        """A call answering CodeDeliveryDetails; an unknown user gets a plausible answer, as locally."""
        try:
            response = getattr(self.client, operation)(ClientId=self._first_client_id(), Username=username, **params)
        except ClientError as error:
            if _context.error_code(error) == "UserNotFoundException":
                return _fake_delivery(username)
            raise translate(error) from None
        return _delivery(response.get("CodeDeliveryDetails"), username)

    # Signing keys and tokens.

    def _fetch_jwks(self) -> dict[str, Any]:
        url = f"{self._issuer}/.well-known/jwks.json"
        fetch = getattr(self.cloud, "fetch_json", None)
        try:
            document = fetch(url) if callable(fetch) else _get_json(url)
        except Exception as exc:  # network, HTTP status or JSON: all mean "no keys now"
            raise JwksUnavailable(
                f"the signing keys of user pool {self.resource.name!r} could not be fetched from {url}: "
                f"{type(exc).__name__}"
            ) from None
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JwksUnavailable(f"{url} did not answer a JWKS document (an object with a 'keys' list)")
        return {"keys": [k for k in document["keys"] if isinstance(k, dict)]}

    def _jwks(self, *, unknown_kid: bool = False) -> dict[str, Any]:
        now = self._now()
        with self._jwks_lock:
            cached = self._jwks_cache
            if cached is not None:
                fresh_enough = now - self._jwks_at < (JWKS_REFETCH if unknown_kid else JWKS_TTL)
                # With keys in hand, fetch at most once a minute (even while the endpoint fails).
                if fresh_enough or now - self._jwks_tried < JWKS_REFETCH:
                    return cached
            self._jwks_tried = now
            try:
                fetched = self._fetch_jwks()
            except JwksUnavailable:
                if cached is None:
                    raise
                return cached  # stale keys beat none
            self._jwks_cache, self._jwks_at = fetched, now
            return fetched

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(k) for k in self._jwks()["keys"]]}

    def rotate_signing_key(self) -> str:
        raise UnsupportedOperation(
            "rotate_signing_key: Cognito manages its user pools' signing keys itself; there is no API to rotate them"
        )

    def is_session_revoked(self, origin_jti: str) -> bool:
        raise UnsupportedOperation(
            "is_session_revoked: Cognito has no API that looks up a sign-in session by origin_jti; "
            "verify an access token with verify_token (it asks Cognito) instead"
        )

    def _claims(self, token: str, token_use: str | None, audiences: list[str]) -> dict[str, Any]:
        uses = (token_use,) if token_use else ("id", "access")

        def attempt(jwks: dict[str, Any]) -> dict[str, Any]:
            return verify_jwt(
                token,
                issuer=self._issuer,
                jwks=jwks,
                now=self._now(),
                token_uses=uses,
                audiences=audiences,
                keys=self._keys,
            )

        try:
            return attempt(self._jwks())
        except InvalidToken as exc:
            if exc.reason != "unknown key id":
                raise NotAuthorized(_token_message(exc.reason, token_use)) from None
        try:  # Cognito may have published a new key since the keys were fetched.
            return attempt(self._jwks(unknown_kid=True))
        except InvalidToken as exc:
            raise NotAuthorized(_token_message(exc.reason, token_use)) from None

    def _access(self, access_token: str) -> dict[str, Any]:
        """The claims of an access token of this pool's clients (verified here, before any call)."""
        return self._claims(access_token, "access", self._audiences(None))

    def _honoured(self, access_token: str) -> dict[str, Any]:
        """GetUser: Cognito's word on a verified access token (revoked by sign-out, disabling, deletion...)."""
        try:
            return self.client.get_user(AccessToken=access_token)
        except ClientError as error:
            code = _context.error_code(error)
            if code in ("NotAuthorizedException", "UserNotFoundException"):
                expired = "expired" in _context.error_message(error).lower()
                raise NotAuthorized("Access Token has expired" if expired else _REVOKED) from None
            raise translate(error, hidden=(access_token,)) from None

    def verify_token(self, token: str, token_use: str | None, clients: list[str] | None) -> dict[str, Any]:
        claims = self._claims(token, token_use, self._audiences(clients))
        if claims.get("token_use") == "access":
            self._honoured(token)
        return claims

    # Sign-up.

    def sign_up(self, username: str, password: str, attributes: dict[str, str]) -> SignUpResult:
        response = self._call(
            "sign_up",
            hidden=(password,),
            ClientId=self._first_client_id(),
            Username=username,
            Password=password,
            UserAttributes=_attribute_list(attributes),
        )
        confirmed = bool(response.get("UserConfirmed"))
        details = response.get("CodeDeliveryDetails")
        delivery = _delivery(details, username) if details and not confirmed else None
        return SignUpResult(str(response["UserSub"]), confirmed, delivery)

    def confirm_sign_up(self, username: str, code: str) -> None:
        self._call(
            "confirm_sign_up",
            overrides={"UserNotFoundException": lambda _: CodeMismatch(_BAD_CODE)},
            hidden=(code,),
            ClientId=self._first_client_id(),
            Username=username,
            ConfirmationCode=code,
        )

    def resend_confirmation_code(self, username: str) -> CodeDelivery:
        return self._code_delivery("resend_confirmation_code", username)

    def admin_confirm_sign_up(self, username: str) -> None:
        self._admin("admin_confirm_sign_up", username)

    # Sign-in and tokens.

    def initiate_auth(self, client: str, username: str, password: str) -> Tokens:
        response = self._call(
            "initiate_auth",
            overrides={"UserNotFoundException": lambda _: NotAuthorized(_INCORRECT)},
            hidden=(password,),
            ClientId=self.client_id(client),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return _tokens(response)

    def respond_to_new_password_challenge(self, client: str, username: str, session: str, new_password: str) -> Tokens:
        response = self._call(
            "respond_to_auth_challenge",
            hidden=(session, new_password),
            ClientId=self.client_id(client),
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
        return _tokens(response)

    def refresh(self, client: str, refresh_token: str) -> Tokens:
        response = self._call(
            "initiate_auth",
            overrides={"UserNotFoundException": lambda _: NotAuthorized("Invalid Refresh Token")},
            hidden=(refresh_token,),
            ClientId=self.client_id(client),
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return _tokens(response)

    def global_sign_out(self, access_token: str) -> None:
        self._access(access_token)
        self._call("global_sign_out", hidden=(access_token,), AccessToken=access_token)

    def admin_user_global_sign_out(self, username: str) -> None:
        self._admin("admin_user_global_sign_out", username)

    def revoke_token(self, client: str, refresh_token: str) -> None:
        if not self.resource.clients[client].enable_token_revocation:
            raise InvalidParameter("Token revocation is not enabled for this app client")
        self._call(
            "revoke_token",
            overrides={"UnsupportedOperationException": InvalidParameter},
            hidden=(refresh_token,),
            ClientId=self.client_id(client),
            Token=refresh_token,
        )

    def get_user(self, access_token: str) -> User:
        self._access(access_token)
        username = str(self._honoured(access_token)["Username"])
        return self._admin_user(username, gone=lambda _: NotAuthorized(_REVOKED))

    # Passwords.

    def forgot_password(self, username: str) -> CodeDelivery:
        return self._code_delivery("forgot_password", username)

    def confirm_forgot_password(self, username: str, code: str, new_password: str) -> None:
        self._call(
            "confirm_forgot_password",
            overrides={"UserNotFoundException": lambda _: CodeMismatch(_BAD_CODE)},
            hidden=(code, new_password),
            ClientId=self._first_client_id(),
            Username=username,
            ConfirmationCode=code,
            Password=new_password,
        )

    def change_password(self, access_token: str, old: str, new: str) -> None:
        self._access(access_token)
        self._call(
            "change_password",
            hidden=(access_token, old, new),
            AccessToken=access_token,
            PreviousPassword=old,
            ProposedPassword=new,
        )

    # Administration.

    def admin_create_user(
        self, username: str, attributes: dict[str, str], temporary_password: str | None, suppress: bool
    ) -> User:
        params: dict[str, Any] = {"UserAttributes": _attribute_list(attributes)}
        if temporary_password is not None:
            params["TemporaryPassword"] = temporary_password
        if suppress:
            params["MessageAction"] = "SUPPRESS"
        elif "email" in attributes:
            params["DesiredDeliveryMediums"] = ["EMAIL"]
        elif "phone_number" in attributes:
            params["DesiredDeliveryMediums"] = ["SMS"]
        try:
            response = self.client.admin_create_user(UserPoolId=self.pool_id, Username=username, **params)
        except ClientError as error:
            raise translate(error, hidden=(temporary_password or "",)) from None
        return _user(response["User"], "Attributes")

    def admin_set_user_password(self, username: str, password: str, permanent: bool) -> None:
        try:
            self.client.admin_set_user_password(
                UserPoolId=self.pool_id, Username=username, Password=password, Permanent=permanent
            )
        except ClientError as error:
            raise translate(error, hidden=(password,)) from None

    def admin_delete_user(self, username: str) -> None:
        self._admin("admin_delete_user", username)

    def admin_set_enabled(self, username: str, enabled: bool) -> None:
        self._admin("admin_enable_user" if enabled else "admin_disable_user", username)

    def _admin_user(self, username: str, gone: Any = None) -> User:
        overrides = {"UserNotFoundException": gone} if gone is not None else None
        return _user(self._admin("admin_get_user", username, overrides=overrides), "UserAttributes")

    def admin_get_user(self, username: str) -> User:
        return self._admin_user(username)

    def admin_add_user_to_group(self, username: str, group: str) -> None:
        self._admin(
            "admin_add_user_to_group", username, overrides={"ResourceNotFoundException": GroupNotFound}, GroupName=group
        )

    def admin_remove_user_from_group(self, username: str, group: str) -> None:
        self._admin(
            "admin_remove_user_from_group",
            username,
            overrides={"ResourceNotFoundException": GroupNotFound},
            GroupName=group,
        )

    def admin_list_groups_for_user(self, username: str) -> list[str]:
        names: set[str] = set()
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Limit": 60}
            if token:
                params["NextToken"] = token
            response = self._admin("admin_list_groups_for_user", username, **params)
            names.update(str(g["GroupName"]) for g in response.get("Groups", []))
            token = response.get("NextToken")
            if not token:
                break
        # In declaration order, as locally; groups made outside the declaration come after, by name.
        declared = [g for g in self.resource.groups if g in names]
        return declared + sorted(names - set(declared))

    def update_user_attributes(self, access_token: str, attributes: dict[str, str]) -> list[CodeDelivery]:
        self._access(access_token)
        response = self._call(
            "update_user_attributes",
            hidden=(access_token,),
            AccessToken=access_token,
            UserAttributes=_attribute_list(attributes),
        )
        return [_delivery(d, "") for d in response.get("CodeDeliveryDetailsList") or [] if d.get("Destination")]

    def verify_user_attribute(self, access_token: str, attribute: str, code: str) -> None:
        self._access(access_token)
        self._call(
            "verify_user_attribute",
            hidden=(access_token, code),
            AccessToken=access_token,
            AttributeName=attribute,
            Code=code,
        )
