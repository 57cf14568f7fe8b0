"""Under `stratus up` (a started cloud) due executions are stepped concurrently."""

from __future__ import annotations

import threading
from typing import Any

from stratus import App, SystemClock
from stratus.testing import local


def test_waiting_tasks_of_different_executions_overlap(monkeypatch: Any) -> None:
    import stratus.local.workflow.pump as pump

    monkeypatch.setattr(pump, "CONCURRENT", True)  # the pool is off by default (see pump.CONCURRENT)
    app = App("wfpool")
    barrier = threading.Barrier(3, timeout=10)

    @app.function(timeout=30)
    def meet(event: Any, context: Any) -> str:
        barrier.wait()  # only passes if three executions are in their Task at the same time
        return "met"

    flow = app.workflow(
        "meeting",
        definition={"StartAt": "Meet", "States": {"Meet": {"Type": "Task", "Resource": "${Meet}", "End": True}}},
        substitutions={"Meet": meet},
    )
    with local(app, clock=SystemClock()) as env:  # type: ignore[arg-type]
        env.cloud.start()
        executions = [flow.start({"n": i}) for i in range(3)]
        finished = threading.Event()

        def poll() -> None:
            while not all(flow.describe(e.arn).status != "RUNNING" for e in executions):
                finished.wait(0.05)
            finished.set()

        threading.Thread(target=poll, daemon=True).start()
        assert finished.wait(20)
        assert [flow.describe(e.arn).status for e in executions] == ["SUCCEEDED"] * 3
