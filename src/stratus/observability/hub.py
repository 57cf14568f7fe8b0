"""The observability plane of one local cloud: metric store, trace store, app log, and their pumps.

:func:`attach` returns the cloud's :class:`Observability` (created on first use, shared by
the function runtime, the dispatcher, alarms and the gateway). The function runtime hands
it each :class:`~stratus.local.functions.Invocation` record through ``on_invocation``, the
gateway each access record through ``on_request``: both only append to a queue, and the
flush pump turns them into Lambda and API Gateway metrics and invocation spans, so the
invoke path never touches SQLite for observability. A second pump samples every bound
queue's attributes once a minute of clock time (SQS's queue metrics).

Neither pump ever asks to be woken at a future time: under ``env.settle()`` they do their
work whenever time has moved (by a test or another pump) but never move virtual time on
their own.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.resources import Resource as OtelResource

from stratus.clock import VirtualClock
from stratus.local.logs import LogSink
from stratus.local.pumps import IDLE, PumpResult
from stratus.observability.context import set_active_hub
from stratus.observability.metric_store import MetricStore, dimensions_key
from stratus.observability.tracing import (
    SpanRecord,
    SqliteSpanExporter,
    Tracer,
    TraceStore,
    otlp_processor,
    to_readable,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.functions import Invocation
    from stratus.observability.alarms import AlarmEngine

log = logging.getLogger("stratus.observability")

LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"
API_GATEWAY = "AWS/ApiGateway"
#: Past this many queued records a listener flushes inline (only when no pump drains the queue).
MAX_BACKLOG = 20_000
#: Queue attributes sampled each minute, as the SQS metric each becomes.
QUEUE_METRICS = {
    "ApproximateNumberOfMessages": ("ApproximateNumberOfMessagesVisible", "Count"),
    "ApproximateNumberOfMessagesNotVisible": ("ApproximateNumberOfMessagesNotVisible", "Count"),
    "ApproximateNumberOfMessagesDelayed": ("ApproximateNumberOfMessagesDelayed", "Count"),
    "ApproximateAgeOfOldestMessage": ("ApproximateAgeOfOldestMessage", "Seconds"),
}


def attach(cloud: LocalCloud) -> Observability:
    """The observability hub of ``cloud`` (one per cloud)."""
    return cloud.shared("observability", lambda: Observability(cloud))


class Observability:
    """Metrics, traces and the app log of one cloud."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.metrics = MetricStore(cloud.storage.database("metrics"), self.clock)
        self.traces = TraceStore(cloud.storage.database("traces"), self.clock)
        self.tracer = Tracer(self.clock)
        self.logs = LogSink.for_folder(cloud.state_dir / "logs")
        self.exporter = SqliteSpanExporter(self.traces)
        self.otlp = otlp_processor()
        attributes = {"cloud.region": cloud.region}
        if not os.environ.get("OTEL_SERVICE_NAME"):
            attributes["service.name"] = "stratus"
        self.resource = OtelResource.create(attributes)
        self._invocations: deque[Invocation] = deque()
        self._requests: deque[dict[str, Any]] = deque()
        self._function_dims: dict[str, str] = {}
        self._route_dims: dict[tuple[str, Any], tuple[str, ...]] = {}
        self._alarms: AlarmEngine | None = None
        self.metrics.before_flush = self._fold
        self.tracer.overflow = self._flush_quietly
        self.traces.before_read = self._flush_spans_quietly
        self.flush_pump = FlushPump(self)
        cloud.add_pump(self.flush_pump)
        cloud.add_pump(QueueSampler(self))
        set_active_hub(self)

    # -- listeners (hot paths: append only) ------------------------------------------------
    def on_invocation(self, invocation: Invocation) -> None:
        """FunctionEngine listener."""
        queue = self._invocations
        queue.append(invocation)
        if len(queue) > MAX_BACKLOG:
            self._flush_quietly()  # no pump is draining (a script without start() or settle()): bound memory

    def on_request(self, record: dict[str, Any]) -> None:
        """Gateway listener (``stratus.local.gateway.on_request(cloud, hub.on_request)``): method, route,
        status, duration_ms, api."""
        queue = self._requests
        queue.append(record)
        if len(queue) > MAX_BACKLOG:
            self._flush_quietly()

    def record_iterator_age(self, function: str, source: str, age_ms: float) -> None:
        """A stream mapping's IteratorAge (age of the last record of the batch it just read)."""
        store = self.metrics
        store.add(LAMBDA, "IteratorAge", age_ms, dimensions=self._fn_dims(function), unit="Milliseconds")
        dims = dimensions_key({"FunctionName": function, "EventSource": source})
        store.add(LAMBDA, "IteratorAge", age_ms, dimensions=dims, unit="Milliseconds")

    @property
    def alarms(self) -> AlarmEngine:
        if self._alarms is None:
            from stratus.observability.alarms import AlarmEngine

            self._alarms = AlarmEngine(self)
        return self._alarms

    # -- flushing ---------------------------------------------------------------------------
    @property
    def has_pending(self) -> bool:
        return bool(self._invocations or self._requests or self.tracer.pending or self.metrics.pending)

    def flush(self) -> int:
        """Turn queued records into metrics and spans and commit everything; how many items were written."""
        return self.flush_spans() + self.metrics.flush()

    def flush_spans(self) -> int:
        self._fold()
        spans = self.tracer.drain()
        self._export(spans)
        return len(spans)

    def _flush_spans_quietly(self) -> None:
        self.flush_spans()

    def _flush_quietly(self) -> None:
        self.flush()

    def _fold(self) -> None:
        self._fold_invocations()
        self._fold_requests()

    def _fn_dims(self, function: str) -> str:
        dims = self._function_dims.get(function)
        if dims is None:
            dims = self._function_dims[function] = dimensions_key({"FunctionName": function})
        return dims

    def _request_dims(self, api: str, route: Any) -> tuple[str, ...]:
        """The dimension keys of a request's API Gateway metrics: per API, and per route when one matched."""
        cache_key = (api, route)
        keys = self._route_dims.get(cache_key)
        if keys is None:
            keys = (dimensions_key({"ApiId": api}),)
            if route:
                keys = (*keys, dimensions_key({"ApiId": api, "Route": str(route)}))
            if len(self._route_dims) < 10_000:  # routes are few; the bound is against unexpected keys
                self._route_dims[cache_key] = keys
        return keys

    def _fold_invocations(self) -> None:
        # Counted per function and minute first, so the store takes one call per metric and group
        # instead of five per invocation.
        spans = self.tracer.pending
        groups: dict[tuple[str, int], _InvocationGroup] = {}
        queue = self._invocations
        while queue:
            inv = queue.popleft()
            key = (inv.function, int(inv.start // 60) * 60)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _InvocationGroup()
            if inv.outcome == "throttled":
                group.throttles += 1
                continue
            failed = inv.outcome in ("error", "timeout")
            group.errors += failed
            group.cold_starts += inv.cold_start
            group.durations.append(inv.duration_ms)
            group.concurrency.append(float(inv.concurrent))
            if inv.span_id is not None and inv.trace_id is not None:
                attributes: dict[str, Any] = {
                    "faas.name": inv.function,
                    "faas.invocation_id": inv.request_id,
                    "faas.trigger": inv.source,
                    "faas.coldstart": inv.cold_start,
                    "stratus.outcome": inv.outcome,
                }
                if inv.error_type:
                    attributes["error.type"] = inv.error_type
                spans.append(
                    (
                        inv.trace_id,
                        inv.span_id,
                        inv.parent_id,
                        inv.function,
                        "server",
                        inv.start,
                        inv.start + inv.duration_ms / 1000,
                        "ERROR" if failed else "UNSET",
                        attributes,
                    )
                )
        store = self.metrics
        for (function, minute), group in groups.items():
            dims = self._fn_dims(function)
            n = len(group.durations)
            if group.throttles:
                store.add_counts(
                    LAMBDA, "Throttles", {1.0: group.throttles}, dimensions=dims, unit="Count", minute=minute
                )
            if not n:
                continue
            store.add_counts(LAMBDA, "Invocations", {1.0: n}, dimensions=dims, unit="Count", minute=minute)
            store.add_counts(LAMBDA, "Errors", _flags(group.errors, n), dimensions=dims, unit="Count", minute=minute)
            store.add_values(LAMBDA, "Duration", group.durations, dimensions=dims, unit="Milliseconds", minute=minute)
            store.add_values(
                LAMBDA, "ConcurrentExecutions", group.concurrency, dimensions=dims, unit="Count", minute=minute
            )
            if group.cold_starts:
                store.add_counts(
                    LAMBDA, "ColdStarts", {1.0: group.cold_starts}, dimensions=dims, unit="Count", minute=minute
                )

    def _fold_requests(self) -> None:
        # Counted per API, route and minute first (see _fold_invocations).
        groups: dict[tuple[str, Any, int], _RequestGroup] = {}
        queue = self._requests
        now_minute = int(self.clock.now() // 60) * 60
        while queue:
            record = queue.popleft()
            when = record.get("time")
            minute = int(when // 60) * 60 if isinstance(when, int | float) else now_minute
            key = (str(record.get("api") or "local"), record.get("route"), minute)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _RequestGroup()
            status = int(record.get("status") or 0)
            if status >= 500:
                group.server_errors += 1
            elif status >= 400:
                group.client_errors += 1
            group.latencies.append(float(record.get("duration_ms") or 0.0))
        store = self.metrics
        for (api, route, minute), group in groups.items():
            n = len(group.latencies)
            client, server = _flags(group.client_errors, n), _flags(group.server_errors, n)
            for dims in self._request_dims(api, route):
                store.add_counts(API_GATEWAY, "Count", {1.0: n}, dimensions=dims, unit="Count", minute=minute)
                store.add_counts(API_GATEWAY, "4XXError", client, dimensions=dims, unit="Count", minute=minute)
                store.add_counts(API_GATEWAY, "5XXError", server, dimensions=dims, unit="Count", minute=minute)
                store.add_values(
                    API_GATEWAY, "Latency", group.latencies, dimensions=dims, unit="Milliseconds", minute=minute
                )

    def _export(self, spans: list[SpanRecord]) -> None:
        if self.otlp is None:
            # Only the local store: write the records as they are (the same rows the exporter writes,
            # without building an OpenTelemetry span object per record first).
            self.exporter.export_records(spans)
            return
        readable = [to_readable(s, self.resource) for s in spans]
        self.exporter.export(readable)
        for s in readable:
            self.otlp.on_end(s)

    # -- queue sampling ------------------------------------------------------------------------
    def sample_queues(self, at: float) -> int:
        sampled = 0
        for app in self.cloud.apps:
            for queue in app.resources_of("queue"):
                if not queue.is_bound:
                    continue
                try:
                    attributes = queue.attributes()  # type: ignore[attr-defined]
                except Exception:  # a queue mid-restart must not stop the sampler
                    log.debug("could not sample queue %s", queue.qualified_name, exc_info=True)
                    continue
                dims = dimensions_key({"QueueName": queue.qualified_name})
                for attribute, (metric, unit) in QUEUE_METRICS.items():
                    if attribute in attributes:
                        value = float(attributes[attribute])
                        self.metrics.add(SQS, metric, value, dimensions=dims, unit=unit, timestamp=at)
                sampled += 1
        return sampled

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self.otlp is not None:
                self.otlp.shutdown()
            self.logs.release()
            from stratus.observability.context import _active_hub

            if _active_hub[0] is self:
                set_active_hub(None)


class _InvocationGroup:
    """What one function's invocations of one minute add to its metrics."""

    __slots__ = ("cold_starts", "concurrency", "durations", "errors", "throttles")

    def __init__(self) -> None:
        self.throttles = 0
        self.errors = 0
        self.cold_starts = 0
        self.durations: list[float] = []
        self.concurrency: list[float] = []


class _RequestGroup:
    """What one route's requests of one minute add to its API Gateway metrics."""

    __slots__ = ("client_errors", "latencies", "server_errors")

    def __init__(self) -> None:
        self.client_errors = 0
        self.server_errors = 0
        self.latencies: list[float] = []


def _flags(hits: int, total: int) -> dict[float, float]:
    """A 0-or-1 metric (Errors, 4XXError) of ``total`` values of which ``hits`` are 1."""
    counts = {}
    if hits:
        counts[1.0] = float(hits)
    if total > hits:
        counts[0.0] = float(total - hits)
    return counts


class FlushPump:
    """Commits buffered spans (and folds invocations and requests into metrics) every ``interval`` seconds
    of real time, and the metric aggregates every ``metrics_interval`` (both at once under a virtual clock).
    Never reports work or a due time, so it never keeps ``settle`` busy.

    Little and often: a flush holds the GIL for ~30 µs per request it writes, so flushing half a second
    of traffic at once stalled the gateway's event loop for tens of milliseconds. Metrics are per minute
    and their flush costs the same for ten requests or ten thousand, so they go less often.
    """

    name = "observability-flush"

    def __init__(self, hub: Observability, interval: float = 0.02, metrics_interval: float = 1.0) -> None:
        self.hub = hub
        self.interval = interval
        self.metrics_interval = metrics_interval
        self._virtual = isinstance(hub.clock, VirtualClock)
        self._last = -math.inf
        self._last_metrics = -math.inf

    @property
    def idle_sleep(self) -> float:
        """How long the runner's thread sleeps between checks (see :class:`~stratus.local.pumps.Pump`)."""
        return self.interval

    def pump(self) -> PumpResult:
        hub = self.hub
        if not hub.has_pending:
            return IDLE
        if self._virtual:
            hub.flush()
            return IDLE
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            hub.flush_spans()
        if now - self._last_metrics >= self.metrics_interval:
            self._last_metrics = now
            hub.metrics.flush()
        return IDLE


class QueueSampler:
    """Samples every bound queue's attributes once per minute of clock time."""

    name = "observability-queue-sampler"

    def __init__(self, hub: Observability) -> None:
        self.hub = hub
        self._minute: float | None = None

    def pump(self) -> PumpResult:
        minute = math.floor(self.hub.clock.now() / 60) * 60
        if minute == self._minute:
            return IDLE
        self._minute = minute
        self.hub.sample_queues(self.hub.clock.now())
        return IDLE
