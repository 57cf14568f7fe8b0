"""Task: hands its payload to the task invoker and takes the result.

Each attempt records AWS's events (``LambdaFunctionScheduled/Started/Succeeded/Failed``
for a Lambda function ARN, ``TaskScheduled/Started/Succeeded/Failed`` otherwise). The
attempt's deadline (``TimeoutSeconds`` / ``TimeoutSecondsPath``) is read from the clock:
an invoker that runs past it yields ``States.Timeout``.

Callback and ``.sync`` resources (``...waitForTaskToken``, ``...sync``, ``...sync:2``): each
attempt gets a task token (``$$.Task.Token``, ``TaskContext.task_token``), the invoker
starts the work and returns what the service answered (``TaskSubmitted``), and the state
waits in the ``callback`` phase until an executor records the token's result in
``frame.data["callback"]`` (``{"output": ...}`` or ``{"error", "cause"}``), the attempt's
``TimeoutSeconds`` passes (``States.Timeout``) or no heartbeat came for ``HeartbeatSeconds``
(``States.HeartbeatTimeout``; an executor records heartbeats in ``frame.data["beat"]``).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import HEARTBEAT_TIMEOUT, RUNTIME, TIMEOUT, StatesError, TaskFailed
from stratus.workflows.jsonata_expr import is_expression
from stratus.workflows.jsonpath import PathNotFound
from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Failed, Outcome, Problems, Sleep, State
from stratus.workflows.tasks import LAMBDA_ARN, TaskContext
from stratus.workflows.templates import compact

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

_MAX = 99999999
_RESOURCE_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$")
#: resource suffixes of the integration patterns that wait for a token's result
WAITING_SUFFIXES = (".waitForTaskToken", ".sync", ".sync:2")


def integration_pattern(resource: str) -> str | None:
    """``callback`` for ``.waitForTaskToken``, ``sync`` for ``.sync``/``.sync:2``, None for request-response."""
    if resource.endswith(".waitForTaskToken"):
        return "callback"
    if resource.endswith((".sync", ".sync:2")):
        return "sync"
    return None


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
        self.pattern = integration_pattern(self.resource) if not self.is_lambda else None
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
        if value is None and expr is None and path is None:
            return None  # neither given: the common case, decided without reading anything
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
        if self.pattern is not None:
            return self.act(rt, frame)  # the payload may read this attempt's $$.Task.Token
        frame.data["payload"] = self.effective_input(rt, frame)
        return self.act(rt, frame)

    def act(self, rt: Runtime, frame: Frame) -> Outcome:
        if self.pattern is not None:
            return self._submit(rt, frame)
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
            scheduled = {**self._where(rt), "region": _region(rt), "parameters": _text(payload)}
            if timeout is not None:
                scheduled["timeoutInSeconds"] = int(timeout)
        rt.emit(frame, f"{prefix}Scheduled", scheduled)
        self._emit(rt, frame, f"{prefix}Started", {})
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
            self._emit(rt, frame, f"{prefix}Failed", _error_details(exc.error, exc.cause))
            return Failed(exc.error, exc.cause)
        if deadline is not None and rt.clock.now() > deadline:
            return self._timed_out(rt, frame, prefix)
        self.check_size(result, rt, frame, who=self.resource if self.is_lambda else self.name)
        self._emit(rt, frame, f"{prefix}Succeeded", {"output": _text(result), "outputDetails": {"truncated": False}})
        return self.finish(rt, frame, result)

    # -- callback and .sync ------------------------------------------------------------------

    def _submit(self, rt: Runtime, frame: Frame) -> Outcome:
        """Start one waiting attempt: a new token, the payload, the service call; then wait."""
        for key in ("callback", "beat", "deadline", "heartbeat"):
            frame.data.pop(key, None)
        token = rt.new_token(frame)
        frame.data["token"] = token
        payload = self.effective_input(rt, frame)
        frame.data["payload"] = payload
        timeout = self._seconds(rt, frame, "TimeoutSeconds")
        heartbeat = self._seconds(rt, frame, "HeartbeatSeconds")
        start = rt.clock.now()
        scheduled: dict[str, Any] = {**self._where(rt), "region": _region(rt), "parameters": _text(payload)}
        if timeout is not None:
            scheduled["timeoutInSeconds"] = int(timeout)
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = int(heartbeat)
        rt.emit(frame, "TaskScheduled", scheduled)
        self._emit(rt, frame, "TaskStarted", {})
        frame.data["deadline"] = start + timeout if timeout is not None else None
        frame.data["heartbeat"] = heartbeat
        frame.data["beat"] = start
        context = TaskContext(
            state_name=self.name,
            execution_arn=rt.execution.execution_arn,
            context_object=rt.context(frame),
            clock=rt.clock,
            deadline=frame.data["deadline"],
            heartbeat_seconds=heartbeat,
            task_token=token,
        )
        try:
            submitted = rt.tasks.invoke(self.resource, payload, context)
        except TaskFailed as exc:
            frame.data.pop("token", None)
            self._emit(rt, frame, "TaskFailed", _error_details(exc.error, exc.cause))
            return Failed(exc.error, exc.cause)
        self._emit(rt, frame, "TaskSubmitted", {"output": _text(submitted), "outputDetails": {"truncated": False}})
        return Sleep(math.inf, "callback")

    def poll(self, rt: Runtime, frame: Frame) -> Outcome | float:
        result = frame.data.get("callback")
        if result is not None:
            frame.data.pop("token", None)
            if "output" in result:
                output = result["output"]
                self.check_size(output, rt, frame)
                self._emit(rt, frame, "TaskSucceeded", {"output": _text(output), "outputDetails": {"truncated": False}})
                return self.finish(rt, frame, output)
            self._emit(rt, frame, "TaskFailed", _error_details(result.get("error"), result.get("cause")))
            return Failed(result.get("error"), result.get("cause"))
        now = rt.clock.now()
        deadline = frame.data.get("deadline")
        heartbeat = frame.data.get("heartbeat")
        beat_due = frame.data["beat"] + heartbeat if heartbeat is not None else None
        if deadline is not None and now >= deadline:
            frame.data.pop("token", None)
            return self._timed_out(rt, frame, "Task")
        if beat_due is not None and now >= beat_due:
            frame.data.pop("token", None)
            self._emit(rt, frame, "TaskTimedOut", {"error": HEARTBEAT_TIMEOUT})
            return Failed(HEARTBEAT_TIMEOUT, None)
        return float(min(d for d in (deadline, beat_due, math.inf) if d is not None))

    def _where(self, rt: Runtime) -> dict[str, str]:
        """``resourceType`` and ``resource`` as Task events name a service integration (``sqs``, ``sendMessage``)."""
        rest = self.resource.split(":::", 1)[1] if ":::" in self.resource else self.resource
        kind, _, action = rest.partition(":")
        return {"resourceType": kind, "resource": action} if action else {"resourceType": "task", "resource": rest}

    def _emit(self, rt: Runtime, frame: Frame, type_: str, details: dict[str, Any]) -> None:
        rt.emit(frame, type_, details if self.is_lambda else {**self._where(rt), **details})

    def _timed_out(self, rt: Runtime, frame: Frame, prefix: str) -> Outcome:
        self._emit(rt, frame, f"{prefix}TimedOut", {"error": TIMEOUT})
        return Failed(TIMEOUT, None)


def _region(rt: Runtime) -> str:
    parts = rt.execution.execution_arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _text(value: Any) -> str:
    return compact(value)


def _error_details(error: str | None, cause: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if error is not None:
        out["error"] = error
    if cause is not None:
        out["cause"] = cause
    return out
