"""A small system for the console's tests: a route, a table with a stream, a queue with a DLQ,
a topic, a bus rule, a workflow (with a callback task), a user pool and an alarm."""

from __future__ import annotations

import json
from typing import Any

from stratus import App
from stratus.observability import logger, metrics
from stratus.resources.queue import DeadLetter
from stratus.resources.table import GlobalIndex
from stratus.resources.userpool import AppClient

app = App("sample", description="the console's test system")

orders = app.table(
    "orders",
    partition_key="id",
    stream="NEW_AND_OLD_IMAGES",
    indexes=[GlobalIndex("by_note", partition_key="note")],
)
parked = app.queue("work-dlq", visibility_timeout=1)
work = app.queue("work", visibility_timeout=1, dead_letter=DeadLetter(parked, max_receive_count=1))
alerts = app.topic("alerts")
events = app.event_bus("events")
events.archive("everything")
signing_key = app.secret("signing-key", description="never shown by the console")
api = app.http_api("api")
users = app.user_pool("users", clients=[AppClient("web")], auto_confirm=True)


@app.function
def ship(event: Any, context: Any) -> dict[str, Any]:
    """A workflow step."""
    logger.info("shipping", order=event.get("id"))
    return {**event, "shipped": True}


@app.function(environment={"PARTNER_TOKEN": "tok-very-secret"})
def flaky(event: Any, context: Any) -> dict[str, Any]:
    """Fails unless the input says it may pass; reads the signing key."""
    signing_key.get()
    if not event.get("ok"):
        raise ValueError("not ok <b>yet</b>")
    return event


risky = app.workflow(
    "risky",
    definition={"StartAt": "Try", "States": {"Try": {"Type": "Task", "Resource": "${Flaky}", "End": True}}},
    substitutions={"Flaky": flaky},
)

fulfil = app.workflow(
    "fulfil",
    definition={
        "StartAt": "Ship",
        "States": {
            "Ship": {"Type": "Task", "Resource": "${Ship}", "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    },
    substitutions={"Ship": ship},
)
approve = app.workflow(
    "approve",
    definition={
        "StartAt": "Wait for approval",
        "States": {
            "Wait for approval": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "${Ship}", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    },
    substitutions={"Ship": ship},
)


@api.post("/orders", status=201)
def place_order(request: Any, context: Any) -> dict[str, Any]:
    """Place an order: store it, queue its work, announce it, start its fulfilment."""
    order = request.json()
    orders.put({"id": order["id"], **({"note": order["note"]} if order.get("note") else {})})
    work.send(json.dumps(order))
    events.put(source="sample.orders", detail_type="OrderPlaced", detail={"id": order["id"]})
    fulfil.start({"id": order["id"]}, name=f"order-{order['id']}")
    logger.info("order placed", order=order["id"])
    metrics.put("OrdersPlaced", 1, unit="Count", namespace="Sample")
    return {"id": order["id"]}


@api.get("/orders/{id}")
def get_order(request: Any, context: Any) -> Any:
    return orders.get({"id": request.path_params["id"]}) or {"missing": True}


@app.on_queue(work, batch_size=1)
def worker(event: Any, context: Any) -> None:
    for record in event.records:
        if "fail" in record.body:
            raise RuntimeError("cannot do this work")
        logger.info("worked", body=record.body)


@app.on_event(events, pattern={"source": ["sample.orders"], "detail-type": ["OrderPlaced"]})
def on_placed(event: Any, context: Any) -> None:
    alerts.publish({"placed": event.detail["id"]})


@app.on_topic(alerts)
def on_alert(event: Any, context: Any) -> None:
    logger.info("alert received")


errors = app.alarm("worker-errors", function=worker, metric="Errors", threshold=1, comparison=">=")
