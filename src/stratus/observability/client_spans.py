"""A decorator that turns a port handle's method into a client span of the current trace.

Only when something is being traced (inside an invocation or a span) does a call open a
span, so a table write from a test or a script costs nothing extra.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from stratus.observability.context import current

F = TypeVar("F", bound=Callable[..., Any])


def traced(operation: str, service: str) -> Callable[[F], F]:
    """Wrap a handle method: ``@traced("PutObject", "S3")`` → span ``"S3 PutObject <resource>"``."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if current.get() is None:
                return method(self, *args, **kwargs)
            from stratus.observability.tracing import span

            name = f"{service} {operation} {getattr(self, 'qualified_name', '')}".rstrip()
            with span(name, "client", {"aws.service": service, "aws.operation": operation}):
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
