"""AwsFunction against a stubbed Lambda client (moto runs functions only in Docker)."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from stratus import App
from stratus.aws.adapters.function import AwsFunction
from stratus.resources.function import FunctionError, TooManyRequests


class StubCloud:
    def __init__(self, client: Any) -> None:
        self._client = client

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        return "shop-handler"

    def client(self, service: str) -> Any:
        return self._client


def _body(document: Any) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def bound() -> Any:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    app = App("shop")

    @app.function
    def handler(event: Any, context: Any) -> Any:
        return event

    with Stubber(client) as stub:
        handler.bind(AwsFunction(handler, StubCloud(client)))
        yield handler, stub
        handler.unbind()


def test_invoke_returns_the_result_and_async_the_request_id(bound: Any) -> None:
    handler, stub = bound
    expected = {"FunctionName": "shop-handler", "InvocationType": "RequestResponse", "Payload": b'{"n": 1}'}
    stub.add_response("invoke", {"StatusCode": 200, "Payload": _body({"ok": True})}, expected)
    assert handler.invoke({"n": 1}) == {"ok": True}
    stub.add_response(
        "invoke",
        {"StatusCode": 202, "ResponseMetadata": {"RequestId": "req-1"}},
        {"FunctionName": "shop-handler", "InvocationType": "Event", "Payload": b'{"n": 2}'},
    )
    assert handler.invoke_async({"n": 2}) == "req-1"


def test_handler_errors_and_throttles_map_to_the_ports_errors(bound: Any) -> None:
    handler, stub = bound
    document = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["line 1"]}
    stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body(document)})
    with pytest.raises(FunctionError) as caught:
        handler.invoke({})
    assert caught.value.payload() == document
    stub.add_client_error("invoke", "TooManyRequestsException", "Rate Exceeded.", 429)
    with pytest.raises(TooManyRequests):
        handler.invoke({})
