"""AWS events in, the framework's typed events; handler results out, in the shape AWS expects.

Lambda hands the entrypoint a plain dict whose shape depends on the source. The handler
gets what it gets locally: the function's ``event_class`` (a Powertools data class —
``SQSEvent``, ``SNSEvent``, ``EventBridgeEvent``, ``DynamoDBStreamEvent``,
``KinesisStreamEvent``, ``S3Event``) or, for HTTP API routes, the gateway's ``Request``
(payload format 2.0); a function fed by several kinds of source gets the dict, as locally.
Batch responses (``batchItemFailures``) and Step Functions task results pass back
unchanged; HTTP results become 2.0 response dicts; WebSocket handlers that return nothing
answer 200. What the local gateway checks that API Gateway does not — a route's ``groups``,
and authorizers API Gateway cannot run (API keys with usage plans) — is checked here, so a
route behaves the same on both clouds.
"""

from __future__ import annotations

import json
from typing import Any

#: Event sources recognised by shape.
SOURCES = (
    "sqs",
    "sns",
    "s3",
    "dynamodb",
    "kinesis",
    "eventbridge",
    "schedule",
    "http",
    "websocket",
    "stepfunctions",
    "direct",
)


def detect(event: Any) -> str:
    """Which AWS source produced ``event`` (``direct`` for an invocation payload of any other shape)."""
    if not isinstance(event, dict):
        return "direct"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        source = first.get("eventSource") or first.get("EventSource") or ""
        return {
            "aws:sqs": "sqs",
            "aws:sns": "sns",
            "aws:s3": "s3",
            "aws:dynamodb": "dynamodb",
            "aws:kinesis": "kinesis",
        }.get(source, "direct")
    context = event.get("requestContext")
    if isinstance(context, dict):
        if "connectionId" in context and "routeKey" in context:
            return "websocket"
        if event.get("version") == "2.0" and "http" in context:
            return "http"
    if "detail-type" in event and "source" in event:
        return "schedule" if event.get("source") == "aws.scheduler" else "eventbridge"
    if "TaskToken" in event or "taskToken" in event:
        return "stepfunctions"
    return "direct"


def is_native(authorizer: Any) -> bool:
    """Whether API Gateway runs this authorizer (JWT, or a Lambda authorizer backed by a declared function).

    Others (an API-key store, a test double) run inside the route's function, in the entrypoint,
    before the handler (:func:`authorize`), so a route behaves as it does locally.
    """
    if authorizer.kind == "jwt":
        return True
    return authorizer.kind == "lambda" and getattr(getattr(authorizer, "function", None), "kind", None) == "function"


def http_route(function: Any) -> Any:
    """The HTTP API route a function serves, if it is one."""
    for trigger in getattr(function, "triggers", ()):
        if trigger.kind == "http":
            return trigger.options.get("route")
    return None


def _groups(event: dict[str, Any]) -> set[str]:
    """``cognito:groups`` from the JWT claims API Gateway passes (it flattens lists to ``"[a b]"``)."""
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    raw = claims.get("cognito:groups")
    if isinstance(raw, list):
        return {str(g) for g in raw}
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
                if isinstance(parsed, list):
                    return {str(g) for g in parsed}
            except ValueError:
                pass
            text = text.strip("[]")
        return {g for g in text.replace(",", " ").split() if g}
    return set()


def forbidden(event: Any, function: Any) -> dict[str, Any] | None:
    """A 403 response if the route needs a group the caller is not in (None: go ahead)."""
    route = http_route(function)
    required = tuple(getattr(route, "groups", ()) or ())
    if not required or not isinstance(event, dict):
        return None
    if _groups(event) & set(required):
        return None
    return _refusal(403, "Forbidden")


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


def authorize(event: Any, function: Any) -> dict[str, Any] | None:
    """Run the route's authorizer when API Gateway cannot (an API-key store); a refusal response, or None.

    On success ``requestContext.authorizer`` is filled in as the local gateway does, so the
    handler's ``Request`` sees the same identity on both clouds.
    """
    from stratus.resources.auth import check_requirements

    route = http_route(function)
    authorizer = getattr(route, "authorizer", None)
    if authorizer is None or is_native(authorizer) or not isinstance(event, dict):
        return forbidden(event, function)
    try:
        result = authorizer.authorize(event, route)
        check_requirements(result, tuple(route.scopes), tuple(route.groups))
    except Exception as exc:
        status = getattr(exc, "status", None)
        if not isinstance(status, int):
            return _refusal(500, "Internal Server Error")
        headers = {"www-authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
        reason = getattr(exc, "reason", None) or str(exc)
        message = {401: "Unauthorized", 403: "Forbidden"}.get(status, reason)
        return _refusal(status, message, headers)
    context = event.setdefault("requestContext", {})
    context["authorizer"] = authorizer.request_context(result)
    return None


def to_handler_event(function: Any, event: Any) -> Any:
    """The event the handler receives: typed by the function's event class, else as delivered."""
    return function.typed(event)


def to_aws_result(function: Any, source: str, result: Any) -> Any:
    """The handler's result in the shape the invoking service expects."""
    if source == "http" and http_route(function) is None:
        from stratus.resources.api_response import to_lambda_result

        if not (isinstance(result, dict) and "statusCode" in result):
            return to_lambda_result(result)
    if source == "websocket" and result is None:
        return {"statusCode": 200}
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return result
