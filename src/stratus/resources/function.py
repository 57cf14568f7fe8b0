"""Functions (Lambda): a Python callable declared on an App, invoked with an event and a context.

    @app.function(timeout=10, memory=512)
    def resize(event, context): ...

A :class:`Function` is a resource like a table: declared in ``app.py``, bound by a
runtime. Calling it directly (``resize(event)``) runs the plain callable, which is what
unit tests want; ``invoke`` and ``invoke_async`` go through the runtime with Lambda's
semantics (timeout, reserved concurrency, retries, destinations, logs).
"""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError, Throttled, ValidationError
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

Handler = Callable[..., Any]

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
DESTINATION_KINDS = ("queue", "topic", "event_bus", "function")
DEPLOYMENTS = ("canary", "linear", "all-at-once")


class FunctionError(StratusError):
    """The handler raised: Lambda's ``Unhandled`` function error, with the error payload."""

    code = "Unhandled"

    def __init__(self, error_type: str, error_message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(f"{error_type}: {error_message}")
        self.error_type = error_type
        self.error_message = error_message
        self.stack_trace = stack_trace or []

    def payload(self) -> dict[str, Any]:
        """The error document Lambda returns (and destinations carry)."""
        return {"errorMessage": self.error_message, "errorType": self.error_type, "stackTrace": self.stack_trace}


class FunctionTimeout(FunctionError):
    """The handler ran past its timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__("Sandbox.Timedout", f"Task timed out after {seconds:.2f} seconds")


class TooManyRequests(Throttled):
    """Reserved concurrency is exhausted (Lambda's 429)."""

    code = "TooManyRequestsException"

    def __init__(self, function: str) -> None:
        super().__init__(f"Rate Exceeded. (reserved concurrency of {function} is in use)")


@dataclass(frozen=True)
class Trigger:
    """An event source bound to a function (an event-source mapping, subscription, rule or route)."""

    source: Resource[Any] | None
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


class FunctionBackend(ABC):
    """What a runtime provides to invoke a declared function."""

    @abstractmethod
    def invoke(self, event: Any) -> Any:
        """Synchronous (RequestResponse) invocation: the handler's result, or FunctionError."""

    @abstractmethod
    def invoke_async(self, event: Any) -> str:
        """Asynchronous (Event) invocation: queued durably; returns the request id."""


class Function(Resource[FunctionBackend]):
    """A declared function: the handler and its Lambda settings."""

    kind = "function"

    def __init__(
        self,
        app: App,
        name: str,
        handler: Handler,
        *,
        timeout: float = 3,
        memory: int = 128,
        reserved_concurrency: int | None = None,
        init: Callable[[], Any] | None = None,
        retries: int = 2,
        max_event_age: int = 21600,
        on_success: Resource[Any] | None = None,
        on_failure: Resource[Any] | None = None,
        environment: dict[str, str] | None = None,
        description: str = "",
        deployment: str | None = None,
        uses: Sequence[Resource[Any]] = (),
    ) -> None:
        super().__init__(app, name)
        if not _FUNCTION_NAME.match(name):
            raise ValidationError(f"function name {name!r} may contain only letters, digits, '-' and '_'")
        if len(self.qualified_name) > 64:
            raise ValidationError(
                f"function {name!r}: its deployed name {self.qualified_name!r} exceeds Lambda's 64 characters"
            )
        if not callable(handler):
            raise ValidationError(f"function {name!r}: handler must be callable, got {handler!r}")
        _check_range(name, "timeout", timeout, 1, 900)
        _check_range(name, "memory", memory, 128, 10240)
        if reserved_concurrency is not None:
            _check_range(name, "reserved_concurrency", reserved_concurrency, 0, 1000)
        _check_range(name, "retries", retries, 0, 2)
        _check_range(name, "max_event_age", max_event_age, 60, 21600)
        for label, dest in (("on_success", on_success), ("on_failure", on_failure)):
            if dest is not None and (not isinstance(dest, Resource) or dest.kind not in DESTINATION_KINDS):
                raise ValidationError(
                    f"function {name!r}: {label} must be a queue, topic, event bus or function, got {dest!r}"
                )
        if deployment is not None and deployment not in DEPLOYMENTS:
            raise ValidationError(f"function {name!r}: deployment must be one of {', '.join(DEPLOYMENTS)}")
        for used in uses:
            if not isinstance(used, Resource) or used.app is not app:
                raise ValidationError(f"function {name!r}: uses= takes resources of this app, got {used!r}")
        if environment is not None and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in environment.items()
        ):
            raise ValidationError(f"function {name!r}: environment must map str to str")
        self.handler = handler
        self.timeout = float(timeout)
        self.memory = int(memory)
        self.reserved_concurrency = reserved_concurrency
        self.init = init
        self.retries = int(retries)
        self.max_event_age = int(max_event_age)
        self.on_success = on_success
        self.on_failure = on_failure
        self.environment = dict(environment or {})
        self.description = description
        #: Release strategy on AWS (alias + CodeDeploy): canary, linear or all-at-once.
        self.deployment = deployment
        #: Resources the handler uses that reading its code cannot see (for least-privilege IAM).
        self.uses = tuple(uses)
        self.is_async = inspect.iscoroutinefunction(handler)
        self.triggers: list[Trigger] = []
        #: The typed event class (powertools data class) the handler receives, when its sources agree on one.
        self.event_class: type | None = None
        self._event_classes: set[type] = set()
        self.__doc__ = handler.__doc__
        self.__wrapped__ = handler

    def __call__(self, event: Any, context: Any = None) -> Any:
        """Run the plain handler (no runtime): for unit tests of handler logic."""
        return self.handler(event, context)

    def invoke(self, event: Any = None) -> Any:
        """Invoke synchronously through the runtime (Lambda's RequestResponse)."""
        return self.backend.invoke(event)

    def invoke_async(self, event: Any = None) -> str:
        """Queue an asynchronous invocation (Lambda's Event type); returns its request id."""
        return self.backend.invoke_async(event)

    def add_trigger(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)

    def use_event_class(self, event_class: type) -> None:
        """Record the event type a source delivers; with mixed sources the handler gets plain dicts."""
        self._event_classes.add(event_class)
        self.event_class = event_class if len(self._event_classes) == 1 else None

    def typed(self, event: Any) -> Any:
        """Wrap an AWS-shaped event dict in this function's event class (if it has one)."""
        if self.event_class is not None and isinstance(event, dict):
            return self.event_class(event)
        return event

    def settings(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "memory": self.memory,
            "reserved_concurrency": self.reserved_concurrency,
            "retries": self.retries,
            "max_event_age": self.max_event_age,
            "on_success": self.on_success.name if self.on_success else None,
            "on_failure": self.on_failure.name if self.on_failure else None,
            "environment": dict(self.environment),
            "handler": f"{self.handler.__module__}.{self.handler.__qualname__}",
            "deployment": self.deployment,
            "uses": [f"{r.kind}:{r.name}" for r in self.uses],
        }


def _check_range(function: str, label: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"function {function!r}: {label} must be a number from {low} to {high}, got {value!r}")
