"""AwsTopic and AwsEventBus on moto: publish/put, fan-out through SNS and EventBridge to SQS.

The topic and event-bus conformance suites (tests/ports/topic, tests/ports/event_bus) drive
the local runtime directly and take no adapter parameter yet, so these tests check the
boto3 adapters' own behaviour: what reaches SQS, which errors come back, what is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.stratus.aws.adapters.moto_cloud import MotoCloud, create_queue, moto_cloud

from stratus import App
from stratus.aws.adapters.event_bus import AwsEventBus, UnsupportedOperation
from stratus.aws.adapters.queue import AwsQueue
from stratus.aws.adapters.topic import AwsTopic
from stratus.resources.topic import InvalidParameter, NotFound


@pytest.fixture
def cloud() -> Iterator[MotoCloud]:
    with moto_cloud() as c:
        yield c


def _drain(queue: Any) -> list[Any]:
    got: list[Any] = []
    while True:
        batch = queue.receive(10)
        if not batch:
            return got
        got.extend(batch)


def _topic(cloud: MotoCloud, topic: Any) -> str:
    attributes = {"FifoTopic": "true"} if topic.fifo else {}
    if topic.content_based_deduplication:
        attributes["ContentBasedDeduplication"] = "true"
    arn = cloud.client("sns").create_topic(Name=topic.qualified_name, Attributes=attributes)["TopicArn"]
    cloud.set_id(topic, arn)
    return str(arn)


def test_publish_fans_out_to_sqs_with_filter_policies(cloud: MotoCloud) -> None:
    app = App("shop")
    alerts = app.topic("alerts")
    everything, high = app.queue("everything"), app.queue("high")
    for q in (everything, high):
        create_queue(cloud, q)
        cloud.bind(q, AwsQueue)
    arn = _topic(cloud, alerts)
    sns = cloud.client("sns")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=everything.backend.queue_arn)  # type: ignore[attr-defined]
    sns.subscribe(
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=high.backend.queue_arn,  # type: ignore[attr-defined]
        Attributes={"FilterPolicy": json.dumps({"severity": ["high"]}), "RawMessageDelivery": "true"},
    )
    cloud.bind(alerts, AwsTopic)

    result = alerts.publish("disk almost full", subject="Disk", attributes={"severity": "high", "count": 5})
    alerts.publish({"kind": "json"}, attributes={"severity": "low"})
    assert result.message_id

    envelopes = [json.loads(m.body) for m in _drain(everything)]
    assert sorted(e["Message"] for e in envelopes) == ["disk almost full", '{"kind": "json"}']
    first = next(e for e in envelopes if e["Message"] == "disk almost full")
    assert first["Subject"] == "Disk" and first["TopicArn"] == arn
    assert first["MessageAttributes"]["count"] == {"Type": "Number", "Value": "5"}
    assert [m.body for m in _drain(high)] == ["disk almost full"]


def test_run_time_subscriptions_are_made_listed_and_removed(cloud: MotoCloud) -> None:
    app = App("shop")
    alerts = app.topic("alerts")
    arn = _topic(cloud, alerts)
    cloud.bind(alerts, AwsTopic)
    subscription = alerts.subscribe_email("ops@example.com", filter_policy={"severity": ["high"]})
    assert alerts.all_subscriptions() == [subscription]
    sns_arn = alerts.backend.subscription_arn(subscription.arn)  # type: ignore[attr-defined]
    listed = cloud.client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Protocol"], s["Endpoint"]) for s in listed] == [
        (sns_arn, "email", "ops@example.com")
    ]
    attributes = cloud.client("sns").get_subscription_attributes(SubscriptionArn=sns_arn)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["high"]}
    alerts.unsubscribe(subscription)
    assert alerts.all_subscriptions() == []
    assert cloud.client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    with pytest.raises(NotFound):
        alerts.unsubscribe(subscription)


def test_fifo_topic_publish_carries_group_and_deduplication(cloud: MotoCloud) -> None:
    app = App("shop")
    orders = app.topic("orders.fifo", fifo=True, content_based_deduplication=True)
    _topic(cloud, orders)
    cloud.bind(orders, AwsTopic)
    result = orders.publish("placed", group_id="customer-1")
    assert result.message_id  # (SNS also returns a SequenceNumber; moto does not)
    with pytest.raises(InvalidParameter, match="MessageGroupId"):
        orders.publish("placed")


def test_publish_to_a_missing_topic_is_not_found(cloud: MotoCloud) -> None:
    app = App("shop")
    ghost = app.topic("ghost")
    cloud.set_id(ghost, "arn:aws:sns:us-east-1:123456789012:nope")
    cloud.bind(ghost, AwsTopic)
    with pytest.raises(NotFound):
        ghost.publish("hello")


# -- event bus -------------------------------------------------------------------------------------


def _bus(cloud: MotoCloud, bus: Any, queue: Any) -> None:
    events = cloud.client("events")
    events.create_event_bus(Name=bus.qualified_name)
    cloud.set_id(bus, bus.qualified_name)
    for rule in bus.rules.values():
        name = f"{bus.app.name}-{rule.name}"
        events.put_rule(Name=name, EventBusName=bus.qualified_name, EventPattern=json.dumps(rule.pattern.source))
        events.put_targets(
            Rule=name,
            EventBusName=bus.qualified_name,
            Targets=[{"Id": "q", "Arn": queue.backend.queue_arn}],
        )


def test_put_events_route_through_rules_to_sqs(cloud: MotoCloud) -> None:
    app = App("shop")
    inbox = app.queue("inbox")
    bus = app.event_bus("main")
    bus.rule("placed", pattern={"detail-type": ["OrderPlaced"]}, targets=[inbox])
    create_queue(cloud, inbox)
    cloud.bind(inbox, AwsQueue)
    _bus(cloud, bus, inbox)
    cloud.bind(bus, AwsEventBus)

    event_id = bus.put(source="shop.orders", detail_type="OrderPlaced", detail={"id": "o-1", "total": 5})
    bus.put(source="shop.orders", detail_type="OrderShipped", detail={"id": "o-1"})
    delivered = [json.loads(m.body) for m in _drain(inbox)]
    assert [(e["id"], e["detail-type"], e["detail"]) for e in delivered] == [
        (event_id, "OrderPlaced", {"id": "o-1", "total": 5})
    ]
    assert delivered[0]["source"] == "shop.orders"

    # (moto keeps delivering through a disabled rule, so the rule's state is read back instead.)
    events = cloud.client("events")
    bus.disable_rule("placed")
    assert events.describe_rule(Name="shop-placed", EventBusName="shop-main")["State"] == "DISABLED"
    assert bus.rules["placed"].enabled is False
    bus.enable_rule("placed")
    assert events.describe_rule(Name="shop-placed", EventBusName="shop-main")["State"] == "ENABLED"


def test_bad_entries_fail_alone(cloud: MotoCloud) -> None:
    app = App("shop")
    inbox = app.queue("inbox")
    bus = app.event_bus("main")
    create_queue(cloud, inbox)
    cloud.bind(inbox, AwsQueue)
    _bus(cloud, bus, inbox)
    cloud.bind(bus, AwsEventBus)
    result = bus.put_events(
        [
            {"source": "a", "detail_type": "T", "detail": {"k": 1}, "time": datetime(2026, 1, 1, tzinfo=UTC)},
            {"source": "a", "detail_type": "T", "detail": {}, "time": datetime(2026, 1, 1)},  # naive time
            {"source": "a", "detail_type": "T", "detail": {}, "colour": "red"},
        ]
    )
    assert result.failed_entry_count == 2
    assert result.entries[0].event_id and result.entries[0].error_code is None
    assert [e.error_code for e in result.entries[1:]] == ["InvalidArgument", "InvalidArgument"]
    assert "Time" in (result.entries[1].error_message or "")
    with pytest.raises(UnsupportedOperation):
        bus.archive("all")
        bus.archived("all")


def test_replay_starts_an_eventbridge_replay_of_the_archive(cloud: MotoCloud) -> None:
    app = App("shop")
    inbox = app.queue("inbox")
    bus = app.event_bus("main")
    bus.rule("placed", pattern={"detail-type": ["OrderPlaced"]}, targets=[inbox])
    bus.archive("all")
    create_queue(cloud, inbox)
    cloud.bind(inbox, AwsQueue)
    _bus(cloud, bus, inbox)
    events = cloud.client("events")
    bus_arn = events.describe_event_bus(Name="shop-main")["Arn"]
    events.create_archive(ArchiveName="shop-all", EventSourceArn=bus_arn)
    cloud.bind(bus, AwsEventBus)
    name = bus.replay("all", start=0, end=2_000_000_000, rules=["placed"], name="again")
    assert name == "again"
    replay = events.describe_replay(ReplayName="again")
    assert replay["EventSourceArn"].endswith(":archive/shop-all")
    assert replay["Destination"]["Arn"] == bus_arn
    assert replay["Destination"]["FilterArns"] == [
        events.describe_rule(Name="shop-placed", EventBusName="shop-main")["Arn"]
    ]
