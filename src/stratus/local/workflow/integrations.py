"""Which code serves which Task resource: the routes of the interpreter's :class:`Resources`.

Function ARNs and ``lambda:invoke`` go to the function runtime (:mod:`.lambdas`); the
sqs, sns, dynamodb and events integrations to the resources' handles (:mod:`.services`);
``states:startExecution`` (request-response, ``.sync``, ``.sync:2``) starts another
workflow of the cloud through the engine. A ``.waitForTaskToken``/``.sync`` suffix is
routed like the plain action; the Task state then waits for its token.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError
from stratus.local.workflow.lambdas import FunctionArns, LambdaInvoke, sdk_metadata
from stratus.local.workflow.services import S3, DynamoDb, Events, Sns, Sqs
from stratus.workflows import Resources, TaskContext, TaskFailed

if TYPE_CHECKING:
    from stratus.local.workflow.engine import WorkflowEngine


class StartExecution:
    """``arn:aws:states:::states:startExecution[.sync|.sync:2]``: start a workflow of this cloud."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        mode = ".sync:2" if resource.endswith(".sync:2") else ".sync" if resource.endswith(".sync") else None
        if not isinstance(payload, dict):
            raise TaskFailed("States.Runtime", "The Parameters of states:startExecution must be an object")
        arn = payload.get("StateMachineArn")
        workflow = self.engine.machines.get(arn) if isinstance(arn, str) else None
        if workflow is None:
            raise TaskFailed(
                "StepFunctions.StateMachineDoesNotExistException", f"State Machine Does Not Exist: '{arn}'"
            )
        raw = payload.get("Input", {})
        if isinstance(raw, str):
            try:
                json.loads(raw)
            except json.JSONDecodeError:
                raise TaskFailed("StepFunctions.InvalidExecutionInputException", "Invalid execution input") from None
            text = raw
        else:
            text = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
        parent = {"token": context.task_token, "mode": mode} if mode and context.task_token else None
        try:
            execution = self.engine.start(workflow, text, payload.get("Name"), parent)
        except StratusError as exc:
            code = exc.code if exc.code.endswith("Exception") else f"{exc.code}Exception"
            raise TaskFailed(f"StepFunctions.{code}", exc.message) from None
        return {
            "ExecutionArn": execution.arn,
            "StartDate": int(execution.start_date.timestamp() * 1000),
            **sdk_metadata(content_type="application/x-amz-json-1.0"),
        }


def build_resources(engine: WorkflowEngine) -> Resources:
    directory = engine.directory
    resources = Resources()
    resources.register("arn:aws:lambda:", FunctionArns(directory))
    resources.register("arn:aws:states:::lambda:invoke", LambdaInvoke(directory))
    resources.register("arn:aws:states:::sqs:", Sqs(directory))
    resources.register("arn:aws:states:::sns:", Sns(directory))
    resources.register("arn:aws:states:::dynamodb:", DynamoDb(directory))
    resources.register("arn:aws:states:::events:", Events(directory))
    resources.register("arn:aws:states:::s3:", S3(directory))
    resources.register("arn:aws:states:::states:startExecution", StartExecution(engine))
    return resources
