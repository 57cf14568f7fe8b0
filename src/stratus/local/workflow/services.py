"""Optimized integrations with the app's queues, topics, tables and event buses.

``arn:aws:states:::sqs:sendMessage``, ``sns:publish``, ``dynamodb:getItem|putItem|
updateItem|deleteItem``, ``events:putEvents`` and ``s3:getObject|putObject|listObjectsV2``
(which distributed Maps read and write through) take the AWS API's request fields as
Parameters and return its response fields (with ``SdkHttpMetadata`` and
``SdkResponseMetadata``, as Step Functions adds them). The work goes through each
resource's handle, so the port's validation and semantics apply; errors become the
task errors Step Functions reports (``SQS.InvalidParameterValueException``,
``DynamoDB.ConditionalCheckFailedException``, ``EventBridge.FailedEntry``...).
A ``.waitForTaskToken`` suffix does the same call; the engine then waits for the token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError, ValidationError
from stratus.ids import uuid4_text
from stratus.local.workflow.lambdas import sdk_metadata
from stratus.resources.queue import MessageAttribute
from stratus.resources.table.values import from_attribute_value, from_image, to_image
from stratus.workflows import TaskContext, TaskFailed

if TYPE_CHECKING:
    from stratus.local.workflow.directory import Directory

_SERVICE_NAMES = {
    "sqs": "AmazonSQS",
    "sns": "AmazonSNS",
    "dynamodb": "AmazonDynamoDBv2",
    "events": "AmazonEventBridge",
    "s3": "Amazon S3",
}
_ERROR_PREFIX = {"sqs": "SQS", "sns": "SNS", "dynamodb": "DynamoDB", "events": "EventBridge", "s3": "S3"}


def service_error(service: str, exc: StratusError) -> TaskFailed:
    """A port error as the task error Step Functions reports for the service."""
    code = exc.code
    if service == "dynamodb" and code == "ValidationException":
        code = "AmazonDynamoDBException"
    elif service in ("sqs", "sns") and not code.endswith("Exception"):
        code += "Exception"
    cause = (
        f"{exc.message} (Service: {_SERVICE_NAMES[service]}; Status Code: 400; Error Code: {exc.code}; "
        f"Request ID: {uuid4_text()}; Proxy: null)"
    )
    return TaskFailed(f"{_ERROR_PREFIX[service]}.{code}", cause)


def _missing(service: str, what: str, value: Any) -> TaskFailed:
    codes = {
        "sqs": "QueueDoesNotExistException",
        "sns": "NotFoundException",
        "dynamodb": "ResourceNotFoundException",
        "s3": "NoSuchBucket",
    }
    code = codes.get(service, "ResourceNotFoundException")
    return TaskFailed(
        f"{_ERROR_PREFIX[service]}.{code}",
        f"{what} not found: {value} (Service: {_SERVICE_NAMES[service]}; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid4_text()}; Proxy: null)",
    )


def _body(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_image(image: dict[str, Any]) -> dict[str, Any]:
    """A typed image as JSON (binary values as base64 text, as the AWS JSON protocol sends them)."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return plain(image)


class Service:
    """Routes ``arn:aws:states:::<service>:<action>[.waitForTaskToken]`` to one method per action."""

    service = ""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        action = resource.rsplit(":", 1)[-1].split(".", 1)[0]
        method: Callable[[dict[str, Any]], Any] | None = getattr(self, f"do_{action}", None)
        if method is None:
            raise TaskFailed("States.Runtime", f"The resource '{resource}' is not supported")
        if not isinstance(payload, dict):
            raise TaskFailed("States.Runtime", f"The Parameters of '{resource}' must be an object")
        try:
            return method(payload)
        except StratusError as exc:
            raise service_error(self.service, exc) from None
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            # A request of the wrong shape (a Key that is not an AttributeValue map...): the service refuses it.
            refused = ValidationError(f"The request of {resource} is malformed: {type(exc).__name__}: {exc}")
            raise service_error(self.service, refused) from None

    def _find(self, kind: str, field: str, payload: dict[str, Any], what: str) -> Any:
        identifier = payload.get(field)
        found = self.directory.find(kind, identifier)
        if found is None:
            raise _missing(self.service, what, identifier)
        return found


class Sqs(Service):
    service = "sqs"

    def do_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._find("queue", "QueueUrl", p, "Queue")
        attributes = {}
        for name, attr in (p.get("MessageAttributes") or {}).items():
            if isinstance(attr, dict) and "BinaryValue" in attr:
                attributes[name] = MessageAttribute(
                    attr.get("DataType", "Binary"), base64.b64decode(attr["BinaryValue"])
                )
            elif isinstance(attr, dict):
                attributes[name] = MessageAttribute(attr.get("DataType", "String"), str(attr.get("StringValue", "")))
            else:
                attributes[name] = attr
        result = queue.send(
            _body(p.get("MessageBody", "")),
            attributes=attributes or None,
            delay=p.get("DelaySeconds"),
            group_id=p.get("MessageGroupId"),
            deduplication_id=p.get("MessageDeduplicationId"),
        )
        out: dict[str, Any] = {"MD5OfMessageBody": result.md5_of_body, "MessageId": result.message_id}
        if result.md5_of_attributes:
            out["MD5OfMessageAttributes"] = result.md5_of_attributes
        if result.sequence_number:
            out["SequenceNumber"] = result.sequence_number
        return {**out, **sdk_metadata(content_type="text/xml")}


class Sns(Service):
    service = "sns"

    def do_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        topic = self._find("topic", "TopicArn", p, "Topic")
        structure = p.get("MessageStructure") == "json"
        message = p.get("Message", "")
        if structure and isinstance(message, str):
            message = json.loads(message)
        result = topic.publish(
            message if structure else _body(message),
            subject=p.get("Subject"),
            attributes=p.get("MessageAttributes"),
            group_id=p.get("MessageGroupId"),
            deduplication_id=p.get("MessageDeduplicationId"),
            per_protocol=structure,
        )
        out: dict[str, Any] = {"MessageId": result.message_id}
        if result.sequence_number:
            out["SequenceNumber"] = result.sequence_number
        return {**out, **sdk_metadata(content_type="text/xml")}


class DynamoDb(Service):
    service = "dynamodb"

    @staticmethod
    def _values(p: dict[str, Any]) -> dict[str, Any] | None:
        raw = p.get("ExpressionAttributeValues")
        return {k: from_attribute_value(v) for k, v in raw.items()} if raw else None

    @staticmethod
    def _answer(attributes: dict[str, Any] | None, returns: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if attributes and returns != "NONE":
            out["Attributes"] = _json_image(to_image(attributes))
        return {**out, **sdk_metadata(content_type="application/x-amz-json-1.0")}

    def do_getItem(self, p: dict[str, Any]) -> dict[str, Any]:
        table = self._find("table", "TableName", p, "Requested resource")
        item = table.get(
            from_image(p.get("Key") or {}),
            projection=p.get("ProjectionExpression"),
            names=p.get("ExpressionAttributeNames"),
            consistent=bool(p.get("ConsistentRead", False)),
        )
        out: dict[str, Any] = {"Item": _json_image(to_image(item))} if item is not None else {}
        return {**out, **sdk_metadata(content_type="application/x-amz-json-1.0")}

    def do_putItem(self, p: dict[str, Any]) -> dict[str, Any]:
        table = self._find("table", "TableName", p, "Requested resource")
        returns = p.get("ReturnValues", "NONE")
        old = table.put(
            from_image(p.get("Item") or {}),
            condition=p.get("ConditionExpression"),
            names=p.get("ExpressionAttributeNames"),
            values=self._values(p),
            return_old=returns == "ALL_OLD",
        )
        return self._answer(old, returns)

    def do_updateItem(self, p: dict[str, Any]) -> dict[str, Any]:
        table = self._find("table", "TableName", p, "Requested resource")
        returns = p.get("ReturnValues", "NONE")
        attributes = table.update(
            from_image(p.get("Key") or {}),
            p.get("UpdateExpression"),
            condition=p.get("ConditionExpression"),
            names=p.get("ExpressionAttributeNames"),
            values=self._values(p),
            returns=returns,
        )
        return self._answer(attributes, returns)

    def do_deleteItem(self, p: dict[str, Any]) -> dict[str, Any]:
        table = self._find("table", "TableName", p, "Requested resource")
        returns = p.get("ReturnValues", "NONE")
        old = table.delete(
            from_image(p.get("Key") or {}),
            condition=p.get("ConditionExpression"),
            names=p.get("ExpressionAttributeNames"),
            values=self._values(p),
            return_old=returns == "ALL_OLD",
        )
        return self._answer(old, returns)


class Events(Service):
    service = "events"

    def do_putEvents(self, p: dict[str, Any]) -> dict[str, Any]:
        entries = p.get("Entries")
        if not isinstance(entries, list) or not entries:
            raise TaskFailed("EventBridge.ValidationException", "Entries must be a non-empty list")
        results: list[dict[str, Any]] = []
        failed = 0
        for entry in entries:
            bus_name = entry.get("EventBusName", "default")
            bus = self.directory.find("event_bus", bus_name)
            detail = entry.get("Detail", {})
            if isinstance(detail, str):
                try:
                    detail = json.loads(detail)
                except json.JSONDecodeError:
                    results.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                    failed += 1
                    continue
            if bus is None:
                # The account's default bus has no rules locally: the event is accepted and goes nowhere.
                results.append({"EventId": uuid4_text()})
                continue
            put = bus.put_events(
                [
                    {
                        "source": entry.get("Source"),
                        "detail_type": entry.get("DetailType"),
                        "detail": detail,
                        "resources": entry.get("Resources"),
                    }
                ]
            )
            result = put.entries[0]
            if result.error_code:
                failed += 1
                results.append({"ErrorCode": result.error_code, "ErrorMessage": result.error_message})
            else:
                results.append({"EventId": result.event_id})
        answer = {"Entries": results, "FailedEntryCount": failed}
        if failed:
            raise TaskFailed("EventBridge.FailedEntry", json.dumps(answer))
        return answer


class S3(Service):
    service = "s3"

    def do_listObjectsV2(self, p: dict[str, Any]) -> dict[str, Any]:
        bucket = self._find("bucket", "Bucket", p, "Bucket")
        contents: list[dict[str, Any]] = []
        token = None
        while True:
            page = bucket.list(p.get("Prefix", ""), continuation_token=token)
            contents.extend(
                {
                    "Key": o.key,
                    "Size": o.size,
                    "ETag": o.etag,
                    "LastModified": o.last_modified.isoformat().replace("+00:00", "Z"),
                    "StorageClass": "STANDARD",
                }
                for o in page.objects
            )
            token = page.next_continuation_token
            if not page.is_truncated or token is None:
                break
        return {
            "Contents": contents,
            "KeyCount": len(contents),
            "Name": bucket.qualified_name,
            "Prefix": p.get("Prefix", ""),
        }

    def do_getObject(self, p: dict[str, Any]) -> dict[str, Any]:
        bucket = self._find("bucket", "Bucket", p, "Bucket")
        found = bucket.get(p.get("Key"))
        return {
            "Body": found.body.decode("utf-8", errors="replace"),
            "ContentLength": found.content_length,
            "ContentType": found.content_type,
            "ETag": found.etag,
        }

    def do_putObject(self, p: dict[str, Any]) -> dict[str, Any]:
        bucket = self._find("bucket", "Bucket", p, "Bucket")
        body = p.get("Body", "")
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        result = bucket.put(p.get("Key"), text.encode(), content_type=p.get("ContentType") or "application/json")
        return {"ETag": result.etag}
