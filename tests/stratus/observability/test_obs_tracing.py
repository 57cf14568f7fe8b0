"""Traces: one X-Ray trace id through every hop, parents right, stored and queryable."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from stratus import App
from stratus.observability import tracing
from stratus.observability.context import current_header, parse_header
from stratus.observability.hub import attach
from stratus.testing import local


def _flat(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(_flat(node["children"]))
    return out


def test_topic_publish_subscriber_and_async_invoke_share_one_trace() -> None:
    app = App("tr")
    news = app.topic("news")
    seen: dict[str, Any] = {}

    @app.function
    def last(event: Any, context: Any) -> None:
        seen["last"] = context.trace_id

    @app.on_topic(news)
    def subscriber(event: Any, context: Any) -> None:
        seen["subscriber"] = context.trace_id
        last.invoke_async({"n": 1})

    @app.function
    def publisher(event: Any, context: Any) -> str:
        seen["publisher"] = context.trace_id
        news.publish("hello")
        return context.trace_id

    with local(app) as env:
        header = publisher.invoke({})
        env.settle()
        hub = attach(env.cloud)
        hub.flush()
        root, publisher_span = parse_header(header)
        assert root is not None
        for name in ("subscriber", "last"):
            assert parse_header(seen[name])[0] == root

        tree = hub.traces.get_trace(root)
        assert len(tree) == 1  # one root: the publisher's invocation
        spans = _flat(tree)
        by_name = {s["name"]: s for s in spans}
        assert set(by_name) == {
            "tr-publisher",
            "SNS tr-news",
            "Lambda tr-subscriber",
            "tr-subscriber",
            "Lambda tr-last",
            "tr-last",
        }
        assert all(s["trace_id"] == root for s in spans)
        assert by_name["tr-publisher"]["span_id"] == publisher_span
        assert by_name["tr-publisher"]["parent_id"] is None
        chain = ["tr-publisher", "SNS tr-news", "Lambda tr-subscriber", "tr-subscriber", "Lambda tr-last", "tr-last"]
        for parent, child in itertools.pairwise(chain):
            assert by_name[child]["parent_id"] == by_name[parent]["span_id"], child
        assert by_name["tr-subscriber"]["kind"] == "server"
        assert by_name["SNS tr-news"]["kind"] == "consumer"
        assert by_name["tr-last"]["attributes"]["faas.trigger"] == "async"
        # the handler saw its own span as the parent of what it sends
        assert parse_header(seen["subscriber"])[1] == by_name["tr-subscriber"]["span_id"]

        recent = hub.traces.recent_traces(10)
        assert recent[0].trace_id == root
        assert recent[0].root == "tr-publisher"
        assert recent[0].spans == 6


def test_bus_put_inside_function_continues_the_trace() -> None:
    app = App("trbus")
    bus = app.event_bus("events")

    @app.on_event(bus, pattern={"source": ["shop"]})
    def on_order(event: Any, context: Any) -> None:
        return None

    @app.function
    def put(event: Any, context: Any) -> str:
        bus.put(source="shop", detail_type="Order", detail={"id": "o1"})
        return context.trace_id

    with local(app) as env:
        header = put.invoke({})
        env.settle()
        hub = attach(env.cloud)
        hub.flush()
        root, _ = parse_header(header)
        assert root is not None
        spans = {s["name"]: s for s in _flat(hub.traces.get_trace(root))}
        assert spans["EventBridge trbus-events/on_order-rule"]["parent_id"] == spans["trbus-put"]["span_id"]
        assert spans["trbus-on_order"]["trace_id"] == root


def test_error_and_incoming_header_and_restart() -> None:
    app = App("trerr")

    @app.function
    def fails(event: Any, context: Any) -> None:
        raise ValueError("nope")

    incoming = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    with local(app) as env:
        engine: Any = env.cloud.shared("functions", lambda: None)
        with pytest.raises(Exception):  # noqa: B017
            engine.invoke(fails, {}, trace_id=incoming)
        env.restart()  # buffered spans are flushed on close and read back after
        hub = attach(env.cloud)
        [node] = hub.traces.get_trace("1-5759e988-bd862e3fe1be46a994272793")
        assert node["parent_id"] == "53995c3f42cd8ad8"
        assert node["status"] == "ERROR"
        assert node["attributes"]["error.type"] == "ValueError"
        # the OpenTelemetry id form finds it too
        assert hub.traces.get_trace("5759e988bd862e3fe1be46a994272793")[0]["span_id"] == node["span_id"]


def test_span_api_nests_and_propagates() -> None:
    app = App("trspan")

    @app.function
    def handler(event: Any, context: Any) -> dict[str, Any]:
        with tracing.span("GetItem", "client", {"db.table": "orders"}) as outer, tracing.span("inner") as inner:
            header = current_header()
        return {"outer": outer.span_id, "inner": inner.span_id, "parent": inner.parent_id, "header": header}

    with local(app) as env:
        out = handler.invoke({})
        hub = attach(env.cloud)
        hub.flush()
        assert out["parent"] == out["outer"]
        root, parent = parse_header(out["header"])
        assert parent == out["inner"]
        spans = {s["name"]: s for s in _flat(hub.traces.get_trace(root or ""))}
        assert spans["GetItem"]["parent_id"] == spans["trspan-handler"]["span_id"]
        assert spans["GetItem"]["kind"] == "client"
        assert spans["GetItem"]["attributes"] == {"db.table": "orders"}


def test_span_without_a_local_cloud_still_carries_ids() -> None:
    with tracing.span("detached") as outer:
        header = current_header()
    assert header is not None and parse_header(header) == (outer.trace_id, outer.span_id)
    assert current_header() is None


def test_span_rejects_unknown_kind() -> None:
    app = App("trkind")
    with local(app) as env, pytest.raises(ValueError), tracing.span("x", "sideways", hub=attach(env.cloud)):
        pass


def test_trace_retention_on_the_clock() -> None:
    app = App("trret")

    @app.function
    def f(event: Any, context: Any) -> str:
        return context.trace_id

    with local(app) as env:
        header = f.invoke({})
        hub = attach(env.cloud)
        hub.flush()
        root = parse_header(header)[0] or ""
        assert hub.traces.get_trace(root)
        env.clock.advance(31 * 86400)
        hub.traces._last_purge = float("-inf")
        hub.flush()
        assert hub.traces.get_trace(root) == []


def test_schedule_and_queue_hops_are_spans() -> None:
    app = App("trhops")
    jobs = app.queue("jobs")

    @app.on_schedule("rate(1 minute)")
    def tick(event: Any, context: Any) -> None:
        jobs.send("work")

    @app.on_queue(jobs)
    def worker(event: Any, context: Any) -> None:
        return None

    with local(app) as env:
        env.clock.advance(60)
        env.settle(max_seconds=1)
        hub = attach(env.cloud)
        names = {t.root for t in hub.traces.recent_traces(10)}
        assert "Scheduler trhops/tick-schedule" in names
        [schedule_trace] = [t for t in hub.traces.recent_traces(10) if t.root.startswith("Scheduler")]
        spans = {s["name"]: s for s in _flat(hub.traces.get_trace(schedule_trace.trace_id))}
        assert spans["Lambda trhops-tick"]["parent_id"] == spans["Scheduler trhops/tick-schedule"]["span_id"]
        assert spans["trhops-tick"]["parent_id"] == spans["Lambda trhops-tick"]["span_id"]
        # The message carries the sender's trace header (AWSTraceHeader): the queue hop joins the same trace.
        assert spans["SQS trhops-jobs"]["parent_id"] == spans["trhops-tick"]["span_id"]
        assert spans["trhops-worker"]["attributes"]["faas.trigger"] == "sqs"


def test_observability_pumps_never_move_virtual_time() -> None:
    app = App("trtime")
    app.alarm("a", namespace="Shop", metric="M", threshold=1)

    @app.function
    def f(event: Any, context: Any) -> None:
        return None

    with local(app) as env:
        f.invoke({})
        before = env.clock.now()
        env.settle()
        assert env.clock.now() == before


def test_otlp_export_when_an_endpoint_is_configured(monkeypatch: Any) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    app = App("trotlp")

    @app.function
    def f(event: Any, context: Any) -> str:
        return context.trace_id

    try:
        with local(app):
            header = f.invoke({})
        # closing the cloud flushed the spans and shut the OTLP processor down (which exports)
    finally:
        server.shutdown()
    request = ExportTraceServiceRequest()
    for body in received:
        request.MergeFromString(body)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    root, span_id = parse_header(header)
    assert root is not None and span_id is not None
    assert [(s.name, s.trace_id.hex(), s.span_id.hex()) for s in spans] == [
        ("trotlp-f", root[2:10] + root[11:], span_id)
    ]


def test_exporter_writes_the_same_rows_from_readable_spans_and_from_records(tmp_path: Any) -> None:
    from opentelemetry.sdk.resources import Resource as OtelResource

    from stratus.local.storage import Database
    from stratus.observability.tracing import SqliteSpanExporter, TraceStore, to_readable

    records: list[Any] = [
        ("1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8", None, "root", "server", 10.0, 10.5, "UNSET", {}),
        (
            "1-5759e988-bd862e3fe1be46a994272793",
            "0000000000000001",
            "53995c3f42cd8ad8",
            "child",
            "client",
            10.1,
            10.2,
            "ERROR",
            {"error.type": "KeyError", "n": 3, "skip": None},
        ),
    ]
    stores = [TraceStore(Database(tmp_path / f"{i}.db")) for i in range(2)]
    SqliteSpanExporter(stores[0]).export([to_readable(r, OtelResource.create({})) for r in records])
    SqliteSpanExporter(stores[1]).export_records(records)
    trees = [s.get_trace("1-5759e988-bd862e3fe1be46a994272793") for s in stores]
    assert trees[0] == trees[1]
    [root] = trees[0]
    assert root["children"][0]["attributes"] == {"error.type": "KeyError", "n": 3}
    assert root["children"][0]["status"] == "ERROR" and root["children"][0]["kind"] == "client"
    for store in stores:
        store.db.close()


def test_child_span_only_inside_a_trace() -> None:
    app = App("trchild")

    @app.function
    def handler(event: Any, context: Any) -> None:
        with tracing.child_span("DynamoDB PutItem", "client", {"aws.dynamodb.table_names": ["t"]}):
            pass

    with local(app) as env:
        with tracing.child_span("outside") as nothing:
            assert nothing is None
        handler.invoke({})
        hub = attach(env.cloud)
        [summary] = hub.traces.recent_traces(10)
        spans = {s["name"]: s for s in _flat(hub.traces.get_trace(summary.trace_id))}
        assert spans["DynamoDB PutItem"]["parent_id"] == spans["trchild-handler"]["span_id"]


def test_spans_written_before_the_rowid_table_survive_its_migration(tmp_path: Any) -> None:
    from stratus.local.storage import Database

    db = Database(tmp_path / "traces.db")
    db.migrate("traces", tracing._MIGRATIONS[:1])  # a state folder from before the rowid table
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "1-6560c5e0-0123456789abcdef01234567",
                "00f067aa0ba902b7",
                None,
                "GET /x",
                "server",
                1.0,
                2.0,
                "UNSET",
                "{}",
            ),
        )
    db.close()
    store = tracing.TraceStore(Database(tmp_path / "traces.db"))
    [span] = store.spans("1-6560c5e0-0123456789abcdef01234567")
    assert (span["span_id"], span["name"], span["end"]) == ("00f067aa0ba902b7", "GET /x", 2.0)
    row = ("1-6560c5e0-0123456789abcdef01234567", "00f067aa0ba902b7", None, "GET /x", "server", 1.0, 3.0, "OK", "{}")
    store.write([row])  # the same ids again replace the span, as before
    [again] = store.spans("1-6560c5e0-0123456789abcdef01234567")
    assert (again["end"], again["status"]) == (3.0, "OK")
    store.db.close()
