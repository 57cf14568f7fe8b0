"""AwsFunction: invoking a declared function on AWS Lambda, through boto3.

``invoke`` is a ``RequestResponse`` invocation whose JSON payload is the handler's result;
a handler error (``X-Amz-Function-Error``) becomes the port's FunctionError with Lambda's
error document, a timeout FunctionTimeout's type. ``invoke_async`` is an ``Event``
invocation and returns Lambda's request id. Event-source mappings, retries and
destinations are Lambda's own (the template declares them).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.function import FunctionBackend, FunctionError, TooManyRequests

if TYPE_CHECKING:
    from stratus.resources.function import Function


class AwsFunction(FunctionBackend):
    """One Lambda function, named by ``STRATUS_FUNCTION_<NAME>``."""

    def __init__(self, resource: Function, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.function_name = _context.physical_id(resource, cloud)
        self.client = _context.client("lambda", cloud)
        self._arn: str | None = self.function_name if self.function_name.startswith("arn:") else None

    def _translate(self, error: ClientError) -> StratusError:
        code = _context.error_code(error)
        message = _context.error_message(error)
        if code == "TooManyRequestsException":
            return TooManyRequests(self.resource.name)
        if code == "ResourceNotFoundException":
            return ResourceNotFound(message)
        if code in ("InvalidRequestContentException", "RequestTooLargeException", "ValidationException"):
            return ValidationError(message)
        if code == "ThrottlingException":
            return Throttled(message)
        failure = StratusError(f"{code}: {message}")
        failure.code = code or StratusError.code
        return failure

    def _invoke(self, invocation: str, event: Any) -> dict[str, Any]:
        try:
            return self.client.invoke(  # type: ignore[no-any-return,unused-ignore]
                FunctionName=self.function_name,
                InvocationType=invocation,
                Payload=json.dumps(event, default=str).encode(),
            )
        except ClientError as error:
            raise self._translate(error) from None

    @property
    def function_arn(self) -> str:
        if self._arn is None:
            try:
                found = self.client.get_function(FunctionName=self.function_name)["Configuration"]
            except ClientError as error:
                raise self._translate(error) from None
            self._arn = str(found["FunctionArn"])
        return self._arn

    def invoke(self, event: Any) -> Any:
        response = self._invoke("RequestResponse", event)
        stream = response.get("Payload")
        raw = stream.read() if stream is not None else b""
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            document = raw.decode(errors="replace")
        if response.get("FunctionError"):
            details = document if isinstance(document, dict) else {}
            raise FunctionError(
                str(details.get("errorType", response["FunctionError"])),
                str(details.get("errorMessage", document if isinstance(document, str) else "")),
                list(details.get("stackTrace") or []),
            )
        return document

    def invoke_async(self, event: Any) -> str:
        response = self._invoke("Event", event)
        return str(response.get("ResponseMetadata", {}).get("RequestId", ""))
