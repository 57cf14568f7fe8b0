"""Traces (X-Ray's role), recorded cheaply and exported through OpenTelemetry.

- :func:`span` opens a span around a block (``with tracing.span("PutItem", "client", {...}):``):
  a child of the current invocation or span, or the root of a new trace; the message hops
  of the local runtime (topic delivery, bus target, queue and stream mappings, schedules,
  async invocations) and the gateway use it, and so can handlers.
- Ids are X-Ray's (see :mod:`~stratus.observability.context`), so the trace id in a log line,
  the ``AWSTraceHeader`` of a queue message and the id in ``stratus traces`` are one string.
- Finished spans are appended to an in-memory buffer (a tuple, a few microseconds); the
  hub's flush pump turns them into OpenTelemetry ``ReadableSpan`` objects and hands them to
  :class:`SqliteSpanExporter` (database ``traces``, kept 30 days like X-Ray) and, when
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set, to OpenTelemetry's
  OTLP/HTTP exporter behind a ``BatchSpanProcessor``.

Why not the OpenTelemetry SDK tracer on the hot path: starting and ending an SDK span costs
on the order of 100 µs here, far over the budget of the function invoke path, so spans are
recorded as tuples and converted in the background; the storage and export side is
OpenTelemetry's exporter interface.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.resources import Resource as OtelResource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from stratus import jsontext
from stratus.clock import Clock
from stratus.local.storage import Database
from stratus.observability.context import (
    Active,
    active_hub,
    current,
    new_span_id,
    new_trace_id,
    normalize_trace_id,
    otel_trace_id,
    parse_header,
    xray_trace_id,
)

if TYPE_CHECKING:
    from stratus.observability.hub import Observability

log = logging.getLogger("stratus.tracing")

RETENTION = 30 * 86400
KINDS = {
    "internal": SpanKind.INTERNAL,
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
}
_KIND_NAMES = {v: k for k, v in KINDS.items()}
_SCOPE = InstrumentationScope("stratus")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)

#: (trace_id, span_id, parent_id, name, kind, start, end, status, attributes); times in epoch seconds.
SpanRecord = tuple[str, str, "str | None", str, str, float, float, str, dict[str, Any]]

_MIGRATIONS = [
    """
    CREATE TABLE spans (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        status TEXT NOT NULL,
        attributes TEXT NOT NULL,
        PRIMARY KEY (trace_id, span_id)
    ) WITHOUT ROWID;
    CREATE INDEX spans_start ON spans (start)
    """,
    # Rows of ~300 bytes are too wide for a WITHOUT ROWID table (SQLite advises under ~1/20 of a page):
    # appending to a rowid table with a unique index on the ids costs ~40 % less per span.
    """
    CREATE TABLE spans_by_rowid (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        status TEXT NOT NULL,
        attributes TEXT NOT NULL,
        UNIQUE (trace_id, span_id)
    );
    INSERT INTO spans_by_rowid SELECT * FROM spans ORDER BY start;
    DROP TABLE spans;
    ALTER TABLE spans_by_rowid RENAME TO spans;
    CREATE INDEX spans_start ON spans (start)
    """,
]


class Span:
    """A span in progress: its ids, and attributes the block may add."""

    __slots__ = ("_t0", "attributes", "kind", "name", "parent_id", "span_id", "start", "status", "trace_id")

    def __init__(self, name: str, kind: str, trace_id: str, span_id: str, parent_id: str | None, start: float) -> None:
        self.name = name
        self.kind = kind
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.start = start
        self.status = "UNSET"
        self.attributes: dict[str, Any] = {}
        self._t0 = time.perf_counter()

    @property
    def header(self) -> str:
        """The X-Ray trace header that makes what is sent from this span its child."""
        return f"Root={self.trace_id};Parent={self.span_id};Sampled=1"

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def set_error(self, error_type: str) -> None:
        self.status = "ERROR"
        self.attributes["error.type"] = error_type


class Tracer:
    """Buffers finished spans of one cloud until the flush exports them."""

    #: Past this many buffered spans, ``overflow`` is called (the hub flushes inline), bounding memory
    #: when no pump is running.
    MAX_PENDING = 20_000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pending: deque[SpanRecord] = deque()
        self.overflow: Callable[[], None] | None = None

    def span(
        self,
        name: str,
        kind: str = "internal",
        attributes: dict[str, Any] | None = None,
        *,
        parent: str | bool | None = True,
        hub: Observability | None = None,
    ) -> _SpanScope:
        """See :func:`span`."""
        if kind not in KINDS:
            raise ValueError(f"span kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return _SpanScope(self, name, kind, attributes, parent, hub)

    def drain(self) -> list[SpanRecord]:
        out = []
        pending = self.pending
        while pending:
            out.append(pending.popleft())
        return out


class _SpanScope:
    """One span around a ``with`` block (a class, not a generator: every request opens a few).

    Entering makes it the current span (what is sent inside carries it as parent); leaving records it,
    with status ERROR and the exception's type if the block raised."""

    __slots__ = ("attributes", "hub", "kind", "live", "name", "parent", "token", "tracer")

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        kind: str,
        attributes: dict[str, Any] | None,
        parent: str | bool | None,
        hub: Observability | None,
    ) -> None:
        self.tracer = tracer
        self.name = name
        self.kind = kind
        self.attributes = attributes
        self.parent = parent
        self.hub = hub

    def __enter__(self) -> Span:
        now = self.tracer.clock.now()
        outer = current.get()
        parent = self.parent
        if parent is True:
            trace_id, parent_id = (outer.trace_id, outer.span_id) if outer is not None else (None, None)
        elif isinstance(parent, str):
            trace_id, parent_id = parse_header(parent)
        else:
            trace_id, parent_id = None, None
        if trace_id is None:
            trace_id, parent_id = new_trace_id(now), None
        live = self.live = Span(self.name, self.kind, trace_id, new_span_id(), parent_id, now)
        if self.attributes:
            live.attributes.update(self.attributes)
        hub = self.hub
        if outer is None:
            active = Active(trace_id, live.span_id, None, None, hub)
        else:
            active = Active(
                trace_id, live.span_id, outer.request_id, outer.function, hub if hub is not None else outer.hub
            )
        self.token = current.set(active)
        return live

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        live = self.live
        if kind is not None:
            live.set_error(kind.__name__)
        current.reset(self.token)
        end = live.start + (time.perf_counter() - live._t0)
        tracer = self.tracer
        pending = tracer.pending
        pending.append(
            (
                live.trace_id,
                live.span_id,
                live.parent_id,
                live.name,
                live.kind,
                live.start,
                end,
                live.status,
                live.attributes,
            )
        )
        if len(pending) > tracer.MAX_PENDING and tracer.overflow is not None:
            tracer.overflow()


@contextmanager
def _detached(name: str, kind: str, attributes: dict[str, Any] | None, parent: str | bool | None) -> Iterator[Span]:
    """A span with no local store to record into (on AWS): it only carries the ids along."""
    outer = current.get()
    trace_id: str | None = None
    parent_id: str | None = None
    if parent is True and outer is not None:
        trace_id, parent_id = outer.trace_id, outer.span_id
    elif isinstance(parent, str):
        trace_id, parent_id = parse_header(parent)
    live = Span(name, kind, trace_id or new_trace_id(time.time()), new_span_id(), parent_id, time.time())
    if attributes:
        live.attributes.update(attributes)
    token = current.set(Active(live.trace_id, live.span_id))
    try:
        yield live
    finally:
        current.reset(token)


def span(
    name: str,
    kind: str = "internal",
    attributes: dict[str, Any] | None = None,
    *,
    parent: str | bool | None = True,
    hub: Observability | None = None,
) -> AbstractContextManager[Span]:
    """Open a span around a block: ``with span("PutItem", "client", {"table": "orders"}) as s: ...``.

    ``parent=True`` (the default) makes it a child of the current invocation or span (or a new
    trace's root if there is none); an X-Ray header string continues that trace; ``None``
    starts a new trace. ``kind`` is internal, server, client, producer or consumer. Inside the
    block, anything sent carries this span as its parent. Never put payloads in attributes.
    """
    target = hub if hub is not None else active_hub()
    if target is None:
        return _detached(name, kind, attributes, parent)
    return target.tracer.span(name, kind, attributes, parent=parent, hub=target)


# -- export ------------------------------------------------------------------------------
def to_readable(record: SpanRecord, resource: OtelResource) -> ReadableSpan:
    trace_id, span_id, parent_id, name, kind, start, end, status, attributes = record
    tid = otel_trace_id(trace_id)
    context = SpanContext(tid, int(span_id, 16), False, _SAMPLED)
    parent = SpanContext(tid, int(parent_id, 16), True, _SAMPLED) if parent_id else None
    code = StatusCode.ERROR if status == "ERROR" else StatusCode.OK if status == "OK" else StatusCode.UNSET
    return ReadableSpan(
        name=name,
        context=context,
        parent=parent,
        resource=resource,
        attributes={k: v for k, v in attributes.items() if v is not None},
        kind=KINDS.get(kind, SpanKind.INTERNAL),
        status=Status(code),
        start_time=int(start * 1e9),
        end_time=int(end * 1e9),
        instrumentation_scope=_SCOPE,
    )


def _attributes_json(attributes: dict[str, Any]) -> str:
    """``json.dumps(attributes, separators=(",", ":"), default=str)``, through orjson."""
    return jsontext.compact(attributes, str)


class SqliteSpanExporter(SpanExporter):
    """An OpenTelemetry exporter that writes spans to the ``traces`` database of the state folder."""

    def __init__(self, store: TraceStore) -> None:
        self.store = store

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        rows = []
        for s in spans:
            context = s.context
            if context is None:
                continue
            rows.append(
                (
                    xray_trace_id(context.trace_id),
                    f"{context.span_id:016x}",
                    f"{s.parent.span_id:016x}" if s.parent is not None else None,
                    s.name,
                    _KIND_NAMES.get(s.kind, "internal"),
                    (s.start_time or 0) / 1e9,
                    (s.end_time or 0) / 1e9,
                    s.status.status_code.name,
                    _attributes_json(dict(s.attributes or {})),
                )
            )
        self.store.write(rows)
        return SpanExportResult.SUCCESS

    def export_records(self, records: Sequence[SpanRecord]) -> None:
        """Write span records straight from the buffer (what :meth:`export` writes for their ReadableSpans)."""
        dumps = _attributes_json
        self.store.write(
            [
                (
                    trace_id,
                    span_id,
                    parent_id,
                    name,
                    kind,
                    start,
                    end,
                    status,
                    dumps({k: v for k, v in attributes.items() if v is not None}),
                )
                for trace_id, span_id, parent_id, name, kind, start, end, status, attributes in records
            ]
        )

    def shutdown(self) -> None:
        return None


def otlp_processor() -> Any | None:
    """A BatchSpanProcessor with the OTLP/HTTP exporter, when an OTLP endpoint is configured."""
    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:  # pragma: no cover - the exporter is an optional install
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp-proto-http is not installed")
        return None
    return BatchSpanProcessor(OTLPSpanExporter())


# -- storage and queries -------------------------------------------------------------------
@dataclass
class TraceSummary:
    trace_id: str
    root: str
    start: float
    duration_ms: float
    spans: int
    errors: int


class TraceStore:
    """The ``traces`` database: spans by trace, with retention on the clock."""

    def __init__(self, db: Database, clock: Clock | None = None, *, retention: float = RETENTION) -> None:
        self.db = db
        self.clock = clock
        self.retention = retention
        self._last_purge = float("-inf")
        self._owns_db = False
        #: Called before each query (the hub exports its buffered spans here first).
        self.before_read: Callable[[], None] | None = None
        db.migrate("traces", _MIGRATIONS)

    @classmethod
    def open(cls, state_dir: Path | str) -> TraceStore:
        """The store of a state folder, opened directly (the CLI; no cloud needed)."""
        store = cls(Database(Path(state_dir) / "traces.db"))
        store._owns_db = True
        return store

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        now = self.clock.now() if self.clock is not None else None
        purge = now is not None and now - self._last_purge >= 3600
        if not rows and not purge:
            return
        with self.db.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if purge and now is not None:
                self._last_purge = now
                conn.execute("DELETE FROM spans WHERE start < ?", (now - self.retention,))

    def spans(self, trace_id: str) -> list[dict[str, Any]]:
        if self.before_read is not None:
            self.before_read()
        rows = self.db.execute(
            "SELECT trace_id, span_id, parent_id, name, kind, start, end, status, attributes FROM spans "
            "WHERE trace_id = ? ORDER BY start",
            (normalize_trace_id(trace_id),),
        )
        return [
            {
                "trace_id": r[0],
                "span_id": r[1],
                "parent_id": r[2],
                "name": r[3],
                "kind": r[4],
                "start": r[5],
                "end": r[6],
                "duration_ms": round((r[6] - r[5]) * 1000, 3),
                "status": r[7],
                "attributes": json.loads(r[8]),
            }
            for r in rows
        ]

    def get_trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The trace's spans as a tree: root spans (oldest first), each with ``children``."""
        spans = self.spans(trace_id)
        by_id = {s["span_id"]: s for s in spans}
        roots = []
        for s in spans:
            s["children"] = []
        for s in spans:
            parent = by_id.get(s["parent_id"]) if s["parent_id"] else None
            if parent is None:
                roots.append(s)
            else:
                parent["children"].append(s)
        return roots

    def recent_traces(self, limit: int = 20, since: float | None = None) -> list[TraceSummary]:
        """The latest traces (newest first): root span name, start, duration, span and error counts."""
        if self.before_read is not None:
            self.before_read()
        rows = self.db.execute(
            "SELECT trace_id, MIN(start), MAX(end), COUNT(*), SUM(status = 'ERROR') FROM spans "
            "WHERE start >= ? GROUP BY trace_id ORDER BY MIN(start) DESC LIMIT ?",
            (since if since is not None else float("-inf"), limit),
        )
        out = []
        for trace_id, start, end, count, errors in rows:
            root = self.db.execute(
                "SELECT s.name FROM spans s WHERE s.trace_id = ? AND (s.parent_id IS NULL OR NOT EXISTS "
                "(SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_id)) "
                "ORDER BY s.start LIMIT 1",
                (trace_id,),
            )
            out.append(
                TraceSummary(
                    trace_id, root[0][0] if root else "?", start, round((end - start) * 1000, 3), count, errors
                )
            )
        return out

    def close(self) -> None:
        if self._owns_db:
            self.db.close()


def child_span(
    name: str, kind: str = "client", attributes: dict[str, Any] | None = None
) -> AbstractContextManager[Any]:
    """A span only when something is being traced (inside an invocation or span), else nothing.

    For the ports' own operations (``with child_span("DynamoDB PutItem", "client", {...}):``): a table
    write from a handler shows in its trace, while a write from a test or a script starts no trace.
    """
    if current.get() is None:
        return nullcontext()
    return span(name, kind, attributes)
