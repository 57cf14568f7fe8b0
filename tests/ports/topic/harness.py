"""The topic suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

import stratus.testing
from stratus import App


class AwsTopicEnv:
    """The slice of ``LocalEnv`` the topic suite uses, on moto."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def settle(self, **kwargs: Any) -> None:
        """Nothing to wait for: moto's SNS delivers to SQS within Publish."""

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
        """Bind the app's resources to the adapter under test (settings go to ``stratus.testing.local``)."""
        if self.adapter == "local":
            with stratus.testing.local(app, **settings) as env:
                yield env
            return
        if settings:
            pytest.skip(f"local runtime settings {sorted(settings)}: local adapter only")
        with self._aws(app) as env:
            yield env

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
