"""The errors of the workflow engine.

Two kinds: :class:`InvalidDefinition` is raised when a definition is loaded (as AWS's
CreateStateMachine rejects it); :class:`StatesError` is a failure *inside* an execution,
carrying the ASL error name and cause that Retry/Catch match on and that
ExecutionFailed reports. :class:`TaskFailed` is what a task invoker raises.
"""

from __future__ import annotations

from stratus.errors import ValidationError


class InvalidDefinition(ValidationError):
    """A state machine definition that AWS would refuse; ``problems`` lists each one with its location.

    The message reads as AWS's CreateStateMachine error: ``Invalid State Machine Definition:
    'CODE: message at /States/..., CODE: ...'``.
    """

    code = "InvalidDefinition"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Invalid State Machine Definition: '" + ", ".join(self.problems) + "'")


SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"


class Problems:
    """Collects definition problems as AWS words them: ``CODE: message at /location``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str, code: str = SCHEMA_VALIDATION_FAILED) -> None:
        self.items.append(f"{code}: {message} at {where or '/'}")

    def __bool__(self) -> bool:
        return bool(self.items)


class StatesError(Exception):
    """A runtime failure with an ASL error name (``States.Runtime``, ``States.TaskFailed``, a custom name...)."""

    def __init__(self, error: str | None, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause


class TaskFailed(StatesError):
    """Raised by a :class:`~stratus.workflows.tasks.TaskInvoker` when the task failed."""


# Names of the errors the service itself raises.
ALL = "States.ALL"
RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
DATA_LIMIT = "States.DataLimitExceeded"
NO_CHOICE = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
QUERY_EVALUATION = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
EXCEED_TOLERATED = "States.ExceedToleratedFailureThreshold"
RESULT_PATH_MATCH = "States.ResultPathMatchFailure"
