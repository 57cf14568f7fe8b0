"""Task invokers (stratus.workflows.tasks)."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.clock import VirtualClock
from stratus.workflows import LambdaFunctions, Resources, TaskContext, TaskFailed, run
from stratus.workflows.errors import StatesError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def context(clock: VirtualClock, deadline: float | None = None) -> TaskContext:
    return TaskContext("S", "arn:exec", {}, clock, deadline=deadline)


def test_function_arns_resolve_by_name_with_or_without_qualifier(clock: VirtualClock) -> None:
    lambdas = LambdaFunctions({"f": lambda event, ctx: {"got": event, "name": ctx.function_name}})
    assert lambdas.invoke(ARN + "f", 1, context(clock)) == {"got": 1, "name": "f"}
    assert lambdas.invoke(ARN + "f:prod", 2, context(clock))["got"] == 2


def test_handler_sees_remaining_time(clock: VirtualClock) -> None:
    seen: list[int] = []
    lambdas = LambdaFunctions({"f": lambda event, ctx: seen.append(ctx.get_remaining_time_in_millis())})
    lambdas.invoke(ARN + "f", {}, context(clock, deadline=clock.now() + 2.5))
    assert seen == [2500]


def test_bytes_results_are_json_text_and_unserializable_results_fail(clock: VirtualClock) -> None:
    lambdas = LambdaFunctions({"b": lambda e, c: b'{"a": 1}', "bad": lambda e, c: {1, 2}})
    assert lambdas.invoke(ARN + "b", None, context(clock)) == {"a": 1}
    with pytest.raises(TaskFailed) as info:
        lambdas.invoke(ARN + "bad", None, context(clock))
    assert info.value.error == "Runtime.MarshalError"


def test_resources_route_by_prefix_as_an_extension_point(clock: VirtualClock) -> None:
    class Queue:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
            self.sent.append(payload)
            return {"MessageId": "m-1"}

    queue = Queue()
    resources = Resources()
    resources.register("arn:aws:states:::sqs:sendMessage", queue)
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"MessageBody.$": "$.body"},
                "ResultSelector": {"id.$": "$.MessageId"},
                "End": True,
            }
        },
    }
    result = run(definition, {"body": "hello"}, clock=clock, tasks=resources)
    assert (result.output, queue.sent) == ({"id": "m-1"}, [{"MessageBody": "hello"}])
    assert [e["type"] for e in result.history][2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]


def test_an_unroutable_resource_is_a_runtime_error(clock: VirtualClock) -> None:
    with pytest.raises(StatesError) as info:
        Resources().invoke("arn:aws:states:::sns:publish", {}, context(clock))
    assert info.value.error == "States.Runtime"
