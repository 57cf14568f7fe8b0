"""The user pool port (Amazon Cognito user pools): sign-up, sign-in, tokens and groups.

``app.user_pool("customers", ...)`` declares a pool with its password policy, groups,
custom attributes and app clients. The handle validates every input as Cognito does
(the Cognito API reference is the spec: error names, messages, limits) and delegates to
the bound adapter.

Behaviour worth knowing:

- **No user enumeration.** Signing in as an unknown user fails exactly like a wrong
  password (``NotAuthorizedException: Incorrect username or password.``), and
  ``forgot_password`` / ``resend_confirmation_code`` for an unknown user answer with a
  plausible delivery, as Cognito does with ``PreventUserExistenceErrors`` enabled (the
  default for new app clients).
- **Tokens** are RS256 JWTs with Cognito's claims. The issuer is
  ``https://cognito-idp.<region>.amazonaws.com/<pool id>`` on AWS; locally it is
  ``<cloud.base_url>/<pool qualified name>`` (e.g. ``http://127.0.0.1:8000/shop-customers``),
  where the JWKS is served at ``/.well-known/jwks.json``. Code should read
  :attr:`UserPool.issuer` rather than build it.
- **Scopes.** Locally the access token of every sign-in carries
  ``aws.cognito.signin.user.admin`` plus the client's declared scopes, as the hosted UI's
  authorization-code flow would when it asks for all of them; this is what lets routes
  require ``orders/read`` in tests.
- **Usernames.** With ``username_attributes=["email"]`` users sign up and sign in with
  their email, and Cognito gives each a generated username equal to its ``sub``; that is
  what ``cognito:username`` holds. Sign-in names are case-insensitive (Cognito's default).
- **Challenges.** A user created by an administrator must set a new password at first
  sign-in: ``initiate_auth`` raises :class:`ChallengeRequired` (``NEW_PASSWORD_REQUIRED``,
  with a session), answered with :meth:`UserPool.respond_to_new_password_challenge`.
  MFA is not supported yet (``mfa`` must be off).

:class:`Tokens` never shows a token in its ``repr``, and passwords are never stored,
logged or shown.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import LimitExceeded, ResourceNotFound, StratusError, ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

# Cognito quotas and ranges (https://docs.aws.amazon.com/cognito/latest/developerguide/limits.html,
# CreateUserPool / CreateUserPoolClient API references).
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 6, 99
MAX_PASSWORD_INPUT = 256
MIN_TOKEN_MINUTES, MAX_TOKEN_MINUTES = 5, 24 * 60
MIN_REFRESH_MINUTES, MAX_REFRESH_MINUTES = 60, 3650 * 24 * 60
MAX_CUSTOM_ATTRIBUTES = 50
MAX_GROUPS = 10000
MAX_CLIENTS = 1000
MAX_USERNAME = 128
MAX_ATTRIBUTE_VALUE = 2048
CODE_LENGTH = 6
#: Cognito's accepted password symbols (the space counts when it is not leading or trailing).
PASSWORD_SYMBOLS = set("^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= ")

STANDARD_ATTRIBUTES = frozenset(
    {
        "address",
        "birthdate",
        "email",
        "email_verified",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "phone_number_verified",
        "picture",
        "preferred_username",
        "profile",
        "updated_at",
        "website",
        "zoneinfo",
    }
)
STANDARD_SCOPES = frozenset({"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"})
USERNAME_ATTRIBUTES = ("email", "phone_number")
CUSTOM_TYPES = ("string", "number", "boolean", "datetime")

_CUSTOM_NAME = re.compile(r"^[A-Za-z0-9_]{1,20}$")
_GROUP_NAME = re.compile(r"^[\w\s+=,.@-]{1,128}$")
_CLIENT_NAME = re.compile(r"^[\w\s+=,.@-]{1,128}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")
_USERNAME = re.compile(r"^\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[0-9]{4,15}$")


# Errors, with Cognito's error codes.


class UserPoolError(StratusError):
    """Base of the user pool errors."""


class InvalidParameter(UserPoolError, ValidationError):
    code = "InvalidParameterException"


class InvalidPassword(UserPoolError, ValidationError):
    """The password does not satisfy the pool's policy."""

    code = "InvalidPasswordException"


class UsernameExists(UserPoolError):
    code = "UsernameExistsException"


class AliasExists(UserPoolError):
    """Another user already signs in with this email or phone number."""

    code = "AliasExistsException"


class UserNotFound(UserPoolError, ResourceNotFound):
    code = "UserNotFoundException"


class UserNotConfirmed(UserPoolError):
    code = "UserNotConfirmedException"


class NotAuthorized(UserPoolError):
    """Wrong credentials, a disabled user, a revoked or expired token, or too many failed attempts."""

    code = "NotAuthorizedException"


class CodeMismatch(UserPoolError):
    code = "CodeMismatchException"


class ExpiredCode(UserPoolError):
    code = "ExpiredCodeException"


class LimitExceededError(UserPoolError, LimitExceeded):
    """Too many wrong codes or code deliveries: "Attempt limit exceeded, please try after some time."."""

    code = "LimitExceededException"


class TooManyRequests(UserPoolError):
    code = "TooManyRequestsException"


class TooManyFailedAttempts(UserPoolError):
    code = "TooManyFailedAttemptsException"


class GroupNotFound(UserPoolError, ResourceNotFound):
    code = "ResourceNotFoundException"


class ClientNotFound(UserPoolError, ResourceNotFound):
    code = "ResourceNotFoundException"


class ChallengeRequired(UserPoolError):
    """Sign-in needs another step (``challenge_name``); answer it with ``session``.

    Cognito returns a challenge instead of tokens; the Python surface raises it so that
    ``initiate_auth`` always returns :class:`Tokens`.
    """

    code = "ChallengeRequired"

    def __init__(self, challenge_name: str, session: str, parameters: dict[str, str]) -> None:
        super().__init__(f"sign-in needs the {challenge_name} challenge")
        self.challenge_name = challenge_name
        self.session = session
        self.parameters = parameters

    def __repr__(self) -> str:
        return f"ChallengeRequired({self.challenge_name!r}, session=<hidden>)"


# Declarations.


@dataclass(frozen=True)
class PasswordPolicy:
    """What a password must contain (Cognito's PasswordPolicyType); Cognito's defaults."""

    min_length: int = 8
    require_upper: bool = True
    require_lower: bool = True
    require_digits: bool = True
    require_symbols: bool = True
    temporary_password_days: int = 7

    def __post_init__(self) -> None:
        if not _is_int(self.min_length) or not MIN_PASSWORD_LENGTH <= self.min_length <= MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"password_policy min_length must be an integer from {MIN_PASSWORD_LENGTH} to "
                f"{MAX_PASSWORD_LENGTH}, got {self.min_length!r}"
            )
        for name in ("require_upper", "require_lower", "require_digits", "require_symbols"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"password_policy {name} must be True or False")
        if not _is_int(self.temporary_password_days) or not 1 <= self.temporary_password_days <= 365:
            raise ValidationError("password_policy temporary_password_days must be an integer from 1 to 365")

    def problems(self, password: str) -> list[str]:
        """Cognito's messages for what ``password`` lacks (empty when it conforms)."""
        found = []
        if len(password) < self.min_length:
            found.append("Password not long enough")
        if self.require_upper and not any(c.isupper() for c in password):
            found.append("Password must have uppercase characters")
        if self.require_lower and not any(c.islower() for c in password):
            found.append("Password must have lowercase characters")
        if self.require_digits and not any(c.isdigit() for c in password):
            found.append("Password must have numeric characters")
        if self.require_symbols and not any(c in PASSWORD_SYMBOLS for c in password.strip()):
            found.append("Password must have symbol characters")
        return found


@dataclass(frozen=True)
class AppClient:
    """An app client: its scopes and token validity (Cognito's ranges are checked)."""

    name: str
    scopes: list[str] = field(default_factory=list)
    id_token_minutes: int = 60
    access_token_minutes: int = 60
    refresh_token_days: float = 30
    enable_token_revocation: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _CLIENT_NAME.match(self.name):
            raise ValidationError(f"app client name {self.name!r} must be 1-128 characters of [\\w\\s+=,.@-]")
        where = f"app client {self.name!r}"
        if not isinstance(self.scopes, list | tuple) or not all(isinstance(s, str) for s in self.scopes):
            raise ValidationError(f"{where}: scopes must be a list of strings")
        for scope in self.scopes:
            if scope in STANDARD_SCOPES:
                continue
            server, sep, name = scope.partition("/")
            if not sep or not server or not name or not _SCOPE.match(scope) or len(scope) > 256:
                raise ValidationError(
                    f"{where}: scope {scope!r} must be a standard scope ({', '.join(sorted(STANDARD_SCOPES))}) "
                    "or a custom one written <resource-server>/<scope>"
                )
        for what in ("id_token_minutes", "access_token_minutes"):
            value = getattr(self, what)
            if not _is_int(value) or not MIN_TOKEN_MINUTES <= value <= MAX_TOKEN_MINUTES:
                raise ValidationError(
                    f"{where}: {what} must be an integer from {MIN_TOKEN_MINUTES} (5 minutes) to "
                    f"{MAX_TOKEN_MINUTES} (1 day), got {value!r}"
                )
        days = self.refresh_token_days
        if (
            isinstance(days, bool)
            or not isinstance(days, int | float)
            or not MIN_REFRESH_MINUTES <= round(days * 1440, 6) <= MAX_REFRESH_MINUTES
        ):
            raise ValidationError(
                f"{where}: refresh_token_days must be from 1/24 (1 hour) to 3650 (10 years), got {days!r}"
            )
        if not isinstance(self.enable_token_revocation, bool):
            raise ValidationError(f"{where}: enable_token_revocation must be True or False")

    @property
    def refresh_token_seconds(self) -> int:
        return round(self.refresh_token_days * 86400)


# Results.


@dataclass(frozen=True)
class CodeDelivery:
    """Where a code went (CodeDeliveryDetails): a masked destination."""

    destination: str
    delivery_medium: str = "EMAIL"
    attribute_name: str = "email"


@dataclass(frozen=True)
class SignUpResult:
    user_sub: str
    user_confirmed: bool
    code_delivery: CodeDelivery | None


@dataclass(frozen=True)
class Tokens:
    """The result of a sign-in (AuthenticationResult). ``repr`` hides every token."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return f"Tokens(expires_in={self.expires_in}, token_type={self.token_type!r}, tokens=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class User:
    """A user as AdminGetUser / GetUser describe it (attributes as strings, as Cognito stores them)."""

    username: str
    sub: str
    status: str
    enabled: bool
    attributes: dict[str, str]
    created: datetime
    modified: datetime


# The backend contract.


class UserPoolBackend(ABC):
    """What an adapter implements; inputs are already validated by :class:`UserPool`."""

    @property
    @abstractmethod
    def issuer(self) -> str: ...

    @abstractmethod
    def client_id(self, client: str) -> str: ...

    @abstractmethod
    def jwks(self) -> dict[str, Any]: ...

    @abstractmethod
    def rotate_signing_key(self) -> str:
        """Make a new signing key current; return its kid. Old keys stay published while their tokens live."""

    @abstractmethod
    def sign_up(self, username: str, password: str, attributes: dict[str, str]) -> SignUpResult: ...

    @abstractmethod
    def confirm_sign_up(self, username: str, code: str) -> None: ...

    @abstractmethod
    def resend_confirmation_code(self, username: str) -> CodeDelivery: ...

    @abstractmethod
    def admin_confirm_sign_up(self, username: str) -> None: ...

    @abstractmethod
    def initiate_auth(self, client: str, username: str, password: str) -> Tokens: ...

    @abstractmethod
    def respond_to_new_password_challenge(
        self, client: str, username: str, session: str, new_password: str
    ) -> Tokens: ...

    @abstractmethod
    def refresh(self, client: str, refresh_token: str) -> Tokens: ...

    @abstractmethod
    def global_sign_out(self, access_token: str) -> None: ...

    @abstractmethod
    def admin_user_global_sign_out(self, username: str) -> None: ...

    @abstractmethod
    def revoke_token(self, client: str, refresh_token: str) -> None: ...

    @abstractmethod
    def get_user(self, access_token: str) -> User: ...

    @abstractmethod
    def verify_token(self, token: str, token_use: str | None, clients: list[str] | None) -> dict[str, Any]:
        """Validate a token this pool issued (signature, claims, time, revocation); return its claims."""

    @abstractmethod
    def is_session_revoked(self, origin_jti: str) -> bool: ...

    @abstractmethod
    def forgot_password(self, username: str) -> CodeDelivery: ...

    @abstractmethod
    def confirm_forgot_password(self, username: str, code: str, new_password: str) -> None: ...

    @abstractmethod
    def change_password(self, access_token: str, old: str, new: str) -> None: ...

    @abstractmethod
    def admin_create_user(
        self, username: str, attributes: dict[str, str], temporary_password: str | None, suppress: bool
    ) -> User: ...

    @abstractmethod
    def admin_set_user_password(self, username: str, password: str, permanent: bool) -> None: ...

    @abstractmethod
    def admin_delete_user(self, username: str) -> None: ...

    @abstractmethod
    def admin_set_enabled(self, username: str, enabled: bool) -> None: ...

    @abstractmethod
    def admin_get_user(self, username: str) -> User: ...

    @abstractmethod
    def admin_add_user_to_group(self, username: str, group: str) -> None: ...

    @abstractmethod
    def admin_remove_user_from_group(self, username: str, group: str) -> None: ...

    @abstractmethod
    def admin_list_groups_for_user(self, username: str) -> list[str]: ...

    @abstractmethod
    def update_user_attributes(self, access_token: str, attributes: dict[str, str]) -> list[CodeDelivery]: ...

    @abstractmethod
    def verify_user_attribute(self, access_token: str, attribute: str, code: str) -> None: ...


# The handle.


class UserPool(Resource[UserPoolBackend]):
    """A Cognito user pool."""

    kind = "user_pool"
    max_name_length = 128

    def __init__(
        self,
        app: App,
        name: str,
        *,
        password_policy: PasswordPolicy | None = None,
        groups: list[str] | None = None,
        custom_attributes: dict[str, str] | None = None,
        clients: list[AppClient] | None = None,
        auto_confirm: bool = False,
        mfa: bool = False,
        username_attributes: list[str] | None = None,
        max_failed_sign_ins: int = 5,
    ) -> None:
        super().__init__(app, name)
        where = f"user pool {name!r}"
        policy = PasswordPolicy() if password_policy is None else password_policy
        if not isinstance(policy, PasswordPolicy):
            raise ValidationError(f"{where}: password_policy must be a PasswordPolicy")
        group_list = list(groups or [])
        for group in group_list:
            if not isinstance(group, str) or not _GROUP_NAME.match(group):
                raise ValidationError(f"{where}: group name {group!r} must be 1-128 characters of [\\w\\s+=,.@-]")
        if len(set(group_list)) != len(group_list) or len(group_list) > MAX_GROUPS:
            raise ValidationError(f"{where}: groups must be distinct (at most {MAX_GROUPS})")
        custom = dict(custom_attributes or {})
        if len(custom) > MAX_CUSTOM_ATTRIBUTES:
            raise ValidationError(f"{where}: at most {MAX_CUSTOM_ATTRIBUTES} custom attributes")
        for attr, kind in custom.items():
            if not isinstance(attr, str) or not _CUSTOM_NAME.match(attr):
                raise ValidationError(
                    f"{where}: custom attribute name {attr!r} must be 1-20 letters, digits or '_' "
                    "(without the custom: prefix)"
                )
            if kind not in CUSTOM_TYPES:
                raise ValidationError(
                    f"{where}: custom attribute {attr!r} type must be one of {', '.join(CUSTOM_TYPES)}, got {kind!r}"
                )
        client_list = list(clients or [])
        if not client_list:
            raise ValidationError(f"{where}: declare at least one AppClient in clients=[...]")
        if not all(isinstance(c, AppClient) for c in client_list) or len(client_list) > MAX_CLIENTS:
            raise ValidationError(f"{where}: clients must be a list of AppClient (at most {MAX_CLIENTS})")
        names = [c.name for c in client_list]
        if len(set(names)) != len(names):
            raise ValidationError(f"{where}: app client names must be distinct")
        if not isinstance(auto_confirm, bool):
            raise ValidationError(f"{where}: auto_confirm must be True or False")
        if mfa is not False:
            raise ValidationError(f"{where}: mfa is not supported by Stratus yet; use mfa=False")
        user_attrs = list(username_attributes or [])
        for attr in user_attrs:
            if attr not in USERNAME_ATTRIBUTES:
                raise ValidationError(
                    f"{where}: username_attributes may contain only 'email' and 'phone_number', got {attr!r}"
                )
        if len(set(user_attrs)) != len(user_attrs):
            raise ValidationError(f"{where}: username_attributes must be distinct")
        if not _is_int(max_failed_sign_ins) or not 1 <= max_failed_sign_ins <= 100:
            raise ValidationError(f"{where}: max_failed_sign_ins must be an integer from 1 to 100")
        self.password_policy = policy
        self.groups = group_list
        self.custom_attributes = custom
        self.clients = {c.name: c for c in client_list}
        self.auto_confirm = auto_confirm
        self.mfa = mfa
        self.username_attributes = user_attrs
        self.max_failed_sign_ins = max_failed_sign_ins

    def settings(self) -> dict[str, Any]:
        policy = self.password_policy
        return {
            "password_policy": {
                "min_length": policy.min_length,
                "require_upper": policy.require_upper,
                "require_lower": policy.require_lower,
                "require_digits": policy.require_digits,
                "require_symbols": policy.require_symbols,
                "temporary_password_days": policy.temporary_password_days,
            },
            "groups": list(self.groups),
            "custom_attributes": dict(self.custom_attributes),
            "clients": [
                {
                    "name": c.name,
                    "scopes": list(c.scopes),
                    "id_token_minutes": c.id_token_minutes,
                    "access_token_minutes": c.access_token_minutes,
                    "refresh_token_days": c.refresh_token_days,
                }
                for c in self.clients.values()
            ],
            "auto_confirm": self.auto_confirm,
            "mfa": self.mfa,
            "username_attributes": list(self.username_attributes),
            "max_failed_sign_ins": self.max_failed_sign_ins,
        }

    # Identity.

    @property
    def issuer(self) -> str:
        """The ``iss`` of this pool's tokens."""
        return self.backend.issuer

    def client_id(self, client: str) -> str:
        """The id (``aud`` / ``client_id`` claim) of the declared app client named ``client``."""
        self._client(client)
        return self.backend.client_id(client)

    def jwks(self) -> dict[str, Any]:
        """The public signing keys, as ``/.well-known/jwks.json`` serves them."""
        return self.backend.jwks()

    def rotate_signing_key(self) -> str:
        """Sign new tokens with a fresh key; tokens signed with the old one stay valid until they expire."""
        return self.backend.rotate_signing_key()

    # Sign-up.

    def sign_up(self, username: str, password: str, attributes: dict[str, str] | None = None) -> SignUpResult:
        """Register a user (SignUp); unless ``auto_confirm``, a code is emailed to confirm it."""
        name = self._check_sign_up_name(username)
        attrs = self._check_attributes(attributes or {}, writable_only=True)
        if "email" in self.username_attributes and _EMAIL.match(name):
            attrs.setdefault("email", name)
        if "phone_number" in self.username_attributes and _PHONE.match(name):
            attrs.setdefault("phone_number", name)
        self._check_password(password)
        return self.backend.sign_up(name, password, attrs)

    def confirm_sign_up(self, username: str, code: str) -> None:
        """Confirm a registration with the emailed code (ConfirmSignUp)."""
        self.backend.confirm_sign_up(_check_username(username), _check_code(code))

    def resend_confirmation_code(self, username: str) -> CodeDelivery:
        return self.backend.resend_confirmation_code(_check_username(username))

    def admin_confirm_sign_up(self, username: str) -> None:
        self.backend.admin_confirm_sign_up(_check_username(username))

    # Sign-in and tokens.

    def initiate_auth(self, client: str, username: str, password: str) -> Tokens:
        """Sign in with a password (USER_PASSWORD_AUTH); raises :class:`ChallengeRequired` for a new password."""
        self._client(client)
        if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_INPUT:
            raise InvalidParameter("password must be a non-empty string of at most 256 characters")
        return self.backend.initiate_auth(client, _check_username(username), password)

    def respond_to_new_password_challenge(self, client: str, username: str, session: str, new_password: str) -> Tokens:
        """Answer ``NEW_PASSWORD_REQUIRED`` (RespondToAuthChallenge) with the session it came with."""
        self._client(client)
        if not isinstance(session, str) or not 20 <= len(session) <= 2048:
            raise InvalidParameter("session must be the string the challenge returned")
        self._check_password(new_password)
        return self.backend.respond_to_new_password_challenge(client, _check_username(username), session, new_password)

    def refresh(self, client: str, refresh_token: str) -> Tokens:
        """New ID and access tokens from a refresh token (REFRESH_TOKEN_AUTH); the refresh token is kept."""
        self._client(client)
        return self.backend.refresh(client, _check_token(refresh_token, "refresh token"))

    def global_sign_out(self, access_token: str) -> None:
        """Revoke every refresh token of the user and the access tokens issued from them."""
        self.backend.global_sign_out(_check_token(access_token, "access token"))

    def admin_user_global_sign_out(self, username: str) -> None:
        self.backend.admin_user_global_sign_out(_check_username(username))

    def revoke_token(self, client: str, refresh_token: str) -> None:
        """Revoke one refresh token and the access tokens issued from it (RevokeToken)."""
        self._client(client)
        self.backend.revoke_token(client, _check_token(refresh_token, "refresh token"))

    def get_user(self, access_token: str) -> User:
        """The signed-in user of an access token (GetUser); revoked or expired tokens are refused."""
        return self.backend.get_user(_check_token(access_token, "access token"))

    def verify_token(
        self, token: str, *, token_use: str | None = None, clients: list[str] | None = None
    ) -> dict[str, Any]:
        """Validate a token of this pool fully and return its claims (:class:`NotAuthorized` if not valid).

        ``clients`` (client names) restricts ``aud`` / ``client_id``; ``token_use`` is ``"id"`` or ``"access"``.
        """
        if token_use not in (None, "id", "access"):
            raise InvalidParameter("token_use must be 'id', 'access' or None")
        for client in clients or []:
            self._client(client)
        return self.backend.verify_token(_check_token(token, "token"), token_use, clients)

    def is_session_revoked(self, origin_jti: str) -> bool:
        """Whether the sign-in session ``origin_jti`` names was revoked (sign-out, revocation, deletion)."""
        if not isinstance(origin_jti, str) or not origin_jti:
            return True
        return self.backend.is_session_revoked(origin_jti)

    # Passwords.

    def forgot_password(self, username: str) -> CodeDelivery:
        """Email a code to reset the password (ForgotPassword)."""
        return self.backend.forgot_password(_check_username(username))

    def confirm_forgot_password(self, username: str, code: str, new_password: str) -> None:
        self._check_password(new_password)
        self.backend.confirm_forgot_password(_check_username(username), _check_code(code), new_password)

    def change_password(self, access_token: str, old_password: str, new_password: str) -> None:
        if not isinstance(old_password, str) or not old_password or len(old_password) > MAX_PASSWORD_INPUT:
            raise InvalidParameter("previous password must be a non-empty string of at most 256 characters")
        self._check_password(new_password)
        self.backend.change_password(_check_token(access_token, "access token"), old_password, new_password)

    # Administration.

    def admin_create_user(
        self,
        username: str,
        attributes: dict[str, str] | None = None,
        *,
        temporary_password: str | None = None,
        suppress_message: bool = False,
    ) -> User:
        """Create a confirmed user who must set a new password at first sign-in (AdminCreateUser).

        Without ``temporary_password`` one is generated; the invitation goes to the outbox
        unless ``suppress_message``.
        """
        name = self._check_sign_up_name(username)
        attrs = self._check_attributes(attributes or {}, writable_only=False)
        if "email" in self.username_attributes and _EMAIL.match(name):
            attrs.setdefault("email", name)
        if temporary_password is not None:
            self._check_password(temporary_password)
        return self.backend.admin_create_user(name, attrs, temporary_password, bool(suppress_message))

    def admin_set_user_password(self, username: str, password: str, *, permanent: bool = False) -> None:
        self._check_password(password)
        self.backend.admin_set_user_password(_check_username(username), password, bool(permanent))

    def admin_delete_user(self, username: str) -> None:
        self.backend.admin_delete_user(_check_username(username))

    def admin_disable_user(self, username: str) -> None:
        """Disable a user: no sign-in, and its tokens are revoked (AdminDisableUser)."""
        self.backend.admin_set_enabled(_check_username(username), False)

    def admin_enable_user(self, username: str) -> None:
        self.backend.admin_set_enabled(_check_username(username), True)

    def admin_get_user(self, username: str) -> User:
        return self.backend.admin_get_user(_check_username(username))

    def admin_add_user_to_group(self, username: str, group: str) -> None:
        self.backend.admin_add_user_to_group(_check_username(username), self._group(group))

    def admin_remove_user_from_group(self, username: str, group: str) -> None:
        self.backend.admin_remove_user_from_group(_check_username(username), self._group(group))

    def admin_list_groups_for_user(self, username: str) -> list[str]:
        return self.backend.admin_list_groups_for_user(_check_username(username))

    def update_user_attributes(self, access_token: str, attributes: dict[str, str]) -> list[CodeDelivery]:
        """Change the signed-in user's attributes; a new email must be verified again (a code is sent)."""
        if not attributes:
            raise InvalidParameter("attributes must name at least one attribute")
        attrs = self._check_attributes(attributes, writable_only=True)
        return self.backend.update_user_attributes(_check_token(access_token, "access token"), attrs)

    def verify_user_attribute(self, access_token: str, attribute: str, code: str) -> None:
        if attribute not in ("email", "phone_number"):
            raise InvalidParameter("only email and phone_number can be verified")
        self.backend.verify_user_attribute(_check_token(access_token, "access token"), attribute, _check_code(code))

    # Validation.

    def _client(self, client: object) -> AppClient:
        if not isinstance(client, str) or client not in self.clients:
            raise ClientNotFound(f"User pool client {client} does not exist.")
        return self.clients[client]

    def _group(self, group: object) -> str:
        if not isinstance(group, str) or group not in self.groups:
            raise GroupNotFound("Group not found.")
        return group

    def _check_password(self, password: object) -> None:
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_INPUT:
            raise InvalidParameter("password must be a string of at most 256 characters")
        if password != password.strip():
            raise InvalidParameter("password must not begin or end with whitespace")
        problems = self.password_policy.problems(password)
        if problems:
            raise InvalidPassword("Password did not conform with policy: " + problems[0])

    def _check_sign_up_name(self, username: object) -> str:
        name = _check_username(username)
        if self.username_attributes:
            ok = ("email" in self.username_attributes and _EMAIL.match(name)) or (
                "phone_number" in self.username_attributes and _PHONE.match(name)
            )
            if not ok:
                wanted = " or ".join("an email" if a == "email" else "a phone number" for a in self.username_attributes)
                raise InvalidParameter(f"Username should be {wanted}.")
        return name

    def _check_attributes(self, attributes: object, *, writable_only: bool) -> dict[str, str]:
        if not isinstance(attributes, dict):
            raise InvalidParameter("attributes must be a dict of attribute name to string value")
        checked: dict[str, str] = {}
        for attr, value in attributes.items():
            if not isinstance(attr, str):
                raise InvalidParameter(f"attribute name {attr!r} must be a string")
            if attr.startswith("custom:"):
                kind = self.custom_attributes.get(attr[len("custom:") :])
                if kind is None:
                    raise InvalidParameter(f"Attribute does not exist in the schema: {attr}")
            elif attr not in STANDARD_ATTRIBUTES:
                raise InvalidParameter(f"Attribute does not exist in the schema: {attr}")
            else:
                kind = "string"
            if writable_only and attr in ("email_verified", "phone_number_verified"):
                raise InvalidParameter(f"A client cannot write the attribute {attr}")
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int | float) and kind == "number":
                text = str(value)
            elif isinstance(value, str):
                text = value
            else:
                raise InvalidParameter(f"attribute {attr} must be a string, got {type(value).__name__}")
            if len(text) > MAX_ATTRIBUTE_VALUE:
                raise InvalidParameter(f"attribute {attr} is longer than {MAX_ATTRIBUTE_VALUE} characters")
            if kind == "number":
                try:
                    float(text)
                except ValueError:
                    raise InvalidParameter(f"attribute {attr} must be a number, got {text!r}") from None
            if kind == "boolean" and text not in ("true", "false"):
                raise InvalidParameter(f"attribute {attr} must be 'true' or 'false'")
            if attr == "email" and not _EMAIL.match(text):
                raise InvalidParameter("Invalid email address format.")
            if attr == "phone_number" and not _PHONE.match(text):
                raise InvalidParameter("Invalid phone number format.")
            checked[attr] = text
        return checked


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_username(username: object) -> str:
    if not isinstance(username, str) or not username or len(username) > MAX_USERNAME or not _USERNAME.match(username):
        raise InvalidParameter("username must be 1-128 characters without whitespace")
    return username


def _check_code(code: object) -> str:
    if not isinstance(code, str) or not re.fullmatch(r"[\S]{1,2048}", code):
        raise InvalidParameter("code must be a non-empty string")
    return code


def _check_token(token: object, what: str) -> str:
    if not isinstance(token, str) or not token or len(token) > 16384:
        raise NotAuthorized(f"Invalid {what}")
    return token
