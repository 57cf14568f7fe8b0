"""Schedules: firing times on the virtual clock, targets, retries, run-time schedules, restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.ports.schedule.harness import Harness

from stratus import App, ValidationError
from stratus.resources.schedule import ConflictError

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_declared_cron_schedule_fires_at_each_occurrence(harness: Harness) -> None:
    app = App("sched")
    fired: list[dict[str, Any]] = []

    @app.on_schedule("cron(0 2 * * ? *)")
    def nightly(event: Any, context: Any) -> None:
        fired.append(event)

    with harness.bind(app, clock=_clock()) as env:
        env.settle(max_seconds=3 * 86400)
        assert [e["time"] for e in fired] == ["2024-01-01T02:00:00Z", "2024-01-02T02:00:00Z", "2024-01-03T02:00:00Z"]
        assert fired[0]["detail-type"] == "Scheduled Event"
        assert fired[0]["source"] == "aws.scheduler"
        state = app.resource("schedule", "nightly-schedule").state()  # type: ignore[attr-defined]
        assert state.fired_count == 3
        assert state.next_fire == datetime(2024, 1, 4, 2, tzinfo=UTC).timestamp()


def test_rate_schedule_with_payload_and_timezone_validation(harness: Harness) -> None:
    app = App("sched")
    got: list[Any] = []

    @app.function
    def tick(event: Any, context: Any) -> None:
        got.append(event)

    app.schedule("every-5", "rate(5 minutes)", target=tick, payload={"job": "sweep"})
    with pytest.raises(ValidationError, match="timezone"):
        app.schedule("bad-tz", "rate(5 minutes)", target=tick, timezone="Mars/Olympus")
    assert [r.name for r in app.resources_of("schedule")] == ["every-5"]

    with harness.bind(app, clock=_clock()) as env:
        env.settle(max_seconds=15 * 60)
        assert got == [{"job": "sweep"}] * 3


def test_missed_occurrences_are_delivered_after_a_restart_within_max_age(harness: Harness) -> None:
    app = App("sched")
    got: list[str] = []

    @app.function
    def hourly(event: Any, context: Any) -> None:
        got.append(event["time"])

    app.schedule("hourly", "cron(0 * * * ? *)", target=hourly, max_event_age=7200)
    with harness.bind(app, clock=_clock()) as env:
        env.cloud.close()  # the process is down...
        env.clock.advance(5 * 3600 + 60)  # ...for five hours
        env.restart()
        env.settle(max_seconds=0)
        # occurrences older than max_event_age (2 h) are dropped, as EventBridge Scheduler does
        assert got == ["2024-01-01T04:00:00Z", "2024-01-01T05:00:00Z"]


def test_function_target_failures_follow_the_functions_async_retries_and_destination(harness: Harness) -> None:
    app = App("sched")
    failures: list[Any] = []

    @app.function
    def broken(event: Any, context: Any) -> None:
        raise RuntimeError("always")

    @app.function
    def dlq_reader(event: Any, context: Any) -> None:
        failures.append(event)

    # A function target is invoked asynchronously, so its own retries and destination apply.
    app.function(name="guarded", on_failure=dlq_reader, retries=0)(lambda e, c: (_ for _ in ()).throw(ValueError("x")))
    guarded = app.resource("function", "guarded")
    app.schedule("once", "at(2024-01-01T00:10:00)", target=guarded)
    with harness.bind(app, clock=_clock()) as env:
        env.settle(max_seconds=3600)
        assert len(failures) == 1
        assert failures[0]["requestContext"]["condition"] == "RetriesExhausted"


def test_run_time_schedules_in_a_group(harness: Harness) -> None:
    app = App("sched")
    published: list[Any] = []

    @app.function
    def publish(event: Any, context: Any) -> None:
        published.append(event["post"])

    reminders = app.scheduler("publishing")
    with harness.bind(app, clock=_clock()) as env:
        reminders.create(
            "post-1", "at(2024-01-01T09:00:00)", target=publish, payload={"post": 1}, action_after_completion="DELETE"
        )
        reminders.create("post-2", "at(2024-01-02T09:00:00)", target=publish, payload={"post": 2})
        with pytest.raises(ConflictError):
            reminders.create("post-2", "at(2024-01-03T09:00:00)", target=publish)
        assert [s.name for s in reminders.list("post-")] == ["post-1", "post-2"]
        env.settle(max_seconds=86400 + 9 * 3600)
        assert published == [1, 2]
        assert [s.name for s in reminders.list()] == ["post-2"]  # post-1 deleted after completion
        reminders.delete("post-2")
        assert reminders.list() == []


def test_disabled_schedule_does_not_fire_until_enabled(harness: Harness) -> None:
    app = App("sched")
    got: list[Any] = []

    @app.function
    def job(event: Any, context: Any) -> None:
        got.append(1)

    schedule = app.schedule("job", "rate(1 hour)", target=job, enabled=False)
    with harness.bind(app, clock=_clock()) as env:
        env.settle(max_seconds=3 * 3600)
        assert got == []
        schedule.enable()
        env.settle(max_seconds=2 * 3600)
        assert len(got) == 2


def test_target_must_be_a_deliverable_resource() -> None:
    app = App("sched")
    with pytest.raises(ValidationError, match="target must be"):
        app.schedule("x", "rate(1 hour)", target="not-a-resource")  # type: ignore[arg-type]


def _clock():  # type: ignore[no-untyped-def]
    from stratus import VirtualClock

    return VirtualClock(START)
