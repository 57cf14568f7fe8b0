"""The local topic's delivery paths: to queues within the publish, through the deliveries table otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from stratus import App
from stratus.local.topic import _timestamp
from stratus.observability import tracing
from stratus.observability.context import parse_header
from stratus.observability.hub import attach
from stratus.testing import local


def _engine(env: Any) -> Any:
    return env.cloud.shared("topics", lambda: None)


def test_queue_deliveries_continue_the_publishers_trace_in_one_span() -> None:
    app = App("td")
    topic = app.topic("news")
    raw, wrapped = app.queue("raw"), app.queue("wrapped")
    topic.subscribe(raw, raw=True)
    topic.subscribe(wrapped)
    with local(app) as env:
        hub = attach(env.cloud)
        with tracing.span("publisher", hub=hub) as publisher:
            published = topic.publish("hello", attributes={"n": 1})
        env.settle()
        [m1] = raw.receive(attribute_names=["AWSTraceHeader"])
        [m2] = wrapped.receive(attribute_names=["AWSTraceHeader"])
        hub.flush()
        spans = [s for s in hub.traces.spans(publisher.trace_id) if s["name"] == "SNS td-news"]
        assert len(spans) == 1  # one span for the fan-out of the publish
        sns = spans[0]
        assert sns["kind"] == "consumer"
        assert sns["parent_id"] == publisher.span_id
        assert sns["attributes"]["messaging.message.id"] == published.message_id
        assert sns["attributes"]["messaging.batch.message_count"] == 2
        for message in (m1, m2):
            assert parse_header(message.attributes["AWSTraceHeader"]) == (publisher.trace_id, sns["span_id"])


def test_mixed_subscribers_are_delivered_by_the_pump() -> None:
    app = App("td")
    topic = app.topic("news")
    queue = app.queue("inbox")
    topic.subscribe(queue, raw=True)
    heard: list[str] = []

    @app.on_topic(topic)
    def listener(event: Any, context: Any) -> None:
        heard.append(event["Records"][0]["Sns"]["Message"])

    with local(app) as env:
        topic.publish("both")
        stored = _engine(env).db.execute("SELECT COUNT(*) FROM topic_deliveries")[0][0]
        assert stored == 2  # a function among the subscribers: every delivery goes through the table
        env.settle()
        assert heard == ["both"]
        assert [m.body for m in queue.receive(10)] == ["both"]
        assert _engine(env).db.execute("SELECT COUNT(*) FROM topic_deliveries")[0][0] == 0


def test_queue_only_publish_stores_no_delivery_rows() -> None:
    app = App("td")
    topic = app.topic("news")
    queue = app.queue("inbox")
    topic.subscribe(queue, raw=True)
    with local(app) as env:
        topic.publish("direct")
        assert _engine(env).db.execute("SELECT COUNT(*) FROM topic_deliveries")[0][0] == 0
        assert [m.body for m in queue.receive(10)] == ["direct"]


def test_envelope_text_is_the_json_of_the_envelope() -> None:
    app = App("td")
    topic = app.topic("news")
    queues = [app.queue(f"q{i}") for i in range(3)]
    subscriptions = [topic.subscribe(q) for q in queues]
    with local(app) as env:
        engine = _engine(env)
        backend = topic.backend
        records: list[dict[str, Any]] = [
            {"MessageId": "m1", "Message": "plain", "Subject": None, "Timestamp": "t", "attributes": {}},
            {
                "MessageId": "m2",
                "Message": 'quote " and \u00e9',
                "Subject": "Hi",
                "Timestamp": "t",
                "SequenceNumber": "00000000000000000007",
                "attributes": {
                    "s": {"DataType": "String", "StringValue": "v"},
                    "b": {"DataType": "Binary", "BinaryValue64": "AAE="},
                },
            },
        ]
        for record in records:
            for sub in subscriptions:  # the first call builds the shared text, the others reuse it
                expected = json.dumps(engine._envelope(backend, record, sub))
                assert engine._envelope_text(backend, record, sub) == expected


def test_timestamp_formats_like_sns() -> None:
    for epoch in (0.0, 1.5, 1763830000.123, 1763830000.999, 1763830001.0004, 1893456000.25):
        expected = datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        assert _timestamp(epoch) == expected + f"{int(epoch * 1000) % 1000:03d}Z"
