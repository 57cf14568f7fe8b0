"""Finding the resources a handler uses from its code objects."""

from __future__ import annotations

import types
from typing import Any

from stratus import App
from stratus.aws.uses import find_usage


def test_globals_closures_nested_code_and_helpers() -> None:
    app = App("uses")
    table = app.table("things", partition_key="id")
    queue = app.queue("jobs")
    topic = app.topic("news")
    unused = app.bucket("unused")

    def helper() -> None:
        queue.send("x")

    captured = topic

    @app.function
    def handler(event: Any, context: Any) -> Any:
        helper()
        items = [table.get({"id": i}) for i in event]  # a comprehension: nested code
        return (lambda: captured.publish("y"))(), items

    usage = find_usage(handler)
    names = {r.name for r in usage.resources}
    assert names == {"things", "jobs", "news"}
    assert unused.name not in names
    assert {"get", "send", "publish"} <= usage.names


def test_attributes_of_system_modules_are_followed() -> None:
    app = App("mods")
    table = app.table("things", partition_key="id")
    module = types.ModuleType("systems.mods.domain")
    module.store = lambda item: table.put(item)  # type: ignore[attr-defined]
    namespace = {"domain": module}
    code = compile("def handler(event, context):\n    return domain.store(event)\n", "<systems.mods.app>", "exec")
    exec(code, namespace)
    handler = app.function(namespace["handler"])  # type: ignore[call-overload]
    assert [r.name for r in find_usage(handler).resources] == ["things"]


def test_framework_code_is_not_followed() -> None:
    app = App("fw")
    table = app.table("things", partition_key="id")

    @app.function
    def handler(event: Any, context: Any) -> Any:
        return len(event)

    usage = find_usage(handler)
    assert usage.resources == []
    assert table.name == "things"


class Repository:
    def __init__(self, table: Any) -> None:
        self.table = table

    def save(self, item: Any) -> None:
        self.table.put(item)

    @staticmethod
    def announce(topic: Any) -> None:
        topic.publish("saved")


def test_system_classes_and_instances_are_followed() -> None:
    app = App("classes")
    table = app.table("things", partition_key="id")
    topic = app.topic("news")
    repository = Repository(table)

    @app.function
    def handler(event: Any, context: Any) -> None:
        repository.save(event)
        Repository.announce(topic)

    usage = find_usage(handler)
    assert {r.name for r in usage.resources} == {"things", "news"}
    assert {"put", "publish"} <= usage.names  # so the policy allows writing, not only what the handler names


def test_declared_uses_are_added_to_what_the_code_shows() -> None:
    app = App("declared")
    table = app.table("things", partition_key="id")

    @app.function
    def handler(event: Any, context: Any) -> Any:
        return getattr(event, "dynamic")  # noqa: B009 - a use code reading cannot see

    handler.uses = [table]  # type: ignore[attr-defined]
    assert [r.name for r in find_usage(handler).resources] == ["things"]
