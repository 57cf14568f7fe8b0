"""The embedded Secrets Manager: versions and labels in SQLite, values sealed under the master key.

``secrets.db`` holds one row per secret, one per version (the value AES-GCM sealed under
the state folder's master key, bound to the secret and version id so rows cannot be
swapped) and one per staging label. Every label move happens in one transaction, so a
label is always on exactly one version.
"""

from __future__ import annotations

import secrets as random_source
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stratus.errors import LimitExceeded, ResourceNotFound
from stratus.local.crypto import master_key
from stratus.resources.secrets import (
    AWSCURRENT,
    AWSPREVIOUS,
    MAX_STAGES_PER_VERSION,
    MAX_VERSIONS,
    InvalidParameter,
    ResourceExists,
    Secret,
    SecretBackend,
    SecretDescription,
    SecretValue,
    SecretVersion,
)

if TYPE_CHECKING:
    import sqlite3

    from stratus.local.cloud import LocalCloud

_DAY = 86400.0

_SCHEMA = [
    """
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL,
        created REAL NOT NULL,
        last_rotated REAL
    );
    CREATE TABLE secret_versions (
        name TEXT NOT NULL,
        version_id TEXT NOT NULL,
        created REAL NOT NULL,
        binary INTEGER NOT NULL,
        sealed BLOB NOT NULL,
        PRIMARY KEY (name, version_id)
    );
    CREATE TABLE secret_stages (
        name TEXT NOT NULL,
        stage TEXT NOT NULL,
        version_id TEXT NOT NULL,
        PRIMARY KEY (name, stage)
    )
    """
]


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


class LocalSecret(SecretBackend):
    """One declared secret on the local cloud."""

    def __init__(self, resource: Secret, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.name = resource.qualified_name
        self.db = cloud.storage.database("secrets")
        self.db.migrate("secrets", _SCHEMA)
        self._master = master_key(cloud)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT arn FROM secrets WHERE name = ?", (self.name,)).fetchone()
            if row is None:
                # Secrets Manager appends six random characters to a secret's ARN.
                suffix = "".join(random_source.choice(string.ascii_letters + string.digits) for _ in range(6))
                arn = cloud.arn("secretsmanager", f"secret:{self.name}-{suffix}")
                conn.execute("INSERT INTO secrets VALUES (?, ?, ?, NULL)", (self.name, arn, cloud.clock.now()))
            else:
                arn = row[0]
        self._arn = arn

    @property
    def arn(self) -> str:
        return self._arn

    # Sealing.

    def _aad(self, version_id: str, binary: bool) -> bytes:
        return f"stratus-secret:{self.name}:{version_id}:{int(binary)}".encode()

    def _open(self, version_id: str, binary: int, sealed: bytes) -> str | bytes:
        data = self._master.unseal(sealed, self._aad(version_id, bool(binary)))
        return data if binary else data.decode()

    # Labels.

    def _stages(self, conn: sqlite3.Connection, version_id: str) -> tuple[str, ...]:
        rows = conn.execute(
            "SELECT stage FROM secret_stages WHERE name = ? AND version_id = ? ORDER BY stage",
            (self.name, version_id),
        ).fetchall()
        return tuple(r[0] for r in rows)

    def _holder(self, conn: sqlite3.Connection, stage: str) -> str | None:
        row = conn.execute(
            "SELECT version_id FROM secret_stages WHERE name = ? AND stage = ?", (self.name, stage)
        ).fetchone()
        return row[0] if row else None

    def _attach(self, conn: sqlite3.Connection, stage: str, version_id: str) -> None:
        """Attach ``stage`` to ``version_id`` (taking it from wherever it was); AWSCURRENT drags AWSPREVIOUS."""
        previous = self._holder(conn, stage)
        if previous == version_id:
            return
        if len(self._stages(conn, version_id)) >= MAX_STAGES_PER_VERSION:
            raise LimitExceeded(f"version {version_id} already has {MAX_STAGES_PER_VERSION} staging labels")
        conn.execute(
            "INSERT INTO secret_stages VALUES (?, ?, ?) ON CONFLICT(name, stage) DO UPDATE SET version_id = ?",
            (self.name, stage, version_id, version_id),
        )
        if stage == AWSCURRENT and previous is not None:
            self._attach(conn, AWSPREVIOUS, previous)

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Keep at most MAX_VERSIONS versions, dropping the oldest ones without labels (deprecated)."""
        (count,) = conn.execute("SELECT COUNT(*) FROM secret_versions WHERE name = ?", (self.name,)).fetchone()
        if count <= MAX_VERSIONS:
            return
        conn.execute(
            "DELETE FROM secret_versions WHERE rowid IN ("
            " SELECT v.rowid FROM secret_versions v WHERE v.name = ? AND NOT EXISTS"
            " (SELECT 1 FROM secret_stages s WHERE s.name = v.name AND s.version_id = v.version_id)"
            " ORDER BY v.created, v.rowid LIMIT ?)",
            (self.name, count - MAX_VERSIONS),
        )

    # Operations.

    def put(self, value: str | bytes, token: str, stages: list[str]) -> str:
        binary = isinstance(value, bytes)
        data = value if isinstance(value, bytes) else value.encode()
        with self.db.transaction() as conn:
            existing = conn.execute(
                "SELECT binary, sealed FROM secret_versions WHERE name = ? AND version_id = ?", (self.name, token)
            ).fetchone()
            if existing is not None:
                if self._open(token, existing[0], existing[1]) == value:
                    return token  # an idempotent retry: nothing changes
                raise ResourceExists(
                    f"secret {self.resource.name!r} already has a version {token} with a different value; "
                    "versions cannot be changed, put a new one"
                )
            sealed = self._master.seal(data, self._aad(token, binary))
            conn.execute(
                "INSERT INTO secret_versions VALUES (?, ?, ?, ?, ?)",
                (self.name, token, self.cloud.clock.now(), int(binary), sealed),
            )
            for stage in stages:
                self._attach(conn, stage, token)
            self._prune(conn)
        return token

    def get(self, version_id: str | None, version_stage: str | None) -> SecretValue:
        with self.db.read() as conn:
            if version_id is None:
                assert version_stage is not None
                found = self._holder(conn, version_stage)
                if found is None:
                    raise ResourceNotFound(
                        f"Secrets Manager can't find the specified secret value for staging label: {version_stage}"
                    )
                version_id = found
            row = conn.execute(
                "SELECT created, binary, sealed FROM secret_versions WHERE name = ? AND version_id = ?",
                (self.name, version_id),
            ).fetchone()
            if row is None:
                raise ResourceNotFound(
                    f"Secrets Manager can't find the specified secret value for VersionId: {version_id}"
                )
            stages = self._stages(conn, version_id)
        if version_stage is not None and version_stage not in stages:
            raise ResourceNotFound(
                f"Secrets Manager can't find the specified secret value for VersionId: {version_id} "
                f"and staging label: {version_stage}"
            )
        value = self._open(version_id, row[1], row[2])
        return SecretValue(value=value, version_id=version_id, stages=stages, created=_utc(row[0]))  # type: ignore[arg-type]

    def list_versions(self) -> list[SecretVersion]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT version_id, created FROM secret_versions WHERE name = ? ORDER BY created DESC, rowid DESC",
                (self.name,),
            ).fetchall()
            return [SecretVersion(v, self._stages(conn, v), _utc(c)) for v, c in rows]  # type: ignore[arg-type]

    def update_stage(self, stage: str, move_to: str | None, remove_from: str | None) -> None:
        with self.db.transaction() as conn:
            holder = self._holder(conn, stage)
            if remove_from is not None and holder != remove_from:
                raise InvalidParameter(f"the staging label {stage} is not attached to version {remove_from}")
            if move_to is None:
                conn.execute("DELETE FROM secret_stages WHERE name = ? AND stage = ?", (self.name, stage))
                self._prune(conn)
                return
            exists = conn.execute(
                "SELECT 1 FROM secret_versions WHERE name = ? AND version_id = ?", (self.name, move_to)
            ).fetchone()
            if exists is None:
                raise ResourceNotFound(f"secret {self.resource.name!r} has no version {move_to}")
            if holder is not None and holder != move_to and remove_from != holder:
                raise InvalidParameter(
                    f"staging label {stage} is currently attached to version {holder}, "
                    "so you must name that version in remove_from"
                )
            self._attach(conn, stage, move_to)
            self._prune(conn)

    def record_rotation(self) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE secrets SET last_rotated = ? WHERE name = ?", (self.cloud.clock.now(), self.name))

    def _base(self) -> tuple[float, float | None]:
        created, last_rotated = self.db.execute(
            "SELECT created, last_rotated FROM secrets WHERE name = ?", (self.name,)
        )[0]
        return created, last_rotated

    def rotation_due(self, every_days: int) -> bool:
        created, last_rotated = self._base()
        if last_rotated is None and not self.list_versions():
            return True  # nothing to serve yet: the first rotation creates the value
        base = last_rotated if last_rotated is not None else created
        return self.cloud.clock.now() >= base + every_days * _DAY

    def describe(self, rotation_every_days: int | None) -> SecretDescription:
        created, last_rotated = self._base()
        next_rotation = None
        if rotation_every_days is not None:
            next_rotation = (last_rotated if last_rotated is not None else created) + rotation_every_days * _DAY
        return SecretDescription(
            name=self.resource.name,
            arn=self._arn,
            description=self.resource.description,
            created=datetime.fromtimestamp(created, tz=UTC),
            rotation_enabled=rotation_every_days is not None,
            rotation_every_days=rotation_every_days,
            last_rotated=_utc(last_rotated),
            next_rotation=_utc(next_rotation),
            versions={v.version_id: v.stages for v in self.list_versions()},
        )

    def __repr__(self) -> str:
        return f"<LocalSecret {self.name}>"
