"""AwsSchedule and AwsScheduler: the schedule ports on Amazon EventBridge Scheduler, through boto3.

A declared schedule (``app.schedule``) is created by the template; ``STRATUS_SCHEDULE_<NAME>``
names it and ``..._GROUP`` its group. A scheduler (``app.scheduler``) is a schedule group
(``STRATUS_SCHEDULER_<NAME>``) whose schedules are created at run time with the role in
``..._ROLE``, shaped as the template shapes declared ones (no flexible window, the
"Scheduled Event" envelope when there is no payload, retry policy, dead-letter queue).
Firing is EventBridge Scheduler's own; ``next_fire`` is computed from the expression on the
cloud's clock, and ``last_fired``/``fired_count`` are not reported by the service (None, 0).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.schedule import ConflictError, ScheduleBackend, SchedulerBackend, ScheduleSpec, ScheduleState
from stratus.scheduling.expression import parse_schedule_expression

if TYPE_CHECKING:
    from stratus.resources.base import Resource
    from stratus.resources.schedule import Schedule, Scheduler

_ERRORS: dict[str, type[StratusError]] = {
    "ConflictException": ConflictError,
    "ResourceNotFoundException": ResourceNotFound,
    "ValidationException": ValidationError,
    "ThrottlingException": Throttled,
}

#: What a target receives when the schedule carries no payload (Scheduler fills the placeholders).
SCHEDULED_EVENT = {
    "version": "0",
    "id": "<aws.scheduler.execution-id>",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "time": "<aws.scheduler.scheduled-time>",
    "resources": ["<aws.scheduler.schedule-arn>"],
    "detail": {},
}


def translate(error: ClientError) -> StratusError:
    return _context.translate_error(error, _ERRORS)


def target_arn(resource: Resource[Any], cloud: Any) -> str:
    """The ARN of a schedule target (or dead-letter queue) bound to its boto3 adapter."""
    backend = resource.backend if resource.is_bound else None
    for attribute in ("queue_arn", "topic_arn", "bus_arn", "machine_arn", "function_arn"):
        value = getattr(backend, attribute, None)
        if isinstance(value, str):
            return value
    identity = _context.physical_id(resource, cloud)
    if identity.startswith("arn:"):
        return identity
    if resource.kind == "function":
        try:
            found = _context.client("lambda", cloud).get_function(FunctionName=identity)["Configuration"]
        except ClientError as error:
            raise translate(error) from None
        return str(found["FunctionArn"])
    raise ValidationError(f"cannot find the ARN of {resource.kind} {resource.name!r} to schedule it")


def _state(raw: dict[str, Any], name: str, clock: Any) -> ScheduleState:
    expression = str(raw["ScheduleExpression"])
    timezone = str(raw.get("ScheduleExpressionTimezone") or "UTC")
    enabled = raw.get("State", "ENABLED") == "ENABLED"
    next_fire = None
    if enabled:
        start = raw.get("StartDate")
        end = raw.get("EndDate")
        parsed = parse_schedule_expression(expression)
        next_fire = parsed.next_after(
            clock.now(), timezone=timezone, start=start.timestamp() if isinstance(start, datetime) else None
        )
        if next_fire is not None and isinstance(end, datetime) and next_fire > end.timestamp():
            next_fire = None
    return ScheduleState(name, expression, timezone, enabled, next_fire, None, 0)


class _Schedules:
    """Schedule calls shared by both adapters."""

    cloud: Any
    client: Any

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    def _get(self, name: str, group: str) -> dict[str, Any]:
        return self._call("get_schedule", Name=name, GroupName=group)

    def _set_enabled(self, name: str, group: str, enabled: bool) -> None:
        raw = self._get(name, group)
        update = {
            key: raw[key]
            for key in (
                "ScheduleExpression",
                "ScheduleExpressionTimezone",
                "StartDate",
                "EndDate",
                "Description",
                "FlexibleTimeWindow",
                "Target",
                "ActionAfterCompletion",
                "KmsKeyArn",
            )
            if raw.get(key) is not None
        }
        update.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
        self._call("update_schedule", Name=name, GroupName=group, State="ENABLED" if enabled else "DISABLED", **update)


class AwsSchedule(_Schedules, ScheduleBackend):
    """One declared schedule, named by ``STRATUS_SCHEDULE_<NAME>`` in the group ``..._GROUP``."""

    def __init__(self, resource: Schedule, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.schedule_name = _context.physical_id(resource, cloud)
        self.group = _context.physical_id(resource, cloud, "GROUP")
        self.client = _context.client("scheduler", cloud)

    def state(self, name: str) -> ScheduleState:
        return _state(self._get(self.schedule_name, self.group), name, _context.clock(self.cloud))

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._set_enabled(self.schedule_name, self.group, enabled)


class AwsScheduler(_Schedules, SchedulerBackend):
    """One schedule group (``STRATUS_SCHEDULER_<NAME>``) whose schedules are made at run time."""

    def __init__(self, resource: Scheduler, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.group = _context.physical_id(resource, cloud)
        self.role_arn = _context.physical_id(resource, cloud, "ROLE")
        self.client = _context.client("scheduler", cloud)

    def state(self, name: str) -> ScheduleState:
        return _state(self._get(name, self.group), name, _context.clock(self.cloud))

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._set_enabled(name, self.group, enabled)

    def _definition(self, spec: ScheduleSpec) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": target_arn(spec.target, self.cloud),
            "RoleArn": self.role_arn,
            "Input": json.dumps(spec.payload if spec.payload is not None else SCHEDULED_EVENT, default=str),
            "RetryPolicy": {
                "MaximumRetryAttempts": spec.retry_attempts,
                "MaximumEventAgeInSeconds": spec.max_event_age,
            },
        }
        if spec.dead_letter is not None:
            target["DeadLetterConfig"] = {"Arn": target_arn(spec.dead_letter, self.cloud)}
        if spec.target.kind == "queue" and getattr(spec.target, "fifo", False):
            target["SqsParameters"] = {"MessageGroupId": spec.name}
        if spec.target.kind == "event_bus":
            target["EventBridgeParameters"] = {"DetailType": "Scheduled Event", "Source": "aws.scheduler"}
        definition: dict[str, Any] = {
            "Name": spec.name,
            "GroupName": self.group,
            "ScheduleExpression": spec.expression,
            "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if spec.enabled else "DISABLED",
            "ActionAfterCompletion": spec.action_after_completion,
            "Target": target,
        }
        if spec.start is not None:
            definition["StartDate"] = datetime.fromtimestamp(spec.start, UTC)
        if spec.end is not None:
            definition["EndDate"] = datetime.fromtimestamp(spec.end, UTC)
        return definition

    def create(self, spec: ScheduleSpec, *, replace: bool) -> None:
        definition = self._definition(spec)
        try:
            self.client.create_schedule(**definition)
        except ClientError as error:
            if not (replace and _context.error_code(error) == "ConflictException"):
                raise translate(error) from None
            self._call("update_schedule", **definition)

    def delete(self, name: str) -> None:
        self._call("delete_schedule", Name=name, GroupName=self.group)

    def list(self, prefix: str) -> list[ScheduleState]:
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"GroupName": self.group, "MaxResults": 100}
            if prefix:
                params["NamePrefix"] = prefix
            if token:
                params["NextToken"] = token
            page = self._call("list_schedules", **params)
            names.extend(str(s["Name"]) for s in page.get("Schedules", []))
            token = page.get("NextToken")
            if not token:
                break
        return [self.state(name) for name in sorted(names)]
