"""Functions and events: queue → function delivery, topic fan-out, PutEvents against 100 rules.

Each row measures the embedded runtime and, where moto implements the operation, the same
workload through boto3 against moto in-process (moto has no Lambda event-source mappings
without Docker, so the queue → function row has no moto figure).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from typing import Any

from bench.common import Figures, Row, measure, summarize
from stratus import App
from stratus.clock import SystemClock
from stratus.local.cloud import LocalCloud

RULES = 100
SUBSCRIBERS = 10


def _cloud(*apps: App) -> tuple[LocalCloud, str]:
    folder = tempfile.mkdtemp(prefix="stratus-bench-")
    cloud = LocalCloud(folder, clock=SystemClock())
    for app in apps:
        cloud.bind(app)
    return cloud, folder


def queue_to_function(messages: int = 20_000) -> tuple[Figures, Figures]:
    """Throughput (msgs/s delivered) and latency (send → handler start) of queue → function."""
    app = App("bench-q")
    queue = app.queue("work")
    received = [0]
    latencies: list[float] = []
    done = threading.Event()
    target = [messages]

    @app.on_queue(queue, batch_size=10)
    def handler(event: Any, context: Any) -> None:
        now = time.perf_counter()
        for record in event["Records"]:
            sent = float(record["body"])
            if sent > 0:
                latencies.append(now - sent)
        received[0] += len(event["Records"])
        if received[0] >= target[0]:
            done.set()

    cloud, folder = _cloud(app)
    try:
        cloud.start()
        from stratus.resources.queue import SendEntry

        start = time.perf_counter()
        for _ in range(0, messages, 10):
            queue.send_batch([SendEntry(str(j), "0") for j in range(10)])
        done.wait(120)
        throughput = summarize([], time.perf_counter() - start)
        throughput = Figures(received[0], throughput.seconds, 0.0, 0.0)
        # Latency: one message at a time, send → handler start, with the pumps in the background.
        received[0] = 0
        for n in range(300):
            done.clear()
            target[0] = n + 1
            queue.send(repr(time.perf_counter()))
            done.wait(5)
        lat = summarize(latencies, sum(latencies))
        return throughput, Figures(len(latencies), lat.seconds, lat.p50_us, lat.p99_us)
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def topic_fan_out(count: int = 2000) -> Figures:
    app = App("bench-t")
    topic = app.topic("news")
    queues = [app.queue(f"sub{i}") for i in range(SUBSCRIBERS)]
    for i, q in enumerate(queues):
        topic.subscribe(q, raw=True, filter_policy={"shard": [i % 5, (i + 1) % 5]})
    cloud, folder = _cloud(app)
    try:

        def publish(i: int) -> None:
            topic.publish("payload", attributes={"shard": i % 5})
            for pump in cloud.pumps:
                pump.pump()

        return measure(publish, count)
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def put_events(count: int = 3000) -> Figures:
    app = App("bench-e")
    bus = app.event_bus("main")
    sink = app.queue("sink")
    for i in range(RULES):
        bus.rule(
            f"r{i}", pattern={"source": [f"svc{i}"], "detail": {"amount": [{"numeric": [">", 10]}]}}, targets=[sink]
        )
    cloud, folder = _cloud(app)
    try:

        def put(i: int) -> None:
            bus.put(source=f"svc{i % RULES}", detail_type="Tick", detail={"amount": 50})
            for pump in cloud.pumps:
                pump.pump()

        return measure(put, count)
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def _moto() -> Any:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from moto import mock_aws

    return mock_aws()


def moto_topic_fan_out(count: int = 200) -> Figures:
    import boto3

    with _moto():
        sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        topic = sns.create_topic(Name="news")["TopicArn"]
        for i in range(SUBSCRIBERS):
            url = sqs.create_queue(QueueName=f"sub{i}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=arn,
                Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"shard": [i % 5, (i + 1) % 5]})},
            )

        def publish(i: int) -> None:
            sns.publish(
                TopicArn=topic,
                Message="payload",
                MessageAttributes={"shard": {"DataType": "Number", "StringValue": str(i % 5)}},
            )

        return measure(publish, count, warmup=5)


def moto_put_events(count: int = 200) -> Figures:
    import boto3

    with _moto():
        events = boto3.client("events")
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="sink")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.create_event_bus(Name="main")
        for i in range(RULES):
            events.put_rule(
                Name=f"r{i}",
                EventBusName="main",
                EventPattern=json.dumps({"source": [f"svc{i}"], "detail": {"amount": [{"numeric": [">", 10]}]}}),
            )
            events.put_targets(Rule=f"r{i}", EventBusName="main", Targets=[{"Id": "q", "Arn": arn}])

        def put(i: int) -> None:
            events.put_events(
                Entries=[
                    {
                        "Source": f"svc{i % RULES}",
                        "DetailType": "Tick",
                        "Detail": json.dumps({"amount": 50}),
                        "EventBusName": "main",
                    }
                ]
            )

        return measure(put, count, warmup=5)


def run() -> list[Row]:
    throughput, latency = queue_to_function()
    return [
        Row("events", "queue → function (msgs/s delivered)", throughput, None, target="≥ 10,000 msgs/s"),
        Row("events", "queue → function latency (send → handler)", latency, None, target="p50/p99"),
        Row(
            "events",
            f"topic publish, fan-out to {SUBSCRIBERS} filtered queues",
            topic_fan_out(),
            moto_topic_fan_out(),
            target="≥ 30x moto",
        ),
        Row(
            "events", f"PutEvents against {RULES} rules (→ queue)", put_events(), moto_put_events(), target="≥ 30x moto"
        ),
    ]
