"""The topic suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from tests.ports.harness_base import AwsEnv, PortHarness

from stratus import App


class AwsTopicEnv(AwsEnv):
    """The slice of ``LocalEnv`` the topic suite uses, on moto (its SNS delivers to SQS within Publish)."""


class Harness(PortHarness):
    @contextmanager
    def _aws(self, app: App) -> Iterator[AwsTopicEnv]:
        from tests.stratus.aws.adapters.moto_cloud import create_queue, create_topic, moto_cloud

        from stratus.aws.adapters.queue import AwsQueue
        from stratus.aws.adapters.topic import AwsTopic

        with ExitStack() as stack:
            cloud = stack.enter_context(moto_cloud())
            queues: list[Any] = list(app.resources_of("queue"))
            created: set[str] = set()
            while len(created) < len(queues):  # dead-letter queues first
                for q in queues:
                    if q.name in created or (q.dead_letter is not None and q.dead_letter.queue.name not in created):
                        continue
                    create_queue(cloud, q)
                    created.add(q.name)
            for q in queues:
                cloud.bind(q, AwsQueue)
            for topic in app.resources_of("topic"):
                create_topic(cloud, topic)
                cloud.bind(topic, AwsTopic)
            yield AwsTopicEnv(cloud)
