"""Amazon States Language: parse a definition once, run executions on an injectable clock.

    machine = parse(definition_json)            # InvalidDefinition lists every problem
    result = run(machine, {"order": 1}, clock=VirtualClock(), tasks={"charge": charge})
    result.status, result.output, result.error, result.cause, result.history

- ``definition.py`` validates and compiles (paths, intrinsics and JSONata parsed once);
  ``states/`` holds one module per state type.
- ``engine.py`` keeps each execution as JSON-serializable state (:class:`ExecutionState`)
  advanced one transition at a time, emitting AWS's history events; Wait states and
  retries are "resume at T" on the clock. ``Runtime(on_transition=...)`` is where a
  durable executor commits each transition; ``ExecutionState.from_dict`` resumes.
- ``tasks.py`` is how Task states reach code: :class:`TaskInvoker`; Lambda function ARNs
  resolve to Python handlers (:class:`LambdaFunctions`); :class:`Resources` routes other
  resources (service integrations, callbacks) to invokers registered by prefix.
- ``runner.py``: :func:`run`, the simple synchronous driver.
"""

from __future__ import annotations

from stratus.workflows.definition import StateMachine, parse
from stratus.workflows.engine import ExecutionState, Frame, Runtime, start_execution
from stratus.workflows.errors import InvalidDefinition, StatesError, TaskFailed
from stratus.workflows.runner import ExecutionResult, run
from stratus.workflows.tasks import LambdaContext, LambdaFunctions, Resources, TaskContext, TaskInvoker

__all__ = [
    "ExecutionResult",
    "ExecutionState",
    "Frame",
    "InvalidDefinition",
    "LambdaContext",
    "LambdaFunctions",
    "Resources",
    "Runtime",
    "StateMachine",
    "StatesError",
    "TaskContext",
    "TaskFailed",
    "TaskInvoker",
    "parse",
    "run",
    "start_execution",
]
