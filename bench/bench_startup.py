"""`stratus up` readiness: seconds from launching the command to the first answered request, all systems loaded.

Measured on a fresh state folder (first start: migrations, keys) and again on the same
folder (a restart). Target: under 2 seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Figures, Row

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready_seconds(state_dir: str) -> float:
    port = _free_port()
    stratus = str(Path(sys.executable).with_name("stratus"))
    started = time.perf_counter()
    process = subprocess.Popen(
        [stratus, "up", "--port", str(port), "--state-dir", state_dir],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "STRATUS_SYSTEMS": str(ROOT / "systems")},
    )
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_health", timeout=0.5).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"stratus up exited with {process.returncode}")
            time.sleep(0.02)
        raise RuntimeError("stratus up was not ready within 60 s")
    finally:
        process.terminate()
        process.wait(15)


def run() -> list[Row]:
    folder = tempfile.mkdtemp(prefix="stratus-bench-up-")
    try:
        first = ready_seconds(folder)
        again = ready_seconds(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [
        Row("startup", "stratus up ready (fresh state folder)", Figures(1, first, 0, 0), target="< 2 s", seconds=first),
        Row("startup", "stratus up ready (restart)", Figures(1, again, 0, 0), target="< 2 s", seconds=again),
    ]
