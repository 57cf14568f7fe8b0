"""AwsKey: the keys port on AWS KMS, through boto3.

Encryption, decryption and data keys are KMS calls with the encryption context passed
through; key states, on-demand rotation (``RotateKeyOnDemand``), automatic rotation and
scheduled deletion are KMS's own. Envelope sealing (``Key.seal``/``open``) happens in the
handle over ``generate_data_key``/``decrypt``. Plaintext and key material are never
logged nor put in errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import AccessDenied, StratusError, ValidationError
from stratus.resources import keys as port
from stratus.resources.keys import DataKey, KeyBackend, KeyDescription

if TYPE_CHECKING:
    from stratus.resources.keys import Key

_ERRORS: dict[str, type[StratusError]] = {
    "InvalidCiphertextException": port.InvalidCiphertext,
    "IncorrectKeyException": port.IncorrectKey,
    "DisabledException": port.KeyDisabled,
    "KMSInvalidStateException": port.KMSInvalidState,
    "NotFoundException": port.KeyNotFound,
    "LimitExceededException": port.RotationLimitExceeded,
    "AccessDeniedException": AccessDenied,
    "ValidationException": ValidationError,
}


def translate(error: ClientError) -> StratusError:
    return _context.translate_error(error, _ERRORS)


_utc = _context.utc


class AwsKey(KeyBackend):
    """One KMS key, addressed by the ARN in ``STRATUS_KEY_<NAME>``."""

    def __init__(self, resource: Key, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.key_arn = _context.physical_id(resource, cloud)
        #: The key id (KMS takes it, or the ARN, as KeyId; management calls use the id).
        self.key_id = self.key_arn.rsplit("/", 1)[-1] if self.key_arn.startswith("arn:") else self.key_arn
        self.client = _context.client("kms", cloud)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        params: dict[str, Any] = {"KeyId": self.key_arn, "Plaintext": plaintext}
        if context:
            params["EncryptionContext"] = context
        return bytes(self._call("encrypt", **params)["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        params: dict[str, Any] = {"KeyId": self.key_arn, "CiphertextBlob": ciphertext}
        if context:
            params["EncryptionContext"] = context
        return bytes(self._call("decrypt", **params)["Plaintext"])

    def generate_data_key(self, size: int, context: dict[str, str]) -> DataKey:
        params: dict[str, Any] = {"KeyId": self.key_arn, "NumberOfBytes": size}
        if context:
            params["EncryptionContext"] = context
        response = self._call("generate_data_key", **params)
        return DataKey(bytes(response["Plaintext"]), bytes(response["CiphertextBlob"]), str(response["KeyId"]))

    def rotate(self) -> None:
        self._call("rotate_key_on_demand", KeyId=self.key_id)

    def rotate_if_due(self) -> bool:
        # KMS rotates keys with automatic rotation on its own schedule; nothing to do from here.
        return False

    def disable(self) -> None:
        self._call("disable_key", KeyId=self.key_id)

    def enable(self) -> None:
        self._call("enable_key", KeyId=self.key_id)

    def schedule_deletion(self, pending_days: int) -> datetime:
        response = self._call("schedule_key_deletion", KeyId=self.key_id, PendingWindowInDays=pending_days)
        return _utc(response.get("DeletionDate")) or datetime.fromtimestamp(0, UTC)

    def cancel_deletion(self) -> None:
        self._call("cancel_key_deletion", KeyId=self.key_id)

    def describe(self) -> KeyDescription:
        metadata = self._call("describe_key", KeyId=self.key_id)["KeyMetadata"]
        try:
            status = self._call("get_key_rotation_status", KeyId=self.key_id)
        except port.KMSInvalidState:
            status = {}
        rotations: list[dict[str, Any]] = []
        try:
            token: str | None = None
            while True:
                params: dict[str, Any] = {"KeyId": self.key_id}
                if token:
                    params["Marker"] = token
                page = self._call("list_key_rotations", **params)
                rotations.extend(page.get("Rotations", []))
                token = page.get("NextMarker") if page.get("Truncated") else None
                if not token:
                    break
        except StratusError:
            rotations = []  # a key pending deletion or disabled may refuse ListKeyRotations
        on_demand = sum(1 for r in rotations if r.get("RotationType") == "ON_DEMAND")
        dates = [d for d in (_utc(r.get("RotationDate")) for r in rotations) if d is not None]
        last = max(dates, default=None)
        period = status.get("RotationPeriodInDays")
        enabled = bool(status.get("KeyRotationEnabled"))
        return KeyDescription(
            key_id=str(metadata["KeyId"]),
            arn=str(metadata["Arn"]),
            state=metadata["KeyState"],
            description=str(metadata.get("Description", "")),
            creation_date=_utc(metadata.get("CreationDate")) or datetime.fromtimestamp(0, UTC),
            deletion_date=_utc(metadata.get("DeletionDate")),
            rotation_enabled=enabled,
            rotation_period_days=int(period) if enabled and period else None,
            next_rotation_date=_utc(status.get("NextRotationDate")) if enabled else None,
            last_rotation_date=last,
            material_versions=1 + len(rotations),
            on_demand_rotations_remaining=max(0, port.MAX_ON_DEMAND_ROTATIONS - on_demand),
        )

    def __repr__(self) -> str:
        return f"<AwsKey {self.key_arn}>"
