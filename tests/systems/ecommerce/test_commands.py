"""The operator commands against a state folder another process holds: a clear refusal, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from systems.ecommerce import commands


def test_a_command_on_a_state_folder_in_use_refuses_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, time\n"
            f"c = sqlite3.connect({str(state / 'tables.db')!r}, isolation_level=None)\n"
            "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "c.execute('CREATE TABLE t (v)')\n"
            "print('held', flush=True); time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemExit) as exit_:
            commands.main(["create-admin", "admin@shop.example", "Adm1n-passw0rd!", "--state", str(state)])
        assert exit_.value.code == 2
        assert "held by another process" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
