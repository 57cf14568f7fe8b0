"""The workflow backend bound by the local cloud: one state machine on the cloud's engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.local.workflow.engine import WorkflowEngine
from stratus.resources.workflow import Execution, SyncResult, Workflow, WorkflowBackend

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud


class LocalWorkflow(WorkflowBackend):
    """A declared workflow bound to :class:`~stratus.local.workflow.engine.WorkflowEngine`."""

    def __init__(self, resource: Workflow, cloud: LocalCloud) -> None:
        self.resource = resource
        self.type = resource.type
        self.express = resource.express
        # Substitutions are made with this cloud's region and account (ARNs differ per cloud).
        self.machine = resource.compile(cloud.region, cloud.account_id)
        self._arn = cloud.arn("states", f"stateMachine:{resource.qualified_name}")
        self.engine: WorkflowEngine = cloud.shared("workflows", lambda: WorkflowEngine(cloud))
        self.engine.register(self)

    @property
    def arn(self) -> str:
        return self._arn

    def start(self, input_text: str, name: str | None) -> Execution:
        return self.engine.start(self, input_text, name)

    def start_sync(self, input_text: str, name: str | None) -> SyncResult:
        return self.engine.start_sync(self, input_text, name)

    def _own(self, execution_arn: str) -> None:
        self.engine.machine_of(execution_arn)  # ExecutionDoesNotExist for an ARN of no bound machine

    def describe(self, execution_arn: str) -> Execution:
        self._own(execution_arn)
        return self.engine.describe(execution_arn)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        self._own(execution_arn)
        return self.engine.history(execution_arn)

    def executions(self, status: str | None) -> list[Execution]:
        return self.engine.executions(self, status)

    def stop(self, execution_arn: str, error: str | None, cause: str | None) -> Execution:
        self._own(execution_arn)
        return self.engine.stop(execution_arn, error, cause)

    def redrive(self, execution_arn: str) -> Execution:
        return self.engine.redrive(execution_arn)

    def send_task_success(self, token: str, output: Any) -> None:
        self.engine.resolve(token, {"output": output})

    def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        result: dict[str, Any] = {}
        if error is not None:
            result["error"] = error
        if cause is not None:
            result["cause"] = cause
        self.engine.resolve(token, result)

    def send_task_heartbeat(self, token: str) -> None:
        self.engine.heartbeat(token)
