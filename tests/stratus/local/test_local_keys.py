"""The embedded KMS: what it keeps on disk, and that shredding really removes it."""

from __future__ import annotations

import stat

import pytest

import stratus.testing
from stratus import App
from stratus.errors import ResourceNotFound

DAY = 86400


def _state_bytes(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_material_is_sealed_in_private_files_and_shredded(tmp_path) -> None:
    app = App("vault")
    key = app.key("payments")
    with stratus.testing.local(app, state_dir=tmp_path) as env:
        ct = key.encrypt(b"x")
        key.rotate()
        key_id = key.describe().key_id
        folder = tmp_path / "kms" / key_id
        files = sorted(folder.iterdir())
        assert [f.name for f in files] == ["1.key", "2.key"]
        for f in [*files, tmp_path / "master.key"]:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
        # The loaded material never shows up in a repr.
        assert "material" not in repr(key.backend) and key_id in repr(key.backend)
        key.schedule_deletion(7)
        env.advance(7 * DAY)
        with pytest.raises(ResourceNotFound):
            key.decrypt(ct)
        assert not folder.exists()


def test_deletion_window_passing_while_stopped_shreds_on_start(tmp_path) -> None:
    app = App("vault")
    key = app.key("payments")
    with stratus.testing.local(app, state_dir=tmp_path) as env:
        ct = key.encrypt(b"x")
        key_id = key.describe().key_id
        key.schedule_deletion(30)
        env.cloud.close()
        env.advance(31 * DAY)
        env.cloud = env._start()  # the binding alone destroys the material
        assert not (tmp_path / "kms" / key_id).exists()
        with pytest.raises(ResourceNotFound):
            key.decrypt(ct)


def test_plaintexts_never_reach_the_state_folder(tmp_path) -> None:
    app = App("vault")
    key = app.key("payments")
    with stratus.testing.local(app, state_dir=tmp_path):
        marker = b"PLAINTEXT-MARKER-1234567890"
        key.encrypt(marker)
        key.seal(marker * 100)
        dk = key.generate_data_key()
        blob = _state_bytes(tmp_path)
        assert marker not in blob
        assert dk.plaintext not in blob
