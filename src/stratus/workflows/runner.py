"""A simple synchronous runner: start an execution and step it to the end.

When the execution has nothing to do but wait (a Wait state, a retry interval), the
runner moves a :class:`~stratus.clock.VirtualClock` forward to the wake-up time, or
sleeps on any other clock. Durable (persisted) executors build on the same
:class:`~stratus.workflows.engine.Runtime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stratus.clock import Clock, SystemClock, VirtualClock
from stratus.errors import ValidationError
from stratus.workflows.definition import StateMachine, parse
from stratus.workflows.engine import Runtime, start_execution, to_text
from stratus.workflows.states.base import MAX_PAYLOAD_BYTES
from stratus.workflows.tasks import Handler, TaskInvoker, as_invoker


@dataclass
class ExecutionResult:
    """How an execution ended: ``status`` SUCCEEDED (``output``), FAILED or TIMED_OUT (``error``, ``cause``)."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    execution_arn: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def run(
    machine: StateMachine | str | dict[str, Any],
    input: Any = None,
    *,
    clock: Clock | None = None,
    tasks: TaskInvoker | Mapping[str, Handler] | None = None,
    name: str | None = None,
    machine_type: str = "STANDARD",
) -> ExecutionResult:
    """Run one execution to its end and return its outcome and history.

    ``machine_type`` is ``STANDARD`` or ``EXPRESS`` (which changes the execution ARN and
    the context object, as on AWS).
    """
    if not isinstance(machine, StateMachine):
        machine = parse(machine)
    clock = clock or SystemClock()
    if input is None:
        input = {}
    if len(to_text(input).encode()) > MAX_PAYLOAD_BYTES:
        raise ValidationError("The execution input exceeds the maximum size of 262144 bytes")
    execution = start_execution(machine, input, clock=clock, name=name, machine_type=machine_type)
    runtime = Runtime(machine, execution, clock, as_invoker(tasks))
    while True:
        wake = runtime.step()
        if wake is None:
            break
        delay = wake - clock.now()
        if delay > 0:
            if isinstance(clock, VirtualClock):
                clock.set(wake)
            else:
                clock.sleep(delay)
    return ExecutionResult(
        status=execution.status,
        output=execution.output,
        error=execution.error,
        cause=execution.cause,
        history=execution.events,
        execution_arn=execution.execution_arn,
    )
