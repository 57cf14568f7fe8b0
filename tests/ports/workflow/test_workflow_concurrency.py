"""Map iterations and Parallel branches overlap while some wait, as on AWS, up to MaxConcurrency."""

from __future__ import annotations

from typing import Any

from tests.ports.workflow.harness import Harness

from stratus import App


def map_of_callbacks(max_concurrency: int) -> tuple[App, Any, Any]:
    app = App("fanout")
    asks = app.queue("asks")
    flow = app.workflow(
        "approve-all",
        definition={
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.orders",
                    "MaxConcurrency": max_concurrency,
                    "ItemProcessor": {
                        "StartAt": "Ask",
                        "States": {
                            "Ask": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                "Parameters": {"QueueUrl": "${Asks}", "MessageBody.$": "$$.Task.Token"},
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            },
        },
        substitutions={"Asks": asks},
    )
    return app, flow, asks


def test_every_iteration_waits_for_its_callback_at_once(harness: Harness) -> None:
    app, flow, asks = map_of_callbacks(0)
    with harness.bind(app) as env:
        execution = flow.start({"orders": ["a", "b", "c"]})
        env.settle()
        tokens = [m.body for m in asks.receive(max_messages=10)]
        assert len(tokens) == 3  # all three asked, none answered yet
        for i, token in enumerate(reversed(tokens)):
            flow.send_task_success(token, {"answer": i})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        assert sorted(r["answer"] for r in done.output) == [0, 1, 2]


def test_max_concurrency_limits_how_many_wait_at_once(harness: Harness) -> None:
    app, flow, asks = map_of_callbacks(2)
    with harness.bind(app) as env:
        execution = flow.start({"orders": ["a", "b", "c"]})
        env.settle()
        first = [m.body for m in asks.receive(max_messages=10)]
        assert len(first) == 2
        flow.send_task_success(first[0], {"answer": "a"})
        env.settle()
        (third,) = [m.body for m in asks.receive(max_messages=10)]
        flow.send_task_success(first[1], {"answer": "b"})
        flow.send_task_success(third, {"answer": "c"})
        env.settle()
        assert flow.describe(execution.arn).output == [{"answer": "a"}, {"answer": "b"}, {"answer": "c"}]


def test_waiting_iterations_overlap_on_the_clock(harness: Harness) -> None:
    app = App("naps")
    flow = app.workflow(
        "naps",
        definition={
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Nap",
                        "States": {"Nap": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
                    },
                    "End": True,
                }
            },
        },
    )
    with harness.bind(app) as env:
        execution = flow.start([{"s": 10}, {"s": 5}, {"s": 7}])
        env.settle()
        done = flow.describe(execution.arn)
        assert done.output == [{"s": 10}, {"s": 5}, {"s": 7}]  # results stay in item order
        assert done.stop_date is not None and (done.stop_date - done.start_date).total_seconds() == 10
