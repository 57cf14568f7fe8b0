"""Callback tasks (.waitForTaskToken): tokens, send_task_success/failure/heartbeat, timeouts, the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.ports.workflow.harness import Harness
from typer.testing import CliRunner

from stratus import App
from stratus.cli import app as cli
from stratus.resources.workflow import InvalidToken, TaskDoesNotExist, TaskTimedOut


def approval_app(timeout: int | None = None, heartbeat: int | None = None) -> tuple[App, Any, Any, list[Any]]:
    """An order waits for an approver: the Task sends its token to a queue and waits."""
    app = App("approvals")
    requests = app.queue("requests")
    tokens: list[Any] = []

    @app.function
    def approve(event: Any, context: Any) -> None:
        approvals.send_task_success(event["token"], {"approved": True, "by": "fn"})

    @app.function
    def remember(event: Any, context: Any) -> dict[str, Any]:
        tokens.append(event["token"])
        return {"queued": True}

    wait: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "${Requests}", "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
        "ResultPath": "$.approval",
        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
        "Next": "Approved",
    }
    if timeout is not None:
        wait["TimeoutSeconds"] = timeout
    if heartbeat is not None:
        wait["HeartbeatSeconds"] = heartbeat
    approvals = app.workflow(
        "approvals",
        definition={
            "StartAt": "WaitForApproval",
            "States": {
                "WaitForApproval": wait,
                "Approved": {"Type": "Succeed"},
                "Rejected": {"Type": "Fail", "Error": "OrderRejected"},
            },
        },
        substitutions={"Requests": requests},
    )
    return app, approvals, requests, tokens


def token_from(queue: Any) -> str:
    (message,) = queue.receive(max_messages=1)
    token: str = json.loads(message.body)["token"]
    return token


def test_waits_for_the_token_then_continues_with_its_output(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-1"})
        env.settle(max_seconds=7 * 86400)
        assert flow.describe(execution.arn).status == "RUNNING"  # waits as long as it takes
        token = token_from(requests)
        flow.send_task_success(token, {"approved": True})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        assert done.output == {"order": "o-1", "approval": {"approved": True}}
        kinds = [e["type"] for e in flow.history(execution.arn)]
        assert kinds[kinds.index("TaskScheduled") :] == [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ]
        with pytest.raises(TaskTimedOut):  # answered already
            flow.send_task_success(token, {})


def test_a_function_can_send_the_token_back(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    approve = app.resource("function", "approve")
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-2"})
        env.settle()
        approve.invoke({"token": token_from(requests)})  # type: ignore[attr-defined]
        env.settle()
        assert flow.describe(execution.arn).output["approval"] == {"approved": True, "by": "fn"}


def test_failure_is_caught_like_any_task_error(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-3"})
        env.settle()
        flow.send_task_failure(token_from(requests), error="Rejected", cause="over budget")
        env.settle()
        done = flow.describe(execution.arn)
        assert (done.status, done.error) == ("FAILED", "OrderRejected")
        failed = next(e for e in flow.history(execution.arn) if e["type"] == "TaskFailed")
        assert failed["taskFailedEventDetails"] == {
            "resourceType": "sqs",
            "resource": "sendMessage.waitForTaskToken",
            "error": "Rejected",
            "cause": "over budget",
        }
        scheduled = next(e for e in flow.history(execution.arn) if e["type"] == "TaskScheduled")
        details = scheduled["taskScheduledEventDetails"]
        assert (details["resourceType"], details["resource"], details["region"]) == (
            "sqs",
            "sendMessage.waitForTaskToken",
            "us-east-1",
        )
        assert json.loads(details["parameters"])["MessageBody"]["order"] == "o-3"


def test_timeout_seconds_fails_the_task_on_the_clock(harness: Harness) -> None:
    app, flow, requests, _ = approval_app(timeout=3600)
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-4"})
        env.settle(max_seconds=3599)
        assert flow.describe(execution.arn).status == "RUNNING"
        token = token_from(requests)
        env.settle()
        done = flow.describe(execution.arn)
        assert (done.status, done.error) == ("FAILED", "States.Timeout")
        with pytest.raises(TaskTimedOut):
            flow.send_task_success(token, {})


def test_heartbeats_keep_the_task_alive_until_they_stop(harness: Harness) -> None:
    app, flow, requests, _ = approval_app(timeout=3600, heartbeat=60)
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-5"})
        env.settle(max_seconds=1)
        token = token_from(requests)
        for _ in range(5):
            env.settle(max_seconds=50)
            env.advance(50)
            flow.send_task_heartbeat(token)
        env.settle(max_seconds=59)
        assert flow.describe(execution.arn).status == "RUNNING"  # 250 s in: heartbeats kept it alive
        env.settle()
        done = flow.describe(execution.arn)
        assert (done.status, done.error) == ("FAILED", "States.HeartbeatTimeout")
        timed_out = next(e for e in flow.history(execution.arn) if e["type"] == "TaskTimedOut")
        assert timed_out["taskTimedOutEventDetails"]["error"] == "States.HeartbeatTimeout"
        scheduled = next(e for e in flow.history(execution.arn) if e["type"] == "TaskScheduled")
        assert scheduled["taskScheduledEventDetails"]["heartbeatInSeconds"] == 60


def test_bad_tokens_are_refused(harness: Harness) -> None:
    app, flow, _, _ = approval_app()
    with harness.bind(app):
        with pytest.raises(InvalidToken):
            flow.send_task_success("not-a-token", {})
        from stratus.local.workflow.tokens import new_token

        stranger = new_token("arn:aws:states:us-east-1:000000000000:execution:approvals-approvals:gone")
        with pytest.raises(TaskDoesNotExist):
            flow.send_task_success(stranger, {})


def test_any_workflow_handle_routes_any_token(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    other = app.workflow("other", definition={"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-6"})
        env.settle()
        other.send_task_success(token_from(requests), {"via": "other"})
        env.settle()
        assert flow.describe(execution.arn).output["approval"] == {"via": "other"}


def test_the_cli_sends_success_to_a_running_cloud_and_reads_history(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    runner = CliRunner()
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-7"}, name="o-7")
        env.settle()
        token = token_from(requests)
        state = str(env.state_dir)
        listed = runner.invoke(cli, ["workflow", "executions", "--state-dir", state, "--status", "RUNNING"])
        assert listed.exit_code == 0 and execution.arn in listed.output
        sent = runner.invoke(
            cli, ["workflow", "send-task-success", token, "--output", '{"approved": "cli"}', "--state-dir", state]
        )
        assert sent.exit_code == 0, sent.output
        env.settle()
        assert flow.describe(execution.arn).output["approval"] == {"approved": "cli"}
        again = runner.invoke(cli, ["workflow", "send-task-success", token, "--state-dir", state])
        assert again.exit_code == 1 and "TaskTimedOut" in again.output
        bad = runner.invoke(cli, ["workflow", "send-task-heartbeat", "garbage", "--state-dir", state])
        assert bad.exit_code == 1 and "InvalidToken" in bad.output
        history = runner.invoke(cli, ["workflow", "history", execution.arn, "--state-dir", state])
        assert history.exit_code == 0
        assert history.output.strip().splitlines()[-1].count('"ExecutionSucceeded"') == 1


def test_the_cli_sends_failure(harness: Harness) -> None:
    app, flow, requests, _ = approval_app()
    runner = CliRunner()
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-8"})
        env.settle()
        result = runner.invoke(
            cli,
            [
                "workflow",
                "send-task-failure",
                token_from(requests),
                "--error",
                "Rejected",
                "--state-dir",
                str(env.state_dir),
            ],
        )
        assert result.exit_code == 0, result.output
        env.settle()
        assert flow.describe(execution.arn).error == "OrderRejected"


def test_a_function_invoked_with_the_token_can_answer_before_the_task_starts_waiting(harness: Harness) -> None:
    app = App("inline")

    @app.function
    def approve_now(event: Any, context: Any) -> str:
        flow.send_task_success(event["token"], {"approved": event["amount"] < 100})
        return "submitted"

    flow = app.workflow(
        "inline",
        definition={
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {
                        "FunctionName": "${Approver}",
                        "Payload": {"token.$": "$$.Task.Token", "amount.$": "$.amount"},
                    },
                    "End": True,
                }
            },
        },
        substitutions={"Approver": approve_now},
    )
    with harness.bind(app) as env:
        execution = flow.start({"amount": 5})
        env.settle()
        done = flow.describe(execution.arn)
        assert (done.status, done.output) == ("SUCCEEDED", {"approved": True})
        submitted = next(e for e in flow.history(execution.arn) if e["type"] == "TaskSubmitted")
        assert json.loads(submitted["taskSubmittedEventDetails"]["output"])["Payload"] == "submitted"


def test_output_too_large_is_invalid_output(harness: Harness) -> None:
    from stratus.resources.workflow import InvalidOutput

    app, flow, requests, _ = approval_app()
    with harness.bind(app) as env:
        execution = flow.start({"order": "big"})
        env.settle()
        token = token_from(requests)
        with pytest.raises(InvalidOutput):
            flow.send_task_success(token, {"blob": "x" * 300_000})
        flow.send_task_success(token, {"ok": True})  # the task is still waiting
        env.settle()
        assert flow.describe(execution.arn).status == "SUCCEEDED"
