"""The state folder's databases: one process owns them, and another is told so clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stratus.errors import StateFolderInUse
from stratus.local.storage import Database


def test_a_database_another_process_holds_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tables.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "c.execute('CREATE TABLE t (v)'); c.execute('INSERT INTO t VALUES (1)')\n"
            "print('held', flush=True); time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StateFolderInUse, match="held by another process"):
            Database(path)
    finally:
        holder.kill()
        holder.wait()
    Database(path).close()  # free again once the other process is gone
