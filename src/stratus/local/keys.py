"""The embedded KMS: key metadata in SQLite, key material in sealed 0600 files.

Each declared key gets a key id (a UUID) on first bind, kept in ``kms.db`` under the
key's qualified name. Every material version is 32 random bytes sealed under the state
folder's master key (:mod:`stratus.local.crypto`) in ``kms/<key id>/<version>.key``.
Material lives in files rather than in SQLite so that destroying it is a file shred,
not a delete that could linger in the WAL or in free pages.

Ciphertext format (all authenticated: the header is AES-GCM additional data together
with the encryption context)::

    0x01 | key id (16 bytes, the UUID) | material version (4 bytes, big-endian)
         | nonce (12) | AES-256-GCM ciphertext | tag (16)

Deletion: ``schedule_deletion`` records the date; the first operation (or bind) after
that date on the cloud's clock shreds the material files and leaves a ``Deleted``
tombstone, so the declared key is not silently re-created with new material.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from stratus.local.crypto import Unsealable, master_key, seal, shred_file, unseal, write_private_file
from stratus.resources.keys import (
    MAX_ON_DEMAND_ROTATIONS,
    DataKey,
    IncorrectKey,
    InvalidCiphertext,
    Key,
    KeyBackend,
    KeyDescription,
    KeyDisabled,
    KeyNotFound,
    KeyState,
    KMSInvalidState,
    RotationLimitExceeded,
    canonical_context,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

_FORMAT = 1
_HEADER = struct.Struct(">B16sI")
_DAY = 86400.0

_SCHEMA = [
    """
    CREATE TABLE kms_keys (
        name TEXT PRIMARY KEY,
        key_id TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created REAL NOT NULL,
        state TEXT NOT NULL,
        deletion_date REAL,
        current_version INTEGER NOT NULL,
        last_rotated REAL,
        last_auto_rotated REAL,
        on_demand_rotations INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE kms_material (
        key_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (key_id, version)
    )
    """
]


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


class LocalKey(KeyBackend):
    """One declared key on the local cloud."""

    def __init__(self, resource: Key, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.db = cloud.storage.database("kms")
        self.db.migrate("kms", _SCHEMA)
        self._master = master_key(cloud)
        self._folder_root = cloud.state_dir / "kms"
        self._material: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self._destroy_lock = threading.Lock()
        with self.db.transaction() as conn:
            row = conn.execute("SELECT key_id FROM kms_keys WHERE name = ?", (resource.qualified_name,)).fetchone()
            if row is None:
                key_id = str(uuid.uuid4())
                now = cloud.clock.now()
                self._write_material(key_id, 1, os.urandom(32))
                conn.execute(
                    "INSERT INTO kms_keys (name, key_id, description, created, state, current_version) "
                    "VALUES (?, ?, ?, ?, 'Enabled', 1)",
                    (resource.qualified_name, key_id, resource.description, now),
                )
                conn.execute("INSERT INTO kms_material VALUES (?, 1, ?)", (key_id, now))
            else:
                key_id = row[0]
                conn.execute(
                    "UPDATE kms_keys SET description = ? WHERE name = ?",
                    (resource.description, resource.qualified_name),
                )
        self.key_id = key_id
        self.arn = cloud.arn("kms", f"key/{key_id}")
        with contextlib.suppress(KeyNotFound):
            self._row()  # destroys the material now if the deletion window passed while stopped

    # Material files.

    def _path(self, key_id: str, version: int) -> Path:
        return self._folder_root / key_id / f"{version}.key"

    def _aad(self, key_id: str, version: int) -> bytes:
        return f"stratus-kms-material:{key_id}:{version}".encode()

    def _write_material(self, key_id: str, version: int, material: bytes) -> None:
        write_private_file(self._path(key_id, version), self._master.seal(material, self._aad(key_id, version)))

    def _load_material(self, version: int) -> bytes:
        with self._lock:
            material = self._material.get(version)
            if material is None:
                path = self._path(self.key_id, version)
                try:
                    blob = path.read_bytes()
                except FileNotFoundError:
                    raise InvalidCiphertext("the ciphertext refers to key material that does not exist") from None
                try:
                    material = self._master.unseal(blob, self._aad(self.key_id, version))
                except Unsealable:
                    raise RuntimeError(f"key material {path} does not authenticate under the master key") from None
                self._material[version] = material
            return material

    def _destroy(self) -> None:
        """Crypto-shred: forget the material, tombstone the key, shred the files."""
        with self._destroy_lock:
            self._destroy_locked()

    def _destroy_locked(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE kms_keys SET state = 'Deleted' WHERE key_id = ? AND state = 'PendingDeletion'", (self.key_id,)
            )
            conn.execute("DELETE FROM kms_material WHERE key_id = ?", (self.key_id,))
        with self._lock:
            self._material.clear()
        folder = self._folder_root / self.key_id
        if folder.exists():
            for path in folder.iterdir():
                shred_file(path)
            folder.rmdir()

    # State.

    def _row(self) -> tuple:
        row = self.db.execute(
            "SELECT state, deletion_date, current_version, created, last_rotated, last_auto_rotated, "
            "on_demand_rotations, description FROM kms_keys WHERE key_id = ?",
            (self.key_id,),
        )[0]
        if row[0] == "PendingDeletion" and self.cloud.clock.now() >= row[1]:
            self._destroy()
            row = ("Deleted", *row[1:])
        if row[0] == "Deleted":
            # Finish a shred interrupted by a crash between the commit and the file removal.
            if (self._folder_root / self.key_id).exists():
                self._destroy()
            raise KeyNotFound(f"key {self.resource.name!r} ({self.arn}) was deleted; its material is destroyed")
        return tuple(row)

    def _usable(self) -> tuple:
        row = self._row()
        if row[0] == "Disabled":
            raise KeyDisabled(f"key {self.resource.name!r} ({self.arn}) is disabled")
        if row[0] == "PendingDeletion":
            raise KMSInvalidState(f"key {self.resource.name!r} ({self.arn}) is pending deletion")
        return row

    # Crypto.

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        version = self._usable()[2]
        header = _HEADER.pack(_FORMAT, uuid.UUID(self.key_id).bytes, version)
        return header + seal(self._load_material(version), plaintext, header + canonical_context(context))

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        self._usable()
        if len(ciphertext) < _HEADER.size:
            raise InvalidCiphertext("the ciphertext is truncated")
        fmt, key_bytes, version = _HEADER.unpack(ciphertext[: _HEADER.size])
        if fmt != _FORMAT:
            raise InvalidCiphertext(f"the ciphertext has unknown format version {fmt}")
        if key_bytes != uuid.UUID(self.key_id).bytes:
            raise IncorrectKey(f"the ciphertext was not made under key {self.resource.name!r} ({self.arn})")
        exists = self.db.execute("SELECT 1 FROM kms_material WHERE key_id = ? AND version = ?", (self.key_id, version))
        if not exists:
            raise InvalidCiphertext(f"the ciphertext refers to unknown key material version {version}")
        header = ciphertext[: _HEADER.size]
        try:
            return unseal(self._load_material(version), ciphertext[_HEADER.size :], header + canonical_context(context))
        except Unsealable:
            raise InvalidCiphertext(
                "the ciphertext does not authenticate: it was altered or the encryption context differs"
            ) from None

    def generate_data_key(self, size: int, context: dict[str, str]) -> DataKey:
        plaintext = os.urandom(size)
        return DataKey(plaintext=plaintext, ciphertext=self.encrypt(plaintext, context), key_id=self.arn)

    # Management.

    def _new_version(self, *, on_demand: bool) -> None:
        now = self.cloud.clock.now()
        with self.db.transaction() as conn:
            version, count = conn.execute(
                "SELECT current_version, on_demand_rotations FROM kms_keys WHERE key_id = ?", (self.key_id,)
            ).fetchone()
            if on_demand and count >= MAX_ON_DEMAND_ROTATIONS:
                raise RotationLimitExceeded(
                    f"key {self.resource.name!r} was already rotated on demand {MAX_ON_DEMAND_ROTATIONS} times, "
                    "the most KMS allows"
                )
            version += 1
            self._write_material(self.key_id, version, os.urandom(32))
            conn.execute("INSERT INTO kms_material VALUES (?, ?, ?)", (self.key_id, version, now))
            conn.execute(
                "UPDATE kms_keys SET current_version = ?, last_rotated = ?, "
                "on_demand_rotations = on_demand_rotations + ?, "
                "last_auto_rotated = CASE WHEN ? THEN last_auto_rotated ELSE ? END WHERE key_id = ?",
                (version, now, 1 if on_demand else 0, on_demand, now, self.key_id),
            )

    def rotate(self) -> None:
        self._usable()
        self._new_version(on_demand=True)

    def _next_rotation(self, row: tuple) -> float | None:
        period = self.resource.rotation_period_days
        if period is None or row[0] != "Enabled":
            return None
        base = row[5] if row[5] is not None else row[3]
        return float(base) + period * _DAY

    def rotate_if_due(self) -> bool:
        row = self._row()
        due = self._next_rotation(row)
        if due is None or self.cloud.clock.now() < due:
            return False
        self._new_version(on_demand=False)
        return True

    def _set_state(self, state: KeyState, *, allowed: tuple[str, ...], action: str) -> None:
        current = self._row()[0]
        if current not in allowed:
            raise KMSInvalidState(f"cannot {action} key {self.resource.name!r} ({self.arn}): its state is {current}")
        with self.db.transaction() as conn:
            conn.execute("UPDATE kms_keys SET state = ?, deletion_date = NULL WHERE key_id = ?", (state, self.key_id))

    def disable(self) -> None:
        self._set_state("Disabled", allowed=("Enabled", "Disabled"), action="disable")

    def enable(self) -> None:
        self._set_state("Enabled", allowed=("Enabled", "Disabled"), action="enable")

    def schedule_deletion(self, pending_days: int) -> datetime:
        current = self._row()[0]
        if current == "PendingDeletion":
            raise KMSInvalidState(f"key {self.resource.name!r} ({self.arn}) is already pending deletion")
        when = self.cloud.clock.now() + pending_days * _DAY
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE kms_keys SET state = 'PendingDeletion', deletion_date = ? WHERE key_id = ?",
                (when, self.key_id),
            )
        return datetime.fromtimestamp(when, tz=UTC)

    def cancel_deletion(self) -> None:
        self._set_state("Disabled", allowed=("PendingDeletion",), action="cancel the deletion of")

    def describe(self) -> KeyDescription:
        state, deletion, version, created, last_rotated, _auto, on_demand, description = row = self._row()
        next_rotation = self._next_rotation(row)
        return KeyDescription(
            key_id=self.key_id,
            arn=self.arn,
            state=state,
            description=description,
            creation_date=datetime.fromtimestamp(created, tz=UTC),
            deletion_date=_utc(deletion),
            rotation_enabled=self.resource.rotation_period_days is not None,
            rotation_period_days=self.resource.rotation_period_days,
            next_rotation_date=_utc(next_rotation),
            last_rotation_date=_utc(last_rotated),
            material_versions=version,
            on_demand_rotations_remaining=MAX_ON_DEMAND_ROTATIONS - on_demand,
        )

    def close(self) -> None:
        with self._lock:
            self._material.clear()

    def __repr__(self) -> str:
        return f"<LocalKey {self.resource.qualified_name} {self.key_id}>"
