"""The schedule suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import stratus.testing
from stratus import App


class AwsScheduleEnv:
    """The slice of ``LocalEnv`` the schedule suite uses, on moto (EventBridge Scheduler fires on real time)."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def settle(self, **kwargs: Any) -> None:
        pytest.skip("moves time (settles over virtual hours): needs the local adapter's virtual clock")

    def restart(self) -> None:
        pytest.skip("restarts the process state: local adapter only")

    def advance(self, seconds: float) -> None:
        pytest.skip("moves time: needs the local adapter's virtual clock")

    @property
    def clock(self) -> Any:
        pytest.skip("moves time: needs the local adapter's virtual clock")


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter

    @contextmanager
    def bind(self, app: App, **settings: Any) -> Iterator[Any]:
        """Bind the app's resources to the adapter under test (settings go to ``stratus.testing.local``).

        On ``aws`` a ``clock`` setting is ignored: moto's EventBridge Scheduler stores schedules
        and fires nothing, and every step that needs time to pass skips through the env.
        """
        if self.adapter == "local":
            with stratus.testing.local(app, **settings) as env:
                yield env
            return
        unknown = set(settings) - {"clock"}
        if unknown:
            pytest.skip(f"local runtime settings {sorted(unknown)}: local adapter only")
        with self._aws(app) as env:
            yield env

    @contextmanager
    def _aws(self, app: App) -> Iterator[AwsScheduleEnv]:
        from tests.stratus.aws.adapters.moto_cloud import (
            create_queue,
            create_schedule,
            create_scheduler,
            moto_cloud,
            record_function,
        )

        from stratus.aws.adapters.queue import AwsQueue
        from stratus.aws.adapters.schedule import AwsSchedule, AwsScheduler

        with moto_cloud() as cloud:
            for function in app.resources_of("function"):  # run-time schedules target them by ARN
                record_function(cloud, function)
            for q in app.resources_of("queue"):  # the suite declares no dead-letter queues of queues
                create_queue(cloud, q)
                cloud.bind(q, AwsQueue)
            for schedule in app.resources_of("schedule"):
                create_schedule(cloud, schedule)
                cloud.bind(schedule, AwsSchedule)
            for scheduler in app.resources_of("scheduler"):
                create_scheduler(cloud, scheduler)
                cloud.bind(scheduler, AwsScheduler)
            yield AwsScheduleEnv(cloud)
