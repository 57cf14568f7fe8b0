"""How a Task state reaches the outside world: the :class:`TaskInvoker` protocol.

A Task calls ``invoker.invoke(resource, payload, context)``; the invoker returns the
result or raises :class:`~stratus.workflows.errors.TaskFailed` (error, cause).

- :class:`LambdaFunctions` resolves Lambda function ARNs
  (``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:qualifier]``) to Python callables
  ``handler(event, context)`` and reports a raised exception as the Python Lambda
  runtime does (``errorType`` as the error, a JSON cause with ``errorMessage``,
  ``errorType``, ``requestId`` and ``stackTrace``).
- :class:`Resources` routes by resource ARN; it is the extension point for
  ``.waitForTaskToken``, nested executions (``states:startExecution``) and the
  optimized sqs/sns/dynamodb/events integrations: ``resources.register(prefix, invoker)``.
"""

from __future__ import annotations

import json
import re
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stratus.clock import Clock
from stratus.workflows.errors import RUNTIME, StatesError, TaskFailed

LAMBDA_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9_$-]+))?$"
)


@dataclass
class TaskContext:
    """What an invoker may need besides the payload."""

    state_name: str
    execution_arn: str
    context_object: dict[str, Any]
    clock: Clock
    deadline: float | None = None
    heartbeat_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the attempt's task token, for ``.waitForTaskToken`` and ``.sync`` resources (None otherwise)
    task_token: str | None = None

    def remaining_seconds(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self.clock.now())


class TaskInvoker(Protocol):
    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        """The task's result (JSON), or raise TaskFailed(error, cause)."""
        ...


class LambdaContext:
    """The ``context`` argument a handler receives (the parts of Lambda's context object that apply)."""

    def __init__(self, function_name: str, arn: str, task: TaskContext) -> None:
        self.function_name = function_name
        self.invoked_function_arn = arn
        self.aws_request_id = str(uuid.uuid4())
        self.task = task
        self.clock = task.clock

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.task.remaining_seconds()
        return 900_000 if remaining is None else int(remaining * 1000)


Handler = Callable[[Any, LambdaContext], Any]


class LambdaFunctions:
    """Lambda function ARNs resolved, by function name, to Python handlers."""

    def __init__(self, functions: Mapping[str, Handler] | None = None) -> None:
        self.functions: dict[str, Handler] = dict(functions or {})

    def register(self, name: str, handler: Handler) -> None:
        self.functions[name] = handler

    def handles(self, resource: str) -> bool:
        return LAMBDA_ARN.match(resource) is not None

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        m = LAMBDA_ARN.match(resource)
        if m is None:
            raise StatesError(RUNTIME, f"'{resource}' is not a Lambda function ARN")
        name = m.group(3)
        handler = self.functions.get(name)
        if handler is None:
            raise TaskFailed(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {resource} (Service: AWSLambda; Status Code: 404; Error Code: "
                f"ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)",
            )
        lambda_context = LambdaContext(name, resource, context)
        event = json.loads(json.dumps(payload))
        try:
            result = handler(event, lambda_context)
        except TaskFailed:
            raise  # a handler may name its error and cause itself
        except Exception as exc:
            raise TaskFailed(type(exc).__name__, lambda_error_cause(exc, lambda_context.aws_request_id)) from exc
        if isinstance(result, bytes | bytearray):
            try:
                return json.loads(result.decode())
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise TaskFailed("Lambda.Unknown", "The function returned bytes that are not JSON") from exc
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise TaskFailed("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def lambda_error_cause(exc: BaseException, request_id: str) -> str:
    """The cause text the Python Lambda runtime reports for an unhandled exception."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the invoker's own frame
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_list(frames),
        }
    )


class Resources:
    """Routes a Task's resource to the invoker registered for its prefix (Lambda ARNs by default)."""

    def __init__(self, lambdas: LambdaFunctions | None = None) -> None:
        self.lambdas = lambdas or LambdaFunctions()
        self.routes: list[tuple[str, TaskInvoker]] = []

    def register(self, prefix: str, invoker: TaskInvoker) -> None:
        """Send resources starting with ``prefix`` (e.g. ``arn:aws:states:::sqs:sendMessage``) to ``invoker``."""
        self.routes.append((prefix, invoker))

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        for prefix, invoker in self.routes:
            if resource.startswith(prefix):
                return invoker.invoke(resource, payload, context)
        if self.lambdas.handles(resource):
            return self.lambdas.invoke(resource, payload, context)
        raise StatesError(RUNTIME, f"The resource '{resource}' is not supported by this runner")


def as_invoker(tasks: TaskInvoker | Mapping[str, Handler] | None) -> TaskInvoker:
    """Accept an invoker, a ``{function name: handler}`` mapping, or None (no tasks)."""
    if tasks is None:
        return Resources()
    if isinstance(tasks, Mapping):
        return Resources(LambdaFunctions(tasks))
    return tasks
