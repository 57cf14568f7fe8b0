"""The schedule suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.ports.harness_base import AwsEnv, PortHarness

from stratus import App


class AwsScheduleEnv(AwsEnv):
    """The slice of ``LocalEnv`` the schedule suite uses, on moto."""

    settle_skip = "moves time (settles over virtual hours): needs the local adapter's virtual clock"


class Harness(PortHarness):
    aws_ignores = frozenset({"clock"})  # on moto the schedule is created and fires nothing; time-dependent steps skip

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
