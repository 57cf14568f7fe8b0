"""Task states that invoke the app's functions through the local function runtime.

Two resources reach a function: its ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME``,
the handler's result is the task result) and the optimized integration
``arn:aws:states:::lambda:invoke`` (``FunctionName``, ``Payload``, ``InvocationType``;
the result is Lambda's Invoke response: ``ExecutedVersion``, ``Payload``, ``StatusCode``
and the SDK metadata). Both run through :class:`~stratus.local.functions.FunctionEngine`,
so timeouts, reserved concurrency, logs and metrics apply.

Errors are reported as Step Functions reports them: a handler's exception is the error
named by its ``errorType`` with Lambda's error document (``errorMessage``, ``errorType``,
``requestId``, ``stackTrace``) as the cause; throttling, a missing function and other
service errors are ``Lambda.TooManyRequestsException``, ``Lambda.ResourceNotFoundException``...
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any

from stratus import jsontext
from stratus.errors import StratusError
from stratus.ids import uuid4_text
from stratus.local.functions import payload_default
from stratus.resources.function import FunctionError, TooManyRequests
from stratus.workflows import TaskContext, TaskFailed
from stratus.workflows.tasks import LAMBDA_ARN

if TYPE_CHECKING:
    from stratus.local.workflow.directory import Directory
    from stratus.resources.function import Function


def sdk_metadata(request_id: str | None = None, content_type: str = "application/x-amz-json-1.1") -> dict[str, Any]:
    """The ``SdkHttpMetadata``/``SdkResponseMetadata`` fields optimized integrations add to a response."""
    request_id = request_id or uuid4_text()
    headers = {"Content-Type": content_type, "x-amzn-RequestId": request_id}
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def _plain(value: Any) -> Any:
    try:
        return jsontext.copy(value, payload_default)
    except (TypeError, ValueError) as exc:
        raise TaskFailed("Lambda.Unknown", f"Unable to marshal response: {exc}") from None


def _not_found(identifier: str) -> TaskFailed:
    return TaskFailed(
        "Lambda.ResourceNotFoundException",
        f"Function not found: {identifier} (Service: AWSLambda; Status Code: 404; Error Code: "
        f"ResourceNotFoundException; Request ID: {uuid4_text()}; Proxy: null)",
    )


def run_function(function: Function, event: Any) -> Any:
    """Invoke synchronously; the JSON result, or TaskFailed as Step Functions names the error."""
    try:
        return _plain(function.invoke(jsontext.copy(event)))
    except TooManyRequests as exc:
        raise TaskFailed(
            "Lambda.TooManyRequestsException",
            f"{exc.message} (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; "
            f"Request ID: {uuid4_text()}; Proxy: null)",
        ) from None
    except FunctionError as exc:
        document = {
            "errorMessage": exc.error_message,
            "errorType": exc.error_type,
            "requestId": uuid4_text(),
            "stackTrace": exc.stack_trace,
        }
        raise TaskFailed(exc.error_type or "Lambda.Unknown", json.dumps(document)) from None
    except StratusError as exc:
        raise TaskFailed(f"Lambda.{exc.code}", exc.message) from None


class FunctionArns:
    """``arn:aws:lambda:...:function:NAME`` resources: the handler's result is the task's result."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        m = LAMBDA_ARN.match(resource)
        function = self.directory.find("function", m.group(3) if m else resource)
        if function is None:
            raise _not_found(resource)
        return run_function(function, payload)


class LambdaInvoke:
    """``arn:aws:states:::lambda:invoke`` (and ``.waitForTaskToken``): Lambda's Invoke API."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        if not isinstance(payload, dict) or not isinstance(payload.get("FunctionName"), str):
            raise TaskFailed("States.Runtime", "The field 'FunctionName' is required for lambda:invoke")
        name = payload["FunctionName"]
        function = self.directory.find("function", name)
        if function is None:
            raise _not_found(name)
        event = payload.get("Payload")
        if isinstance(event, str):
            with contextlib.suppress(json.JSONDecodeError):
                event = json.loads(event)
        kind = payload.get("InvocationType", "RequestResponse")
        if kind == "Event":
            function.invoke_async(event)
            return {"Payload": "", "StatusCode": 202, **sdk_metadata()}
        if kind == "DryRun":
            return {"Payload": "", "StatusCode": 204, **sdk_metadata()}
        result = run_function(function, event)
        return {"ExecutedVersion": "$LATEST", "Payload": result, **sdk_metadata(), "StatusCode": 200}
