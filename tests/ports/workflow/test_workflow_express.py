"""EXPRESS workflows: start_sync runs inline; start runs in the background, in memory."""

from __future__ import annotations

from typing import Any

import pytest
from tests.ports.workflow.harness import Harness

from stratus import App
from stratus.resources.workflow import ExecutionNotRedrivable, StateMachineTypeNotSupported


def express_app() -> tuple[App, Any, list[Any]]:
    app = App("fast")
    seen: list[Any] = []

    @app.function
    def score(event: Any, context: Any) -> Any:
        seen.append(event)
        if event.get("bad"):
            raise KeyError("bad input")
        return {"score": len(event["text"])}

    flow = app.workflow(
        "scoring",
        type="EXPRESS",
        definition={
            "StartAt": "Score",
            "States": {
                "Score": {"Type": "Task", "Resource": "${Score}", "ResultPath": "$.result", "Next": "Pause"},
                "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        },
        substitutions={"Score": score},
    )
    return app, flow, seen


def test_start_sync_returns_the_outcome(harness: Harness) -> None:
    app, flow, _ = express_app()
    with harness.bind(app):
        result = flow.start_sync({"text": "hello"}, name="one")
        assert result.status == "SUCCEEDED"
        assert result.output == {"text": "hello", "result": {"score": 5}}
        assert ":express:fast-scoring:one:" in result.arn
        assert (result.stop_date - result.start_date).total_seconds() == 5  # the Wait passed on the clock
        failed = flow.start_sync({"text": "x", "bad": True})
        assert (failed.status, failed.error) == ("FAILED", "KeyError")
        assert failed.output is None and failed.cause is not None


def test_start_runs_in_the_background(harness: Harness) -> None:
    app, flow, seen = express_app()
    with harness.bind(app) as env:
        started = [flow.start({"text": "a" * i}) for i in range(3)]
        assert all(e.status == "RUNNING" for e in started) and seen == []
        env.settle()
        assert len(seen) == 3
        for execution in started:
            assert flow.describe(execution.arn).status == "SUCCEEDED"
        assert len(flow.executions(status="SUCCEEDED")) == 3
        assert [e["type"] for e in flow.history(started[0].arn)][-1] == "ExecutionSucceeded"


def test_express_names_are_not_unique_and_cannot_be_redriven(harness: Harness) -> None:
    app, flow, _ = express_app()
    with harness.bind(app) as env:
        a = flow.start({"text": "x", "bad": True}, name="same")
        b = flow.start({"text": "x"}, name="same")
        assert a.arn != b.arn
        env.settle()
        with pytest.raises(ExecutionNotRedrivable):
            flow.redrive(a.arn)


def test_start_sync_is_only_for_express(harness: Harness) -> None:
    app = App("slow")
    flow = app.workflow("std", definition={"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    with harness.bind(app), pytest.raises(StateMachineTypeNotSupported):
        flow.start_sync({})
