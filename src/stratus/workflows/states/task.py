"""Task: hands its payload to the task invoker and takes the result.

Each attempt records AWS's events (``LambdaFunctionScheduled/Started/Succeeded/Failed``
for a Lambda function ARN, ``TaskScheduled/Started/Succeeded/Failed`` otherwise). The
attempt's deadline (``TimeoutSeconds`` / ``TimeoutSecondsPath``) is read from the clock:
an invoker that runs past it yields ``States.Timeout``. ``HeartbeatSeconds`` is validated
and handed to the invoker (``TaskContext.heartbeat_seconds``); it matters only to
callback tasks (``.waitForTaskToken``, activities), which a later executor adds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import RUNTIME, TIMEOUT, StatesError, TaskFailed
from stratus.workflows.jsonata_expr import is_expression
from stratus.workflows.jsonpath import PathNotFound
from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Failed, Outcome, Problems, State
from stratus.workflows.tasks import LAMBDA_ARN, TaskContext

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

_MAX = 99999999
_RESOURCE_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$")


class TaskState(State):
    type = "Task"
    _SHARED = {"Resource", "Retry", "Catch", "TimeoutSeconds", "HeartbeatSeconds", "Assign", "Credentials"}
    JSONPATH_FIELDS = (
        JSONPATH_IO
        | _SHARED
        | {"Parameters", "ResultPath", "ResultSelector", "TimeoutSecondsPath", "HeartbeatSecondsPath"}
    )
    JSONATA_FIELDS = JSONATA_IO | _SHARED | {"Arguments"}

    def compile(self, problems: Problems) -> None:
        resource = self.raw.get("Resource")
        if "Resource" not in self.raw:
            problems.add(self.where, "a Task state needs 'Resource'")
        elif not isinstance(resource, str) or not _RESOURCE_ARN.match(resource):
            problems.add(f"{self.where}/Resource", f"{resource!r} is not a valid resource ARN")
        self.resource = resource if isinstance(resource, str) else ""
        self.is_lambda = LAMBDA_ARN.match(self.resource) is not None
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            if key in self.raw and f"{key[:-7]}SecondsPath" in self.raw:
                problems.add(self.where, f"'{key}' and '{key}Path' cannot both be set")
            value = self.raw.get(key)
            if value is None or (self.jsonata and is_expression(value)):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX:
                problems.add(f"{self.where}/{key}", f"must be a positive integer up to {_MAX}")
        self.timeout_expr = self.expression_field("TimeoutSeconds", problems) if self.jsonata else None
        self.heartbeat_expr = self.expression_field("HeartbeatSeconds", problems) if self.jsonata else None
        self.timeout_path = self.path_field("TimeoutSecondsPath", problems)
        self.heartbeat_path = self.path_field("HeartbeatSecondsPath", problems)
        t, h = self.raw.get("TimeoutSeconds"), self.raw.get("HeartbeatSeconds")
        if isinstance(t, int) and isinstance(h, int) and h >= t:
            problems.add(self.where, "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'")

    def _seconds(self, rt: Runtime, frame: Frame, key: str) -> float | None:
        expr = self.timeout_expr if key == "TimeoutSeconds" else self.heartbeat_expr
        path = self.timeout_path if key == "TimeoutSeconds" else self.heartbeat_path
        value: Any = self.raw.get(key)
        if expr is not None:
            value = expr.evaluate(self.env(rt, frame, frame.input), key)
        elif path is not None:
            try:
                value = self.env(rt, frame, frame.input).scope().read(path)
            except PathNotFound as exc:
                raise StatesError(
                    RUNTIME, f"The {key}Path parameter does not reference an input value: {path.text}"
                ) from exc
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise StatesError(RUNTIME, f"The {key} value must be a positive integer, but was: {value}")
        return float(value)

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        frame.data["payload"] = self.effective_input(rt, frame)
        return self.act(rt, frame)

    def act(self, rt: Runtime, frame: Frame) -> Outcome:
        payload = frame.data["payload"]
        timeout = self._seconds(rt, frame, "TimeoutSeconds")
        heartbeat = self._seconds(rt, frame, "HeartbeatSeconds")
        start = rt.clock.now()
        deadline = start + timeout if timeout is not None else None
        prefix = "LambdaFunction" if self.is_lambda else "Task"
        scheduled: dict[str, Any] = {
            "resource": self.resource,
            "input": _text(payload),
            "inputDetails": {"truncated": False},
        }
        if timeout is not None:
            scheduled["timeoutInSeconds"] = int(timeout)
        if not self.is_lambda:
            scheduled = {"resource": self.resource, "resourceType": "task", "region": "", "parameters": _text(payload)}
        rt.emit(frame, f"{prefix}Scheduled", scheduled)
        rt.emit(frame, f"{prefix}Started", {} if self.is_lambda else {"resource": self.resource})
        context = TaskContext(
            state_name=self.name,
            execution_arn=rt.execution.execution_arn,
            context_object=rt.context(frame),
            clock=rt.clock,
            deadline=deadline,
            heartbeat_seconds=heartbeat,
        )
        try:
            result = rt.tasks.invoke(self.resource, payload, context)
        except TaskFailed as exc:
            if deadline is not None and rt.clock.now() > deadline:
                return self._timed_out(rt, frame, prefix)
            rt.emit(frame, f"{prefix}Failed", _error_details(exc.error, exc.cause))
            return Failed(exc.error, exc.cause)
        if deadline is not None and rt.clock.now() > deadline:
            return self._timed_out(rt, frame, prefix)
        self.check_size(result, rt, frame, who=self.resource if self.is_lambda else self.name)
        rt.emit(frame, f"{prefix}Succeeded", {"output": _text(result), "outputDetails": {"truncated": False}})
        return self.finish(rt, frame, result)

    def _timed_out(self, rt: Runtime, frame: Frame, prefix: str) -> Outcome:
        rt.emit(frame, f"{prefix}TimedOut", {"error": TIMEOUT})
        return Failed(TIMEOUT, None)


def _text(value: Any) -> str:
    from stratus.workflows.templates import compact

    return compact(value)


def _error_details(error: str | None, cause: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if error is not None:
        out["error"] = error
    if cause is not None:
        out["cause"] = cause
    return out
