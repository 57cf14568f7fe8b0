"""Workflows (Step Functions state machines): declare with ``app.workflow(...)``, use the handle.

    checkout = app.workflow(
        "checkout",
        definition="workflows/checkout.asl.json",      # relative to the module declaring the app
        substitutions={"ReserveFunction": reserve, "OrdersTable": orders},
    )
    execution = checkout.start({"order": "o-1"}, name="o-1")
    checkout.describe(execution.arn).status

The definition is Amazon States Language, exactly what deploys to AWS Step Functions.
``${Name}`` placeholders are DefinitionSubstitutions (as SAM's ``DefinitionSubstitutions``)
replaced by what CloudFormation would put there for each resource (:func:`substitution_value`).
The definition is parsed and validated when declared, so a bad one fails at import with
:class:`~stratus.workflows.InvalidDefinition` listing every problem.

The API follows Step Functions': StartExecution (idempotent by name while running),
StartSyncExecution (EXPRESS), DescribeExecution, GetExecutionHistory, ListExecutions,
StopExecution, RedriveExecution and the task-token calls SendTaskSuccess/Failure/Heartbeat,
with AWS's error names (:class:`ExecutionAlreadyExists`, :class:`InvalidToken`...).
"""

from __future__ import annotations

import inspect
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import stratus
from stratus.errors import ResourceNotFound, StratusError, ValidationError
from stratus.resources.base import Resource
from stratus.workflows import InvalidDefinition, StateMachine, parse
from stratus.workflows.states.base import MAX_PAYLOAD_BYTES
from stratus.workflows.states.task import WAITING_SUFFIXES

if TYPE_CHECKING:
    from stratus.app import App

__all__ = [
    "Execution",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionNotRedrivable",
    "InvalidDefinition",
    "InvalidOutput",
    "InvalidToken",
    "StateMachineDoesNotExist",
    "SyncResult",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "Workflow",
    "WorkflowBackend",
]

STANDARD, EXPRESS = "STANDARD", "EXPRESS"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
DEFAULT_REGION, DEFAULT_ACCOUNT = "us-east-1", "000000000000"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")
#: StartExecution's name rule: 1-80 characters, no whitespace, no control characters and none of <>{}[]?*"#%\^|~`$&,;:/
_EXECUTION_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")
_MAX_ERROR, _MAX_CAUSE = 256, 32768


# -- errors --------------------------------------------------------------------------------------


class ExecutionAlreadyExists(StratusError):
    """An execution with this name exists (closed, or running with a different input)."""

    code = "ExecutionAlreadyExists"


class ExecutionDoesNotExist(ResourceNotFound):
    code = "ExecutionDoesNotExist"


class StateMachineDoesNotExist(ResourceNotFound):
    code = "StateMachineDoesNotExist"


class ExecutionNotRedrivable(StratusError):
    code = "ExecutionNotRedrivable"


class InvalidToken(ValidationError):
    code = "InvalidToken"


class TaskTimedOut(StratusError):
    """The token's task is no longer waiting (it finished, timed out, or its execution ended)."""

    code = "TaskTimedOut"


class TaskDoesNotExist(ResourceNotFound):
    code = "TaskDoesNotExist"


class InvalidOutput(ValidationError):
    code = "InvalidOutput"


# -- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """DescribeExecution's answer: ``input``/``output`` are parsed JSON."""

    arn: str
    name: str
    state_machine_arn: str
    status: str
    start_date: datetime
    stop_date: datetime | None = None
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    redrive_date: datetime | None = None

    @property
    def execution_arn(self) -> str:
        return self.arn


@dataclass(frozen=True)
class SyncResult:
    """StartSyncExecution's answer (EXPRESS): SUCCEEDED with ``output``, or FAILED/TIMED_OUT with error and cause."""

    arn: str
    name: str
    status: str
    start_date: datetime
    stop_date: datetime
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None


class WorkflowBackend(ABC):
    """What an adapter implements for one state machine."""

    @abstractmethod
    def start(self, input_text: str, name: str | None) -> Execution: ...

    @abstractmethod
    def start_sync(self, input_text: str, name: str | None) -> SyncResult: ...

    @abstractmethod
    def describe(self, execution_arn: str) -> Execution: ...

    @abstractmethod
    def history(self, execution_arn: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def executions(self, status: str | None) -> list[Execution]: ...

    @abstractmethod
    def stop(self, execution_arn: str, error: str | None, cause: str | None) -> Execution: ...

    @abstractmethod
    def redrive(self, execution_arn: str) -> Execution: ...

    @abstractmethod
    def send_task_success(self, token: str, output: Any) -> None: ...

    @abstractmethod
    def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None: ...

    @abstractmethod
    def send_task_heartbeat(self, token: str) -> None: ...

    @property
    @abstractmethod
    def arn(self) -> str:
        """The state machine's ARN where it is bound."""


# -- substitutions -------------------------------------------------------------------------------


def substitution_value(value: Any, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    """What CloudFormation puts for a resource in DefinitionSubstitutions (``!GetAtt``/``!Ref`` as SAM uses them).

    function → Lambda ARN, table / event bus / bucket → name, queue → URL, topic → ARN,
    workflow → state machine ARN; strings and numbers are used as they are.
    """
    if isinstance(value, Resource):
        kind, name = value.kind, value.qualified_name
        if kind == "function":
            return f"arn:aws:lambda:{region}:{account}:function:{name}"
        if kind == "queue":
            return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        if kind == "topic":
            return f"arn:aws:sns:{region}:{account}:{name}"
        if kind == "workflow":
            return f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        if kind in ("table", "event_bus", "bucket", "stream"):
            return name
        raise ValidationError(f"a {kind} cannot be a definition substitution")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValidationError(f"substitution values are resources, strings or numbers, got {type(value).__name__}")


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace every ``${Name}``; a placeholder without a value stays (as CloudFormation leaves it)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _declaring_module_folder() -> Path:
    """The folder of the first caller outside the stratus package (the module that declared the app)."""
    package = Path(stratus.__file__).resolve().parent
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):
            path = Path(filename).resolve()
            if not path.is_relative_to(package):
                return path.parent
        frame = frame.f_back
    return Path.cwd()


def _definition_text(definition: Any, workflow: str) -> tuple[str, str | None]:
    """(ASL text, the file it came from) for a path, a dict, or JSON text."""
    if isinstance(definition, dict):
        return json.dumps(definition), None
    if isinstance(definition, Path) or (isinstance(definition, str) and not definition.lstrip().startswith("{")):
        path = Path(definition)
        if not path.is_absolute():
            path = _declaring_module_folder() / path
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise ValidationError(f"workflow {workflow!r}: cannot read definition {path}: {exc.strerror}") from None
    if isinstance(definition, str):
        return definition, None
    raise ValidationError(
        f"workflow {workflow!r}: definition is a path, an ASL dict or JSON text, got {type(definition).__name__}"
    )


def _check_express(machine: StateMachine) -> None:
    problems = []
    for program in machine.programs.values():
        for state in program.states.values():
            resource = getattr(state, "resource", "")
            if state.type == "Task" and resource.endswith(WAITING_SUFFIXES):
                problems.append(
                    f"SCHEMA_VALIDATION_FAILED: Express state machines do not support the '{resource}' "
                    f"integration pattern at {state.where}"
                )
    if problems:
        raise InvalidDefinition(problems)


def _json_text(value: Any, what: str, error: type[ValidationError] = ValidationError) -> str:
    try:
        text = json.dumps({} if value is None else value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise error(f"{what} is not JSON-serializable: {exc}") from None
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise error(f"{what} exceeds the maximum size of {MAX_PAYLOAD_BYTES} bytes")
    return text


# -- the handle ----------------------------------------------------------------------------------


class Workflow(Resource[WorkflowBackend]):
    """A declared state machine (STANDARD: durable, exactly-once transitions; EXPRESS: fast, at-least-once)."""

    kind: ClassVar[str] = "workflow"
    max_name_length: ClassVar[int] = 80

    def __init__(
        self,
        app: App,
        name: str,
        *,
        definition: str | Path | dict[str, Any],
        type: str = STANDARD,
        substitutions: dict[str, Any] | None = None,
        timeout: int | None = None,
    ) -> None:
        super().__init__(app, name)
        if type not in (STANDARD, EXPRESS):
            raise ValidationError(f"workflow {name!r}: type must be 'STANDARD' or 'EXPRESS', got {type!r}")
        if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0):
            raise ValidationError(f"workflow {name!r}: timeout must be a positive number of seconds")
        if substitutions is not None and not isinstance(substitutions, dict):
            raise ValidationError(f"workflow {name!r}: substitutions must be a dict")
        self.type = type
        self.timeout = timeout
        self.substitutions: dict[str, Any] = dict(substitutions or {})
        for key, value in self.substitutions.items():
            if isinstance(value, Resource) and value.app is not app:
                raise ValidationError(f"workflow {name!r}: substitution {key!r} is a resource of another app")
            substitution_value(value)  # reject unsupported values now
        self.template, self.definition_file = _definition_text(definition, name)
        self.machine = self.compile()  # validates at declaration

    @property
    def express(self) -> bool:
        return self.type == EXPRESS

    def definition_text(self, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
        """The ASL with every substitution made for ``region``/``account``."""
        values = {k: substitution_value(v, region, account) for k, v in self.substitutions.items()}
        return substitute(self.template, values)

    def compile(self, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> StateMachine:
        """Parse the substituted definition (InvalidDefinition lists every problem)."""
        try:
            machine = parse(self.definition_text(region, account), name=self.qualified_name, distributed_map=True)
        except InvalidDefinition as exc:
            where = f" ({self.definition_file})" if self.definition_file else ""
            raise InvalidDefinition([f"workflow {self.name!r}{where}: {p}" for p in exc.problems]) from None
        if self.express:
            _check_express(machine)
        if self.timeout is not None and machine.timeout_seconds is None:
            machine.timeout_seconds = self.timeout
        return machine

    def settings(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "timeout": self.timeout,
            "definition_file": self.definition_file,
            "substitutions": {k: substitution_value(v) for k, v in self.substitutions.items()},
        }

    @property
    def arn(self) -> str:
        """The state machine ARN where the workflow is bound."""
        return self.backend.arn

    # -- executions --------------------------------------------------------------------------

    def start(self, input: Any = None, *, name: str | None = None) -> Execution:
        """StartExecution: committed before it returns; the execution runs in the background.

        A STANDARD execution name is unique for 90 days: starting a running execution's name
        again with the same input returns it; anything else raises ExecutionAlreadyExists.
        """
        _check_name(name)
        return self.backend.start(_json_text(input, "execution input"), name)

    def start_sync(self, input: Any = None, *, name: str | None = None) -> SyncResult:
        """StartSyncExecution (EXPRESS only): run the execution now and return how it ended."""
        if not self.express:
            raise StateMachineTypeNotSupported(
                f"workflow {self.name!r} is STANDARD; StartSyncExecution is only for EXPRESS state machines"
            )
        _check_name(name)
        return self.backend.start_sync(_json_text(input, "execution input"), name)

    def describe(self, execution_arn: str) -> Execution:
        return self.backend.describe(_arn(execution_arn))

    def history(self, execution_arn: str, *, reverse: bool = False) -> list[dict[str, Any]]:
        """GetExecutionHistory's events (``timestamp`` as an aware datetime), oldest first unless ``reverse``."""
        events = self.backend.history(_arn(execution_arn))
        return events[::-1] if reverse else events

    def executions(self, status: str | None = None) -> list[Execution]:
        """ListExecutions: newest first, optionally only those with ``status``."""
        if status is not None and status not in STATUSES:
            raise ValidationError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        return self.backend.executions(status)

    def stop(self, execution_arn: str, error: str | None = None, cause: str | None = None) -> Execution:
        """StopExecution: a running execution ends ABORTED (a closed one is left as it is)."""
        _check_error(error, cause)
        return self.backend.stop(_arn(execution_arn), error, cause)

    def redrive(self, execution_arn: str) -> Execution:
        """RedriveExecution: a FAILED, TIMED_OUT or ABORTED STANDARD execution continues from the state that failed."""
        return self.backend.redrive(_arn(execution_arn))

    # -- task tokens (any workflow handle routes any token of its cloud) ----------------------

    def send_task_success(self, token: str, output: Any = None) -> None:
        text = _json_text(output, "task output", InvalidOutput)
        self.backend.send_task_success(_token(token), json.loads(text))

    def send_task_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        _check_error(error, cause)
        self.backend.send_task_failure(_token(token), error, cause)

    def send_task_heartbeat(self, token: str) -> None:
        self.backend.send_task_heartbeat(_token(token))


class StateMachineTypeNotSupported(ValidationError):
    code = "StateMachineTypeNotSupported"


def _check_name(name: object) -> None:
    if name is not None and (not isinstance(name, str) or not _EXECUTION_NAME.match(name)):
        raise ValidationError(f"Invalid Name: '{name}' (1-80 characters, no whitespace or <>{{}}[]?*\"#%\\^|~`$&,;:/)")


def _arn(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("arn:"):
        raise ValidationError(f"Invalid Arn: '{value}'")
    return value


def _token(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 2048:
        raise InvalidToken("Invalid Token: the task token must be a string of 1-2048 characters")
    return value


def _check_error(error: str | None, cause: str | None) -> None:
    if error is not None and (not isinstance(error, str) or len(error) > _MAX_ERROR):
        raise ValidationError(f"error must be a string of at most {_MAX_ERROR} characters")
    if cause is not None and (not isinstance(cause, str) or len(cause) > _MAX_CAUSE):
        raise ValidationError(f"cause must be a string of at most {_MAX_CAUSE} characters")
