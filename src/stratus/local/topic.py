"""The local topic: SNS fan-out, durable and at-least-once.

Publishing evaluates every subscription's filter policy once. When every accepted
subscription of a standard topic is a queue of this cloud (the common fan-out), the
messages are enqueued right away, in ONE transaction of the queues database, and that
commit acknowledges the publish: the message is durably accepted, in the queues
themselves, with one span for the whole fan-out. Otherwise (functions, HTTP, email or SMS
among the subscribers, a FIFO topic, a message a queue rejects) the publish writes one
delivery row per accepted subscription, in the transaction that acknowledges it, and the
pump delivers the rows: SQS and Lambda subscriptions retry as SNS does for
AWS-managed endpoints (quickly at first, then every 20 s) and HTTP(S) ones per SNS's
default delivery policy (3 retries, 20 s apart); a subscription with a dead-letter queue
receives what could not be delivered. FIFO topics keep each message group in order per
subscription and drop duplicates seen in the last 5 minutes.

Email and SMS subscriptions write to ``<state>/outbox/{email,sms}.jsonl`` instead of
sending anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from stratus.errors import ResourceNotFound
from stratus.ids import uuid4_text
from stratus.local.pumps import IDLE, PumpResult
from stratus.local.queue import LocalQueue, send_many
from stratus.local.targets import deliver
from stratus.matching import compile_filter_policy
from stratus.observability.context import current_header
from stratus.observability.hub import attach
from stratus.observability.tracing import span
from stratus.resources.base import Resource
from stratus.resources.queue import MessageAttribute, OutgoingMessage, Queue
from stratus.resources.topic import Message, NotFound, PublishResult, Subscription, Topic, TopicBackend

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.topics")

DEDUP_WINDOW = 300.0
#: Delay before each retry for SQS/Lambda subscriptions (then 20 s each), and the attempt cap.
MANAGED_RETRY_DELAYS = (0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 4.0, 8.0, 16.0)
MANAGED_MAX_ATTEMPTS = 50
HTTP_RETRY_DELAY = 20.0
HTTP_MAX_ATTEMPTS = 4

_MIGRATIONS = [
    """
    CREATE TABLE topic_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        subscription TEXT NOT NULL,
        group_id TEXT,
        record TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at REAL NOT NULL
    );
    CREATE INDEX topic_deliveries_due ON topic_deliveries (due_at);
    CREATE INDEX topic_deliveries_group ON topic_deliveries (subscription, group_id, id);
    CREATE TABLE topic_dedup (
        topic TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT,
        expires_at REAL NOT NULL,
        PRIMARY KEY (topic, dedup_id)
    );
    CREATE TABLE topic_sequences (topic TEXT PRIMARY KEY, last INTEGER NOT NULL);
    CREATE TABLE topic_subscriptions (
        topic TEXT NOT NULL,
        arn TEXT NOT NULL PRIMARY KEY,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        filter_policy TEXT,
        filter_scope TEXT NOT NULL,
        raw INTEGER NOT NULL,
        dead_letter TEXT
    )
    """
]


#: The formatted second of the last timestamp (strftime is the slow part; a publish needs one).
_second: tuple[int, str] = (-1, "")


def _timestamp(epoch: float) -> str:
    global _second
    second = int(epoch // 1)
    cached = _second
    if cached[0] != second:
        cached = _second = (second, datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    return cached[1] + f"{int(epoch * 1000) % 1000:03d}Z"


class TopicEngine:
    """Deliveries of every topic of a cloud (``cloud.shared("topics")``)."""

    name = "topic-deliveries"

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("topics")
        self.db.migrate("topics", _MIGRATIONS)
        self.topics: dict[str, LocalTopic] = {}
        self.outbox = cloud.storage.folder("outbox")
        self._outbox_lock = threading.Lock()
        self._signing_key = self._load_signing_key()
        self.http = httpx.Client(timeout=15.0)
        self.observability = attach(cloud)
        #: Whether the deliveries table may hold rows (set when one is stored, cleared when the pump finds it
        #: empty): an idle pump then costs no query.
        self.pending = True
        cloud.add_pump(self)

    def _load_signing_key(self) -> bytes:
        path = self.cloud.state_dir / "sns-signing.key"
        if not path.exists():
            path.write_bytes(secrets.token_bytes(32))
            path.chmod(0o600)
        return path.read_bytes()

    def sign(self, record: dict[str, Any]) -> str:
        """HMAC-SHA256 over SNS's canonical notification fields (local stand-in for SNS's RSA signature)."""
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        canonical = "".join(f"{f}\n{record[f]}\n" for f in fields if record.get(f) is not None)
        return base64.b64encode(hmac.new(self._signing_key, canonical.encode(), hashlib.sha256).digest()).decode()

    # -- delivery at publish time -----------------------------------------------------------
    def deliver_now(
        self,
        topic: LocalTopic,
        message: Message,
        message_id: str,
        now: float,
        trace: str | None,
        matched: list[tuple[Subscription, str]],
    ) -> list[tuple[Subscription, str]] | None:
        """Enqueue a standard topic's message to its subscribed local queues in ONE queue transaction.

        Only when every matched subscription is an SQS queue of this cloud and every message validates:
        otherwise None, and nothing was done (the caller stores the deliveries for the pump, which
        retries as SNS does). The publish is acknowledged when this commit is: the message is durably
        accepted, in the queues themselves. Returns the subscriptions whose queue failed its own part
        of the transaction (none, normally): the caller stores those for the pump.

        One span per publish ("SNS <topic>", a child of the publisher) covers the deliveries, and each
        queue message carries it as its parent, as each delivery's span does on the pump's path.
        """
        text = matched[0][1]
        record: dict[str, Any] | None = None  # what a non-raw (enveloped) delivery is built from
        raw: dict[tuple[Any, ...], OutgoingMessage] = {}  # a raw message per distinct queue settings
        sqs_attributes: dict[str, MessageAttribute] | None = None
        planned: list[tuple[Subscription, LocalQueue, OutgoingMessage]] = []
        db = None
        for sub, sub_text in matched:
            backend = self._batchable(sub)
            if backend is None or (db is not None and backend.db is not db) or sub_text != text:
                return None
            db = backend.db
            queue = backend.resource
            try:
                if sub.raw:
                    key = (queue.fifo, queue.content_based_deduplication, queue.max_message_size)
                    template = raw.get(key)
                    if template is None:
                        if sqs_attributes is None:
                            sqs_attributes = {k: _sqs_typed(v) for k, v in message.attributes.items()}
                        template = raw[key] = queue._outgoing(text, sqs_attributes or None, None, None, None)
                else:
                    if record is None:
                        record = _record(message, message_id, text, now, None, trace)
                    template = queue._outgoing(self._envelope_text(topic, record, sub), None, None, None, None)
            except Exception:  # the pump's path retries it and, in the end, dead-letters it
                return None
            planned.append((sub, backend, template))
        with span(
            f"SNS {topic.resource.qualified_name}",
            "consumer",
            {
                "messaging.message.id": message_id,
                "stratus.protocol": "sqs",
                "messaging.batch.message_count": len(planned),
            },
            parent=trace,
            hub=self.observability,
        ):
            header = current_header()
            traced: dict[int, OutgoingMessage] = {}  # subscriptions sharing a raw message share it traced too
            groups = []
            for _, backend, template in planned:
                outgoing = traced.get(id(template))
                if outgoing is None:
                    outgoing = traced[id(template)] = _with_trace(template, header)
                groups.append((backend, [outgoing]))
            try:
                outcomes = send_many(groups)
            except Exception:  # the commit failed: nothing was enqueued
                log.warning("topic %s: direct delivery failed; stored for the pump", topic.name, exc_info=True)
                return None
        return [
            (sub, text) for (sub, _, _), outcome in zip(planned, outcomes, strict=True) if not isinstance(outcome, list)
        ]

    # -- the pump ----------------------------------------------------------------------------
    def pump(self) -> PumpResult:
        if not self.pending:
            return IDLE  # nothing stored since the deliveries table was last seen empty
        now = self.clock.now()
        rows = self.db.execute(
            "SELECT d.id, d.topic, d.subscription, d.group_id, d.record, d.attempts FROM topic_deliveries d "
            "WHERE d.due_at <= ? AND (d.group_id IS NULL OR NOT EXISTS (SELECT 1 FROM topic_deliveries e "
            "WHERE e.subscription = d.subscription AND e.group_id = d.group_id AND e.id < d.id)) "
            "ORDER BY d.id LIMIT 200",
            (now,),
        )
        done: list[int] = []
        retries: list[tuple[int, float, int]] = []
        records: dict[str, dict[str, Any]] = {}
        # SQS deliveries of the round are validated one by one (in their span, so each message carries the
        # delivery's trace header) and then enqueued together: one transaction on the queues database.
        batched: dict[int, list[tuple[int, LocalTopic, Subscription, dict[str, Any], int, OutgoingMessage]]] = {}
        backends: dict[int, LocalQueue] = {}
        for delivery_id, topic_name, sub_arn, _group, record, attempts in rows:
            topic = self.topics.get(topic_name)
            if topic is None:
                continue
            subscription = topic.find(sub_arn)
            if subscription is None:  # unsubscribed since: nothing to deliver to
                done.append(delivery_id)
                continue
            parsed = records.get(record)
            if parsed is None:
                parsed = records[record] = json.loads(record)
            backend = self._batchable(subscription)
            if backend is not None:
                try:
                    outgoing = self._traced(topic, subscription, parsed, self._outgoing)
                except Exception as error:
                    retry = self._failed(topic, subscription, parsed, attempts, now, error)
                else:
                    key = id(backend)
                    backends[key] = backend
                    batched.setdefault(key, []).append((delivery_id, topic, subscription, parsed, attempts, outgoing))
                    continue
            else:
                retry = self._attempt(topic, subscription, parsed, attempts, now)
            if retry is None:
                done.append(delivery_id)
            else:
                retries.append((retry[0], retry[1], delivery_id))
        if batched:
            outcomes: dict[int, Any] = {}
            by_db: dict[int, list[int]] = {}
            for key, backend in backends.items():
                by_db.setdefault(id(backend.db), []).append(key)
            for keys in by_db.values():  # one transaction per database (every queue of a cloud shares one)
                groups = [(backends[key], [entry[5] for entry in batched[key]]) for key in keys]
                try:
                    outcomes.update(zip(keys, send_many(groups), strict=True))
                except Exception as error:  # the commit failed: nothing was sent, these deliveries are retried
                    outcomes.update((key, error) for key in keys)
            for key, entries in batched.items():
                outcome = outcomes[key]
                for delivery_id, topic, subscription, parsed, attempts, _ in entries:
                    retry = (
                        self._failed(topic, subscription, parsed, attempts, now, outcome)
                        if isinstance(outcome, Exception)
                        else None
                    )
                    if retry is None:
                        done.append(delivery_id)
                    else:
                        retries.append((retry[0], retry[1], delivery_id))
        # Acknowledge the whole round in one transaction (a crash before it only redelivers: at-least-once).
        if done or retries:
            with self.db.transaction() as conn:
                if done:
                    conn.executemany("DELETE FROM topic_deliveries WHERE id = ?", [(d,) for d in done])
                if retries:
                    conn.executemany("UPDATE topic_deliveries SET attempts = ?, due_at = ? WHERE id = ?", retries)
        if rows:
            return PumpResult(True)
        with self.db.lock:  # rows are stored under this lock, so none can arrive between the look and the flag
            nxt = self.db.execute("SELECT MIN(due_at) FROM topic_deliveries")[0][0]
            if nxt is None:
                self.pending = False
        return PumpResult(False, nxt) if nxt is not None else IDLE

    def _attempt(
        self, topic: LocalTopic, sub: Subscription, record: dict[str, Any], attempts: int, now: float
    ) -> tuple[int, float] | None:
        """Deliver once; None when finished (delivered or given up), else (attempts, due_at) for a retry."""
        try:
            self._traced(topic, sub, record, self._deliver)
        except Exception as error:
            return self._failed(topic, sub, record, attempts, now, error)
        return None

    def _traced(self, topic: LocalTopic, sub: Subscription, record: dict[str, Any], call: Any) -> Any:
        # The delivery is a hop of the publisher's trace (the header stored with the message).
        with span(
            f"SNS {topic.resource.qualified_name}",
            "consumer",
            {"messaging.message.id": record["MessageId"], "stratus.protocol": sub.protocol},
            parent=record.get("trace"),
            hub=self.observability,
        ):
            return call(topic, sub, record)

    def _failed(
        self, topic: LocalTopic, sub: Subscription, record: dict[str, Any], attempts: int, now: float, error: Exception
    ) -> tuple[int, float] | None:
        """A failed attempt: None when given up (dead-lettered if configured), else (attempts, due_at) for a retry."""
        attempts += 1
        http = sub.protocol in ("http", "https")
        limit = HTTP_MAX_ATTEMPTS if http else MANAGED_MAX_ATTEMPTS
        if attempts >= limit:
            log.warning("topic %s: giving up on %s after %d attempts: %s", topic.name, sub.arn, attempts, error)
            if sub.dead_letter is not None:
                deliver(sub.dead_letter, self._envelope(topic, record, sub))
            return None
        if http:
            delay = HTTP_RETRY_DELAY
        else:
            delay = MANAGED_RETRY_DELAYS[attempts - 1] if attempts <= len(MANAGED_RETRY_DELAYS) else 20.0
        return attempts, now + delay

    def _batchable(self, sub: Subscription) -> LocalQueue | None:
        """The local queue backend of an SQS subscription whose deliveries can be enqueued in one transaction."""
        if sub.protocol != "sqs":
            return None
        queue = sub.endpoint
        if not isinstance(queue, Queue) or not queue.is_bound:
            return None
        backend = queue.backend
        return backend if isinstance(backend, LocalQueue) else None

    def _outgoing(self, topic: LocalTopic, sub: Subscription, record: dict[str, Any]) -> OutgoingMessage:
        """The validated SQS message of a delivery (what ``_deliver`` would send), without sending it."""
        return _with_trace(self._template(topic, sub, record), current_header())

    def _template(self, topic: LocalTopic, sub: Subscription, record: dict[str, Any]) -> OutgoingMessage:
        """The validated SQS message of a delivery, without its trace header (the caller sets it)."""
        queue = sub.endpoint
        assert isinstance(queue, Queue)
        group_id = dedup_id = None
        if record.get("group_id"):
            group_id, dedup_id = record["group_id"], record["dedup_id"]
        if sub.raw:
            # A raw delivery is the same message for every queue with the same settings: validate it once.
            key = (queue.fifo, queue.content_based_deduplication, queue.max_message_size)
            cache = record.setdefault("_outgoing", {})
            cached = cache.get(key)
            if cached is None:
                attrs = {k: _sqs_attribute(v) for k, v in record["attributes"].items()}
                cached = cache[key] = queue._outgoing(record["Message"], attrs or None, None, group_id, dedup_id)
            return cached
        return queue._outgoing(self._envelope_text(topic, record, sub), None, None, group_id, dedup_id)

    def _deliver(self, topic: LocalTopic, sub: Subscription, record: dict[str, Any]) -> None:
        message = record["Message"]
        if sub.protocol == "sqs":
            queue = sub.endpoint
            assert isinstance(queue, Resource)
            kwargs: dict[str, Any] = {}
            if record.get("group_id"):
                kwargs["group_id"] = record["group_id"]
                kwargs["deduplication_id"] = record["dedup_id"]
            if sub.raw:
                attrs = {k: _sqs_attribute(v) for k, v in record["attributes"].items()}
                queue.send(message, attributes=attrs or None, **kwargs)  # type: ignore[attr-defined]
            else:
                queue.send(self._envelope_text(topic, record, sub), **kwargs)  # type: ignore[attr-defined]
        elif sub.protocol == "lambda":
            function = sub.endpoint
            assert isinstance(function, Resource)
            sns = self._envelope(topic, record, sub, lambda_shape=True)
            event = {
                "Records": [
                    {
                        "EventSource": "aws:sns",
                        "EventVersion": "1.0",
                        "EventSubscriptionArn": self.cloud.arn("sns", sub.arn),
                        "Sns": sns,
                    }
                ]
            }
            function.invoke_async(event)  # type: ignore[attr-defined]
        elif sub.protocol in ("http", "https"):
            assert isinstance(sub.endpoint, str)
            body = message if sub.raw else self._envelope_text(topic, record, sub)
            response = self.http.post(
                sub.endpoint,
                content=body.encode(),
                headers={
                    "Content-Type": "text/plain; charset=UTF-8",
                    "x-amz-sns-message-type": "Notification",
                    "x-amz-sns-message-id": record["MessageId"],
                    "x-amz-sns-topic-arn": topic.arn,
                    "x-amz-sns-subscription-arn": self.cloud.arn("sns", sub.arn),
                },
            )
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"HTTP endpoint answered {response.status_code}")
        elif sub.protocol in ("email", "email-json", "sms"):
            self._write_outbox(topic, sub, record)
        else:  # pragma: no cover - protocols are validated at subscribe time
            raise ValueError(f"unknown protocol {sub.protocol}")

    def _envelope(
        self, topic: LocalTopic, record: dict[str, Any], sub: Subscription, *, lambda_shape: bool = False
    ) -> dict[str, Any]:
        envelope: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": record["MessageId"],
            "TopicArn": topic.arn,
            "Subject": record.get("Subject"),
            "Message": record["Message"],
            "Timestamp": record["Timestamp"],
            "SignatureVersion": "1",
        }
        if record.get("SequenceNumber"):
            envelope["SequenceNumber"] = record["SequenceNumber"]
        envelope["Signature"] = self.sign(envelope)
        cert, unsub = "SigningCertURL", "UnsubscribeURL"
        if lambda_shape:
            cert, unsub = "SigningCertUrl", "UnsubscribeUrl"
        envelope[cert] = f"{self.cloud.base_url}/_sns/signing-key"
        envelope[unsub] = f"{self.cloud.base_url}/_sns/unsubscribe?SubscriptionArn={self.cloud.arn('sns', sub.arn)}"
        attributes = {
            name: {
                "Type": a["DataType"],
                "Value": a.get("StringValue") or base64.b64encode(a.get("BinaryValue", b"")).decode(),
            }
            for name, a in _decode_attributes(record["attributes"]).items()
        }
        if attributes or lambda_shape:
            envelope["MessageAttributes"] = attributes
        if envelope["Subject"] is None and not lambda_shape:
            del envelope["Subject"]
        return envelope

    def _envelope_text(self, topic: LocalTopic, record: dict[str, Any], sub: Subscription) -> str:
        """``json.dumps(self._envelope(topic, record, sub))``, serialising the message once per record.

        Only the UnsubscribeURL differs between the subscriptions of a message, so the text before it
        and the text after it are built (and the message signed) once, then joined around each URL.
        """
        parts: tuple[str, str] | None = record.get("_envelope")
        if parts is None:
            envelope = self._envelope(topic, record, sub)
            unsubscribe = envelope.pop("UnsubscribeURL")
            attributes = envelope.pop("MessageAttributes", None)
            text = json.dumps(envelope)
            tail = "}" if attributes is None else ', "MessageAttributes": ' + json.dumps(attributes) + "}"
            parts = record["_envelope"] = (text[:-1], tail)
            return f'{parts[0]}, "UnsubscribeURL": {json.dumps(unsubscribe)}{tail}'
        url = f"{self.cloud.base_url}/_sns/unsubscribe?SubscriptionArn={self.cloud.arn('sns', sub.arn)}"
        return f'{parts[0]}, "UnsubscribeURL": {json.dumps(url)}{parts[1]}'

    def _write_outbox(self, topic: LocalTopic, sub: Subscription, record: dict[str, Any]) -> None:
        channel = "sms" if sub.protocol == "sms" else "email"
        entry: dict[str, Any] = {
            "time": record["Timestamp"],
            "to": sub.endpoint,
            "topic": topic.resource.name,
            "message_id": record["MessageId"],
        }
        if channel == "email":
            entry["subject"] = record.get("Subject") or "AWS Notification Message"
            entry["body"] = (
                self._envelope_text(topic, record, sub) if sub.protocol == "email-json" else record["Message"]
            )
        else:
            entry["body"] = record["Message"]
        with self._outbox_lock, open(self.outbox / f"{channel}.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def read_outbox(self, channel: str) -> list[dict[str, Any]]:
        path = self.outbox / f"{channel}.jsonl"
        if not path.exists():
            return []
        with self._outbox_lock, open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self) -> None:
        self.http.close()


def _encode_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, a in attributes.items():
        entry = {"DataType": a["DataType"]}
        if "BinaryValue" in a:
            entry["BinaryValue64"] = base64.b64encode(a["BinaryValue"]).decode()
        else:
            entry["StringValue"] = a["StringValue"]
        out[name] = entry
    return out


def _decode_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, a in attributes.items():
        entry: dict[str, Any] = {"DataType": a["DataType"]}
        if "BinaryValue64" in a:
            entry["BinaryValue"] = base64.b64decode(a["BinaryValue64"])
        else:
            entry["StringValue"] = a["StringValue"]
        out[name] = entry
    return out


def _sqs_typed(a: dict[str, Any]) -> MessageAttribute:
    """A validated publish attribute as SQS carries it under raw delivery (what ``_sqs_attribute`` makes of
    its stored form)."""
    if "BinaryValue" in a:
        return MessageAttribute(a["DataType"], a["BinaryValue"])
    return MessageAttribute("String" if a["DataType"] == "String.Array" else a["DataType"], a["StringValue"])


def _sqs_attribute(a: dict[str, Any]) -> Any:
    """An SNS attribute as SQS carries it under raw delivery (String.Array travels as String)."""
    if "BinaryValue64" in a:
        return MessageAttribute(a["DataType"], base64.b64decode(a["BinaryValue64"]))
    data_type = "String" if a["DataType"] == "String.Array" else a["DataType"]
    return MessageAttribute(data_type, a["StringValue"])


class LocalTopic(TopicBackend):
    def __init__(self, resource: Topic, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.engine = cloud.shared("topics", lambda: TopicEngine(cloud))
        self.engine.topics[resource.qualified_name] = self
        self.arn = cloud.arn("sns", resource.qualified_name)
        self._runtime: dict[str, Subscription] = {}
        for row in self.engine.db.execute(
            "SELECT arn, protocol, endpoint, filter_policy, filter_scope, raw, dead_letter FROM topic_subscriptions "
            "WHERE topic = ?",
            (resource.qualified_name,),
        ):
            sub = self._revive(*row)
            if sub is not None:
                self._runtime[sub.arn] = sub

    @property
    def name(self) -> str:
        return self.resource.name

    def _revive(
        self, arn: str, protocol: str, endpoint: str, policy: str | None, scope: str, raw: int, dead_letter: str | None
    ) -> Subscription | None:
        target: Resource[Any] | str = endpoint
        if protocol in ("sqs", "lambda"):
            kind, _, name = endpoint.partition(":")
            try:
                target = self.resource.app.resource(kind, name)
            except ResourceNotFound:
                return None
        dlq = self.resource.app.resource("queue", dead_letter) if dead_letter else None
        compiled = compile_filter_policy(json.loads(policy), scope=scope) if policy else None  # type: ignore[arg-type]
        return Subscription(arn, protocol, target, compiled, scope, bool(raw), dlq)

    def find(self, arn: str) -> Subscription | None:
        for sub in self.resource.subscriptions:
            if sub.arn == arn:
                return sub
        return self._runtime.get(arn)

    def runtime_subscriptions(self) -> list[Subscription]:
        return list(self._runtime.values())

    def add_subscription(self, subscription: Subscription) -> None:
        endpoint = subscription.endpoint
        text = endpoint if isinstance(endpoint, str) else f"{endpoint.kind}:{endpoint.name}"
        policy = json.dumps(subscription.filter_policy.source) if subscription.filter_policy else None
        with self.engine.db.transaction() as conn:
            conn.execute(
                "INSERT INTO topic_subscriptions (topic, arn, protocol, endpoint, filter_policy, filter_scope, raw, "
                "dead_letter) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.resource.qualified_name,
                    subscription.arn,
                    subscription.protocol,
                    text,
                    policy,
                    subscription.filter_scope,
                    int(subscription.raw),
                    subscription.dead_letter.name if subscription.dead_letter else None,
                ),
            )
        self._runtime[subscription.arn] = subscription

    def remove_subscription(self, arn: str) -> None:
        if arn not in self._runtime:
            raise NotFound(f"Subscription does not exist: {arn} (declared subscriptions cannot be removed at run time)")
        with self.engine.db.transaction() as conn:
            conn.execute("DELETE FROM topic_subscriptions WHERE arn = ?", (arn,))
        del self._runtime[arn]

    def publish(self, message: Message) -> PublishResult:
        engine = self.engine
        now = self.cloud.clock.now()
        message_id = uuid4_text()
        trace = current_header()
        # Filter policies depend on the message alone: evaluated once, before anything is written.
        matched: list[tuple[Subscription, str]] = []
        attributes, plain = message.attributes, message.structure is None
        memo: dict[Any, Any] = {}  # attributes converted and bodies parsed once for every subscription
        for sub in self.resource.all_subscriptions():
            text = message.message if plain else message.for_protocol(sub.protocol)
            if sub.filter_policy is None or sub.accepts(attributes, text, memo):
                matched.append((sub, text))
        if not self.resource.fifo:
            if not matched:
                return PublishResult(message_id)  # nobody to deliver to: nothing to store
            failed = engine.deliver_now(self, message, message_id, now, trace, matched)
            if failed is not None and not failed:
                return PublishResult(message_id)
            if failed:  # enqueued to the other queues; these go through the deliveries table
                return self._store(message, message_id, now, trace, failed, attempts=1)
        return self._store(message, message_id, now, trace, matched)

    def _store(
        self,
        message: Message,
        message_id: str,
        now: float,
        trace: str | None,
        matched: list[tuple[Subscription, str]],
        *,
        attempts: int = 0,
    ) -> PublishResult:
        """Accept the publish durably: one delivery row per subscription, delivered by the pump."""
        engine = self.engine
        topic = self.resource.qualified_name
        with engine.db.transaction() as conn:
            sequence = None
            if self.resource.fifo:
                conn.execute("DELETE FROM topic_dedup WHERE topic = ? AND expires_at <= ?", (topic, now))
                seen = conn.execute(
                    "SELECT message_id, sequence_number FROM topic_dedup WHERE topic = ? AND dedup_id = ?",
                    (topic, message.deduplication_id),
                ).fetchone()
                if seen is not None:
                    return PublishResult(seen[0], seen[1])
                conn.execute(
                    "INSERT INTO topic_sequences (topic, last) VALUES (?, 1) "
                    "ON CONFLICT(topic) DO UPDATE SET last = last + 1",
                    (topic,),
                )
                last = conn.execute("SELECT last FROM topic_sequences WHERE topic = ?", (topic,)).fetchone()[0]
                sequence = f"{last:020d}"
                conn.execute(
                    "INSERT INTO topic_dedup VALUES (?, ?, ?, ?, ?)",
                    (topic, message.deduplication_id, message_id, sequence, now + DEDUP_WINDOW),
                )
            encoded: dict[str, str] = {}  # one serialized record per distinct message text
            rows = []
            for sub, text in matched:
                record = encoded.get(text)
                if record is None:
                    record = encoded[text] = json.dumps(_record(message, message_id, text, now, sequence, trace))
                rows.append((topic, sub.arn, message.group_id, record, attempts, now))
            conn.executemany(
                "INSERT INTO topic_deliveries (topic, subscription, group_id, record, attempts, due_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            if rows:
                engine.pending = True
        self.cloud.wake(engine)
        return PublishResult(message_id, sequence)


def _record(
    message: Message, message_id: str, text: str, now: float, sequence: str | None, trace: str | None
) -> dict[str, Any]:
    """What a delivery knows of its message (stored as JSON with each delivery row)."""
    return {
        "MessageId": message_id,
        "Message": text,
        "Subject": message.subject,
        "Timestamp": _timestamp(now),
        "SequenceNumber": sequence,
        "attributes": _encode_attributes(message.attributes),
        "group_id": message.group_id,
        "dedup_id": message.deduplication_id,
        **({"trace": trace} if trace is not None else {}),
    }


def _with_trace(template: OutgoingMessage, header: str | None) -> OutgoingMessage:
    """``template`` sent from the span whose trace header is ``header``."""
    t = template
    return OutgoingMessage(
        t.body, t.attributes, t.delay, t.group_id, t.deduplication_id, t.md5_of_body, t.md5_of_attributes, header
    )
