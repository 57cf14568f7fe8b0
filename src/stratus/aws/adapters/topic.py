"""AwsTopic: the topic port on Amazon SNS, through boto3.

The handle validates and shapes every publish (typed attributes, FIFO rules, per-protocol
structures); this adapter calls ``Publish`` and maps SNS's error codes onto the port's
errors. Fan-out, filter policies, retries and dead-letter queues are SNS's own: declared
subscriptions are created by the synthesized template; subscriptions added at run time
(``subscribe_http/email/sms``) become ``Subscribe`` calls, remembered by this adapter so
that they can be listed and removed with the handle's subscription ARNs.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import AccessDenied, ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources import topic as port
from stratus.resources.topic import Message, PublishResult, Subscription, TopicBackend

if TYPE_CHECKING:
    from stratus.resources.base import Resource
    from stratus.resources.topic import Topic

_ERRORS: dict[str, type[StratusError]] = {
    "InvalidParameter": port.InvalidParameter,
    "InvalidParameterValue": port.InvalidParameter,
    "ParameterValueInvalid": port.InvalidParameter,
    "NotFound": port.NotFound,
    "ResourceNotFound": ResourceNotFound,
    "AuthorizationError": AccessDenied,
    "Throttled": Throttled,
    "ThrottlingException": Throttled,
    "TooManyEntriesInBatchRequest": port.TooManyEntriesInBatchRequest,
    "BatchEntryIdsNotDistinct": port.BatchEntryIdsNotDistinct,
    "BatchRequestTooLong": port.BatchRequestTooLong,
    "ValidationException": ValidationError,
}


def translate(error: ClientError) -> StratusError:
    code = _context.error_code(error)
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(_context.error_message(error))
    failure = StratusError(f"{code}: {_context.error_message(error)}")
    failure.code = code or StratusError.code
    return failure


def endpoint_arn(resource: Resource[Any], cloud: Any) -> str:
    """The ARN SNS delivers to for a queue or function handle."""
    backend = resource.backend if resource.is_bound else None
    arn = getattr(backend, "queue_arn", None) or getattr(backend, "function_arn", None)
    if isinstance(arn, str):
        return arn
    identity = _context.physical_id(resource, cloud)
    if identity.startswith("arn:"):
        return identity
    try:
        if resource.kind == "queue":
            sqs = _context.client("sqs", cloud)
            found = sqs.get_queue_attributes(QueueUrl=identity, AttributeNames=["QueueArn"])["Attributes"]
            return str(found["QueueArn"])
        if resource.kind == "function":
            found = _context.client("lambda", cloud).get_function(FunctionName=identity)["Configuration"]
            return str(found["FunctionArn"])
    except ClientError as error:
        raise translate(error) from None
    raise port.InvalidParameter(f"cannot subscribe a {resource.kind} to an SNS topic")


class AwsTopic(TopicBackend):
    """One SNS topic, addressed by the ARN in ``STRATUS_TOPIC_<NAME>``."""

    def __init__(self, resource: Topic, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.topic_arn = _context.physical_id(resource, cloud)
        self.client = _context.client("sns", cloud)
        self._lock = threading.Lock()
        #: Run-time subscriptions made through this adapter: the handle's ARN -> (subscription, SNS ARN).
        self._runtime: dict[str, tuple[Subscription, str]] = {}

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error) from None

    def publish(self, message: Message) -> PublishResult:
        params: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": message.message}
        if message.structure is not None:
            params["MessageStructure"] = "json"
        if message.subject is not None:
            params["Subject"] = message.subject
        if message.attributes:
            params["MessageAttributes"] = message.attributes
        if message.group_id is not None:
            params["MessageGroupId"] = message.group_id
        if message.deduplication_id is not None:
            params["MessageDeduplicationId"] = message.deduplication_id
        response = self._call("publish", **params)
        return PublishResult(str(response["MessageId"]), response.get("SequenceNumber"))

    def add_subscription(self, subscription: Subscription) -> None:
        endpoint = subscription.endpoint
        target = endpoint if isinstance(endpoint, str) else endpoint_arn(endpoint, self.cloud)
        attributes: dict[str, str] = {}
        if subscription.filter_policy is not None:
            attributes["FilterPolicy"] = json.dumps(subscription.filter_policy.source)
            attributes["FilterPolicyScope"] = subscription.filter_scope
        if subscription.raw:
            attributes["RawMessageDelivery"] = "true"
        if subscription.dead_letter is not None:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": endpoint_arn(subscription.dead_letter, self.cloud)}
            )
        params: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Protocol": subscription.protocol,
            "Endpoint": target,
            "ReturnSubscriptionArn": True,
        }
        if attributes:
            params["Attributes"] = attributes
        arn = str(self._call("subscribe", **params)["SubscriptionArn"])
        with self._lock:
            self._runtime[subscription.arn] = (subscription, arn)

    def remove_subscription(self, arn: str) -> None:
        with self._lock:
            entry = self._runtime.get(arn)
        if entry is None:
            raise port.NotFound(
                f"Subscription does not exist: {arn} (declared subscriptions cannot be removed at run time)"
            )
        self._call("unsubscribe", SubscriptionArn=entry[1])
        with self._lock:
            self._runtime.pop(arn, None)

    def runtime_subscriptions(self) -> list[Subscription]:
        with self._lock:
            return [subscription for subscription, _ in self._runtime.values()]

    def subscription_arn(self, arn: str) -> str | None:
        """The SNS ARN of a run-time subscription made through this adapter."""
        with self._lock:
            entry = self._runtime.get(arn)
        return entry[1] if entry else None
