"""An app for the kill -9 test: three Tasks per execution, each logging its run to a file.

With ``STRATUS_CRASH_AT=<order>`` in the environment, Task B of that order kills its own
process (SIGKILL) in the middle of its run: the test then resumes in a new process.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from stratus import App

DEFINITION = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Task", "Resource": "${A}", "ResultPath": "$.a", "Next": "Between"},
        "Between": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Task", "Resource": "${B}", "ResultPath": "$.b", "Next": "C"},
        "C": {"Type": "Task", "Resource": "${C}", "ResultPath": "$.c", "End": True},
    },
}


def build(log: Path) -> tuple[App, Any]:
    app = App("crashy")

    def record(step: str, event: Any) -> None:
        with log.open("a") as out:
            out.write(f"{step} {event['order']}\n")
            out.flush()

    @app.function
    def a(event: Any, context: Any) -> str:
        record("A", event)
        return "a"

    @app.function
    def b(event: Any, context: Any) -> str:
        record("B", event)
        if os.environ.get("STRATUS_CRASH_AT") == str(event["order"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return "b"

    @app.function
    def c(event: Any, context: Any) -> str:
        record("C", event)
        return "c"

    flow = app.workflow("steps", definition=DEFINITION, substitutions={"A": a, "B": b, "C": c})
    return app, flow


if __name__ == "__main__":
    import sys

    from stratus.testing import local

    state, log_file = Path(sys.argv[1]), Path(sys.argv[2])
    crash_app, crash_flow = build(log_file)
    with local(crash_app, state_dir=state) as env:
        for order in range(5):
            crash_flow.start({"order": order}, name=f"order-{order}")
        env.settle()
