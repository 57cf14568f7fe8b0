"""AwsWorkflow: the workflow port on AWS Step Functions, through boto3.

The state machine itself (its definition, with ``${...}`` substitutions resolved) is
created by the synthesized template; this adapter starts executions (``StartExecution``,
or ``StartSyncExecution`` for express machines), reads them back (``DescribeExecution``,
``GetExecutionHistory``, ``ListExecutions``), stops and redrives them and answers task
tokens. Inputs and outputs are JSON text on the wire and parsed values in the port.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import StratusError, Throttled, ValidationError
from stratus.resources import workflow as port
from stratus.resources.workflow import Execution, SyncResult, WorkflowBackend

if TYPE_CHECKING:
    from stratus.resources.workflow import Workflow

_ERRORS: dict[str, type[StratusError]] = {
    "ExecutionAlreadyExists": port.ExecutionAlreadyExists,
    "ExecutionDoesNotExist": port.ExecutionDoesNotExist,
    "StateMachineDoesNotExist": port.StateMachineDoesNotExist,
    "ExecutionNotRedrivable": port.ExecutionNotRedrivable,
    "InvalidToken": port.InvalidToken,
    "TaskTimedOut": port.TaskTimedOut,
    "TaskDoesNotExist": port.TaskDoesNotExist,
    "InvalidOutput": port.InvalidOutput,
    "InvalidArn": ValidationError,
    "InvalidName": ValidationError,
    "InvalidExecutionInput": ValidationError,
    "ValidationException": ValidationError,
    "ThrottlingException": Throttled,
}


def translate(error: ClientError) -> StratusError:
    return _context.translate_error(error, _ERRORS)


def _parse(text: Any) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


_utc = _context.utc


def _epoch0() -> datetime:
    return datetime.fromtimestamp(0, UTC)


def _json_event(event: dict[str, Any]) -> dict[str, Any]:
    """A history event with its timestamp as ISO text, as the console and the local engine show it."""
    out = dict(event)
    stamp = out.get("timestamp")
    if isinstance(stamp, datetime):
        out["timestamp"] = stamp.astimezone(UTC).isoformat()
    return out


class AwsWorkflow(WorkflowBackend):
    """One state machine, addressed by the ARN in ``STRATUS_WORKFLOW_<NAME>``."""

    def __init__(self, resource: Workflow, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.machine_arn = _context.physical_id(resource, cloud)
        self.client = _context.client("stepfunctions", cloud)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    @property
    def arn(self) -> str:
        return self.machine_arn

    def _execution(self, described: dict[str, Any]) -> Execution:
        error = described.get("error")
        return Execution(
            arn=str(described["executionArn"]),
            name=str(described.get("name", "")),
            state_machine_arn=str(described.get("stateMachineArn", self.machine_arn)),
            status=str(described["status"]),
            start_date=_utc(described.get("startDate")) or _epoch0(),
            stop_date=_utc(described.get("stopDate")),
            input=_parse(described.get("input")),
            output=_parse(described.get("output")) if described.get("status") == "SUCCEEDED" else None,
            error=str(error) if error is not None else None,
            cause=described.get("cause"),
            redrive_count=int(described.get("redriveCount", 0) or 0),
            redrive_date=_utc(described.get("redriveDate")),
        )

    def start(self, input_text: str, name: str | None) -> Execution:
        params: dict[str, Any] = {"stateMachineArn": self.machine_arn, "input": input_text}
        if name is not None:
            params["name"] = name
        started = self._call("start_execution", **params)
        return self.describe(str(started["executionArn"]))

    def start_sync(self, input_text: str, name: str | None) -> SyncResult:
        params: dict[str, Any] = {"stateMachineArn": self.machine_arn, "input": input_text}
        if name is not None:
            params["name"] = name
        done = self._call("start_sync_execution", **params)
        return SyncResult(
            arn=str(done["executionArn"]),
            name=str(done.get("name", name or "")),
            status=str(done["status"]),
            start_date=_utc(done.get("startDate")) or _epoch0(),
            stop_date=_utc(done.get("stopDate")) or _epoch0(),
            input=_parse(done.get("input")),
            output=_parse(done.get("output")),
            error=done.get("error"),
            cause=done.get("cause"),
        )

    def describe(self, execution_arn: str) -> Execution:
        return self._execution(self._call("describe_execution", executionArn=execution_arn))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                params["nextToken"] = token
            page = self._call("get_execution_history", **params)
            events.extend(_json_event(e) for e in page.get("events", []))
            token = page.get("nextToken")
            if not token:
                return events

    def executions(self, status: str | None) -> list[Execution]:
        found: list[Execution] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"stateMachineArn": self.machine_arn, "maxResults": 1000}
            if status is not None:
                params["statusFilter"] = status
            if token:
                params["nextToken"] = token
            page = self._call("list_executions", **params)
            for summary in page.get("executions", []):
                found.append(self.describe(str(summary["executionArn"])))
            token = page.get("nextToken")
            if not token:
                return found

    def stop(self, execution_arn: str, error: str | None, cause: str | None) -> Execution:
        params: dict[str, Any] = {"executionArn": execution_arn}
        if error is not None:
            params["error"] = error
        if cause is not None:
            params["cause"] = cause
        self._call("stop_execution", **params)
        return self.describe(execution_arn)

    def redrive(self, execution_arn: str) -> Execution:
        self._call("redrive_execution", executionArn=execution_arn)
        return self.describe(execution_arn)

    def send_task_success(self, token: str, output: Any) -> None:
        self._call("send_task_success", taskToken=token, output=json.dumps(output))

    def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        params: dict[str, Any] = {"taskToken": token}
        if error is not None:
            params["error"] = error
        if cause is not None:
            params["cause"] = cause
        self._call("send_task_failure", **params)

    def send_task_heartbeat(self, token: str) -> None:
        self._call("send_task_heartbeat", taskToken=token)
