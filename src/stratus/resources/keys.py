"""The keys port (AWS KMS): a symmetric encryption key that never leaves the service.

``app.key("payments")`` declares a customer managed key. Callers encrypt up to 4 KB,
or ask for a data key and encrypt locally; :meth:`Key.seal` / :meth:`Key.open` do that
envelope encryption for data of any size. An encryption context (a ``dict[str, str]``)
is bound to every ciphertext: decrypting with a different context fails, as on KMS.

Key states follow KMS: ``Enabled``, ``Disabled`` (:class:`KeyDisabled` on use) and
``PendingDeletion`` (:class:`KMSInvalidState` on use) for 7-30 days, after which the
key material is destroyed and every ciphertext under it is unreadable for good: the
crypto-shredding that GDPR erasure relies on.

The envelope format is written here, on top of the port's ``generate_data_key`` and
``decrypt``, so it is identical whichever adapter is bound: ``0x01 | len(edk) (2 bytes)
| edk | nonce (12) | AES-GCM ciphertext+tag``, the encryption context and the header
bound as additional authenticated data.
"""

from __future__ import annotations

import json
import os
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stratus.errors import LimitExceeded, ResourceNotFound, StratusError, ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

#: KMS limits (https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html and friends).
MAX_PLAINTEXT = 4096
MAX_CIPHERTEXT = 6144
MAX_DESCRIPTION = 8192
MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30
MIN_ROTATION_DAYS, MAX_ROTATION_DAYS, DEFAULT_ROTATION_DAYS = 90, 2560, 365
MAX_ON_DEMAND_ROTATIONS = 25
DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}

KeyState = Literal["Enabled", "Disabled", "PendingDeletion"]

_ENVELOPE_VERSION = 1
_ENVELOPE_AAD = b"stratus-envelope-v1"
_NONCE = 12


# Errors, with KMS's error codes.


class InvalidCiphertext(StratusError):
    """The ciphertext, its encryption context or its key does not authenticate; nothing is returned."""

    code = "InvalidCiphertextException"


class IncorrectKey(InvalidCiphertext):
    """The ciphertext was made under another KMS key than the one asked to decrypt it."""

    code = "IncorrectKeyException"


class KeyDisabled(StratusError):
    """The key is disabled; enable it to use it."""

    code = "DisabledException"


class KMSInvalidState(StratusError):
    """The key's state (pending deletion, ...) does not allow the operation."""

    code = "KMSInvalidStateException"


class KeyNotFound(ResourceNotFound):
    """The key does not exist (any more): its material was deleted."""

    code = "NotFoundException"


class RotationLimitExceeded(LimitExceeded):
    """More on-demand rotations than KMS allows per key."""


# Values.


@dataclass(frozen=True)
class DataKey:
    """A data key: use ``plaintext`` locally, store ``ciphertext``, forget ``plaintext``."""

    plaintext: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    key_id: str = ""

    def __repr__(self) -> str:
        return f"DataKey(key_id={self.key_id!r}, plaintext=<{len(self.plaintext)} bytes hidden>)"


@dataclass(frozen=True)
class KeyDescription:
    """What DescribeKey and GetKeyRotationStatus tell about a key."""

    key_id: str
    arn: str
    state: KeyState
    description: str
    creation_date: datetime
    deletion_date: datetime | None
    rotation_enabled: bool
    rotation_period_days: int | None
    next_rotation_date: datetime | None
    last_rotation_date: datetime | None
    material_versions: int
    on_demand_rotations_remaining: int


# The backend contract.


class KeyBackend(ABC):
    """What an adapter implements; inputs are already validated by :class:`Key`."""

    @abstractmethod
    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes: ...

    @abstractmethod
    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes: ...

    @abstractmethod
    def generate_data_key(self, size: int, context: dict[str, str]) -> DataKey: ...

    @abstractmethod
    def rotate(self) -> None: ...

    @abstractmethod
    def rotate_if_due(self) -> bool: ...

    @abstractmethod
    def disable(self) -> None: ...

    @abstractmethod
    def enable(self) -> None: ...

    @abstractmethod
    def schedule_deletion(self, pending_days: int) -> datetime: ...

    @abstractmethod
    def cancel_deletion(self) -> None: ...

    @abstractmethod
    def describe(self) -> KeyDescription: ...


# The handle.


class Key(Resource[KeyBackend]):
    """A KMS symmetric encryption key (SYMMETRIC_DEFAULT, AES-256-GCM)."""

    kind = "key"
    max_name_length = 250  # an alias is "alias/" + up to 250 characters

    def __init__(self, app: App, name: str, *, description: str = "", rotation: bool | int = False) -> None:
        super().__init__(app, name)
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise ValidationError(f"key {name!r}: description must be a string of at most {MAX_DESCRIPTION} characters")
        if isinstance(rotation, bool):
            period = DEFAULT_ROTATION_DAYS if rotation else None
        elif isinstance(rotation, int) and MIN_ROTATION_DAYS <= rotation <= MAX_ROTATION_DAYS:
            period = rotation
        else:
            raise ValidationError(
                f"key {name!r}: rotation must be True, False or a period of "
                f"{MIN_ROTATION_DAYS}-{MAX_ROTATION_DAYS} days, got {rotation!r}"
            )
        self.description = description
        #: Automatic rotation period in days, or None when automatic rotation is off.
        self.rotation_period_days = period

    def settings(self) -> dict[str, Any]:
        return {"description": self.description, "rotation_period_days": self.rotation_period_days}

    # Cryptographic operations.

    def encrypt(self, plaintext: bytes, *, context: dict[str, str] | None = None) -> bytes:
        """Encrypt at most 4096 bytes; the result names this key and its current material version."""
        _check_bytes("plaintext", plaintext, MAX_PLAINTEXT)
        return self.backend.encrypt(bytes(plaintext), _check_context(context))

    def decrypt(self, ciphertext: bytes, *, context: dict[str, str] | None = None) -> bytes:
        """Decrypt what :meth:`encrypt` returned, with the same encryption context."""
        _check_bytes("ciphertext", ciphertext, MAX_CIPHERTEXT)
        return self.backend.decrypt(bytes(ciphertext), _check_context(context))

    def generate_data_key(
        self, *, spec: Literal["AES_256", "AES_128"] = "AES_256", context: dict[str, str] | None = None
    ) -> DataKey:
        """A fresh random data key, in plaintext and encrypted under this key."""
        size = DATA_KEY_SPECS.get(spec) if isinstance(spec, str) else None
        if size is None:
            raise ValidationError(f"data key spec must be one of {sorted(DATA_KEY_SPECS)}, got {spec!r}")
        return self.backend.generate_data_key(size, _check_context(context))

    def decrypt_data_key(self, ciphertext: bytes, *, context: dict[str, str] | None = None) -> bytes:
        """The plaintext of a data key's ``ciphertext``."""
        return self.decrypt(ciphertext, context=context)

    def seal(self, data: bytes, *, context: dict[str, str] | None = None) -> bytes:
        """Envelope-encrypt ``data`` of any size: a new data key per call, the context bound to both layers."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValidationError(f"data to seal must be bytes, got {type(data).__name__}")
        ctx = _check_context(context)
        data_key = self.backend.generate_data_key(32, ctx)
        edk = data_key.ciphertext
        header = struct.pack(">BH", _ENVELOPE_VERSION, len(edk)) + edk
        nonce = os.urandom(_NONCE)
        body = AESGCM(data_key.plaintext).encrypt(nonce, bytes(data), _envelope_aad(header, ctx))
        return header + nonce + body

    def open(self, blob: bytes, *, context: dict[str, str] | None = None) -> bytes:
        """Decrypt what :meth:`seal` returned; any change to ``blob`` or ``context`` → :class:`InvalidCiphertext`."""
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise ValidationError(f"sealed data must be bytes, got {type(blob).__name__}")
        blob = bytes(blob)
        ctx = _check_context(context)
        if len(blob) < 3:
            raise InvalidCiphertext("sealed data is truncated")
        version, edk_len = struct.unpack(">BH", blob[:3])
        if version != _ENVELOPE_VERSION:
            raise InvalidCiphertext(f"sealed data has unknown format version {version}")
        header_end = 3 + edk_len
        if edk_len == 0 or edk_len > MAX_CIPHERTEXT or len(blob) < header_end + _NONCE + 16:
            raise InvalidCiphertext("sealed data is truncated or malformed")
        header = blob[:header_end]
        data_key = self.backend.decrypt(blob[3:header_end], ctx)
        nonce = blob[header_end : header_end + _NONCE]
        try:
            return AESGCM(data_key).decrypt(nonce, blob[header_end + _NONCE :], _envelope_aad(header, ctx))
        except (InvalidTag, ValueError):
            raise InvalidCiphertext("sealed data does not authenticate with this key and context") from None

    # Key management.

    def rotate(self) -> None:
        """New key material (RotateKeyOnDemand); ciphertexts under older material still decrypt."""
        self.backend.rotate()

    def rotate_if_due(self) -> bool:
        """Rotate if automatic rotation is on and its period has passed on the clock; for the scheduler."""
        return self.backend.rotate_if_due()

    def disable(self) -> None:
        self.backend.disable()

    def enable(self) -> None:
        self.backend.enable()

    def schedule_deletion(self, pending_days: int = MAX_PENDING_DAYS) -> datetime:
        """Make the key unusable now and destroy its material after ``pending_days`` (7-30); returns when."""
        if (
            isinstance(pending_days, bool)
            or not isinstance(pending_days, int)
            or not MIN_PENDING_DAYS <= pending_days <= MAX_PENDING_DAYS
        ):
            raise ValidationError(
                f"pending_days must be an integer from {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS}, got {pending_days!r}"
            )
        return self.backend.schedule_deletion(pending_days)

    def cancel_deletion(self) -> None:
        """Keep the key after all; it comes back Disabled, as on KMS."""
        self.backend.cancel_deletion()

    def describe(self) -> KeyDescription:
        return self.backend.describe()


# Validation and encoding shared by the handle and the adapters.


def _check_bytes(what: str, value: object, limit: int) -> None:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ValidationError(f"{what} must be bytes, got {type(value).__name__}")
    size = len(bytes(value))
    if not 1 <= size <= limit:
        raise ValidationError(f"{what} must be 1 to {limit} bytes, got {size}")


def _check_context(context: dict[str, str] | None) -> dict[str, str]:
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValidationError(f"encryption context must be a dict of strings, got {type(context).__name__}")
    for k, v in context.items():
        if not isinstance(k, str) or not k or not isinstance(v, str):
            raise ValidationError(f"encryption context entries must be non-empty string keys to strings, got {k!r}")
    return dict(context)


def canonical_context(context: dict[str, str]) -> bytes:
    """The encryption context as bytes that do not depend on dict order."""
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _envelope_aad(header: bytes, context: dict[str, str]) -> bytes:
    return _ENVELOPE_AAD + header + canonical_context(context)
