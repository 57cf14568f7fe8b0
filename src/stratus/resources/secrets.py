"""The secrets port (AWS Secrets Manager): a named secret with versions and staging labels.

``app.secret("payment-provider")`` declares a secret. Every :meth:`Secret.put` creates a
version (its id a UUID, or the caller's ``client_request_token`` for idempotent retries)
and moves the ``AWSCURRENT`` label to it; the version that had ``AWSCURRENT`` gets
``AWSPREVIOUS``. Labels move with :meth:`Secret.update_stage` under Secrets Manager's
rules (a label attached elsewhere must be named in ``remove_from``).

Rotation follows AWS's four-step protocol, driven here in the port so that it behaves
the same on every adapter: the handler is called with ``createSecret`` (put the new value
staged ``AWSPENDING``), ``setSecret`` (change the credential in the external system),
``testSecret`` (try it) and ``finishSecret`` (move ``AWSCURRENT`` to it). A failure at any
step leaves ``AWSCURRENT`` where it was and raises :class:`RotationFailed`; the next
:meth:`Secret.rotate` resumes with the same pending version, as Secrets Manager retries
with the same token. Without a handler, :class:`PasswordRotation` generates a random
password (keeping the other fields when the value is a JSON object with ``"password"``).

A :class:`SecretValue`'s ``repr`` never shows the value.
"""

from __future__ import annotations

import json
import secrets as random_source
import string
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import ResourceNotFound, StratusError, ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

#: Secrets Manager quotas (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
MAX_VALUE_BYTES = 65536
MAX_DESCRIPTION = 2048
MAX_STAGES_PER_VERSION = 20
MAX_STAGE_LENGTH = 256
MAX_VERSIONS = 100
MIN_TOKEN, MAX_TOKEN = 32, 64
MIN_ROTATION_DAYS, MAX_ROTATION_DAYS = 1, 1000

AWSCURRENT, AWSPREVIOUS, AWSPENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"
ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


# Errors, with Secrets Manager's error codes.


class InvalidParameter(ValidationError):
    """A parameter value is not valid for the secret's current state (e.g. a label attached elsewhere)."""

    code = "InvalidParameterException"


class InvalidRequest(StratusError):
    """The request is not valid for the secret's current state."""

    code = "InvalidRequestException"


class ResourceExists(StratusError):
    """A version with this client request token exists with a different value; versions are immutable."""

    code = "ResourceExistsException"


class RotationFailed(StratusError):
    """A rotation step failed; ``AWSCURRENT`` did not move. ``step`` names the step, ``__cause__`` the error."""

    code = "RotationFailed"

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step


# Values.


@dataclass(frozen=True)
class SecretValue:
    """One version of a secret. ``repr``/``str`` show the version, never the value."""

    value: str | bytes = field(repr=False)
    version_id: str
    stages: tuple[str, ...]
    created: datetime

    def json(self) -> Any:
        """The value parsed as JSON (secrets put as a dict come back this way)."""
        if not isinstance(self.value, str):
            raise ValidationError("this secret version holds binary data, not JSON text")
        try:
            return json.loads(self.value)
        except json.JSONDecodeError:
            raise ValidationError("this secret version does not hold JSON text") from None

    def __repr__(self) -> str:
        return f"SecretValue(version_id={self.version_id!r}, stages={list(self.stages)!r}, value=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class SecretVersion:
    """A version's metadata, as ListSecretVersionIds returns it."""

    version_id: str
    stages: tuple[str, ...]
    created: datetime


@dataclass(frozen=True)
class SecretDescription:
    """What DescribeSecret tells."""

    name: str
    arn: str
    description: str
    created: datetime
    rotation_enabled: bool
    rotation_every_days: int | None
    last_rotated: datetime | None
    next_rotation: datetime | None
    versions: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class RotationEvent:
    """What a rotation handler receives for each step (the Lambda event, plus the handle)."""

    step: str
    token: str
    secret: Secret

    def as_lambda_event(self) -> dict[str, str]:
        """The event Secrets Manager sends a rotation Lambda function."""
        return {"Step": self.step, "SecretId": self.secret.arn, "ClientRequestToken": self.token}


RotationHandlerFn = Callable[[RotationEvent], None]


class RotationHandler:
    """A rotation handler as four methods; subclass and override what your system needs."""

    def __call__(self, event: RotationEvent) -> None:
        {
            "createSecret": self.create_secret,
            "setSecret": self.set_secret,
            "testSecret": self.test_secret,
            "finishSecret": self.finish_secret,
        }[event.step](event)

    def new_value(self, current: SecretValue | None) -> str | bytes | dict[str, Any]:
        """The value of the new version; by default a random password (see :class:`PasswordRotation`)."""
        password = random_password()
        if current is not None and isinstance(current.value, str):
            try:
                data = json.loads(current.value)
            except json.JSONDecodeError:
                data = None
            if isinstance(data, dict) and "password" in data:
                return {**data, "password": password}
        return password

    def create_secret(self, event: RotationEvent) -> None:
        """Put the new value as ``AWSPENDING`` under the event's token (nothing if it already exists)."""
        secret = event.secret
        if any(v.version_id == event.token for v in secret.list_versions(include_deprecated=True)):
            return
        try:
            current: SecretValue | None = secret.get()
        except ResourceNotFound:
            current = None
        secret.put(self.new_value(current), client_request_token=event.token, stages=[AWSPENDING])

    def set_secret(self, event: RotationEvent) -> None:
        """Change the credential in the system it protects (a database user...). Nothing by default."""

    def test_secret(self, event: RotationEvent) -> None:
        """Check that the pending credential works. By default, that it can be read back."""
        event.secret.get(version_id=event.token, version_stage=AWSPENDING)

    def finish_secret(self, event: RotationEvent) -> None:
        """Move ``AWSCURRENT`` to the new version."""
        secret = event.secret
        current = next((v.version_id for v in secret.list_versions() if AWSCURRENT in v.stages), None)
        if current == event.token:
            return
        secret.update_stage(AWSCURRENT, move_to=event.token, remove_from=current)


class PasswordRotation(RotationHandler):
    """The default handler: a new random password, nothing external to change."""


@dataclass(frozen=True)
class RotationSchedule:
    """Automatic rotation every ``every_days`` (1-1000) with ``handler`` (default: :class:`PasswordRotation`)."""

    every_days: int
    handler: RotationHandlerFn | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.every_days, bool)
            or not isinstance(self.every_days, int)
            or not MIN_ROTATION_DAYS <= self.every_days <= MAX_ROTATION_DAYS
        ):
            raise ValidationError(
                f"rotation every_days must be an integer from {MIN_ROTATION_DAYS} to {MAX_ROTATION_DAYS}, "
                f"got {self.every_days!r}"
            )
        if self.handler is not None and not callable(self.handler):
            raise ValidationError(f"rotation handler must be callable, got {type(self.handler).__name__}")


def random_password(
    length: int = 32,
    *,
    exclude_characters: str = "",
    exclude_punctuation: bool = False,
    exclude_numbers: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
) -> str:
    """A password as GetRandomPassword makes it: by default 32 characters with every included type present."""
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 4096:
        raise ValidationError(f"password length must be 1 to 4096, got {length!r}")
    classes = [
        "" if exclude_lowercase else string.ascii_lowercase,
        "" if exclude_uppercase else string.ascii_uppercase,
        "" if exclude_numbers else string.digits,
        "" if exclude_punctuation else PUNCTUATION,
        " " if include_space else "",
    ]
    classes = [c for c in ("".join(ch for ch in cls if ch not in exclude_characters) for cls in classes) if c]
    if not classes:
        raise ValidationError("the password options exclude every character")
    alphabet = "".join(classes)
    while True:
        password = "".join(random_source.choice(alphabet) for _ in range(length))
        if length < len(classes) or all(any(ch in cls for ch in password) for cls in classes):
            return password


# The backend contract.


class SecretBackend(ABC):
    """What an adapter implements; inputs are already validated by :class:`Secret`."""

    @property
    @abstractmethod
    def arn(self) -> str: ...

    @abstractmethod
    def put(self, value: str | bytes, token: str, stages: list[str]) -> str:
        """Create version ``token`` (or return it unchanged if it exists with this value)."""

    @abstractmethod
    def get(self, version_id: str | None, version_stage: str | None) -> SecretValue: ...

    @abstractmethod
    def list_versions(self) -> list[SecretVersion]: ...

    @abstractmethod
    def update_stage(self, stage: str, move_to: str | None, remove_from: str | None) -> None: ...

    @abstractmethod
    def record_rotation(self) -> None:
        """Remember that a rotation finished now (LastRotatedDate)."""

    @abstractmethod
    def rotation_due(self, every_days: int) -> bool:
        """Whether ``every_days`` have passed since the last rotation (or since the secret was created)."""

    @abstractmethod
    def describe(self, rotation_every_days: int | None) -> SecretDescription: ...


# The handle.


class Secret(Resource[SecretBackend]):
    """A Secrets Manager secret."""

    kind = "secret"
    max_name_length = 512

    def __init__(self, app: App, name: str, *, description: str = "", rotation: RotationSchedule | None = None) -> None:
        super().__init__(app, name)
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise ValidationError(
                f"secret {name!r}: description must be a string of at most {MAX_DESCRIPTION} characters"
            )
        if rotation is not None and not isinstance(rotation, RotationSchedule):
            raise ValidationError(f"secret {name!r}: rotation must be a RotationSchedule or None, got {rotation!r}")
        self.description = description
        self.rotation = rotation

    def settings(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "rotation_every_days": self.rotation.every_days if self.rotation else None,
        }

    @property
    def arn(self) -> str:
        return self.backend.arn

    def put(
        self,
        value: str | bytes | dict[str, Any],
        *,
        client_request_token: str | None = None,
        stages: list[str] | None = None,
    ) -> str:
        """Store a new version (PutSecretValue); it gets ``stages`` (default ``AWSCURRENT``). Returns its id."""
        data = _check_value(value)
        token = _check_token(client_request_token) if client_request_token is not None else str(uuid.uuid4())
        labels = [AWSCURRENT] if stages is None else _check_stages(stages)
        return self.backend.put(data, token, labels)

    def get(self, *, version_stage: str | None = None, version_id: str | None = None) -> SecretValue:
        """One version (GetSecretValue): by id, by label, or ``AWSCURRENT`` when neither is given."""
        if version_id is not None:
            _check_token(version_id, what="version_id")
        if version_stage is not None:
            _check_stage(version_stage)
        if version_id is None and version_stage is None:
            version_stage = AWSCURRENT
        return self.backend.get(version_id, version_stage)

    def list_versions(self, *, include_deprecated: bool = False) -> list[SecretVersion]:
        """The versions, newest first; those without labels (deprecated) only with ``include_deprecated``."""
        versions = self.backend.list_versions()
        return versions if include_deprecated else [v for v in versions if v.stages]

    def update_stage(self, stage: str, *, move_to: str | None = None, remove_from: str | None = None) -> None:
        """Move or remove a staging label (UpdateSecretVersionStage)."""
        _check_stage(stage)
        if move_to is None and remove_from is None:
            raise ValidationError("update_stage needs move_to, remove_from or both")
        for what, version in (("move_to", move_to), ("remove_from", remove_from)):
            if version is not None:
                _check_token(version, what=what)
        if stage == AWSCURRENT and move_to is None:
            raise InvalidParameter("the AWSCURRENT label can only be moved to another version, not removed")
        self.backend.update_stage(stage, move_to, remove_from)

    def rotate(self) -> str:
        """Run the four rotation steps now; returns the id of the new ``AWSCURRENT`` version."""
        handler: RotationHandlerFn = (self.rotation.handler if self.rotation else None) or PasswordRotation()
        versions = self.backend.list_versions()
        pending = next((v for v in versions if AWSPENDING in v.stages and AWSCURRENT not in v.stages), None)
        token = pending.version_id if pending else str(uuid.uuid4())
        for step in ROTATION_STEPS:
            try:
                handler(RotationEvent(step, token, self))
            except Exception as exc:
                raise RotationFailed(
                    f"rotation of secret {self.name!r} failed at {step}: {type(exc).__name__}: {exc}; "
                    "AWSCURRENT was not changed",
                    step,
                ) from exc
        current = next((v for v in self.backend.list_versions() if AWSCURRENT in v.stages), None)
        if current is None or current.version_id != token:
            raise RotationFailed(
                f"rotation of secret {self.name!r}: finishSecret did not move AWSCURRENT to version {token}",
                "finishSecret",
            )
        if AWSPENDING in current.stages:
            self.backend.update_stage(AWSPENDING, None, token)
        self.backend.record_rotation()
        return token

    def rotate_if_due(self) -> bool:
        """Rotate when the schedule says so on the clock (for the scheduler); True if it rotated."""
        if self.rotation is None or not self.backend.rotation_due(self.rotation.every_days):
            return False
        self.rotate()
        return True

    def describe(self) -> SecretDescription:
        return self.backend.describe(self.rotation.every_days if self.rotation else None)


# Validation.


def _check_value(value: object) -> str | bytes:
    if isinstance(value, dict):
        try:
            value = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"a dict secret value must be JSON-serializable: {exc}") from None
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, str):
        size = len(value.encode())
    elif isinstance(value, bytes):
        size = len(value)
        if size == 0:
            raise ValidationError("a binary secret value must not be empty")
    else:
        raise ValidationError(f"a secret value must be str, bytes or a dict, got {type(value).__name__}")
    if size > MAX_VALUE_BYTES:
        raise ValidationError(f"a secret value must be at most {MAX_VALUE_BYTES} bytes, got {size}")
    return value


def _check_token(token: object, *, what: str = "client_request_token") -> str:
    if not isinstance(token, str) or not MIN_TOKEN <= len(token) <= MAX_TOKEN:
        raise ValidationError(f"{what} must be a string of {MIN_TOKEN} to {MAX_TOKEN} characters, got {token!r}")
    return token


def _check_stage(stage: object) -> str:
    if not isinstance(stage, str) or not 1 <= len(stage) <= MAX_STAGE_LENGTH:
        raise ValidationError(f"a staging label must be a string of 1 to {MAX_STAGE_LENGTH} characters, got {stage!r}")
    return stage


def _check_stages(stages: object) -> list[str]:
    if not isinstance(stages, list | tuple) or not stages:
        raise ValidationError(f"stages must be a non-empty list of labels, got {stages!r}")
    labels = list(dict.fromkeys(_check_stage(s) for s in stages))
    if len(labels) > MAX_STAGES_PER_VERSION:
        raise ValidationError(f"a version can have at most {MAX_STAGES_PER_VERSION} staging labels")
    return labels
