"""AwsSchedule and AwsScheduler on moto: schedules created, read, enabled, listed and deleted.

The schedule conformance suite drives the local engine on a virtual clock (no adapter
parameter), so these tests check the adapters' EventBridge Scheduler calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.stratus.aws.adapters.moto_cloud import MotoCloud, create_queue, moto_cloud

from stratus import App
from stratus.aws.adapters.queue import AwsQueue
from stratus.aws.adapters.schedule import SCHEDULED_EVENT, AwsSchedule, AwsScheduler
from stratus.clock import VirtualClock
from stratus.errors import ResourceNotFound
from stratus.resources.schedule import ConflictError

ROLE = "arn:aws:iam::123456789012:role/scheduler"


@pytest.fixture
def cloud() -> Iterator[MotoCloud]:
    with moto_cloud(VirtualClock(1_704_067_200.0)) as c:  # 2024-01-01T00:00:00Z
        yield c


def test_run_time_schedules_are_created_listed_toggled_and_deleted(cloud: MotoCloud) -> None:
    app = App("cms")
    publish = app.queue("publish")
    reminders = app.scheduler("reminders")
    create_queue(cloud, publish)
    cloud.bind(publish, AwsQueue)
    client = cloud.client("scheduler")
    client.create_schedule_group(Name="cms-reminders")
    cloud.set_id(reminders, "cms-reminders")
    cloud.set_id(reminders, ROLE, "ROLE")
    cloud.bind(reminders, AwsScheduler)

    reminders.create("post-42", "at(2024-03-01T09:00:00)", target=publish, payload={"post": 42})
    reminders.create("daily", "cron(0 2 * * ? *)", target=publish, timezone="Europe/Paris")
    with pytest.raises(ConflictError):
        reminders.create("daily", "rate(1 hour)", target=publish)
    reminders.create("daily", "rate(1 hour)", target=publish, replace=True)

    raw = client.get_schedule(Name="post-42", GroupName="cms-reminders")
    assert raw["Target"]["Arn"] == publish.backend.queue_arn  # type: ignore[attr-defined]
    assert raw["Target"]["RoleArn"] == ROLE and json.loads(raw["Target"]["Input"]) == {"post": 42}
    assert raw["FlexibleTimeWindow"] == {"Mode": "OFF"}
    daily = client.get_schedule(Name="daily", GroupName="cms-reminders")
    assert daily["ScheduleExpression"] == "rate(1 hour)"
    assert json.loads(daily["Target"]["Input"]) == SCHEDULED_EVENT

    state = reminders.get("post-42")
    assert (state.expression, state.enabled, state.timezone) == ("at(2024-03-01T09:00:00)", True, "UTC")
    assert state.next_fire == 1_709_283_600.0  # 2024-03-01T09:00:00Z, from the cloud's clock
    assert [s.name for s in reminders.list()] == ["daily", "post-42"]
    assert [s.name for s in reminders.list("po")] == ["post-42"]

    reminders.disable("post-42")
    assert reminders.get("post-42").enabled is False and reminders.get("post-42").next_fire is None
    reminders.enable("post-42")
    assert reminders.get("post-42").enabled is True
    reminders.delete("post-42")
    with pytest.raises(ResourceNotFound):
        reminders.get("post-42")


def test_declared_schedule_reads_and_toggles_the_templates_schedule(cloud: MotoCloud) -> None:
    app = App("shop")
    jobs = app.queue("jobs")
    nightly = app.schedule("nightly", "cron(0 2 * * ? *)", target=jobs)
    create_queue(cloud, jobs)
    cloud.bind(jobs, AwsQueue)
    client = cloud.client("scheduler")
    client.create_schedule_group(Name="shop")
    client.create_schedule(
        Name="shop-nightly",
        GroupName="shop",
        ScheduleExpression="cron(0 2 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": jobs.backend.queue_arn, "RoleArn": ROLE},  # type: ignore[attr-defined]
    )
    cloud.set_id(nightly, "shop-nightly")
    cloud.set_id(nightly, "shop", "GROUP")
    cloud.bind(nightly, AwsSchedule)
    assert nightly.state().next_fire == 1_704_074_400.0  # 02:00 on the clock's day
    nightly.disable()
    assert client.get_schedule(Name="shop-nightly", GroupName="shop")["State"] == "DISABLED"
    nightly.enable()
    assert nightly.state().enabled is True
