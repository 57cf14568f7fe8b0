"""The local alarm: a CloudWatch alarm evaluated by the cloud's observability plane.

The evaluation rule, state and history live in :mod:`stratus.observability.alarms`; this
adapter registers the declared alarm with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratus.observability.hub import attach
from stratus.resources.alarm import Alarm, AlarmBackend, AlarmHistoryItem, AlarmState

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud


class LocalAlarm(AlarmBackend):
    def __init__(self, resource: Alarm, cloud: LocalCloud) -> None:
        self.resource = resource
        self.engine = attach(cloud).alarms
        self.engine.register(resource)

    def state(self) -> AlarmState:
        return self.engine.state(self.resource)

    def history(self, limit: int) -> list[AlarmHistoryItem]:
        return self.engine.history(self.resource, limit)

    def set_state(self, value: str, reason: str) -> None:
        self.engine.set_state(self.resource, value, reason)

    def close(self) -> None:
        self.engine.unregister(self.resource)
