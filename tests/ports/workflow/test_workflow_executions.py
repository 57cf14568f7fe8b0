"""Starting, describing, listing, stopping and redriving STANDARD executions; their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from tests.ports.workflow.harness import Harness

from stratus import App
from stratus.resources.workflow import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
)

MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.prepared", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.skip", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Work",
        },
        "Work": {"Type": "Task", "Resource": "${Work}", "Next": "Shape"},
        "Shape": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def types(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


def simple(fail: dict[str, bool] | None = None) -> tuple[App, Any, list[Any]]:
    app = App("flows")
    calls: list[Any] = []

    @app.function
    def work(event: Any, context: Any) -> Any:
        calls.append(event)
        if fail and fail.get("now"):
            raise RuntimeError("work failed")
        return {**event, "worked": True}

    flow = app.workflow("steps", definition=MACHINE, substitutions={"Work": work})
    return app, flow, calls


def test_start_then_settle_runs_to_success_with_aws_history(harness: Harness) -> None:
    app, flow, calls = simple()
    with harness.bind(app) as env:
        execution = flow.start({"skip": False}, name="first")
        assert execution.arn == "arn:aws:states:us-east-1:000000000000:execution:flows-steps:first"
        assert execution.state_machine_arn == flow.arn
        assert isinstance(execution.start_date, datetime)
        assert calls == []  # runs in the background
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        assert done.output == {"skip": False, "prepared": {"n": 1}, "worked": True}
        assert done.stop_date is not None and done.input == {"skip": False}
        history = flow.history(execution.arn)
        assert types(history) == [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ]
        first, last = history[0], history[-1]
        assert first["id"] == 1 and first["previousEventId"] == 0
        assert first["executionStartedEventDetails"]["input"] == '{"skip":false}'
        assert isinstance(first["timestamp"], datetime)
        scheduled = history[6]["lambdaFunctionScheduledEventDetails"]
        assert scheduled["resource"] == "arn:aws:lambda:us-east-1:000000000000:function:flows-work"
        assert last["executionSucceededEventDetails"]["output"] == ('{"skip":false,"prepared":{"n":1},"worked":true}')
        assert [e["id"] for e in flow.history(execution.arn, reverse=True)] == list(range(15, 0, -1))


def test_start_is_idempotent_by_name_while_running(harness: Harness) -> None:
    app, flow, calls = simple()
    with harness.bind(app) as env:
        first = flow.start({"skip": False}, name="order-1")
        again = flow.start({"skip": False}, name="order-1")
        assert again.arn == first.arn and again.start_date == first.start_date
        with pytest.raises(ExecutionAlreadyExists):
            flow.start({"skip": True}, name="order-1")
        env.settle()
        assert len(calls) == 1
        with pytest.raises(ExecutionAlreadyExists):  # closed: the name stays taken
            flow.start({"skip": False}, name="order-1")
        env.advance(91 * 86400)  # names are reserved for 90 days
        reused = flow.start({"skip": True}, name="order-1")
        assert reused.status == "RUNNING"


def test_executions_lists_newest_first_and_filters_by_status(harness: Harness) -> None:
    app, flow, _ = simple()
    with harness.bind(app) as env:
        a = flow.start({"skip": True}, name="a")
        env.settle()
        env.advance(1)
        b = flow.start({"skip": True}, name="b")
        listed = flow.executions()
        assert [e.name for e in listed] == ["b", "a"]
        assert [e.arn for e in flow.executions(status="RUNNING")] == [b.arn]
        assert [e.arn for e in flow.executions(status="SUCCEEDED")] == [a.arn]


def test_unknown_execution_does_not_exist(harness: Harness) -> None:
    app, flow, _ = simple()
    with harness.bind(app):
        with pytest.raises(ExecutionDoesNotExist):
            flow.describe("arn:aws:states:us-east-1:000000000000:execution:flows-steps:nope")
        with pytest.raises(ExecutionDoesNotExist):
            flow.history("arn:aws:states:us-east-1:000000000000:execution:other-machine:nope")


def test_a_wait_of_a_day_finishes_instantly_with_settle(harness: Harness) -> None:
    app = App("waits")
    flow = app.workflow(
        "slow",
        definition={
            "StartAt": "Sleep",
            "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
    )
    with harness.bind(app) as env:
        start = env.clock.now()
        execution = flow.start({"x": 1})
        env.settle(max_seconds=3600)
        assert flow.describe(execution.arn).status == "RUNNING"
        env.settle(max_seconds=86400)
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED" and done.output == {"x": 1}
        assert done.stop_date is not None and done.stop_date.timestamp() - start == 86400


def test_stop_aborts_a_running_execution(harness: Harness) -> None:
    app = App("stops")
    flow = app.workflow(
        "waiting",
        definition={
            "StartAt": "Sleep",
            "States": {"Sleep": {"Type": "Wait", "Seconds": 600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
    )
    with harness.bind(app) as env:
        execution = flow.start()
        env.settle(max_seconds=10)
        stopped = flow.stop(execution.arn, error="Cancelled", cause="customer asked")
        assert stopped.status == "ABORTED"
        assert (stopped.error, stopped.cause) == ("Cancelled", "customer asked")
        env.settle()
        assert flow.describe(execution.arn).status == "ABORTED"
        last = flow.history(execution.arn)[-1]
        assert last["type"] == "ExecutionAborted"
        assert last["executionAbortedEventDetails"] == {"error": "Cancelled", "cause": "customer asked"}
        assert flow.stop(execution.arn).status == "ABORTED"  # stopping a closed execution changes nothing


def test_redrive_restarts_from_the_state_that_failed(harness: Harness) -> None:
    fail = {"now": True}
    app, flow, calls = simple(fail)
    with harness.bind(app) as env:
        execution = flow.start({"skip": False})
        env.settle()
        failed = flow.describe(execution.arn)
        assert failed.status == "FAILED" and failed.error == "RuntimeError"
        with pytest.raises(ExecutionNotRedrivable):
            flow.redrive(flow.start({"skip": True}).arn)  # running
        fail["now"] = False
        redriven = flow.redrive(execution.arn)
        assert redriven.status == "RUNNING" and redriven.redrive_count == 1
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED" and done.redrive_count == 1
        assert done.output["worked"] is True
        history = types(flow.history(execution.arn))
        assert history.count("ExecutionStarted") == 1
        assert history.count("PassStateEntered") == 2  # Prepare once, Shape once: not re-run
        assert "ExecutionRedriven" in history and history[-1] == "ExecutionSucceeded"
        assert len(calls) == 2
        with pytest.raises(ExecutionNotRedrivable):
            flow.redrive(execution.arn)  # succeeded


def test_redrive_window_is_fourteen_days(harness: Harness) -> None:
    app, flow, _ = simple({"now": True})
    with harness.bind(app) as env:
        execution = flow.start({"skip": False})
        env.settle()
        env.advance(15 * 86400)
        with pytest.raises(ExecutionNotRedrivable):
            flow.redrive(execution.arn)


def test_machine_timeout_ends_timed_out(harness: Harness) -> None:
    app = App("timeouts")
    flow = app.workflow(
        "bounded",
        definition={
            "StartAt": "Sleep",
            "States": {"Sleep": {"Type": "Wait", "Seconds": 600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
        },
        timeout=60,
    )
    with harness.bind(app) as env:
        execution = flow.start()
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "TIMED_OUT" and done.error == "States.Timeout"
        assert done.stop_date is not None and (done.stop_date - done.start_date).total_seconds() == 60
