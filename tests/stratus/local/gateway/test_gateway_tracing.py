"""One trace from the HTTP request through every function it caused."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from stratus import App
from stratus.local.gateway import build_gateway
from stratus.observability.hub import attach
from stratus.testing import local


def test_request_trace_follows_topic_and_async_hops() -> None:
    app = App("traced")
    orders = app.topic("orders")
    api = app.http_api("public")

    @api.post("/orders")
    def create(request: Any, context: Any) -> dict[str, str]:
        orders.publish("o-1")
        return {"id": "o-1"}

    @app.function
    def archive(event: Any, context: Any) -> None:
        return None

    @app.on_topic(orders)
    def notify(event: Any, context: Any) -> None:
        archive.invoke_async({"order": "o-1"})

    with local(app) as env:
        client = TestClient(build_gateway(env.cloud))
        assert client.post("/traced/orders", json={}).status_code == 200
        env.settle()
        hub = attach(env.cloud)
        [summary] = hub.traces.recent_traces(5)
        [root] = hub.traces.get_trace(summary.trace_id)
        assert root["name"] == "POST /orders" and root["kind"] == "server"

        def names(span: dict[str, Any]) -> list[str]:
            return [span["name"], *(n for child in span["children"] for n in names(child))]

        chain = names(root)
        for function in ("traced-create", "traced-notify", "traced-archive"):
            assert any(function in name for name in chain), (function, chain)


def test_bucket_calls_inside_an_invocation_are_client_spans() -> None:
    app = App("traced")
    files = app.bucket("files")

    @app.function
    def save(event: Any, context: Any) -> None:
        files.put("a.txt", b"x")
        files.get("a.txt")

    with local(app) as env:
        save.invoke({})
        files.put("outside.txt", b"y")  # not traced: nothing is being traced here
        hub = attach(env.cloud)
        [summary] = hub.traces.recent_traces(5)
        spans = hub.traces.spans(summary.trace_id)
        client = [s["name"] for s in spans if s["kind"] == "client"]
        assert sorted(client) == ["S3 GetObject traced-files", "S3 PutObject traced-files"]


def test_workflow_started_from_a_route_joins_the_request_trace() -> None:
    app = App("traced")
    api = app.http_api("public")

    @app.function
    def charge(event: Any, context: Any) -> dict[str, bool]:
        return {"charged": True}

    flow = app.workflow(
        "checkout",
        definition={
            "StartAt": "Charge",
            "States": {"Charge": {"Type": "Task", "Resource": "${Charge}", "End": True}},
        },
        substitutions={"Charge": charge},
    )

    @api.post("/checkout")
    def start(request: Any, context: Any) -> dict[str, str]:
        return {"execution": flow.start({"order": "o-1"}).arn}

    with local(app) as env:
        client = TestClient(build_gateway(env.cloud))
        assert client.post("/traced/checkout", json={}).status_code == 200
        env.settle()
        hub = attach(env.cloud)
        [summary] = hub.traces.recent_traces(5)
        names = [s["name"] for s in hub.traces.spans(summary.trace_id)]
        assert "POST /checkout" in names
        assert any(n.startswith("Workflow traced-checkout") for n in names)
        assert any("traced-charge" in n for n in names)
