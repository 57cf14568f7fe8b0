"""SQS → function, as Lambda's SQS event-source mapping delivers.

The pump receives without blocking, builds a batch (up to ``batch_size``, waiting up to
``batching_window`` for a fuller one), drops records that fail the event filters, invokes
the function synchronously and deletes what succeeded: everything, or — with
``report_failures`` — everything except the ``batchItemFailures`` the function returned. A
failed invocation deletes nothing, so the messages come back after their visibility
timeout and the queue's redrive policy moves them to its dead-letter queue after
``maxReceiveCount``, as on AWS. FIFO queues hand out one group's messages in order and keep
the group blocked while any of them is in flight.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any, cast

from stratus.local.dispatch.filtering import RecordFilter
from stratus.local.pumps import IDLE, PumpResult
from stratus.observability.tracing import span
from stratus.resources.function import Function, FunctionError, TooManyRequests
from stratus.resources.triggers import QueueSource

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.functions import FunctionEngine
    from stratus.resources.queue import Message, Queue

log = logging.getLogger("stratus.dispatch")


class QueuePump:
    def __init__(self, function: Function, spec: QueueSource, engine: FunctionEngine, cloud: LocalCloud) -> None:
        self.function = function
        self.spec = spec
        self.queue = cast("Queue", spec.queue)
        self.engine = engine
        self.cloud = cloud
        self.name = f"sqs:{self.queue.qualified_name}->{function.qualified_name}"
        self.arn = cloud.arn("sqs", self.queue.qualified_name)
        self.filter = RecordFilter(spec.filters, "body")
        self._span_name = f"SQS {self.queue.qualified_name}"
        self._buffer: list[Message] = []
        self._buffer_since: float | None = None
        # New or newly visible messages wake the pump at once; while a round runs, they only ask for another
        # round (no wake-up of every pump thread per send while this one is busy anyway).
        self._running = False
        self._again = False
        self.queue.subscribe(self._changed)

    def _changed(self) -> None:
        # Order matters (against pump's end): flag first, then look; pump clears `running` first, then looks.
        self._again = True
        if not self._running:
            self.cloud.wake(self)

    def pump(self) -> PumpResult:
        self._running = True
        self._again = False
        try:
            result = self._pump()
        finally:
            self._running = False
        if not result.worked and self._again:
            return PumpResult(True)  # something arrived during the round: look again now
        return result

    def _pump(self) -> PumpResult:
        now = self.cloud.clock.now()
        want = self.spec.batch_size - len(self._buffer)
        while want > 0:
            received = self.queue.receive(min(10, want), wait_seconds=0)
            if not received:
                break
            if self._buffer_since is None:
                self._buffer_since = now
            self._buffer.extend(received)
            want -= len(received)
        if not self._buffer:
            nxt = self.queue.next_visible_at()
            return PumpResult(False, nxt) if nxt is not None else IDLE
        full = len(self._buffer) >= self.spec.batch_size
        assert self._buffer_since is not None
        window_end = self._buffer_since + self.spec.batching_window
        if not full and self.spec.batching_window and now < window_end:
            return PumpResult(False, window_end)
        batch, self._buffer, self._buffer_since = self._buffer, [], None
        self._deliver(batch)
        return PumpResult(True)

    def _deliver(self, batch: list[Message]) -> None:
        records = [self._record(m) for m in batch]
        messages = batch
        if self.filter:  # each record is matched once (the filter parses a JSON body)
            accepted = [self.filter.accepts(r) for r in records]
            dropped = [m for m, ok in zip(batch, accepted, strict=True) if not ok]
            if dropped:
                self._delete(dropped)
            messages = [m for m, ok in zip(batch, accepted, strict=True) if ok]
            records = [r for r, ok in zip(records, accepted, strict=True) if ok]
        if not messages:
            return
        event = {"Records": records}
        # The batch continues the trace of its first message that carries one (SQS's AWSTraceHeader).
        parent = next((m.attributes["AWSTraceHeader"] for m in messages if "AWSTraceHeader" in m.attributes), None)
        try:
            with span(
                self._span_name,
                "consumer",
                {"messaging.batch.message_count": len(messages)},
                parent=parent,
                hub=self.engine.observability,
            ):
                result = self.engine.invoke(self.function, event, source="sqs")
        except (FunctionError, TooManyRequests) as error:
            log.info(
                "%s: batch of %d failed (%s); messages return after their visibility timeout",
                self.name,
                len(messages),
                error,
            )
            return
        if self.spec.report_failures:
            failed = _failed_ids(result, {m.message_id for m in messages})
            if failed is None:
                log.warning("%s: invalid batchItemFailures response; the whole batch is retried", self.name)
                return
            messages = [m for m in messages if m.message_id not in failed]
        if self._buffer or not messages:
            self._delete(messages)
            return
        # Acknowledge the batch and receive the next one in one transaction (embedded queue, hot path). The
        # next batch waits in the buffer, in flight, exactly as a batch being gathered over a batching window.
        backend = self.queue.backend
        combined = getattr(backend, "delete_and_receive", None)
        received = None
        if combined is not None:
            received = combined([m.receipt_handle for m in messages], min(10, self.spec.batch_size))
        if received is None:
            self._delete(messages)
        elif received:
            self._buffer.extend(received)
            self._buffer_since = self.cloud.clock.now()

    def _delete(self, messages: list[Message]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self.queue.delete_batch([(str(i), m.receipt_handle) for i, m in enumerate(chunk)])

    def _record(self, message: Message) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        for name, attribute in message.message_attributes.items():
            entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": attribute.data_type}
            if isinstance(attribute.value, bytes):
                entry["binaryValue"] = base64.b64encode(attribute.value).decode()
            else:
                entry["stringValue"] = attribute.value
            attributes[name] = entry
        return {
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": dict(message.attributes),
            "messageAttributes": attributes,
            "md5OfBody": message.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.arn,
            "awsRegion": self.cloud.region,
        }


def _failed_ids(result: Any, batch_ids: set[str]) -> set[str] | None:
    """The ids a partial-batch response reports as failed; None if the response is invalid (whole batch fails)."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()  # Lambda treats a response without batchItemFailures as complete success
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        ids.add(identifier)
    return ids
