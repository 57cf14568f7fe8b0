"""An app used by the crash test, in both the process that is killed and the one that resumes."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from stratus import App

OUT = Path(os.environ.get("CRASH_OUT", "/tmp/crash-out.txt"))
KILL_AFTER = int(os.environ.get("CRASH_KILL_AFTER", "0"))

app = App("crash")
orders = app.queue("orders", visibility_timeout=30)
_seen = [0]


@app.on_queue(orders, batch_size=5)
def record(event: Any, context: Any) -> None:
    with OUT.open("a") as f:
        for r in event["Records"]:
            f.write(r["body"] + "\n")
    _seen[0] += 1
    if KILL_AFTER and _seen[0] >= KILL_AFTER:
        os.kill(os.getpid(), signal.SIGKILL)  # die mid-stream: this batch is handled but not deleted
