"""Topics: fan-out, filter policies, envelopes, retries, outbox, FIFO rules, durability."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from tests.ports.topic.harness import Harness

from stratus import App, ValidationError
from stratus.matching import InvalidFilterPolicy
from stratus.resources.topic import InvalidParameter


def engine(env: Any) -> Any:
    return env.cloud.shared("topics", lambda: None)


def test_fan_out_to_functions_with_filter_policies(harness: Harness) -> None:
    app = App("topics")
    alerts = app.topic("alerts")
    everything: list[Any] = []
    high: list[Any] = []

    @app.on_topic(alerts)
    def all_alerts(event: Any, context: Any) -> None:
        everything.append(event["Records"][0]["Sns"])

    @app.on_topic(alerts, filter_policy={"severity": ["high"], "count": [{"numeric": [">", 3]}]})
    def high_alerts(event: Any, context: Any) -> None:
        high.append(event["Records"][0]["Sns"]["Message"])

    with harness.bind(app) as env:
        alerts.publish("disk almost full", subject="Disk", attributes={"severity": "high", "count": 5})
        alerts.publish("cpu warm", attributes={"severity": "low", "count": 9})
        alerts.publish({"kind": "json"}, attributes={"severity": "high", "count": 1})
        env.settle()
        assert [m["Message"] for m in everything] == ["disk almost full", "cpu warm", '{"kind": "json"}']
        assert high == ["disk almost full"]
        sns = everything[0]
        assert sns["Type"] == "Notification"
        assert sns["Subject"] == "Disk"
        assert sns["TopicArn"] == "arn:aws:sns:us-east-1:000000000000:topics-alerts"
        assert sns["MessageAttributes"]["severity"] == {"Type": "String", "Value": "high"}
        assert sns["MessageAttributes"]["count"] == {"Type": "Number", "Value": "5"}
        assert sns["Timestamp"].endswith("Z")


def test_body_scope_filter_policy(harness: Harness) -> None:
    app = App("topics")
    orders = app.topic("orders")
    got: list[str] = []

    @app.on_topic(orders, filter_policy={"total": [{"numeric": [">=", 100]}]}, filter_scope="MessageBody")
    def big_orders(event: Any, context: Any) -> None:
        got.append(json.loads(event["Records"][0]["Sns"]["Message"])["id"])

    with harness.bind(app) as env:
        orders.publish({"id": "a", "total": 250})
        orders.publish({"id": "b", "total": 20})
        orders.publish("not json")
        env.settle()
        assert got == ["a"]


def test_invalid_filter_policy_is_rejected_at_declaration() -> None:
    app = App("topics")
    topic = app.topic("t")

    def handler(event: Any, context: Any) -> None:
        return None

    fn = app.function(handler)
    with pytest.raises(InvalidFilterPolicy):
        topic.subscribe(fn, filter_policy={"a": [{"numeric": [">", "x"]}]})
    assert topic.subscriptions == []


def test_email_and_sms_go_to_the_outbox_and_per_protocol_messages(harness: Harness) -> None:
    app = App("topics")
    news = app.topic("news")
    news.subscribe_email("ops@example.com")
    news.subscribe_sms("+15555550100")
    with pytest.raises(InvalidParameter):
        news.subscribe_email("not-an-address")
    with harness.bind(app) as env:
        news.publish({"default": "hello", "sms": "hi (sms)"}, subject="Greeting", per_protocol=True)
        env.settle()
        email = engine(env).read_outbox("email")
        sms = engine(env).read_outbox("sms")
        assert [(e["to"], e["subject"], e["body"]) for e in email] == [("ops@example.com", "Greeting", "hello")]
        assert [(s["to"], s["body"]) for s in sms] == [("+15555550100", "hi (sms)")]


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[tuple[dict[str, str], bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if _Recorder.fail_first > 0:
            _Recorder.fail_first -= 1
            self.send_response(500)
        else:
            _Recorder.bodies.append((dict(self.headers), body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def http_endpoint() -> Any:
    _Recorder.bodies = []
    _Recorder.fail_first = 0
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_http_delivery_retries_per_the_default_policy(harness: Harness, http_endpoint: str) -> None:
    app = App("topics")
    hooks = app.topic("hooks")
    with harness.bind(app) as env:
        hooks.subscribe_http(http_endpoint)
        _Recorder.fail_first = 2
        start = env.clock.now()
        hooks.publish("ping")
        env.settle()
        assert len(_Recorder.bodies) == 1
        headers, body = _Recorder.bodies[0]
        assert headers["x-amz-sns-message-type"] == "Notification"
        assert json.loads(body)["Message"] == "ping"
        assert env.clock.now() - start == pytest.approx(40.0)  # two retries, 20 s apart


def test_runtime_subscriptions_persist_and_can_be_removed(harness: Harness, http_endpoint: str) -> None:
    app = App("topics")
    hooks = app.topic("hooks")
    with harness.bind(app) as env:
        sub = hooks.subscribe_http(http_endpoint, raw=True)
        env.restart()
        assert [s.arn for s in hooks.all_subscriptions()] == [sub.arn]
        hooks.publish("raw body")
        env.settle()
        assert _Recorder.bodies[-1][1] == b"raw body"
        hooks.unsubscribe(sub)
        hooks.publish("nobody hears this")
        env.settle()
        assert len(_Recorder.bodies) == 1


def test_publish_validation_sends_nothing(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("t")
    got: list[Any] = []

    @app.on_topic(topic)
    def sink(event: Any, context: Any) -> None:
        got.append(event)

    with harness.bind(app) as env:
        with pytest.raises(InvalidParameter, match="Message too long"):
            topic.publish("x" * (256 * 1024 + 1))
        with pytest.raises(InvalidParameter, match="Subject"):
            topic.publish("x", subject="line\nbreak")
        with pytest.raises(ValidationError, match="exceeds the allowed maximum"):
            topic.publish("x", attributes={f"a{i}": "v" for i in range(11)})
        with pytest.raises(ValidationError, match="reserved prefix"):
            topic.publish("x", attributes={"AWS.secret": "v"})
        with pytest.raises(InvalidParameter, match="FIFO topics only"):
            topic.publish("x", group_id="g")
        env.settle()
        assert got == []


def test_batch_publish_reports_per_entry_results(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("t")
    got: list[str] = []

    @app.on_topic(topic)
    def sink(event: Any, context: Any) -> None:
        got.append(event["Records"][0]["Sns"]["Message"])

    with harness.bind(app) as env:
        results = topic.publish_batch(
            [
                {"id": "1", "message": "first"},
                {"id": "2", "message": ""},
                {"id": "3", "message": "third"},
            ]
        )
        assert [r.code for r in results] == [None, "InvalidParameter", None]
        assert results[0].message_id and results[2].message_id
        env.settle()
        assert got == ["first", "third"]
        with pytest.raises(ValidationError):
            topic.publish_batch([{"id": "same", "message": "a"}, {"id": "same", "message": "b"}])


def test_fifo_topic_rules(harness: Harness) -> None:
    app = App("topics")
    with pytest.raises(ValidationError, match=r"must end in '\.fifo'"):
        app.topic("orders", fifo=True)
    fifo = app.topic("orders.fifo", fifo=True)

    def handler(event: Any, context: Any) -> None:
        return None

    fn = app.function(handler)
    with pytest.raises(InvalidParameter, match="only to SQS"):
        fifo.subscribe(fn)
    with harness.bind(app):
        with pytest.raises(InvalidParameter, match="MessageGroupId"):
            fifo.publish("x")
        with pytest.raises(InvalidParameter, match="ContentBasedDeduplication"):
            fifo.publish("x", group_id="g")
        first = fifo.publish("x", group_id="g", deduplication_id="d1")
        again = fifo.publish("x", group_id="g", deduplication_id="d1")
        assert again.message_id == first.message_id
        assert first.sequence_number == "00000000000000000001"


def test_undelivered_messages_survive_a_restart(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("t")
    got: list[str] = []

    @app.on_topic(topic)
    def sink(event: Any, context: Any) -> None:
        got.append(event["Records"][0]["Sns"]["Message"])

    with harness.bind(app) as env:
        topic.publish("kept")
        env.restart()
        env.settle()
        assert got == ["kept"]


def test_queue_subscriptions_raw_and_enveloped(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("orders")
    raw_q = app.queue("raw")
    env_q = app.queue("enveloped")
    topic.subscribe(raw_q, raw=True, filter_policy={"kind": ["order"]})
    topic.subscribe(env_q)
    with harness.bind(app) as env:
        topic.publish("hello", attributes={"kind": "order"})
        topic.publish("skipped by raw", attributes={"kind": "refund"})
        env.settle()
        raw = raw_q.receive(10)
        assert [m.body for m in raw] == ["hello"]
        assert raw[0].message_attributes["kind"].value == "order"
        wrapped = [json.loads(m.body) for m in env_q.receive(10)]
        assert sorted(w["Message"] for w in wrapped) == ["hello", "skipped by raw"]
        assert all(w["Type"] == "Notification" and w["Signature"] for w in wrapped)


def test_fifo_topic_to_fifo_queue_keeps_group_order(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("events.fifo", fifo=True, content_based_deduplication=True)
    queue = app.queue("events.fifo", fifo=True)
    topic.subscribe(queue, raw=True)
    with harness.bind(app) as env:
        for i in range(4):
            topic.publish(f"e{i}", group_id="g")
        topic.publish("e0", group_id="g")  # duplicate content within 5 minutes: dropped
        env.settle()
        bodies = []
        while batch := queue.receive(10):
            bodies.extend(m.body for m in batch)
            for m in batch:
                queue.delete(m.receipt_handle)
        assert bodies == ["e0", "e1", "e2", "e3"]


def test_publish_to_queues_is_durable_across_a_restart(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("orders")
    first, second = app.queue("first"), app.queue("second")
    topic.subscribe(first, raw=True)
    topic.subscribe(second, filter_policy={"kind": ["order"]})
    with harness.bind(app) as env:
        published = topic.publish("o-1", attributes={"kind": "order"})
        topic.publish("r-1", attributes={"kind": "refund"})
        env.restart()
        env.settle()
        assert sorted(m.body for m in first.receive(10)) == ["o-1", "r-1"]
        [wrapped] = second.receive(10)
        envelope = json.loads(wrapped.body)
        assert envelope["MessageId"] == published.message_id
        assert envelope["Message"] == "o-1"
        assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}


def test_a_delivery_its_queue_rejects_is_retried_then_dead_lettered(harness: Harness) -> None:
    app = App("topics")
    topic = app.topic("big")
    small = app.queue("small", max_message_size=1024)
    roomy = app.queue("roomy")
    dlq = app.queue("big-dlq")
    topic.subscribe(small, raw=True, dead_letter=dlq)
    topic.subscribe(roomy, raw=True)
    body = "x" * 2000  # more than the small queue accepts
    with harness.bind(app) as env:
        published = topic.publish(body, attributes={"kind": "bulk"})
        env.settle()
        assert small.receive(10) == []
        [delivered] = roomy.receive(10)  # the other subscription is not held back
        assert delivered.body == body
        [dead] = dlq.receive(10)
        envelope = json.loads(dead.body)
        assert envelope["MessageId"] == published.message_id
        assert envelope["Message"] == body
        assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "bulk"}}
