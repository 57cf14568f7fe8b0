"""kill -9 in the middle of delivery: after a restart every acknowledged message is delivered (at least once)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from stratus import VirtualClock
from stratus.testing import local

CHILD = """
import sys, time
sys.path.insert(0, {here!r})
from dispatch_crash_app import app, orders
from stratus.local.cloud import LocalCloud
cloud = LocalCloud({state!r})
cloud.bind(app)
for i in range(40):
    orders.send(f"order-{{i}}")
print("sent", flush=True)
cloud.start()
time.sleep(30)  # the handler kills the process long before this
"""


def test_sigkill_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "delivered.txt"
    state = tmp_path / "state"
    here = str(Path(__file__).resolve().parent)
    env = {**os.environ, "CRASH_OUT": str(out), "CRASH_KILL_AFTER": "3"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(here=here, state=str(state))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -9, child.stderr  # it really was killed
    assert "sent" in child.stdout
    before = out.read_text().split()
    assert 0 < len(before) < 40  # it died part-way

    os.environ["CRASH_OUT"] = str(out)
    os.environ.pop("CRASH_KILL_AFTER", None)
    sys.path.insert(0, here)
    import dispatch_crash_app as crash_app

    crash_app.KILL_AFTER = 0
    crash_app.OUT = out
    with local(crash_app.app, state_dir=state, clock=VirtualClock(time.time())) as resumed:
        resumed.settle(max_seconds=120)  # in-flight messages reappear after their visibility timeout
    delivered = out.read_text().split()
    assert set(delivered) == {f"order-{i}" for i in range(40)}
