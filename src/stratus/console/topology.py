"""The architecture of a system, drawn from its declarations: nodes (resources) and edges.

Edges come from what the declarations say — a function's triggers (routes, queues,
streams, table streams, buckets, topics, rules), rule targets, topic subscriptions,
schedule targets, dead-letter queues, destinations, workflow substitutions — and from
what a handler *uses*: the global names in its code (and in helpers of the same system it
calls) that resolve to resources, as ``orders.put(...)`` names ``orders``.

Why by hand: this is a walk over the App's own objects and Python code objects; no library
knows either.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator
from typing import Any

from stratus.app import App
from stratus.resources.base import Resource

#: Kinds drawn on the map, in the column order a reader expects (sources left, stores right).
KIND_LABELS = {
    "http_api": "API",
    "websocket_api": "WebSocket API",
    "schedule": "schedule",
    "scheduler": "scheduler",
    "bucket": "bucket",
    "function": "function",
    "queue": "queue",
    "topic": "topic",
    "event_bus": "event bus",
    "rule": "rule",
    "stream": "stream",
    "workflow": "workflow",
    "table": "table",
    "sql": "SQL database",
    "cache": "cache",
    "search": "search index",
    "secret": "secret",
    "key": "key",
    "user_pool": "user pool",
    "alarm": "alarm",
    "api_keys": "API keys",
}


def node_id(resource: Resource[Any]) -> str:
    return f"{resource.kind}:{resource.name}"


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def used_resources(handler: Any, max_depth: int = 3) -> list[Resource[Any]]:
    """Resources a handler's code names (directly, through a module attribute, a closure, or a helper).

    Helpers are followed when they are plain functions of the handler's own package (its system),
    up to ``max_depth`` calls deep.
    """
    found: dict[int, Resource[Any]] = {}
    seen: set[int] = set()
    root = getattr(handler, "__module__", "") or ""
    package = _package_of(root)

    def visit_value(value: Any, names: set[str], depth: int) -> None:
        if isinstance(value, Resource):
            found.setdefault(id(value), value)
        elif isinstance(value, types.ModuleType):
            if _package_of(value.__name__) != package and not value.__name__.startswith(package):
                return
            for name in names:
                attr = getattr(value, name, None)
                if isinstance(attr, Resource):
                    found.setdefault(id(attr), attr)
                elif inspect.isfunction(attr) and depth < max_depth:
                    visit_function(attr, depth + 1)
        elif inspect.isfunction(value) and depth < max_depth:
            visit_function(value, depth + 1)

    def visit_function(fn: Any, depth: int) -> None:
        fn = inspect.unwrap(fn) if hasattr(fn, "__wrapped__") else fn
        if not inspect.isfunction(fn) or id(fn) in seen:
            return
        module = getattr(fn, "__module__", "") or ""
        if depth > 0 and _package_of(module) != package:
            return
        seen.add(id(fn))
        names: set[str] = set()
        for code in _code_objects(fn.__code__):
            names.update(code.co_names)
        fn_globals = fn.__globals__
        for name in names:
            if name in fn_globals:
                visit_value(fn_globals[name], names, depth)
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            visit_value(value, names, depth)

    target = handler
    # A route handler wraps the user's handler (``__wrapped__``) in a closure; look at both.
    visit_function(target, 0)
    inner = getattr(target, "__wrapped__", None)
    if inner is not None:
        visit_function(inner, 0)
    return list(found.values())


def _edge(edges: list[dict[str, Any]], seen: set[tuple[str, str, str]], source: str, target: str, kind: str) -> None:
    key = (source, target, kind)
    if source != target and key not in seen:
        seen.add(key)
        edges.append({"from": source, "to": target, "kind": kind})


def system_map(app: App) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...]}`` for one system."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(resource: Resource[Any]) -> str:
        nid = node_id(resource)
        if nid not in nodes and resource.app is app:
            nodes[nid] = {
                "id": nid,
                "kind": resource.kind,
                "name": resource.name,
                "label": KIND_LABELS.get(resource.kind, resource.kind),
            }
        return nid

    for resource in app.resources:
        if resource.kind in KIND_LABELS:
            add(resource)

    for resource in app.resources:
        kind = resource.kind
        rid = node_id(resource)
        if kind == "function":
            for trigger in getattr(resource, "triggers", []):
                source = trigger.source
                if source is None:
                    continue
                label = trigger.kind
                if trigger.kind == "http":
                    route = trigger.options.get("route")
                    label = getattr(route, "key", "route")
                _edge(edges, seen, add(source), rid, label)
            for dest, label in ((resource.on_success, "on success"), (resource.on_failure, "on failure")):  # type: ignore[attr-defined]
                if dest is not None:
                    _edge(edges, seen, rid, add(dest), label)
            for used in used_resources(resource.handler):  # type: ignore[attr-defined]
                if used.app is app and used is not resource and used.kind in KIND_LABELS:
                    _edge(edges, seen, rid, add(used), "uses")
        elif kind == "queue":
            dead = getattr(resource, "dead_letter", None)
            if dead is not None:
                _edge(edges, seen, rid, add(dead.queue), "dead letters")
        elif kind == "topic":
            for sub in getattr(resource, "subscriptions", []):
                if isinstance(sub.endpoint, Resource):
                    _edge(edges, seen, rid, add(sub.endpoint), f"subscription ({sub.protocol})")
        elif kind == "event_bus":
            for rule in getattr(resource, "rules", {}).values():
                rule_id = f"rule:{resource.name}/{rule.name}"
                nodes[rule_id] = {
                    "id": rule_id,
                    "kind": "rule",
                    "name": rule.name,
                    "label": "rule",
                    "bus": resource.name,
                }
                _edge(edges, seen, rid, rule_id, "rule")
                for target in rule.targets:
                    _edge(edges, seen, rule_id, add(target.resource), "target")
        elif kind == "schedule":
            spec = getattr(resource, "spec", None)
            if spec is not None:
                _edge(edges, seen, rid, add(spec.target), "target")
        elif kind == "workflow":
            for value in getattr(resource, "substitutions", {}).values():
                if isinstance(value, Resource) and value.app is app:
                    _edge(edges, seen, rid, add(value), "task" if value.kind == "function" else "uses")
        elif kind == "alarm":
            for action in getattr(resource, "actions", ()):
                _edge(edges, seen, rid, add(action), "alarm action")
    return {"system": app.name, "nodes": list(nodes.values()), "edges": edges}
