"""The map's edges from declarations and from what handlers' code uses."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import App
from stratus.console.topology import system_map, used_resources
from stratus.console.views import state_graph, state_runs


def _edges(app: App) -> set[tuple[str, str, str]]:
    return {(e["from"], e["to"], e["kind"]) for e in system_map(app)["edges"]}


def test_uses_follow_closures_helpers_and_nested_functions() -> None:
    app = App("topo")
    table = app.table("things", partition_key="id")
    queue = app.queue("jobs")
    bucket = app.bucket("files")

    def helper(key: str) -> None:
        bucket.put(key, b"")  # reached through a helper of the same module

    def make(target: Any) -> Any:
        def handler(event: Any, context: Any) -> None:
            target.send("x")  # a closure
            helper("k")

            def inner() -> None:
                table.get({"id": "1"})  # a nested code object

            inner()

        return handler

    function = app.function(name="work")(make(queue))
    names = {f"{r.kind}:{r.name}" for r in used_resources(function.handler)}
    assert names == {"queue:jobs", "bucket:files", "table:things"}
    assert ("function:work", "table:things", "uses") in _edges(app)


def test_schedules_and_destinations_are_edges() -> None:
    app = App("topo2")
    failures = app.queue("failures")

    @app.on_schedule("rate(5 minutes)")
    @app.function(on_failure=failures)
    def tick(event: Any, context: Any) -> None:
        return None

    edges = _edges(app)
    assert ("schedule:tick-schedule", "function:tick", "target") in edges
    assert ("function:tick", "queue:failures", "on failure") in edges


def test_the_ecommerce_map() -> None:
    try:
        from systems.ecommerce.app import app
    except Exception as exc:  # being written by a colleague
        pytest.skip(f"systems.ecommerce does not import: {exc}")
    edges = _edges(app)
    assert ("queue:order-processing", "function:process_orders", "queue") in edges
    assert ("queue:order-processing", "queue:order-processing-dlq", "dead letters") in edges
    assert ("workflow:checkout", "function:validate_order", "task") in edges
    assert ("function:place_order", "table:order-events", "uses") in edges
    assert any(e[0] == "http_api:shop" and e[1] == "function:place_order" for e in edges)


def test_state_graph_of_choices_catches_and_branches() -> None:
    graph = state_graph(
        {
            "StartAt": "Pick",
            "States": {
                "Pick": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "Both"}],
                    "Default": "Nope",
                },
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nope"}],
                    "End": True,
                },
                "Nope": {"Type": "Fail", "Error": "No"},
            },
        }
    )
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert edges == {
        ("__start", "Pick", "next"),
        ("Pick", "Both", "choice"),
        ("Pick", "Nope", "default"),
        ("Both", "Nope", "catch"),
        ("Both", "__end", "end"),
        ("Nope", "__end", "end"),
    }
    both = next(n for n in graph["nodes"] if n["id"] == "Both")
    assert both["inner"] == ["A", "B"]


def test_state_runs_count_retries_and_errors() -> None:
    history = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "T", "input": "{}"}},
        {"type": "LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails": {}},
        {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "Boom", "cause": "c"}},
        {"type": "LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails": {}},
        {"type": "LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails": {"output": "1"}},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "T", "output": '{"ok": true}'}},
    ]
    (run,) = state_runs(history)
    assert run["status"] == "SUCCEEDED"
    assert run["retries"] == 1
    assert run["errors"] == [{"event": "LambdaFunctionFailed", "error": "Boom", "cause": "c"}]
    assert run["output"] == {"ok": True}
