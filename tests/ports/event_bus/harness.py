"""The event bus suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.ports.harness_base import AwsEnv, PortHarness

from stratus import App


class AwsEventBusEnv(AwsEnv):
    """The slice of ``LocalEnv`` the event bus suite uses, on moto (it delivers within PutEvents)."""


class Harness(PortHarness):
    @contextmanager
    def _aws(self, app: App) -> Iterator[AwsEventBusEnv]:
        from tests.stratus.aws.adapters.moto_cloud import create_event_bus, create_queue, moto_cloud

        from stratus.aws.adapters.event_bus import AwsEventBus
        from stratus.aws.adapters.queue import AwsQueue

        with moto_cloud() as cloud:
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
            buses: list[Any] = list(app.resources_of("event_bus"))
            made: set[str] = set()
            while len(made) < len(buses):  # buses other buses forward to first (a cycle is created in any order)
                ready = [
                    b
                    for b in buses
                    if b.name not in made
                    and all(
                        t.resource.kind != "event_bus" or t.resource.name in made or t.resource is b
                        for rule in b.rules.values()
                        for t in rule.targets
                    )
                ] or [b for b in buses if b.name not in made][:1]
                for bus in ready:
                    create_event_bus(cloud, bus)
                    made.add(bus.name)
            for bus in buses:
                cloud.bind(bus, AwsEventBus)
            yield AwsEventBusEnv(cloud)
