"""The embedded Secrets Manager: values are sealed at rest under a private master key."""

from __future__ import annotations

import stat

import pytest

import stratus.testing
from stratus import App
from stratus.local.crypto import Unsealable, load_master_key


def test_values_are_encrypted_at_rest(tmp_path) -> None:
    app = App("payments")
    secret = app.secret("psp")
    with stratus.testing.local(app, state_dir=tmp_path):
        secret.put("SECRET-MARKER-0123456789")
        secret.put(b"BINARY-MARKER-0123456789")
        on_disk = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
        assert b"SECRET-MARKER" not in on_disk
        assert b"BINARY-MARKER" not in on_disk
        assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


def test_rows_cannot_be_swapped_between_versions(tmp_path) -> None:
    app = App("payments")
    secret = app.secret("psp")
    with stratus.testing.local(app, state_dir=tmp_path) as env:
        v1 = secret.put("one")
        v2 = secret.put("two")
        db = env.cloud.storage.database("secrets")
        with db.transaction() as conn:
            (sealed,) = conn.execute("SELECT sealed FROM secret_versions WHERE version_id = ?", (v1,)).fetchone()
            conn.execute("UPDATE secret_versions SET sealed = ? WHERE version_id = ?", (sealed, v2))
        with pytest.raises(Unsealable):
            secret.get()


def test_master_key_is_created_once(tmp_path) -> None:
    first = load_master_key(tmp_path)
    assert load_master_key(tmp_path) == first
    assert len(first) == 32
