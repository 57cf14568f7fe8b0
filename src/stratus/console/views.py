"""What each console endpoint answers: plain functions of (cloud, request[, body]) returning JSON-able data.

They use the ports' public handles (queue.peek, table.scan, workflow.history...) and the
observability plane (metric store, trace store, logs). Nothing here writes, except the
admin actions at the end of each section, which the server only calls after its checks.
"""

from __future__ import annotations

import json
import math
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from stratus.console.jsonify import parse_json_text
from stratus.console.topology import node_id, system_map, used_resources
from stratus.errors import ResourceNotFound, ValidationError
from stratus.observability.hub import attach
from stratus.observability.logs import query_logs, record_time, to_epoch

if TYPE_CHECKING:
    from stratus.app import App
    from stratus.local.cloud import LocalCloud

LAMBDA = "AWS/Lambda"
MAX_LIMIT = 500


# -- lookups -------------------------------------------------------------------------------------


def _param(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None or value == "":
        raise ValidationError(f"missing parameter {name!r}")
    return value


def _int(request: Request, name: str, default: int, low: int = 1, high: int = MAX_LIMIT) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ValidationError(f"{name} must be from {low} to {high}")
    return value


def _app(cloud: LocalCloud, name: object) -> App:
    for app in cloud.apps:
        if app.name == name:
            return app
    raise ResourceNotFound(f"no system named {name!r}")


def _resource(cloud: LocalCloud, system: object, kind: str, name: object) -> Any:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"missing {kind} name")
    resource = _app(cloud, system).resource(kind, name)
    if not resource.is_bound:
        raise ResourceNotFound(f"{kind} {name!r} is not running")
    return resource


def _from_query(cloud: LocalCloud, request: Request, kind: str) -> Any:
    return _resource(cloud, _param(request, "system"), kind, _param(request, "name"))


def _from_body(cloud: LocalCloud, body: dict[str, Any], kind: str) -> Any:
    return _resource(cloud, body.get("system"), kind, body.get("name"))


def _now(cloud: LocalCloud) -> float:
    return cloud.clock.now()


# -- overview and map ----------------------------------------------------------------------------


def overview(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    systems = []
    for app in cloud.apps:
        counts: dict[str, int] = {}
        for resource in app.resources:
            counts[resource.kind] = counts.get(resource.kind, 0) + 1
        apis = []
        for api in app.resources_of("http_api"):
            prefix = api.prefix  # type: ignore[attr-defined]
            apis.append(
                {"name": api.name, "prefix": prefix, "docs": f"{prefix}/docs", "openapi": f"{prefix}/openapi.json"}
            )
        systems.append({"name": app.name, "description": app.description, "counts": counts, "apis": apis})
    return {"base_url": cloud.base_url, "now": _now(cloud), "systems": systems}


def map_view(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    wanted = request.query_params.get("system")
    apps = [_app(cloud, wanted)] if wanted else cloud.apps
    return {"systems": [system_map(app) for app in apps]}


# -- functions -----------------------------------------------------------------------------------


def _window(cloud: LocalCloud, metric: str, qualified: str, start: float, end: float) -> Any:
    store = attach(cloud).metrics
    merged = None
    for _, agg in store.aggregates(LAMBDA, metric, {"FunctionName": qualified}, start, end):
        if merged is None:
            merged = agg
        else:
            merged.merge(agg)
    return merged


def _function_stats(cloud: LocalCloud, function: Any, start: float, end: float) -> dict[str, Any]:
    qualified = function.qualified_name
    out: dict[str, Any] = {}
    for metric, key in (
        ("Invocations", "invocations"),
        ("Errors", "errors"),
        ("Throttles", "throttles"),
        ("ColdStarts", "cold_starts"),
    ):
        agg = _window(cloud, metric, qualified, start, end)
        out[key] = int(agg.total) if agg is not None else 0
    duration = _window(cloud, "Duration", qualified, start, end)
    out["p50_ms"] = duration.percentile(50) if duration is not None else None
    out["p99_ms"] = duration.percentile(99) if duration is not None else None
    out["avg_ms"] = duration.total / duration.count if duration is not None and duration.count else None
    engine = getattr(function.backend, "engine", None)
    if engine is not None and qualified in engine.functions:
        out.update(engine.stats(function))
    return out


def _triggered_by(app: App) -> dict[str, list[str]]:
    """What sends work to each function: triggers, rule targets, subscriptions, schedules, workflow tasks."""
    out: dict[str, list[str]] = {}
    for edge in system_map(app)["edges"]:
        target = edge["to"]
        if edge["kind"] == "uses" or not target.startswith("function:"):
            continue
        source, kind = edge["from"], edge["kind"]
        text = f"route {kind}" if source.startswith("http_api:") else f"{kind} {source}"
        out.setdefault(target.split(":", 1)[1], []).append(text)
    return out


def functions(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    minutes = _int(request, "minutes", 60, 1, 15 * 1440)
    end = _now(cloud) + 60
    start = end - minutes * 60 - 60
    out = []
    for app in cloud.apps:
        triggers = _triggered_by(app)
        for function in app.resources_of("function"):
            if not function.is_bound:
                continue
            row = {
                "system": app.name,
                "name": function.name,
                "qualified_name": function.qualified_name,
                "triggers": triggers.get(function.name, []),
            }
            row.update(_function_stats(cloud, function, start, end))
            out.append(row)
    return {"minutes": minutes, "functions": out}


def function_detail(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    function = _from_query(cloud, request, "function")
    limit = _int(request, "limit", 20, 1, 200)
    settings = function.settings()
    # Environment values may hold configuration a developer would not want on a screen: names only.
    settings["environment"] = sorted(function.environment)
    qualified = function.qualified_name
    invocations = query_logs(cloud.state_dir, stream="functions", function=qualified, limit=limit)
    wanted = {r.get("request_id") for r in invocations}
    lines: dict[str, list[dict[str, Any]]] = {}
    for record in query_logs(cloud.state_dir, function=qualified, limit=5000):
        if record.get("stream") in ("functions", "access"):
            continue
        rid = record.get("request_id")
        if rid in wanted:
            lines.setdefault(str(rid), []).append(record)
    for record in invocations:
        record["lines"] = lines.get(str(record.get("request_id")), [])
    end = _now(cloud) + 60
    return {
        "system": function.app.name,
        "name": function.name,
        "qualified_name": qualified,
        "description": function.description,
        "settings": settings,
        "triggers": _triggered_by(function.app).get(function.name, []),
        "uses": [node_id(r) for r in used_resources(function.handler) if r.app is function.app],
        "stats": _function_stats(cloud, function, end - 3660, end),
        "invocations": list(reversed(invocations)),
    }


def invoke_function(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    from stratus.resources.function import FunctionError

    function = _from_body(cloud, body, "function")
    event = body.get("event")
    if body.get("async"):
        return {"request_id": function.invoke_async(event)}
    try:
        return {"ok": True, "result": function.invoke(event)}
    except FunctionError as exc:
        return {"ok": False, "error": exc.payload()}


# -- APIs and user pools -------------------------------------------------------------------------


def apis(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    pools = []
    for app in cloud.apps:
        for api in app.resources_of("http_api"):
            routes = []
            for route in api.routes:  # type: ignore[attr-defined]
                auth = route.authorizer
                routes.append(
                    {
                        "key": route.key,
                        "method": route.method,
                        "path": route.path,
                        "function": route.function.name,
                        "authorizer": getattr(auth, "name", None) if auth is not None else None,
                        "groups": list(route.groups),
                        "scopes": list(route.scopes),
                        "summary": route.summary,
                    }
                )
            prefix = api.prefix  # type: ignore[attr-defined]
            out.append(
                {
                    "system": app.name,
                    "name": api.name,
                    "prefix": prefix,
                    "docs": f"{prefix}/docs",
                    "openapi": f"{prefix}/openapi.json",
                    "routes": routes,
                }
            )
        for pool in app.resources_of("user_pool"):
            pools.append({"system": app.name, "name": pool.name, "clients": sorted(pool.clients)})  # type: ignore[attr-defined]
    return {"apis": out, "user_pools": pools}


def user_pool_token(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Sign in to a user pool (InitiateAuth) so the request tester can send the token."""
    pool = _from_body(cloud, body, "user_pool")
    client = body.get("client") or next(iter(pool.clients))
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ValidationError("username and password are required")
    tokens = pool.initiate_auth(client, username, password)
    return {"id_token": tokens.id_token, "access_token": tokens.access_token, "expires_in": tokens.expires_in}


# -- tables --------------------------------------------------------------------------------------


def tables(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    for app in cloud.apps:
        for table in app.resources_of("table"):
            settings = table.settings()
            out.append(
                {
                    "system": app.name,
                    "name": table.name,
                    "partition_key": settings["partition_key"],
                    "sort_key": settings["sort_key"],
                    "indexes": settings["indexes"],
                    "stream": settings["stream"],
                    "ttl_attribute": settings["ttl_attribute"],
                }
            )
    return {"tables": out}


def _key_value(text: str, kind: str) -> Any:
    if kind == "N":
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{text!r} is not a number") from None
    if kind == "B":
        return text.encode()
    return text


def table_items(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    table = _from_query(cloud, request, "table")
    index = request.query_params.get("index") or None
    cursor = request.query_params.get("cursor") or None
    limit = _int(request, "limit", 25, 1, 200)
    partition = request.query_params.get("pk")
    schema = table.schema
    idx = schema.index(index) if index else None
    if partition:
        key = idx.partition if idx else schema.partition
        page = table.query(
            "#p = :p",
            names={"#p": key.name},
            values={":p": _key_value(partition, key.type)},
            index=index,
            limit=limit,
            cursor=cursor,
        )
    else:
        page = table.scan(index=index, limit=limit, cursor=cursor)
    return {"items": page.items, "cursor": page.cursor, "key_names": list(table.key_names)}


def table_history(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    """The stream records of one item (by its key), oldest first."""
    from stratus.resources.table.values import from_image

    table = _from_query(cloud, request, "table")
    if not table.stream_view:
        return {"stream": None, "records": []}
    try:
        key = json.loads(_param(request, "key"))
    except ValueError:
        raise ValidationError("key must be a JSON object") from None
    if not isinstance(key, dict):
        raise ValidationError("key must be a JSON object")
    wanted = {k: str(v) for k, v in key.items()}
    records = []
    after: str | None = None
    for _ in range(50):  # at most 50 000 records read
        batch = table.backend.stream_read(after, 1000)
        if not batch:
            break
        for record in batch:
            data = record["dynamodb"]
            keys = from_image(data["Keys"])
            if {k: str(v) for k, v in keys.items()} == wanted:
                records.append(
                    {
                        "event": record["eventName"],
                        "time": data.get("ApproximateCreationDateTime"),
                        "sequence": data.get("SequenceNumber"),
                        "old": from_image(data["OldImage"]) if "OldImage" in data else None,
                        "new": from_image(data["NewImage"]) if "NewImage" in data else None,
                    }
                )
        after = batch[-1]["dynamodb"]["SequenceNumber"]
        if len(batch) < 1000:
            break
    return {"stream": table.stream_view, "records": records}


# -- queues and topics ---------------------------------------------------------------------------


def _queue_row(app: App, queue: Any) -> dict[str, Any]:
    attributes = queue.attributes() if queue.is_bound else {}
    dead = queue.dead_letter
    sources = [
        q.name for q in app.resources_of("queue") if getattr(getattr(q, "dead_letter", None), "queue", None) is queue
    ]
    consumers = [
        f.name
        for f in app.resources_of("function")
        for t in getattr(f, "triggers", [])
        if t.kind == "queue" and t.source is queue
    ]
    return {
        "system": app.name,
        "name": queue.name,
        "fifo": queue.fifo,
        "visible": attributes.get("ApproximateNumberOfMessages", 0),
        "in_flight": attributes.get("ApproximateNumberOfMessagesNotVisible", 0),
        "delayed": attributes.get("ApproximateNumberOfMessagesDelayed", 0),
        "oldest_age": attributes.get("ApproximateAgeOfOldestMessage", 0),
        "dead_letter": {"queue": dead.queue.name, "max_receive_count": dead.max_receive_count} if dead else None,
        "dead_letter_of": sources,
        "consumers": consumers,
    }


def queues(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    return {"queues": [_queue_row(app, q) for app in cloud.apps for q in app.resources_of("queue") if q.is_bound]}


def queue_detail(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    queue = _from_query(cloud, request, "queue")
    limit = _int(request, "limit", 20, 1, 200)
    messages = []
    for message in queue.peek(limit):
        messages.append(
            {
                "message_id": message.message_id,
                "body": message.body,
                "attributes": message.attributes,
                "message_attributes": {
                    k: {"type": v.data_type, "value": v.value} for k, v in message.message_attributes.items()
                },
            }
        )
    return {**_queue_row(queue.app, queue), "messages": messages}


def redrive_queue(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    queue = _from_body(cloud, body, "queue")
    task = queue.redrive()
    task.wait(10.0)
    return {"status": task.status, "moved": task.moved, "to_move": task.to_move, "failure": task.failure_reason}


def send_message(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    queue = _from_body(cloud, body, "queue")
    text = body.get("body")
    if not isinstance(text, str):
        text = json.dumps(text)
    group = body.get("group_id") or ("console" if queue.fifo else None)
    dedupe = body.get("deduplication_id") or (uuid.uuid4().hex if queue.fifo else None)
    result = queue.send(text, group_id=group, deduplication_id=dedupe)
    return {"message_id": result.message_id}


def topics(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    for app in cloud.apps:
        for topic in app.resources_of("topic"):
            if topic.is_bound:
                subs = [s.describe() for s in topic.all_subscriptions()]  # type: ignore[attr-defined]
                out.append({"system": app.name, "name": topic.name, "fifo": topic.fifo, "subscriptions": subs})  # type: ignore[attr-defined]
    return {"topics": out}


def publish_message(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    topic = _from_body(cloud, body, "topic")
    message = body.get("message")
    if not isinstance(message, str | dict | list):
        raise ValidationError("message must be text or JSON")
    subject = body.get("subject") or None
    group = body.get("group_id") or ("console" if topic.fifo else None)
    dedupe = uuid.uuid4().hex if topic.fifo else None
    result = topic.publish(message, subject=subject, group_id=group, deduplication_id=dedupe)
    return {"message_id": result.message_id}


# -- event buses ---------------------------------------------------------------------------------


def buses(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    for app in cloud.apps:
        for bus in app.resources_of("event_bus"):
            rules = []
            for rule in bus.rules.values():  # type: ignore[attr-defined]
                described = rule.describe()
                described["targets"] = [
                    {"kind": t.resource.kind, "name": t.resource.name, "label": t.label} for t in rule.targets
                ]
                rules.append(described)
            archives = [
                {"name": a.name, "retention_days": a.retention_days, "pattern": a.pattern.source if a.pattern else None}
                for a in bus.archives.values()  # type: ignore[attr-defined]
            ]
            out.append({"system": app.name, "name": bus.name, "rules": rules, "archives": archives})
    return {"buses": out}


def bus_archive(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    bus = _from_query(cloud, request, "event_bus")
    events = bus.archived(_param(request, "archive"))
    return {"count": len(events), "latest": events[-20:]}


def _full_event(cloud: LocalCloud, event: Any) -> dict[str, Any]:
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            raise ValidationError("the event is not JSON") from None
    if not isinstance(event, dict):
        raise ValidationError("the event must be a JSON object")
    from datetime import UTC, datetime

    full = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "account": cloud.account_id,
        "time": datetime.fromtimestamp(_now(cloud), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": cloud.region,
        "resources": [],
        "source": "console.test",
        "detail-type": "Test",
        "detail": {},
    }
    full.update(event)
    return full


def test_event(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """Which rules of a bus match an event (EventBridge's TestEventPattern, for every rule)."""
    from stratus.matching.event_pattern import parse_event

    bus = _from_body(cloud, body, "event_bus")
    event = parse_event(_full_event(cloud, body.get("event")))
    results = []
    for rule in bus.rules.values():
        results.append(
            {
                "rule": rule.name,
                "matched": rule.pattern.matches(event),
                "enabled": rule.enabled,
                "targets": [t.label for t in rule.targets],
            }
        )
    return {"event": event, "rules": results}


test_event.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name


def replay_archive(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    bus = _from_body(cloud, body, "event_bus")
    now = _now(cloud)
    start = to_epoch(body.get("start") or "1d", now)
    end = to_epoch(body.get("end"), now) if body.get("end") else now + 1
    assert start is not None and end is not None
    name = bus.replay(str(body.get("archive")), start=start, end=end)
    return {"replay": name}


# -- workflows -----------------------------------------------------------------------------------


def _execution_row(execution: Any) -> dict[str, Any]:
    return {
        "arn": execution.arn,
        "name": execution.name,
        "status": execution.status,
        "start": execution.start_date.timestamp() if execution.start_date else None,
        "stop": execution.stop_date.timestamp() if execution.stop_date else None,
        "error": execution.error,
        "redrive_count": execution.redrive_count,
    }


def workflows(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    for app in cloud.apps:
        for workflow in app.resources_of("workflow"):
            if not workflow.is_bound:
                continue
            counts: dict[str, int] = {}
            for execution in workflow.executions():  # type: ignore[attr-defined]
                counts[execution.status] = counts.get(execution.status, 0) + 1
            out.append(
                {
                    "system": app.name,
                    "name": workflow.name,
                    "type": workflow.type,  # type: ignore[attr-defined]
                    "arn": workflow.arn,  # type: ignore[attr-defined]
                    "counts": counts,
                }
            )
    return {"workflows": out}


def executions(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    workflow = _from_query(cloud, request, "workflow")
    status = request.query_params.get("status") or None
    limit = _int(request, "limit", 100, 1, MAX_LIMIT)
    found = workflow.executions(status)
    return {"executions": [_execution_row(e) for e in found[:limit]], "total": len(found)}


def _workflow_of(cloud: LocalCloud, arn: str) -> Any:
    if not isinstance(arn, str) or ":execution:" not in arn:
        raise ValidationError("not an execution ARN")
    machine = arn.split(":execution:", 1)[1].rsplit(":", 1)[0]
    for app in cloud.apps:
        for workflow in app.resources_of("workflow"):
            if workflow.is_bound and workflow.qualified_name == machine:
                return workflow
    raise ResourceNotFound(f"no running workflow has the execution {arn!r}")


def state_graph(definition: dict[str, Any]) -> dict[str, Any]:
    """Nodes and edges of a state machine's top level (Parallel and Map states as single nodes)."""
    states = definition.get("States") or {}
    nodes = [{"id": "__start", "type": "Start", "label": "Start"}]
    edges = [{"from": "__start", "to": definition.get("StartAt"), "kind": "next"}]
    ends = False
    for name, state in states.items():
        kind = state.get("Type", "?")
        node: dict[str, Any] = {"id": name, "type": kind, "label": name}
        if kind in ("Parallel", "Map"):
            inner: list[str] = []
            for branch in state.get("Branches") or [state.get("ItemProcessor") or state.get("Iterator") or {}]:
                inner.extend((branch.get("States") or {}).keys())
            node["inner"] = inner
        nodes.append(node)
        if state.get("Next"):
            edges.append({"from": name, "to": state["Next"], "kind": "next"})
        for choice in state.get("Choices") or []:
            if choice.get("Next"):
                edges.append({"from": name, "to": choice["Next"], "kind": "choice"})
        if state.get("Default"):
            edges.append({"from": name, "to": state["Default"], "kind": "default"})
        for catch in state.get("Catch") or []:
            if catch.get("Next"):
                edges.append(
                    {"from": name, "to": catch["Next"], "kind": "catch", "errors": catch.get("ErrorEquals", [])}
                )
        if state.get("End") or kind in ("Succeed", "Fail"):
            edges.append({"from": name, "to": "__end", "kind": "end"})
            ends = True
    if ends:
        nodes.append({"id": "__end", "type": "End", "label": "End"})
    return {"nodes": nodes, "edges": edges}


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def state_runs(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per state entered: input, output, retries, errors, status."""
    runs: list[dict[str, Any]] = []
    open_runs: list[dict[str, Any]] = []
    for event in history:
        kind = str(event.get("type", ""))
        details = _details(event)
        when: Any = event.get("timestamp")
        stamp = when.timestamp() if hasattr(when, "timestamp") else when
        if kind.endswith("StateEntered"):
            run = {
                "name": details.get("name"),
                "type": kind[: -len("StateEntered")],
                "input": parse_json_text(details.get("input")),
                "output": None,
                "entered": stamp,
                "exited": None,
                "attempts": 0,
                "errors": [],
                "status": "RUNNING",
            }
            runs.append(run)
            open_runs.append(run)
        elif kind.endswith("StateExited"):
            name = details.get("name")
            for run in reversed(open_runs):
                if run["name"] == name:
                    run["output"] = parse_json_text(details.get("output"))
                    run["exited"] = stamp
                    if run["status"] == "RUNNING":
                        run["status"] = "SUCCEEDED"
                    open_runs.remove(run)
                    break
        elif open_runs and kind.endswith("Scheduled"):
            open_runs[-1]["attempts"] += 1
        elif open_runs and kind.endswith(("Failed", "TimedOut")) and not kind.startswith("Execution"):
            run = open_runs[-1]
            run["errors"].append({"event": kind, "error": details.get("error"), "cause": details.get("cause")})
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            for run in open_runs:
                run["status"] = "FAILED" if kind != "ExecutionAborted" else "ABORTED"
        elif kind == "ExecutionRedriven":
            for run in runs:
                if run["status"] in ("FAILED", "ABORTED"):
                    run["status"] = "REDRIVEN"
    for run in runs:
        if run["status"] == "SUCCEEDED" and run["errors"] and run["attempts"] <= len(run["errors"]):
            run["status"] = "CAUGHT"
        run["retries"] = max(0, run["attempts"] - 1)
    return runs


def _waiting_tokens(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    """Task tokens the execution is waiting on (from the engine's in-memory frames)."""
    engine = cloud.shared("workflows", lambda: None)
    live = getattr(engine, "live", {}).get(arn) if engine is not None else None
    if live is None:
        return []
    found: list[dict[str, Any]] = []

    def walk(frame: Any, depth: int) -> None:
        if depth > 50:
            return
        data = getattr(frame, "data", {}) or {}
        token = data.get("token")
        if (
            isinstance(token, str)
            and "callback" not in data
            and getattr(frame, "phase", "") in ("running", "callback")
            and getattr(frame, "status", "") == "RUNNING"
        ):
            found.append({"state": getattr(frame, "state", None), "token": token})
        for child in getattr(frame, "children", []) or []:
            walk(child, depth + 1)

    try:
        with live.lock:
            walk(live.execution.root, 0)
    except Exception:  # the engine's internals changed: show no tokens rather than fail the page
        return []
    return found


def execution_detail(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    arn = _param(request, "arn")
    workflow = _workflow_of(cloud, arn)
    execution = workflow.describe(arn)
    history = workflow.history(arn)
    definition = json.loads(workflow.definition_text(cloud.region, cloud.account_id))
    runs = state_runs(history)
    graph = state_graph(definition)
    top = {n["id"] for n in graph["nodes"]}
    path = [r["name"] for r in runs if r["name"] in top]
    status_of: dict[str, str] = {}
    for run in runs:
        if run["name"] in top:
            status_of[run["name"]] = run["status"]
    events = []
    for event in history:
        when = event.get("timestamp")
        events.append(
            {
                "id": event.get("id"),
                "type": event.get("type"),
                "time": when.timestamp() if hasattr(when, "timestamp") else when,
                "details": {k: parse_json_text(v) for k, v in _details(event).items()},
            }
        )
    return {
        "system": workflow.app.name,
        "workflow": workflow.name,
        "execution": {
            **_execution_row(execution),
            "input": execution.input,
            "output": execution.output,
            "cause": execution.cause,
        },
        "graph": graph,
        "path": path,
        "state_status": status_of,
        "states": runs,
        "events": events,
        "waiting": _waiting_tokens(cloud, arn),
    }


def start_execution(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    workflow = _from_body(cloud, body, "workflow")
    data = body.get("input")
    if isinstance(data, str):
        data = parse_json_text(data) if data.strip() else None
    execution = workflow.start(data, name=body.get("execution_name") or None)
    return _execution_row(execution)


def redrive_execution(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    arn = str(body.get("arn") or "")
    workflow = _workflow_of(cloud, arn)
    return _execution_row(workflow.redrive(arn))


def _token_workflow(cloud: LocalCloud, body: dict[str, Any]) -> tuple[Any, str]:
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise ValidationError("missing task token")
    arn = body.get("arn")
    if isinstance(arn, str) and arn:
        return _workflow_of(cloud, arn), token
    for app in cloud.apps:
        for workflow in app.resources_of("workflow"):
            if workflow.is_bound:
                return workflow, token  # any handle routes any token of its cloud
    raise ResourceNotFound("no workflow is running")


def task_success(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    workflow, token = _token_workflow(cloud, body)
    output = body.get("output")
    if isinstance(output, str):
        output = parse_json_text(output) if output.strip() else {}
    workflow.send_task_success(token, output)
    return {"sent": "success"}


def task_failure(cloud: LocalCloud, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    workflow, token = _token_workflow(cloud, body)
    workflow.send_task_failure(token, error=body.get("error") or None, cause=body.get("cause") or None)
    return {"sent": "failure"}


# -- traces --------------------------------------------------------------------------------------


def traces(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    limit = _int(request, "limit", 50, 1, MAX_LIMIT)
    found = attach(cloud).traces.recent_traces(limit)
    return {
        "traces": [
            {
                "trace_id": t.trace_id,
                "root": t.root,
                "start": t.start,
                "duration_ms": t.duration_ms,
                "spans": t.spans,
                "errors": t.errors,
            }
            for t in found
        ]
    }


def trace_detail(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    trace_id = _param(request, "id")
    roots = attach(cloud).traces.get_trace(trace_id)
    flat: list[dict[str, Any]] = []

    def walk(span: dict[str, Any], depth: int) -> None:
        children = span.pop("children", [])
        span["depth"] = depth
        flat.append(span)
        for child in sorted(children, key=lambda s: s["start"]):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    if not flat:
        raise ResourceNotFound(f"no trace {trace_id!r}")
    start = min(s["start"] for s in flat)
    end = max(s["end"] for s in flat)
    logs = query_logs(cloud.state_dir, trace_id=flat[0]["trace_id"], limit=200)
    return {"trace_id": flat[0]["trace_id"], "start": start, "end": end, "spans": flat, "logs": logs}


# -- metrics and alarms --------------------------------------------------------------------------


def metrics_list(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    series = attach(cloud).metrics.list_metrics(request.query_params.get("namespace") or None)
    return {
        "metrics": [
            {"namespace": s.namespace, "name": s.name, "dimensions": s.dimensions, "unit": s.unit} for s in series
        ]
    }


def metric_data(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    namespace = _param(request, "namespace")
    name = _param(request, "name")
    try:
        dimensions = json.loads(request.query_params.get("dimensions") or "{}")
    except ValueError:
        raise ValidationError("dimensions must be a JSON object") from None
    if not isinstance(dimensions, dict):
        raise ValidationError("dimensions must be a JSON object")
    minutes = _int(request, "minutes", 60, 1, 15 * 1440)
    period = _int(request, "period", 60 if minutes <= 180 else 300, 60, 86400)
    period -= period % 60
    statistic = request.query_params.get("stat") or "Sum"
    end = math.floor(_now(cloud) / 60) * 60 + 60
    start = end - minutes * 60
    points = attach(cloud).metrics.get_statistics(
        namespace, name, dimensions, start, end, period, statistics=(statistic,)
    )
    return {
        "namespace": namespace,
        "name": name,
        "dimensions": dimensions,
        "statistic": statistic,
        "start": start,
        "end": end,
        "period": period,
        "points": [{"t": p["Timestamp"], "v": p.get(statistic)} for p in points],
        "unit": points[0]["Unit"] if points else None,
    }


def alarms(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    out = []
    for app in cloud.apps:
        for alarm in app.resources_of("alarm"):
            if not alarm.is_bound:
                continue
            state = alarm.state()  # type: ignore[attr-defined]
            history = alarm.history(10)  # type: ignore[attr-defined]
            a: Any = alarm
            out.append(
                {
                    "system": app.name,
                    "name": alarm.name,
                    "state": state.value,
                    "reason": state.reason,
                    "since": state.timestamp,
                    "metric": {"namespace": a.namespace, "name": a.metric, "dimensions": dict(a.dimensions or {})},
                    "statistic": a.statistic,
                    "period": a.period,
                    "threshold": a.threshold,
                    "comparison": a.comparison,
                    "description": a.description,
                    "history": [
                        {"time": h.timestamp, "old": h.old_state, "new": h.new_state, "reason": h.reason}
                        for h in history
                    ],
                }
            )
    return {"alarms": out}


# -- logs ----------------------------------------------------------------------------------------


def log_filters(request: Request) -> dict[str, str | None]:
    q = request.query_params
    stream = q.get("stream") or None
    if stream is not None and ("/" in stream or "\\" in stream or stream.startswith(".")):
        raise ValidationError(f"not a log stream name: {stream!r}")
    return {
        "stream": stream,
        "function": q.get("function") or None,
        "text": (q.get("text") or "").lower() or None,
        "level": (q.get("level") or "").upper() or None,
        "request_id": q.get("request_id") or None,
        "trace_id": q.get("trace_id") or None,
    }


def matches(record: dict[str, Any], filters: dict[str, str | None], line: str) -> bool:
    function = filters.get("function")
    if function:
        name = record.get("function")
        if name != function and not (isinstance(name, str) and name.endswith("-" + function)):
            return False
    text = filters.get("text")
    if text and text not in line.lower():
        return False
    level = filters.get("level")
    if level and str(record.get("level", "")).upper() != level:
        return False
    for key in ("request_id", "trace_id"):
        wanted = filters.get(key)
        if wanted and record.get(key) != wanted:
            return False
    return True


def logs(cloud: LocalCloud, request: Request) -> dict[str, Any]:
    filters = log_filters(request)
    limit = _int(request, "limit", 200, 1, 2000)
    since = request.query_params.get("since") or None
    found = query_logs(
        cloud.state_dir,
        stream=filters["stream"],
        function=filters["function"],
        request_id=filters["request_id"],
        trace_id=filters["trace_id"],
        text=filters["text"],
        since=since,
        limit=limit * 4 if filters["level"] else limit,
        now=_now(cloud),
    )
    if filters["level"]:
        found = [r for r in found if str(r.get("level", "")).upper() == filters["level"]][-limit:]
    streams = sorted(p.stem for p in (cloud.state_dir / "logs").glob("*.jsonl"))
    return {"records": found, "streams": streams}


def log_offsets(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.glob("*.jsonl")} if folder.exists() else {}


def read_new_lines(
    folder: Path, offsets: dict[str, int], filters: dict[str, str | None]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Records appended since ``offsets`` (whole lines only), and the new offsets."""
    out: list[dict[str, Any]] = []
    offsets = dict(offsets)
    stream = filters.get("stream")
    paths = [folder / f"{stream}.jsonl"] if stream else sorted(folder.glob("*.jsonl")) if folder.exists() else []
    for path in paths:
        if not path.exists():
            continue
        start = offsets.get(path.name, 0)
        size = path.stat().st_size
        if size < start:
            start = 0
        if size == start:
            continue
        with open(path, "rb") as f:
            f.seek(start)
            chunk = f.read(min(size - start, 4 * 1024 * 1024))
        complete = chunk.rfind(b"\n") + 1
        offsets[path.name] = start + complete
        for raw in chunk[:complete].decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and matches(record, filters, raw):
                record["stream"] = path.stem
                out.append(record)
    out.sort(key=record_time)
    return out, offsets
