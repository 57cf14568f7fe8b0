"""A checkout saga from an ASL file: retries on the clock, compensation on failure, real local resources."""

from __future__ import annotations

from typing import Any

from tests.ports.workflow.harness import Harness

from stratus import App


def types(history: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in history]


def checkout_app(declined: set[str], flaky: dict[str, int]) -> tuple[App, Any, Any, dict[str, list[Any]]]:
    app = App("shop")
    orders = app.table("orders", partition_key="id")
    bus = app.event_bus("shop")
    seen: dict[str, list[Any]] = {"reserved": [], "charged": [], "released": [], "events": []}

    @app.function
    def reserve(event: Any, context: Any) -> dict[str, Any]:
        if flaky.get(event["order"], 0) > 0:
            flaky[event["order"]] -= 1
            raise type("Transient", (Exception,), {})("stock service busy")
        seen["reserved"].append(event["order"])
        return {"items": len(event.get("items", []))}

    @app.function
    def charge(event: Any, context: Any) -> dict[str, Any]:
        if event["order"] in declined:
            raise ValueError("card declined")
        seen["charged"].append(event["order"])
        return {"paid": event["amount"]}

    @app.function
    def release(event: Any, context: Any) -> None:
        seen["released"].append(event["order"])

    @app.on_event(bus, pattern={"source": ["shop.checkout"]})
    def paid(event: Any, context: Any) -> None:
        seen["events"].append(event["detail"])

    flow = app.workflow(
        "checkout",
        definition="workflows/checkout.asl.json",
        substitutions={
            "ReserveFunction": reserve,
            "ChargeFunction": charge,
            "ReleaseFunction": release,
            "OrdersTable": orders,
            "EventBus": bus,
        },
    )
    return app, flow, orders, seen


def test_happy_path_runs_every_step_against_local_resources(harness: Harness) -> None:
    app, flow, orders, seen = checkout_app(set(), {})
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-1", "amount": 42, "items": ["a", "b"]}, name="o-1")
        assert execution.status == "RUNNING"
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        assert done.output["reservation"] == {"items": 2}
        assert done.output["payment"] == {"charge": {"paid": 42}}
        item = orders.get({"id": "o-1"})
        assert item is not None and item["status"] == "PAID" and item["amount"] == 42
        assert seen["events"] == [{"order": "o-1"}]
        assert seen["released"] == []


def test_declined_charge_compensates_then_fails(harness: Harness) -> None:
    app, flow, orders, seen = checkout_app({"o-2"}, {})
    with harness.bind(app) as env:
        execution = flow.start({"order": "o-2", "amount": 5})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "FAILED"
        assert (done.error, done.cause) == ("CheckoutFailed", "the payment was declined")
        assert seen["reserved"] == ["o-2"] and seen["released"] == ["o-2"] and seen["charged"] == []
        assert orders.get({"id": "o-2"}) is None
        history = flow.history(execution.arn)
        assert "TaskFailed" in types(history)  # lambda:invoke reports the function's error
        failed = next(e for e in history if e["type"] == "TaskFailed")
        assert failed["taskFailedEventDetails"]["error"] == "ValueError"
        assert types(history)[-1] == "ExecutionFailed"


def test_retries_back_off_on_the_clock(harness: Harness) -> None:
    app, flow, _, seen = checkout_app(set(), {"o-3": 2})
    with harness.bind(app) as env:
        start = env.clock.now()
        execution = flow.start({"order": "o-3", "amount": 1})
        env.settle(max_seconds=5)  # the first retry is due after 10 s: not yet
        assert flow.describe(execution.arn).status == "RUNNING"
        assert seen["reserved"] == []
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED"
        # two failures: retried after 10 s, then 30 s (BackoffRate 3)
        failures = [
            e["timestamp"].timestamp() - start
            for e in flow.history(execution.arn)
            if e["type"] == "LambdaFunctionFailed"
        ]
        scheduled = [
            e["timestamp"].timestamp() - start
            for e in flow.history(execution.arn)
            if e["type"] == "LambdaFunctionScheduled"
        ]
        assert failures == [0, 10]
        assert scheduled[:3] == [0, 10, 40]
