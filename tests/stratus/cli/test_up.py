"""`stratus up` as a user runs it: serves every system, pinned to one CPU unless told otherwise, stops on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stratus.local import affinity


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    stratus = str(Path(sys.executable).with_name("stratus"))
    process = subprocess.Popen(
        [stratus, "up", "--port", str(port), "--state-dir", str(tmp_path / "state"), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_health", timeout=1) as response:
                return process, int(json.loads(response.read())["status"] == "ok")
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"stratus up did not serve: {process.communicate()[0]}")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


@pytest.mark.skipif(not affinity.supported() or len(affinity.allowed_cpus()) < 2, reason="needs Linux and 2 CPUs")
def test_up_serves_on_one_cpu_by_default_and_on_all_when_asked(tmp_path: Path) -> None:
    process, healthy = _serve(tmp_path)
    try:
        assert healthy
        assert os.sched_getaffinity(process.pid) == {max(affinity.allowed_cpus())}
    finally:
        output = _stop(process)
    assert "Stratus is up on http://127.0.0.1:" in output and "stopped." in output

    process, healthy = _serve(tmp_path, "--all-cpus")  # the same state folder again: a restart
    try:
        assert healthy
        assert os.sched_getaffinity(process.pid) == affinity.allowed_cpus()
    finally:
        _stop(process)


def test_a_second_up_on_a_state_folder_in_use_says_so_and_exits_2(tmp_path: Path) -> None:
    process, healthy = _serve(tmp_path)
    try:
        assert healthy
        stratus = str(Path(sys.executable).with_name("stratus"))
        second = subprocess.run(
            [stratus, "up", "--port", str(_free_port()), "--state-dir", str(tmp_path / "state")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "held by another process" in second.stdout and "Traceback" not in second.stdout + second.stderr
    finally:
        _stop(process)
