"""The state folder's master key and the AES-GCM helpers the secrets and keys adapters share.

Locally there is no HSM, so everything secret at rest (Secrets Manager values, KMS key
material) is sealed with AES-256-GCM under one master key per state folder. The master
key is 32 random bytes in ``<state>/master.key``, created once with mode 0600 and never
logged. Losing that file makes every local secret and key unreadable, which is the
local equivalent of losing the HSM.

The cipher is ``cryptography``'s AESGCM; this module only fixes the framing
(``nonce || ciphertext+tag``) and the creation of the key file, which must be atomic so
that two processes opening the same state folder agree on one key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

NONCE_SIZE = 12
TAG_SIZE = 16
MASTER_KEY_FILE = "master.key"
_MASTER_KEY_SIZE = 32


class Unsealable(Exception):
    """A sealed blob that fails authentication (tampered, truncated, or another key or AAD)."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM encrypt ``plaintext`` under ``key`` bound to ``aad``: ``nonce || ciphertext || tag``."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse :func:`seal`; raise :class:`Unsealable` if anything does not authenticate."""
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise Unsealable("sealed data is truncated")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except InvalidTag:
        raise Unsealable("sealed data does not authenticate") from None


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename), readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def shred_file(path: Path) -> None:
    """Overwrite ``path`` with zeros, fsync and unlink it (best effort against recovery from disk)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)


def load_master_key(state_dir: Path) -> bytes:
    """The state folder's master key, created (0600, atomically, first writer wins) if missing."""
    path = state_dir / MASTER_KEY_FILE
    if not path.exists():
        tmp = path.with_name(f".{MASTER_KEY_FILE}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(_MASTER_KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process created the key first; theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_bytes()
    if len(key) != _MASTER_KEY_SIZE:
        raise RuntimeError(f"{path} is not a {_MASTER_KEY_SIZE}-byte master key; the state folder is damaged")
    return key


class MasterKey:
    """The master key of one cloud's state folder, as a sealing object that never shows the key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        return seal(self._key, plaintext, aad)

    def unseal(self, blob: bytes, aad: bytes) -> bytes:
        return unseal(self._key, blob, aad)

    def __repr__(self) -> str:
        return "<MasterKey (hidden)>"


def master_key(cloud: LocalCloud) -> MasterKey:
    """The cloud's master key, loaded once and shared by every adapter that needs it."""
    return cloud.shared("crypto:master-key", lambda: MasterKey(load_master_key(cloud.state_dir)))
