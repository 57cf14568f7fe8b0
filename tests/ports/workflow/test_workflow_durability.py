"""STANDARD executions survive a restart and kill -9: they resume where they were committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.ports.workflow.harness import Harness

from stratus import App

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from crash_app import build  # noqa: E402


def test_restart_mid_execution_resumes_without_rerunning_finished_tasks(harness: Harness) -> None:
    app = App("durable")
    calls: Counter[str] = Counter()

    @app.function
    def first(event: Any, context: Any) -> str:
        calls["first"] += 1
        return "one"

    @app.function
    def second(event: Any, context: Any) -> str:
        calls["second"] += 1
        return "two"

    flow = app.workflow(
        "long",
        definition={
            "StartAt": "First",
            "States": {
                "First": {"Type": "Task", "Resource": "${First}", "ResultPath": "$.first", "Next": "Sleep"},
                "Sleep": {"Type": "Wait", "Seconds": 3600, "Next": "Second"},
                "Second": {"Type": "Task", "Resource": "${Second}", "ResultPath": "$.second", "End": True},
            },
        },
        substitutions={"First": first, "Second": second},
    )
    with harness.bind(app) as env:
        execution = flow.start({"id": 1}, name="resume-me")
        env.settle(max_seconds=60)
        assert calls == {"first": 1}
        env.restart()
        assert flow.describe(execution.arn).status == "RUNNING"
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        assert done.output == {"id": 1, "first": "one", "second": "two"}
        assert calls == {"first": 1, "second": 1}
        history = [e["type"] for e in flow.history(execution.arn)]
        assert history.count("ExecutionStarted") == 1 and history.count("WaitStateEntered") == 1
        assert [e["id"] for e in flow.history(execution.arn)] == list(range(1, len(history) + 1))


def test_a_callback_waits_across_a_restart(harness: Harness) -> None:
    app = App("durable")
    jobs = app.queue("jobs")
    flow = app.workflow(
        "callback",
        definition={
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": "${Jobs}", "MessageBody.$": "$$.Task.Token"},
                    "End": True,
                }
            },
        },
        substitutions={"Jobs": jobs},
    )
    with harness.bind(app) as env:
        execution = flow.start()
        env.settle()
        (message,) = jobs.receive(max_messages=1)
        env.restart()
        flow.send_task_success(message.body, {"answer": 42})
        env.settle()
        assert flow.describe(execution.arn).output == {"answer": 42}


def test_kill_9_mid_task_then_a_new_process_finishes_every_execution(harness: Harness, tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "runs.log"
    env_vars = {**os.environ, "STRATUS_CRASH_AT": "2", "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.run(
        [sys.executable, str(HERE / "crash_app.py"), str(state), str(log)],
        env=env_vars,
        capture_output=True,
        timeout=60,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    before = Counter(log.read_text().split("\n")[:-1])
    assert before["B 2"] == 1 and before["C 2"] == 0  # killed inside B of order 2

    app, flow = build(log)
    with harness.bind(app, state_dir=state) as env:
        env.settle()
        executions = flow.executions()
        assert sorted(e.name for e in executions) == [f"order-{i}" for i in range(5)]
        assert {e.status for e in executions} == {"SUCCEEDED"}
        assert flow.describe(f"{flow.arn.replace('stateMachine', 'execution')}:order-2").output == {
            "order": 2,
            "a": "a",
            "b": "b",
            "c": "c",
        }
    runs = Counter(log.read_text().split("\n")[:-1])
    for order in range(5):
        assert runs[f"A {order}"] == 1  # committed before the crash: never run again
        assert runs[f"C {order}"] == 1
        assert runs[f"B {order}"] == (2 if order == 2 else 1)  # the interrupted one: at least once


def test_a_map_and_a_parallel_resume_after_restarts(harness: Harness) -> None:
    app = App("durable")
    calls: Counter[str] = Counter()

    @app.function
    def handle(event: Any, context: Any) -> Any:
        calls[str(event)] += 1
        return {"done": event}

    iteration = {
        "StartAt": "Handle",
        "States": {
            "Handle": {"Type": "Task", "Resource": "${Handle}", "Next": "Cool"},
            "Cool": {"Type": "Wait", "Seconds": 60, "End": True},
        },
    }
    flow = app.workflow(
        "fanout",
        definition={
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": iteration,
                    "ResultPath": "$.each",
                    "Next": "Both",
                },
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        iteration,
                        {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "q", "End": True}}},
                    ],
                    "ResultPath": "$.both",
                    "End": True,
                },
            },
        },
        substitutions={"Handle": handle},
    )
    with harness.bind(app) as env:
        execution = flow.start({"items": [1, 2, 3]})
        for _ in range(5):  # restart in the middle of every wait
            env.settle(max_seconds=30)
            env.restart()
            env.advance(30)
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED", done.cause
        assert done.output["each"] == [{"done": 1}, {"done": 2}, {"done": 3}]
        assert done.output["both"][0] == {"done": {"items": [1, 2, 3], "each": done.output["each"]}}
        assert done.output["both"][1] == "q"
        assert calls == {"1": 1, "2": 1, "3": 1, str({"items": [1, 2, 3], "each": done.output["each"]}): 1}
