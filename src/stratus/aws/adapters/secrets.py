"""AwsSecret: the secrets port on AWS Secrets Manager, through boto3.

Versions, staging labels, client request tokens and the pruning of old versions are
Secrets Manager's own (``PutSecretValue``, ``GetSecretValue``, ``ListSecretVersionIds``,
``UpdateSecretVersionStage``). The handle runs rotations itself (its four steps call back
into this adapter); the moment a rotation finished is kept in the secret's tag
``stratus:last-rotated`` (epoch seconds), since ``LastRotatedDate`` is set only by
Secrets Manager's own ``RotateSecret``. Secret values are never logged nor put in errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import LimitExceeded, ResourceNotFound, StratusError, ValidationError
from stratus.resources.secrets import (
    AWSCURRENT,
    AWSPREVIOUS,
    InvalidParameter,
    InvalidRequest,
    ResourceExists,
    SecretBackend,
    SecretDescription,
    SecretValue,
    SecretVersion,
)

if TYPE_CHECKING:
    from stratus.resources.secrets import Secret

_DAY = 86400.0
LAST_ROTATED_TAG = "stratus:last-rotated"
_ERRORS: dict[str, type[StratusError]] = {
    "ResourceNotFoundException": ResourceNotFound,
    "InvalidParameterException": InvalidParameter,
    "InvalidRequestException": InvalidRequest,
    "ResourceExistsException": ResourceExists,
    "LimitExceededException": LimitExceeded,
    "ValidationException": ValidationError,
}


def translate(error: ClientError) -> StratusError:
    return _context.translate_error(error, _ERRORS)


_utc = _context.utc


class AwsSecret(SecretBackend):
    """One Secrets Manager secret, addressed by the ARN in ``STRATUS_SECRET_<NAME>``."""

    def __init__(self, resource: Secret, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.secret_id = _context.physical_id(resource, cloud)
        self.client = _context.client("secretsmanager", cloud)
        self._arn: str | None = self.secret_id if self.secret_id.startswith("arn:") else None

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(SecretId=self.secret_id, **params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    @property
    def arn(self) -> str:
        if self._arn is None:
            self._arn = str(self._call("describe_secret")["ARN"])
        return self._arn

    def put(self, value: str | bytes, token: str, stages: list[str]) -> str:
        field = "SecretBinary" if isinstance(value, bytes) else "SecretString"
        params: dict[str, Any] = {field: value, "ClientRequestToken": token, "VersionStages": stages}
        return str(self._call("put_secret_value", **params)["VersionId"])

    def get(self, version_id: str | None, version_stage: str | None) -> SecretValue:
        params: dict[str, Any] = {}
        if version_id is not None:
            params["VersionId"] = version_id
        if version_stage is not None:
            params["VersionStage"] = version_stage
        response = self._call("get_secret_value", **params)
        value: str | bytes = (
            bytes(response["SecretBinary"]) if "SecretBinary" in response else str(response["SecretString"])
        )
        return SecretValue(
            value,
            str(response["VersionId"]),
            tuple(response.get("VersionStages", ())),
            _utc(response.get("CreatedDate")) or datetime.fromtimestamp(0, UTC),
        )

    def list_versions(self) -> list[SecretVersion]:
        versions: list[SecretVersion] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"IncludeDeprecated": True, "MaxResults": 100}
            if token:
                params["NextToken"] = token
            response = self._call("list_secret_version_ids", **params)
            for v in response.get("Versions", []):
                created = _utc(v.get("CreatedDate")) or datetime.fromtimestamp(0, UTC)
                versions.append(SecretVersion(str(v["VersionId"]), tuple(v.get("VersionStages", ())), created))
            token = response.get("NextToken")
            if not token:
                break
        # Newest first, as the port lists them; on a tie in time AWSCURRENT, then AWSPREVIOUS, come first.
        versions.sort(key=lambda v: (v.created, AWSCURRENT in v.stages, AWSPREVIOUS in v.stages), reverse=True)
        return versions

    def update_stage(self, stage: str, move_to: str | None, remove_from: str | None) -> None:
        params: dict[str, Any] = {"VersionStage": stage}
        if move_to is not None:
            params["MoveToVersionId"] = move_to
        if remove_from is not None:
            params["RemoveFromVersionId"] = remove_from
        try:
            self.client.update_secret_version_stage(SecretId=self.secret_id, **params)
        except ClientError as error:
            failure = translate(error)
            # Name the handle's arguments beside the API's, so the message says what to pass.
            for api, python in (("RemoveFromVersionId", "remove_from"), ("MoveToVersionId", "move_to")):
                failure.message = failure.message.replace(api, f"{api} ({python}=)")
            failure.args = (failure.message,)
            raise failure from None

    def _described(self) -> dict[str, Any]:
        return self._call("describe_secret")

    def _last_rotated(self, described: dict[str, Any]) -> float | None:
        for tag in described.get("Tags", []) or []:
            if tag.get("Key") == LAST_ROTATED_TAG:
                try:
                    return float(tag["Value"])
                except (TypeError, ValueError):
                    return None
        rotated = described.get("LastRotatedDate")
        return rotated.timestamp() if isinstance(rotated, datetime) else None

    def record_rotation(self) -> None:
        now = _context.clock(self.cloud).now()
        self._call("tag_resource", Tags=[{"Key": LAST_ROTATED_TAG, "Value": repr(float(now))}])

    def rotation_due(self, every_days: int) -> bool:
        described = self._described()
        last = self._last_rotated(described)
        if last is None and not described.get("VersionIdsToStages"):
            return True  # nothing to serve yet: the first rotation creates the value
        created = _utc(described.get("CreatedDate"))
        base = last if last is not None else (created.timestamp() if created else 0.0)
        return _context.clock(self.cloud).now() >= base + every_days * _DAY

    def describe(self, rotation_every_days: int | None) -> SecretDescription:
        described = self._described()
        created = _utc(described.get("CreatedDate")) or datetime.fromtimestamp(0, UTC)
        last = self._last_rotated(described)
        next_rotation = None
        if rotation_every_days is not None:
            next_rotation = (last if last is not None else created.timestamp()) + rotation_every_days * _DAY
        self._arn = str(described.get("ARN") or self.arn)
        return SecretDescription(
            name=self.resource.name,
            arn=self._arn,
            description=self.resource.description,
            created=created,
            rotation_enabled=rotation_every_days is not None,
            rotation_every_days=rotation_every_days,
            last_rotated=_utc(last),
            next_rotation=_utc(next_rotation),
            versions={v.version_id: v.stages for v in self.list_versions()},
        )

    def __repr__(self) -> str:
        return f"<AwsSecret {self.secret_id}>"
