"""Topics (SNS): publish once, deliver to every subscription whose filter policy matches.

    alerts = app.topic("alerts")
    alerts.subscribe(ops_queue, filter_policy={"severity": ["high"]}, raw=True)
    alerts.subscribe_email("ops@example.com")

    @app.on_topic(alerts)
    def page_on_call(event, context): ...

Subscriptions declared before the app is bound are part of its architecture (synthesized
to AWS); email, SMS and HTTP subscriptions can also be added at run time. Email and SMS
are delivered to a local outbox the user can read (``stratus outbox``), not sent. HTTP and
email subscriptions are confirmed automatically.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.errors import StratusError, ValidationError
from stratus.matching import FilterPolicy, compile_filter_policy
from stratus.resources.base import Resource
from stratus.resources.messages import attributes_size, typed_attributes

if TYPE_CHECKING:
    from stratus.app import App

MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH = 10
PROTOCOLS = ("sqs", "lambda", "http", "https", "email", "email-json", "sms")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidParameter(ValidationError):
    """SNS's InvalidParameter: a publish or subscription argument AWS would reject."""

    code = "InvalidParameter"


class NotFound(StratusError):
    code = "NotFound"


@dataclass(frozen=True)
class Subscription:
    """One subscription: where messages go, and which of them."""

    arn: str
    protocol: str
    endpoint: Resource[Any] | str
    filter_policy: FilterPolicy | None = None
    filter_scope: str = "MessageAttributes"
    raw: bool = False
    dead_letter: Resource[Any] | None = None

    def accepts(self, attributes: dict[str, Any], message: str, memo: dict[Any, Any] | None = None) -> bool:
        """Whether the filter policy lets the message through (``memo``: see ``FilterPolicy.matches``)."""
        if self.filter_policy is None:
            return True
        return self.filter_policy.matches(message_attributes=attributes, body=message, memo=memo)

    def describe(self) -> dict[str, Any]:
        endpoint = self.endpoint if isinstance(self.endpoint, str) else f"{self.endpoint.kind}:{self.endpoint.name}"
        return {
            "arn": self.arn,
            "protocol": self.protocol,
            "endpoint": endpoint,
            "filter_policy": self.filter_policy.source if self.filter_policy else None,
            "filter_scope": self.filter_scope,
            "raw": self.raw,
            "dead_letter": self.dead_letter.name if self.dead_letter else None,
        }


@dataclass(frozen=True)
class PublishResult:
    message_id: str
    sequence_number: str | None = None


@dataclass(frozen=True)
class BatchEntryResult:
    id: str
    message_id: str | None = None
    sequence_number: str | None = None
    code: str | None = None
    message: str | None = None
    sender_fault: bool = False


@dataclass(frozen=True)
class Message:
    """A validated publish request, ready to fan out."""

    message: str
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    structure: dict[str, str] | None
    group_id: str | None
    deduplication_id: str | None

    def for_protocol(self, protocol: str) -> str:
        if self.structure is None:
            return self.message
        key = "lambda" if protocol == "lambda" else protocol
        return self.structure.get(key, self.structure["default"])


class TopicBackend(ABC):
    @abstractmethod
    def publish(self, message: Message) -> PublishResult: ...

    @abstractmethod
    def add_subscription(self, subscription: Subscription) -> None: ...

    @abstractmethod
    def remove_subscription(self, arn: str) -> None: ...

    @abstractmethod
    def runtime_subscriptions(self) -> list[Subscription]: ...


class Topic(Resource[TopicBackend]):
    """An SNS topic (standard or FIFO)."""

    kind = "topic"
    max_name_length = 256

    def __init__(self, app: App, name: str, *, fifo: bool = False, content_based_deduplication: bool = False) -> None:
        super().__init__(app, name)
        if not _TOPIC_NAME.match(name):
            raise ValidationError(f"topic name {name!r}: 1-256 of letters, digits, '-' and '_' (plus '.fifo')")
        if fifo != name.endswith(".fifo"):
            raise ValidationError(f"topic {name!r}: a FIFO topic's name must end in '.fifo', and only a FIFO topic's")
        if content_based_deduplication and not fifo:
            raise ValidationError(f"topic {name!r}: content-based deduplication needs a FIFO topic")
        self.fifo = fifo
        self.content_based_deduplication = content_based_deduplication
        self.subscriptions: list[Subscription] = []

    @property
    def arn_suffix(self) -> str:
        return self.qualified_name

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(
        self,
        endpoint: Resource[Any],
        *,
        filter_policy: dict[str, Any] | str | None = None,
        filter_scope: str = "MessageAttributes",
        raw: bool = False,
        dead_letter: Resource[Any] | None = None,
    ) -> Subscription:
        """Subscribe a queue or a function of this app."""
        kind = getattr(endpoint, "kind", None)
        if kind not in ("queue", "function"):
            raise InvalidParameter(
                f"topic {self.name!r}: subscribe() takes a queue or function; use subscribe_http/email/sms"
            )
        if self.fifo and kind != "queue":
            raise InvalidParameter(f"topic {self.name!r}: a FIFO topic delivers only to SQS queues")
        protocol = "sqs" if kind == "queue" else "lambda"
        return self._add(protocol, endpoint, filter_policy, filter_scope, raw, dead_letter)

    def subscribe_http(
        self,
        url: str,
        *,
        filter_policy: Any = None,
        filter_scope: str = "MessageAttributes",
        raw: bool = False,
        dead_letter: Resource[Any] | None = None,
    ) -> Subscription:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidParameter(f"Invalid parameter: Endpoint must be an http:// or https:// URL, got {url!r}")
        return self._add(
            "https" if url.startswith("https") else "http", url, filter_policy, filter_scope, raw, dead_letter
        )

    def subscribe_email(self, address: str, *, json_format: bool = False, filter_policy: Any = None) -> Subscription:
        if not isinstance(address, str) or not _EMAIL.match(address):
            raise InvalidParameter(f"Invalid parameter: Email address {address!r}")
        return self._add(
            "email-json" if json_format else "email", address, filter_policy, "MessageAttributes", False, None
        )

    def subscribe_sms(self, phone: str, *, filter_policy: Any = None) -> Subscription:
        if not isinstance(phone, str) or not _PHONE.match(phone):
            raise InvalidParameter(f"Invalid parameter: PhoneNumber {phone!r} is not in E.164 format")
        return self._add("sms", phone, filter_policy, "MessageAttributes", False, None)

    def _add(
        self,
        protocol: str,
        endpoint: Resource[Any] | str,
        policy: Any,
        scope: str,
        raw: bool,
        dead_letter: Resource[Any] | None,
    ) -> Subscription:
        if self.fifo and protocol != "sqs":
            raise InvalidParameter(f"topic {self.name!r}: a FIFO topic delivers only to SQS queues")
        if dead_letter is not None and getattr(dead_letter, "kind", None) != "queue":
            raise InvalidParameter(f"topic {self.name!r}: a subscription's dead_letter must be a queue")
        if raw and protocol not in ("sqs", "http", "https"):
            raise InvalidParameter("Invalid parameter: RawMessageDelivery is supported only for SQS and HTTP(S)")
        if isinstance(endpoint, Resource) and endpoint.app is not self.app:
            raise InvalidParameter(f"topic {self.name!r}: {endpoint!r} belongs to another app")
        compiled = None
        if policy is not None:
            compiled = compile_filter_policy(policy, scope=scope, error_prefix="Invalid parameter: Attributes Reason: ")  # type: ignore[arg-type]
        key = endpoint if isinstance(endpoint, str) else f"{endpoint.kind}:{endpoint.qualified_name}"
        sub_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.qualified_name}|{protocol}|{key}")
        subscription = Subscription(
            f"{self.qualified_name}:{sub_id}", protocol, endpoint, compiled, scope, raw, dead_letter
        )
        if any(s.arn == subscription.arn for s in self.all_subscriptions()):
            raise InvalidParameter(f"topic {self.name!r} already has a {protocol} subscription to {key}")
        if self.is_bound:
            self.backend.add_subscription(subscription)
        else:
            self.subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Remove a run-time subscription."""
        arn = subscription if isinstance(subscription, str) else subscription.arn
        self.backend.remove_subscription(arn)

    def all_subscriptions(self) -> list[Subscription]:
        runtime = self.backend.runtime_subscriptions() if self.is_bound else []
        return [*self.subscriptions, *runtime]

    # -- publishing -------------------------------------------------------------------------
    def publish(
        self,
        message: str | dict[str, Any] | list[Any],
        *,
        subject: str | None = None,
        attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        per_protocol: bool = False,
    ) -> PublishResult:
        """Publish a message (dicts and lists are sent as JSON text).

        With ``per_protocol=True`` the message is a dict of per-protocol texts with a
        ``default`` (SNS's MessageStructure=json).
        """
        return self.backend.publish(
            self._message(message, subject, attributes, group_id, deduplication_id, per_protocol)
        )

    def publish_batch(self, entries: list[dict[str, Any]]) -> list[BatchEntryResult]:
        """Publish up to 10 entries (each a dict of publish()'s arguments plus a unique ``id``)."""
        if not isinstance(entries, list) or not entries:
            raise InvalidParameter("publish_batch needs a non-empty list of entries")
        if len(entries) > MAX_BATCH:
            raise TooManyEntriesInBatchRequest(
                f"The batch request contains more entries ({len(entries)}) than permissible ({MAX_BATCH})."
            )
        ids = [e.get("id") if isinstance(e, dict) else None for e in entries]
        if any(not isinstance(i, str) or not i for i in ids):
            raise InvalidParameter("every batch entry needs a non-empty string id")
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.")
        messages: list[tuple[str, Message | None, StratusError | None]] = []
        total = 0
        for entry in entries:
            args = {k: v for k, v in entry.items() if k != "id"}
            try:
                msg = self._message(
                    args.pop("message", None),
                    args.pop("subject", None),
                    args.pop("attributes", None),
                    args.pop("group_id", None),
                    args.pop("deduplication_id", None),
                    args.pop("per_protocol", False),
                )
                if args:
                    raise InvalidParameter(f"unknown batch entry field(s): {', '.join(sorted(args))}")
                total += len(msg.message.encode()) + attributes_size(msg.attributes)
                messages.append((entry["id"], msg, None))
            except StratusError as error:
                messages.append((entry["id"], None, error))
        if total > MAX_MESSAGE_BYTES:
            raise BatchRequestTooLong(
                f"The length of all the messages put together is more than the limit ({MAX_MESSAGE_BYTES} bytes)."
            )
        results = []
        for entry_id, prepared, failure in messages:
            if prepared is None:
                assert failure is not None
                results.append(
                    BatchEntryResult(entry_id, code=failure.code, message=failure.message, sender_fault=True)
                )
                continue
            published = self.backend.publish(prepared)
            results.append(BatchEntryResult(entry_id, published.message_id, published.sequence_number))
        return results

    def _message(
        self,
        message: Any,
        subject: str | None,
        attributes: dict[str, Any] | None,
        group_id: str | None,
        deduplication_id: str | None,
        per_protocol: bool,
    ) -> Message:
        structure = None
        if per_protocol:
            if not isinstance(message, dict) or not isinstance(message.get("default"), str):
                raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
            if not all(isinstance(v, str) for v in message.values()):
                raise InvalidParameter(
                    "Invalid parameter: Message Structure - every protocol's message must be a string"
                )
            structure = dict(message)
            text = json.dumps(structure)
        elif isinstance(message, dict | list):
            text = json.dumps(message, default=str)
        elif isinstance(message, str):
            text = message
        else:
            raise InvalidParameter(
                f"Invalid parameter: Message must be a string (or JSON-able dict/list), got {type(message).__name__}"
            )
        if text == "":
            raise InvalidParameter("Invalid parameter: Empty message")
        if subject is not None:
            if not isinstance(subject, str) or not subject or len(subject) > 100:
                raise InvalidParameter("Invalid parameter: Subject must be 1-100 characters")
            if not all(32 <= ord(c) < 127 for c in subject):
                raise InvalidParameter(
                    "Invalid parameter: Subject must be ASCII text without line breaks or control characters"
                )
        typed = typed_attributes(attributes, allow_arrays=True, what="Invalid parameter: MessageAttributes")
        size = len(text.encode()) + attributes_size(typed)
        if size > MAX_MESSAGE_BYTES:
            raise InvalidParameter(
                f"Invalid parameter: Message too long: {size} bytes (the limit is {MAX_MESSAGE_BYTES})"
            )
        if self.fifo:
            if not group_id:
                raise InvalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
            if not deduplication_id:
                if not self.content_based_deduplication:
                    raise InvalidParameter(
                        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled "
                        "or MessageDeduplicationId provided explicitly"
                    )
                deduplication_id = hashlib.sha256(text.encode()).hexdigest()
        elif group_id is not None or deduplication_id is not None:
            raise InvalidParameter(
                "Invalid parameter: MessageGroupId and MessageDeduplicationId are for FIFO topics only"
            )
        return Message(text, subject, typed, structure, group_id, deduplication_id)

    def settings(self) -> dict[str, Any]:
        return {
            "fifo": self.fifo,
            "content_based_deduplication": self.content_based_deduplication,
            "subscriptions": [s.describe() for s in self.subscriptions],
        }


class TooManyEntriesInBatchRequest(ValidationError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(ValidationError):
    code = "BatchEntryIdsNotDistinct"


class BatchRequestTooLong(ValidationError):
    code = "BatchRequestTooLong"
