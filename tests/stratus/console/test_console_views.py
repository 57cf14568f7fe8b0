"""Every JSON endpoint and admin action of the console, against the sample system on a virtual clock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from console_support import POST_HEADERS
from starlette.testclient import TestClient

API = "/_console/api"


def place(client: TestClient, env: Any, order_id: str, note: str = "") -> None:
    answer = client.post("/sample/orders", json={"id": order_id, "note": note})
    assert answer.status_code == 201, answer.text
    env.settle(max_seconds=120)


def post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{API}/{path}", json=body, headers=POST_HEADERS)


def test_overview_lists_systems_and_their_apis(client: TestClient) -> None:
    data = client.get(f"{API}/overview").json()
    (system,) = data["systems"]
    assert system["name"] == "sample"
    assert system["counts"]["function"] == 7
    assert system["apis"] == [
        {"name": "api", "prefix": "/sample", "docs": "/sample/docs", "openapi": "/sample/openapi.json"}
    ]


def test_map_has_declared_and_used_edges(client: TestClient) -> None:
    (system,) = client.get(f"{API}/map").json()["systems"]
    edges = {(e["from"], e["to"], e["kind"]) for e in system["edges"]}
    assert ("http_api:api", "function:place_order", "POST /orders") in edges
    assert ("queue:work", "function:worker", "queue") in edges
    assert ("queue:work", "queue:work-dlq", "dead letters") in edges
    assert ("event_bus:events", "rule:events/on_placed-rule", "rule") in edges
    assert ("rule:events/on_placed-rule", "function:on_placed", "target") in edges
    assert ("topic:alerts", "function:on_alert", "subscription (lambda)") in edges
    assert ("workflow:fulfil", "function:ship", "task") in edges
    # what handlers' code uses
    assert ("function:place_order", "table:orders", "uses") in edges
    assert ("function:place_order", "queue:work", "uses") in edges
    assert ("function:place_order", "workflow:fulfil", "uses") in edges
    assert ("function:on_placed", "topic:alerts", "uses") in edges
    assert ("function:flaky", "secret:signing-key", "uses") in edges
    assert client.get(f"{API}/map", params={"system": "nope"}).status_code == 404


def test_live_counters_stream(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    with client.stream("GET", f"{API}/live", params={"once": "1"}) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        text = "".join(answer.iter_text())
    payload = json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])
    assert payload["sample/function:place_order"]["invocations"] == 1
    assert payload["sample/queue:work"]["depth"] == 0


def test_functions_list_and_detail(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    rows = {f["name"]: f for f in client.get(f"{API}/functions").json()["functions"]}
    assert rows["place_order"]["invocations"] == 1
    assert rows["place_order"]["cold_starts"] == 1
    assert rows["place_order"]["p50_ms"] is not None
    assert rows["place_order"]["triggers"] == ["route POST /orders"]
    detail = client.get(f"{API}/function", params={"system": "sample", "name": "place_order"}).json()
    (invocation,) = detail["invocations"]
    assert invocation["outcome"] == "success"
    assert [line["message"] for line in invocation["lines"]] == ["order placed"]
    assert "table:orders" in detail["uses"]


def test_invoke_reports_results_and_errors(client: TestClient) -> None:
    import console_sample

    console_sample.signing_key.put("k-1")
    ok = post(client, "function/invoke", {"system": "sample", "name": "flaky", "event": {"ok": 1}}).json()
    assert ok == {"ok": True, "result": {"ok": 1}}
    failed = post(client, "function/invoke", {"system": "sample", "name": "flaky", "event": {}}).json()
    assert failed["ok"] is False
    assert failed["error"]["errorType"] == "ValueError"
    assert failed["error"]["errorMessage"] == "not ok <b>yet</b>"  # data, shown as text by the page
    queued = post(client, "function/invoke", {"system": "sample", "name": "ship", "event": {}, "async": True}).json()
    assert queued["request_id"]


def test_apis_and_user_pool_token(client: TestClient, env: Any) -> None:
    import console_sample

    data = client.get(f"{API}/apis").json()
    (api,) = data["apis"]
    assert [r["key"] for r in api["routes"]] == ["POST /orders", "GET /orders/{id}"]
    assert data["user_pools"] == [{"system": "sample", "name": "users", "clients": ["web"]}]
    console_sample.users.sign_up("ada", "Passw0rd!x", {"email": "ada@example.com"})
    tokens = post(
        client, "auth/token", {"system": "sample", "name": "users", "username": "ada", "password": "Passw0rd!x"}
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["id_token"].count(".") == 2
    wrong = post(client, "auth/token", {"system": "sample", "name": "users", "username": "ada", "password": "nope"})
    assert wrong.status_code == 400


def test_tables_scan_query_and_history(client: TestClient, env: Any) -> None:
    import console_sample

    for i in range(3):
        console_sample.orders.put({"id": f"o-{i}", "note": "v1"})
    console_sample.orders.put({"id": "o-1", "note": "v2"})
    console_sample.orders.delete({"id": "o-1"})
    (table,) = client.get(f"{API}/tables").json()["tables"]
    assert table["partition_key"] == ["id", "S"] and table["stream"] == "NEW_AND_OLD_IMAGES"
    page = client.get(f"{API}/table/items", params={"system": "sample", "name": "orders", "limit": 1}).json()
    assert len(page["items"]) == 1 and page["cursor"]
    rest = client.get(
        f"{API}/table/items", params={"system": "sample", "name": "orders", "limit": 5, "cursor": page["cursor"]}
    ).json()
    assert len(rest["items"]) == 1 and rest["cursor"] is None
    one = client.get(f"{API}/table/items", params={"system": "sample", "name": "orders", "pk": "o-2"}).json()
    assert one["items"] == [{"id": "o-2", "note": "v1"}]
    by_note = client.get(
        f"{API}/table/items", params={"system": "sample", "name": "orders", "index": "by_note", "pk": "v1"}
    ).json()
    assert sorted(i["id"] for i in by_note["items"]) == ["o-0", "o-2"]
    assert table["indexes"][0]["name"] == "by_note"
    history = client.get(
        f"{API}/table/history", params={"system": "sample", "name": "orders", "key": '{"id": "o-1"}'}
    ).json()
    assert [r["event"] for r in history["records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert history["records"][1]["old"] == {"id": "o-1", "note": "v1"}
    assert history["records"][1]["new"] == {"id": "o-1", "note": "v2"}
    bad = client.get(f"{API}/table/history", params={"system": "sample", "name": "orders", "key": "[1]"})
    assert bad.status_code == 400


def test_queue_peek_dlq_redrive_and_send(client: TestClient, env: Any) -> None:
    place(client, env, "o-9", "please fail")
    env.advance(5)
    env.settle(max_seconds=120)
    queues = {q["name"]: q for q in client.get(f"{API}/queues").json()["queues"]}
    assert queues["work-dlq"]["dead_letter_of"] == ["work"]
    assert queues["work"]["consumers"] == ["worker"]
    dlq = client.get(f"{API}/queue", params={"system": "sample", "name": "work-dlq"}).json()
    assert dlq["visible"] == 1
    assert "please fail" in dlq["messages"][0]["body"]
    moved = post(client, "queue/redrive", {"system": "sample", "name": "work-dlq"}).json()
    assert moved["status"] == "COMPLETED" and moved["moved"] == 1
    assert client.get(f"{API}/queue", params={"system": "sample", "name": "work-dlq"}).json()["visible"] == 0
    sent = post(client, "queue/send", {"system": "sample", "name": "work-dlq", "body": {"hello": 1}}).json()
    peeked = client.get(f"{API}/queue", params={"system": "sample", "name": "work-dlq"}).json()["messages"]
    assert [m["message_id"] for m in peeked] == [sent["message_id"]]
    assert peeked[0]["body"] == '{"hello": 1}'


def test_topics_and_publish(client: TestClient, env: Any) -> None:
    (topic,) = client.get(f"{API}/topics").json()["topics"]
    assert topic["subscriptions"][0]["endpoint"] == "function:on_alert"
    published = post(client, "topic/publish", {"system": "sample", "name": "alerts", "message": {"x": 1}})
    assert published.status_code == 200 and published.json()["message_id"]
    env.settle(max_seconds=60)
    detail = client.get(f"{API}/function", params={"system": "sample", "name": "on_alert"}).json()
    assert len(detail["invocations"]) == 1


def test_bus_rules_test_pattern_and_replay(client: TestClient, env: Any) -> None:
    (bus,) = client.get(f"{API}/buses").json()["buses"]
    assert bus["rules"][0]["pattern"] == {"source": ["sample.orders"], "detail-type": ["OrderPlaced"]}
    assert bus["archives"][0]["name"] == "everything"
    match = {"source": "sample.orders", "detail-type": "OrderPlaced", "detail": {"id": 1}}
    answer = post(client, "bus/test", {"system": "sample", "name": "events", "event": match}).json()
    assert answer["rules"] == [
        {"rule": "on_placed-rule", "matched": True, "enabled": True, "targets": ["function:on_placed"]}
    ]
    other = post(client, "bus/test", {"system": "sample", "name": "events", "event": {"source": "elsewhere"}}).json()
    assert other["rules"][0]["matched"] is False
    assert post(client, "bus/test", {"system": "sample", "name": "events", "event": "{"}).status_code == 400
    place(client, env, "o-1")
    archive = client.get(f"{API}/bus/archive", params={"system": "sample", "name": "events", "archive": "everything"})
    assert archive.json()["count"] == 1
    env.advance(60)
    replay = post(client, "bus/replay", {"system": "sample", "name": "events", "archive": "everything", "start": "1h"})
    assert replay.status_code == 200, replay.text
    env.settle(max_seconds=60)
    detail = client.get(f"{API}/function", params={"system": "sample", "name": "on_placed"}).json()
    assert len(detail["invocations"]) == 2  # the original event and its replay


def test_workflow_execution_graph_and_states(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    rows = {w["name"]: w for w in client.get(f"{API}/workflows").json()["workflows"]}
    assert rows["fulfil"]["counts"] == {"SUCCEEDED": 1}
    listed = client.get(f"{API}/executions", params={"system": "sample", "name": "fulfil"}).json()
    (execution,) = listed["executions"]
    detail = client.get(f"{API}/execution", params={"arn": execution["arn"]}).json()
    assert detail["path"] == ["Ship", "Done"]
    assert detail["state_status"] == {"Ship": "SUCCEEDED", "Done": "SUCCEEDED"}
    ship = detail["states"][0]
    assert ship["input"] == {"id": "o-1"} and ship["output"] == {"id": "o-1", "shipped": True}
    edges = {(e["from"], e["to"]) for e in detail["graph"]["edges"]}
    assert edges == {("__start", "Ship"), ("Ship", "Done"), ("Done", "__end")}
    none = client.get(f"{API}/executions", params={"system": "sample", "name": "fulfil", "status": "FAILED"}).json()
    assert none["executions"] == []


def test_start_fail_and_redrive_an_execution(client: TestClient, env: Any) -> None:
    started = post(
        client, "workflow/start", {"system": "sample", "name": "risky", "input": {}, "execution_name": "r-1"}
    )
    assert started.status_code == 200, started.text
    env.settle(max_seconds=600)
    detail = client.get(f"{API}/execution", params={"arn": started.json()["arn"]}).json()
    assert detail["execution"]["status"] == "FAILED"
    (state,) = detail["states"]
    assert state["status"] == "FAILED"
    assert state["errors"] and state["errors"][-1]["error"]
    assert state["retries"] == 0
    redriven = post(client, "execution/redrive", {"arn": started.json()["arn"]})
    assert redriven.status_code == 200, redriven.text
    assert redriven.json()["redrive_count"] == 1
    again = post(client, "execution/redrive", {"arn": started.json()["arn"]})
    assert again.status_code == 400  # running now: not redrivable


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_task_token_success_and_failure(client: TestClient, env: Any, outcome: str) -> None:
    started = post(client, "workflow/start", {"system": "sample", "name": "approve", "input": "{}"}).json()
    env.settle(max_seconds=60)
    detail = client.get(f"{API}/execution", params={"arn": started["arn"]}).json()
    (waiting,) = detail["waiting"]
    assert waiting["token"]
    if outcome == "success":
        body = {"arn": started["arn"], "token": waiting["token"], "output": {"approved": True}}
        assert post(client, "execution/task-success", body).status_code == 200
    else:
        body = {"arn": started["arn"], "token": waiting["token"], "error": "Rejected", "cause": "no"}
        assert post(client, "execution/task-failure", body).status_code == 200
    env.settle(max_seconds=60)
    final = client.get(f"{API}/execution", params={"arn": started["arn"]}).json()
    assert final["execution"]["status"] == ("SUCCEEDED" if outcome == "success" else "FAILED")
    assert final["waiting"] == []
    stale = post(client, "execution/task-success", {"token": waiting["token"], "output": {}})
    assert stale.status_code == 400


def test_trace_waterfall_spans_and_logs(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    traces = client.get(f"{API}/traces").json()["traces"]
    root = next(t for t in traces if t["root"] == "POST /orders")
    detail = client.get(f"{API}/trace", params={"id": root["trace_id"]}).json()
    names = [s["name"] for s in detail["spans"]]
    assert names[0] == "POST /orders" and detail["spans"][0]["depth"] == 0
    assert "sample-place_order" in names and "sample-worker" in names and "sample-on_alert" in names
    assert all(s["depth"] > 0 for s in detail["spans"][1:])
    assert any(line.get("message") == "order placed" for line in detail["logs"])
    assert client.get(f"{API}/trace", params={"id": "1-00000000-000000000000000000000000"}).status_code == 404


def test_metrics_series_and_alarms(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    series = client.get(f"{API}/metrics").json()["metrics"]
    wanted = {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": {"FunctionName": "sample-place_order"}}
    assert any({k: s[k] for k in wanted} == wanted for s in series)
    data = client.get(
        f"{API}/metric",
        params={"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": json.dumps(wanted["dimensions"])},
    ).json()
    assert [p["v"] for p in data["points"]] == [1.0]
    p99 = client.get(
        f"{API}/metric",
        params={
            "namespace": "AWS/Lambda",
            "name": "Duration",
            "stat": "p99",
            "dimensions": json.dumps(wanted["dimensions"]),
        },
    ).json()
    assert p99["points"][0]["v"] > 0
    custom = client.get(f"{API}/metric", params={"namespace": "Sample", "name": "OrdersPlaced"}).json()
    assert [p["v"] for p in custom["points"]] == [1.0]
    assert any(s["namespace"] == "Sample" for s in series)
    bad = client.get(f"{API}/metric", params={"namespace": "AWS/Lambda", "name": "Invocations", "stat": "p999x"})
    assert bad.status_code == 400
    (alarm,) = client.get(f"{API}/alarms").json()["alarms"]
    assert alarm["name"] == "worker-errors" and alarm["state"] in ("OK", "ALARM", "INSUFFICIENT_DATA")


def test_logs_query_filters_and_tail(client: TestClient, env: Any) -> None:
    place(client, env, "o-1")
    everything = client.get(f"{API}/logs").json()
    assert {"functions", "access", "app"} <= set(everything["streams"])
    app_lines = client.get(f"{API}/logs", params={"stream": "app", "function": "place_order"}).json()["records"]
    assert [r["message"] for r in app_lines] == ["order placed"]
    text = client.get(f"{API}/logs", params={"text": "ORDER PLACED"}).json()["records"]
    assert len(text) == 1
    assert client.get(f"{API}/logs", params={"stream": "../etc"}).status_code == 400
    from stratus.console.views import log_offsets, read_new_lines

    folder = env.state_dir / "logs"
    offsets = log_offsets(folder)
    place(client, env, "o-2")
    records, _ = read_new_lines(folder, offsets, {"stream": "app", "function": None, "text": "placed", "level": None})
    assert [r["order"] for r in records] == ["o-2"]
