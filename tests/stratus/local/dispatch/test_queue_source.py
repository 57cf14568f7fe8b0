"""Queue → function delivery: batches, partial failures, redrive, filters, FIFO order, restarts."""

from __future__ import annotations

import json
from typing import Any

from stratus import App
from stratus.resources.queue import DeadLetter
from stratus.testing import local


def test_messages_are_delivered_in_batches_and_deleted() -> None:
    app = App("dispatch")
    orders = app.queue("orders")
    batches: list[list[str]] = []

    @app.on_queue(orders, batch_size=5)
    def process(event: Any, context: Any) -> None:
        batches.append([r.body for r in event.records])

    with local(app) as env:
        for i in range(12):
            orders.send(f"m{i}")
        env.settle()
        assert sorted(body for batch in batches for body in batch) == sorted(f"m{i}" for i in range(12))
        assert max(len(b) for b in batches) == 5
        assert orders.attributes()["ApproximateNumberOfMessages"] == 0
        assert orders.attributes()["ApproximateNumberOfMessagesNotVisible"] == 0


def test_record_shape_is_sqs_event_source_mapping() -> None:
    app = App("dispatch")
    jobs = app.queue("jobs")
    records: list[dict[str, Any]] = []

    @app.on_queue(jobs)
    def handle(event: Any, context: Any) -> None:
        records.extend(event["Records"])

    with local(app) as env:
        jobs.send('{"job": 1}', attributes={"kind": "resize", "size": 3})
        env.settle()
        record = records[0]
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:000000000000:dispatch-jobs"
        assert json.loads(record["body"]) == {"job": 1}
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["messageAttributes"]["kind"] == {
            "stringValue": "resize",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
        assert record["messageAttributes"]["size"]["dataType"] == "Number"


def test_partial_batch_failures_are_retried_then_dead_lettered() -> None:
    app = App("dispatch")
    dlq = app.queue("orders-dlq")
    orders = app.queue("orders", visibility_timeout=30, dead_letter=DeadLetter(dlq, max_receive_count=2))
    attempts: dict[str, int] = {}

    @app.on_queue(orders, batch_size=10, report_failures=True)
    def process(event: Any, context: Any) -> dict[str, Any]:
        failures = []
        for record in event.records:
            attempts[record.body] = attempts.get(record.body, 0) + 1
            if record.body == "bad":
                failures.append({"itemIdentifier": record.message_id})
        return {"batchItemFailures": failures}

    with local(app) as env:
        orders.send("good")
        orders.send("bad")
        env.settle(max_seconds=300)
        assert attempts == {"good": 1, "bad": 2}
        moved = dlq.receive(10)
        assert [m.body for m in moved] == ["bad"]


def test_a_failed_invocation_keeps_the_whole_batch() -> None:
    app = App("dispatch")
    work = app.queue("work", visibility_timeout=60)
    calls: list[float] = []

    @app.on_queue(work)
    def flaky(event: Any, context: Any) -> None:
        calls.append(env.clock.now())
        if len(calls) == 1:
            raise RuntimeError("transient")

    with local(app) as env:
        start = env.clock.now()
        work.send("x")
        env.settle(max_seconds=600)
        assert [round(t - start) for t in calls] == [0, 60]  # redelivered after the visibility timeout
        assert work.attributes()["ApproximateNumberOfMessages"] == 0


def test_event_filters_drop_non_matching_messages() -> None:
    app = App("dispatch")
    events = app.queue("events")
    seen: list[str] = []

    @app.on_queue(events, filters=[{"body": {"type": ["order"]}}])
    def orders_only(event: Any, context: Any) -> None:
        seen.extend(json.loads(r.body)["id"] for r in event.records)

    with local(app) as env:
        events.send(json.dumps({"type": "order", "id": "o1"}))
        events.send(json.dumps({"type": "refund", "id": "r1"}))
        events.send("not json")
        env.settle()
        assert seen == ["o1"]
        assert events.attributes()["ApproximateNumberOfMessages"] == 0  # filtered messages are deleted


def test_fifo_order_per_group() -> None:
    app = App("dispatch")
    fifo = app.queue("steps.fifo", fifo=True, content_based_deduplication=True)
    order: list[str] = []

    @app.on_queue(fifo, batch_size=1)
    def step(event: Any, context: Any) -> None:
        order.extend(r.body for r in event.records)

    with local(app) as env:
        for i in range(5):
            fifo.send(f"a{i}", group_id="a")
            fifo.send(f"b{i}", group_id="b")
        env.settle()
        assert [x for x in order if x.startswith("a")] == [f"a{i}" for i in range(5)]
        assert [x for x in order if x.startswith("b")] == [f"b{i}" for i in range(5)]


def test_messages_sent_before_a_restart_are_delivered_after_it() -> None:
    app = App("dispatch")
    q = app.queue("q")
    seen: list[str] = []

    @app.on_queue(q)
    def consume(event: Any, context: Any) -> None:
        seen.extend(r.body for r in event.records)

    with local(app) as env:
        q.send("survivor")
        env.restart()
        env.settle()
        assert seen == ["survivor"]


def test_delivery_in_the_background_when_the_cloud_runs() -> None:
    import threading

    app = App("dispatch")
    q = app.queue("q")
    done = threading.Event()

    @app.on_queue(q)
    def consume(event: Any, context: Any) -> None:
        done.set()

    with local(app) as env:
        env.cloud.start()
        q.send("wake up")
        assert done.wait(5)
