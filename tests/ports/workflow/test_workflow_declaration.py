"""Declaring workflows: definitions from files, dicts or text; substitutions; errors at import time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.ports.workflow.harness import Harness

from stratus import App, ValidationError
from stratus.local.targets import deliver
from stratus.workflows import InvalidDefinition

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def test_a_bad_definition_fails_at_declaration_listing_every_problem() -> None:
    app = App("decl")
    with pytest.raises(InvalidDefinition) as info:
        app.workflow(
            "broken",
            definition={"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Nope"}}},
        )
    problems = "\n".join(info.value.problems)
    assert "Missing 'Next' target: Nowhere" in problems and "unknown or missing state 'Type'" in problems
    assert info.value.code == "InvalidDefinition"
    assert list(app.resources) == []  # nothing half-declared


def test_definition_text_and_missing_files() -> None:
    app = App("decl")
    flow = app.workflow("text", definition=json.dumps(PASS))
    assert flow.machine.start_at == "A"
    with pytest.raises(InvalidDefinition, match="not valid JSON"):
        app.workflow("garbled", definition="{nope")
    with pytest.raises(ValidationError, match="cannot read definition"):
        app.workflow("missing", definition="workflows/missing.asl.json")


def test_definition_path_is_relative_to_the_declaring_module() -> None:
    app = App("decl")
    path = str(Path(__file__).parent / "workflows" / "checkout.asl.json")
    with pytest.raises(InvalidDefinition) as info:  # the file is found; its placeholders need values
        app.workflow("checkout", definition="workflows/checkout.asl.json", substitutions={})
    assert path in str(info.value) and "'${ReserveFunction}' is not a valid resource ARN" in str(info.value)

    @app.function
    def fn(event: Any, context: Any) -> None:
        return None

    names = ["ReserveFunction", "ChargeFunction", "ReleaseFunction", "OrdersTable", "EventBus"]
    flow = app.workflow("checkout", definition="workflows/checkout.asl.json", substitutions=dict.fromkeys(names, fn))
    assert flow.definition_file == path


def test_express_rejects_waiting_integration_patterns() -> None:
    app = App("decl")
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True}},
    }
    with pytest.raises(InvalidDefinition, match="Express state machines do not support"):
        app.workflow("fast", definition=definition, type="EXPRESS")


def test_bad_settings() -> None:
    app = App("decl")
    with pytest.raises(ValidationError, match="type"):
        app.workflow("a", definition=PASS, type="FAST")
    with pytest.raises(ValidationError, match="timeout"):
        app.workflow("b", definition=PASS, timeout=0)
    with pytest.raises(ValidationError, match="substitution"):
        app.workflow("c", definition=PASS, substitutions={"X": object()})


def test_substitutions_put_what_cloudformation_would(harness: Harness) -> None:
    app = App("subs")
    table = app.table("orders", partition_key="id")
    queue = app.queue("jobs")
    topic = app.topic("alerts")
    bus = app.event_bus("events")

    @app.function
    def fn(event: Any, context: Any) -> None:
        return None

    child = app.workflow("child", definition=PASS)
    flow = app.workflow(
        "subs",
        definition={
            "StartAt": "A",
            "States": {
                "A": {
                    "Type": "Pass",
                    "Result": {
                        "f": "${F}",
                        "t": "${T}",
                        "q": "${Q}",
                        "s": "${S}",
                        "b": "${B}",
                        "w": "${W}",
                        "n": "${N}",
                        "unknown": "${Unknown}",
                    },
                    "End": True,
                }
            },
        },
        substitutions={"F": fn, "T": table, "Q": queue, "S": topic, "B": bus, "W": child, "N": 3},
    )
    with harness.bind(app) as env:
        execution = flow.start()
        env.settle()
        assert flow.describe(execution.arn).output == {
            "f": "arn:aws:lambda:us-east-1:000000000000:function:subs-fn",
            "t": "subs-orders",
            "q": "https://sqs.us-east-1.amazonaws.com/000000000000/subs-jobs",
            "s": "arn:aws:sns:us-east-1:000000000000:subs-alerts",
            "b": "subs-events",
            "w": "arn:aws:states:us-east-1:000000000000:stateMachine:subs-child",
            "n": "3",
            "unknown": "${Unknown}",
        }


def test_deliver_starts_an_execution_and_bus_rules_can_target_workflows(harness: Harness) -> None:
    app = App("targets")
    bus = app.event_bus("orders")
    flow = app.workflow("on-order", definition=PASS)
    bus.rule("start-flow", pattern={"source": ["shop"]}, targets=[flow])
    with harness.bind(app) as env:
        deliver(flow, {"direct": True})
        bus.put(source="shop", detail_type="OrderPlaced", detail={"id": 1})
        env.settle()
        inputs = sorted(json.dumps(e.input, sort_keys=True) for e in flow.executions(status="SUCCEEDED"))
        assert len(inputs) == 2
        assert '{"direct": true}' in inputs
        assert any('"detail": {"id": 1}' in text for text in inputs)


def test_execution_names_and_inputs_are_validated(harness: Harness) -> None:
    app = App("names")
    flow = app.workflow("f", definition=PASS)
    with harness.bind(app):
        with pytest.raises(ValidationError, match="Invalid Name"):
            flow.start({}, name="has space")
        with pytest.raises(ValidationError, match="Invalid Name"):
            flow.start({}, name="a:b")
        assert flow.start({}, name="order.1-é").name == "order.1-é"
        with pytest.raises(ValidationError, match="maximum size"):
            flow.start({"big": "x" * 300_000})
        with pytest.raises(ValidationError, match="Invalid Arn"):
            flow.describe("nope")
