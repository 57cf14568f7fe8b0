"""A small system for the AWS tests: a table, a queue, a topic, a bus, and functions wired to them."""

from __future__ import annotations

import json
from typing import Any

from stratus import App
from stratus.resources.queue import DeadLetter

app = App("awssample")
orders = app.table("orders", partition_key="id", stream="NEW_AND_OLD_IMAGES", ttl_attribute="expires")
audit = app.table("audit", partition_key=("day", "S"), sort_key=("at", "N"))
failed = app.queue("failed", retention=1209600)
inbox = app.queue("inbox", visibility_timeout=60, dead_letter=DeadLetter(failed, 5))
alerts = app.topic("alerts")
bus = app.event_bus("events")

#: What the handlers saw, for the tests (in-process only).
SEEN: list[Any] = []


def _record(kind: str, value: Any) -> None:
    SEEN.append((kind, value))


@app.on_queue(inbox, batch_size=5, report_failures=True)
def process(event: Any, context: Any) -> dict[str, Any]:
    """Save each order; report the bodies that are not JSON objects as failures."""
    failures = []
    for record in event.records:
        _record("sqs", record.body)
        if record.body.startswith("{"):
            orders.put(json.loads(record.body))
        else:
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


@app.function(timeout=10)
def save(event: Any, context: Any) -> None:
    orders.put({"id": event["id"]})
    alerts.publish("saved")


@app.on_event(bus, pattern={"source": ["shop"], "detail-type": ["OrderPlaced"]})
def placed(event: Any, context: Any) -> str:
    _record("eventbridge", event.detail_type)
    return audit_day(event.detail["day"])


def audit_day(day: str) -> str:
    return str(audit.query("#d = :d", names={"#d": "day"}, values={":d": day}))


alerts.subscribe(failed, filter_policy={"kind": ["order"]}, raw=True)


web = app.http_api("web")
live = app.websocket_api("live")


@web.get("/hello/{name}")
def hello(request: Any, context: Any) -> dict[str, Any]:
    return {"hello": request.path_params["name"], "method": request.method}


@live.route("$connect")
def connect(event: Any, context: Any) -> None:
    _record("websocket", event["requestContext"]["connectionId"])


notify = app.workflow("notify", definition="workflows/notify.asl.json", substitutions={"SaveFunction": save})
