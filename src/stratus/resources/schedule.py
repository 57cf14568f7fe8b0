"""Schedules (EventBridge Scheduler): deliver a payload to a target at times given by an expression.

Two resource kinds share one engine:

- ``app.schedule(name, "cron(0 2 * * ? *)", target=fn)`` declares a schedule in ``app.py``
  (the nightly report).
- ``app.scheduler(name)`` declares a schedule group whose schedules are created at run time
  (``reminders.create("publish-post-42", "at(2025-03-01T09:00:00)", target=publish, payload=...)``),
  for content scheduling and one-time reminders.

Flexible time windows are always off, as the declarations of the seeds need them.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError, ValidationError
from stratus.resources.base import Resource
from stratus.scheduling.expression import parse_schedule_expression, validate_timezone

if TYPE_CHECKING:
    from stratus.app import App

TARGET_KINDS = ("function", "queue", "topic", "event_bus", "workflow")
_SCHEDULE_NAME = re.compile(r"^[0-9a-zA-Z_.-]{1,64}$")


class ConflictError(StratusError):
    """A schedule with that name already exists in the group."""

    code = "ConflictException"


@dataclass(frozen=True)
class ScheduleSpec:
    """Everything that defines one schedule, declared or created at run time."""

    name: str
    expression: str
    target: Resource[Any]
    payload: Any = None
    timezone: str = "UTC"
    start: float | None = None
    end: float | None = None
    enabled: bool = True
    retry_attempts: int = 185
    max_event_age: int = 86400
    dead_letter: Resource[Any] | None = None
    action_after_completion: str = "NONE"

    def validate(self) -> ScheduleSpec:
        if not isinstance(self.name, str) or not _SCHEDULE_NAME.match(self.name):
            raise ValidationError(f"schedule name {self.name!r} must be 1-64 characters of [0-9a-zA-Z_.-]")
        parse_schedule_expression(self.expression)
        validate_timezone(self.timezone)
        if not isinstance(self.target, Resource) or self.target.kind not in TARGET_KINDS:
            raise ValidationError(
                f"schedule {self.name!r}: target must be a function, queue, topic, event bus or workflow, "
                f"got {self.target!r}"
            )
        if self.dead_letter is not None and getattr(self.dead_letter, "kind", None) != "queue":
            raise ValidationError(f"schedule {self.name!r}: dead_letter must be a queue")
        if not 0 <= self.retry_attempts <= 185:
            raise ValidationError(f"schedule {self.name!r}: retry_attempts must be 0-185")
        if not 60 <= self.max_event_age <= 86400:
            raise ValidationError(f"schedule {self.name!r}: max_event_age must be 60-86400 seconds")
        if self.action_after_completion not in ("NONE", "DELETE"):
            raise ValidationError(f"schedule {self.name!r}: action_after_completion must be NONE or DELETE")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError(f"schedule {self.name!r}: end must be after start")
        return self


@dataclass(frozen=True)
class ScheduleState:
    """A schedule as the engine sees it now."""

    name: str
    expression: str
    timezone: str
    enabled: bool
    next_fire: float | None
    last_fired: float | None
    fired_count: int


class ScheduleBackend(ABC):
    @abstractmethod
    def state(self, name: str) -> ScheduleState: ...

    @abstractmethod
    def set_enabled(self, name: str, enabled: bool) -> None: ...


class SchedulerBackend(ScheduleBackend):
    @abstractmethod
    def create(self, spec: ScheduleSpec, *, replace: bool) -> None: ...

    @abstractmethod
    def delete(self, name: str) -> None: ...

    @abstractmethod
    def list(self, prefix: str) -> list[ScheduleState]: ...


def _epoch(value: datetime | float | None, label: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{label} must be a timezone-aware datetime")
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValidationError(f"{label} must be a datetime or epoch seconds, got {value!r}")


def build_spec(
    app: App,
    name: str,
    expression: str,
    *,
    target: Resource[Any],
    payload: Any,
    timezone: str,
    start: datetime | float | None,
    end: datetime | float | None,
    enabled: bool,
    retry_attempts: int,
    max_event_age: int,
    dead_letter: Resource[Any] | None,
    action_after_completion: str = "NONE",
) -> ScheduleSpec:
    """A validated spec whose target belongs to ``app`` (declared and run-time schedules alike)."""
    if getattr(target, "app", app) is not app:
        raise ValidationError(f"schedule {name!r}: target {target!r} belongs to another app")
    return ScheduleSpec(
        name,
        expression,
        target,
        payload,
        timezone,
        _epoch(start, "start"),
        _epoch(end, "end"),
        enabled,
        retry_attempts,
        max_event_age,
        dead_letter,
        action_after_completion,
    ).validate()


class Schedule(Resource[ScheduleBackend]):
    """A schedule declared in ``app.py``."""

    kind = "schedule"

    def __init__(
        self,
        app: App,
        name: str,
        expression: str,
        *,
        target: Resource[Any],
        payload: Any = None,
        timezone: str = "UTC",
        start: datetime | float | None = None,
        end: datetime | float | None = None,
        enabled: bool = True,
        retry_attempts: int = 185,
        max_event_age: int = 86400,
        dead_letter: Resource[Any] | None = None,
    ) -> None:
        super().__init__(app, name)
        self.spec = build_spec(
            app,
            name,
            expression,
            target=target,
            payload=payload,
            timezone=timezone,
            start=start,
            end=end,
            enabled=enabled,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            dead_letter=dead_letter,
        )

    def state(self) -> ScheduleState:
        return self.backend.state(self.name)

    def enable(self) -> None:
        self.backend.set_enabled(self.name, True)

    def disable(self) -> None:
        self.backend.set_enabled(self.name, False)

    def settings(self) -> dict[str, Any]:
        s = self.spec
        return {
            "expression": s.expression,
            "timezone": s.timezone,
            "target": f"{s.target.kind}:{s.target.name}",
            "enabled": s.enabled,
            "retry_attempts": s.retry_attempts,
            "max_event_age": s.max_event_age,
            "dead_letter": s.dead_letter.name if s.dead_letter else None,
        }


class Scheduler(Resource[SchedulerBackend]):
    """A schedule group: schedules created, changed and deleted at run time."""

    kind = "scheduler"

    def create(
        self,
        name: str,
        expression: str,
        *,
        target: Resource[Any],
        payload: Any = None,
        timezone: str = "UTC",
        start: datetime | float | None = None,
        end: datetime | float | None = None,
        enabled: bool = True,
        retry_attempts: int = 185,
        max_event_age: int = 86400,
        dead_letter: Resource[Any] | None = None,
        action_after_completion: str = "NONE",
        replace: bool = False,
    ) -> None:
        """Create a schedule (ConflictError if the name exists, unless ``replace``)."""
        spec = build_spec(
            self.app,
            name,
            expression,
            target=target,
            payload=payload,
            timezone=timezone,
            start=start,
            end=end,
            enabled=enabled,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            dead_letter=dead_letter,
            action_after_completion=action_after_completion,
        )
        self.backend.create(spec, replace=replace)

    def delete(self, name: str) -> None:
        self.backend.delete(name)

    def get(self, name: str) -> ScheduleState:
        return self.backend.state(name)

    def list(self, prefix: str = "") -> list[ScheduleState]:
        return self.backend.list(prefix)

    def enable(self, name: str) -> None:
        self.backend.set_enabled(name, True)

    def disable(self, name: str) -> None:
        self.backend.set_enabled(name, False)
