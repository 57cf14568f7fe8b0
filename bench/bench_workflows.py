"""Workflow executions per second: STANDARD (durable) and EXPRESS, a 10,000-item Map, and moto's interpreter.

The machine is Pass -> Choice -> Task(function) -> Pass -> Succeed. Throughput counts whole
executions: ``start()`` for every one (each STANDARD start is committed), then the engine's
pump runs them all to the end (``settle``); for EXPRESS ``start_sync`` is measured too.

moto 5 executes state machines when configured with
``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``, but its Lambda
tasks need Docker, so the comparison rows run the same machine with a Pass in place of the
Task on both sides (moto has no StartSyncExecution, so its EXPRESS row uses StartExecution
and polls DescribeExecution, as its STANDARD row does). moto keeps executions in memory
and goes through boto3's request serialization; the STANDARD ratio compares a durable
engine with an in-memory one.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import Figures, Row, measure
from stratus import App
from stratus.clock import VirtualClock
from stratus.local.pumps import settle

COUNT, MOTO_COUNT, MAP_ITEMS, ROUNDS = 3000, 100, 10_000, 2

MACHINE: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.prepared", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.prepared.n", "NumericGreaterThan": 100, "Next": "Done"}],
            "Default": "Work",
        },
        "Work": {"Type": "Task", "Resource": "${Work}", "ResultPath": "$.work", "Next": "Shape"},
        "Shape": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def _pass_only() -> dict[str, Any]:
    machine = copy.deepcopy(MACHINE)
    machine["States"]["Work"] = {"Type": "Pass", "Result": "worked", "ResultPath": "$.work", "Next": "Shape"}
    return machine


MAP_MACHINE: dict[str, Any] = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 40,
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": "${Work}", "End": True}},
            },
            "End": True,
        }
    },
}


@contextmanager
def _cloud() -> Iterator[tuple[Any, Any, Callable[[], None]]]:
    from stratus.local.cloud import LocalCloud

    folder = tempfile.mkdtemp(prefix="bench-workflows-")
    app = App("bench")

    @app.function
    def work(event: Any, context: Any) -> Any:
        return {"ok": True}

    flows = {
        "standard": app.workflow("standard", definition=MACHINE, substitutions={"Work": work}),
        "express": app.workflow("express", definition=MACHINE, type="EXPRESS", substitutions={"Work": work}),
        "standard-pass": app.workflow("standard-pass", definition=_pass_only()),
        "express-pass": app.workflow("express-pass", definition=_pass_only(), type="EXPRESS"),
        "map-express": app.workflow(
            "map-express", definition=MAP_MACHINE, type="EXPRESS", substitutions={"Work": work}
        ),
        "map-standard": app.workflow("map-standard", definition=MAP_MACHINE, substitutions={"Work": work}),
    }
    clock = VirtualClock()
    cloud = LocalCloud(folder, clock=clock)
    cloud.bind(app)

    def drain() -> None:
        settle(cloud.pumps, clock)

    try:
        yield cloud, flows, drain
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def _batch(flow: Any, drain: Callable[[], None], count: int) -> tuple[Figures, Figures]:
    """Start ``count`` executions, run them all: (wall-clock figures, CPU-time figures), per execution."""
    started, cpu = time.perf_counter(), time.process_time()
    arns = [flow.start({"i": i}).arn for i in range(count)]
    drain()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    assert flow.describe(arns[-1]).status == "SUCCEEDED"
    per, cpu_per = seconds / count * 1e6, cpu_seconds / count * 1e6
    return Figures(count, seconds, per, per), Figures(count, cpu_seconds, cpu_per, cpu_per)


def _best(make: Callable[[], tuple[Figures, Figures]]) -> tuple[Figures, Figures]:
    return max((make() for _ in range(ROUNDS)), key=lambda f: f[0].ops_per_s)


def _moto(express: bool) -> Figures:
    import boto3
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="bench",
            definition=json.dumps(_pass_only()),
            roleArn="arn:aws:iam::123456789012:role/bench",
            type="EXPRESS" if express else "STANDARD",
        )["stateMachineArn"]
        started = time.perf_counter()
        arns = [
            client.start_execution(stateMachineArn=arn, name=f"run-{i}", input='{"i": 1}')["executionArn"]
            for i in range(MOTO_COUNT)
        ]
        for execution in arns:
            while client.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.001)
        seconds = time.perf_counter() - started
    per = seconds / MOTO_COUNT * 1e6
    return Figures(MOTO_COUNT, seconds, per, per)


def run() -> list[Row]:
    rows: list[Row] = []
    with _cloud() as (_, flows, drain):
        standard = _best(lambda: _batch(flows["standard"], drain, COUNT))
        express = _best(lambda: _batch(flows["express"], drain, COUNT))
        sync_flow = flows["express"]
        express_sync = measure(lambda i: sync_flow.start_sync({"i": i}), COUNT, max_seconds=5.0)
        standard_pass = _best(lambda: _batch(flows["standard-pass"], drain, COUNT))
        express_pass = _best(lambda: _batch(flows["express-pass"], drain, COUNT))
        items = {"items": list(range(MAP_ITEMS))}
        map_rows = []
        for kind in ("map-express", "map-standard"):
            flow = flows[kind]
            started = time.perf_counter()
            execution = flow.start(items)
            drain()
            seconds = time.perf_counter() - started
            assert flow.describe(execution.arn).status == "SUCCEEDED"
            map_rows.append((kind, Figures(MAP_ITEMS, seconds, seconds / MAP_ITEMS * 1e6, seconds / MAP_ITEMS * 1e6)))
    # On a shared, loaded machine wall-clock throughput says as much about the neighbours as about
    # the engine: the "per CPU-second" rows divide by this process's CPU time instead.
    rows.append(Row("workflows", "STANDARD 5-state, Task=function (durable)", standard[0], target=">= 1,000/s"))
    rows.append(Row("workflows", "  same, per CPU-second", standard[1], target=">= 1,000/s"))
    rows.append(Row("workflows", "EXPRESS 5-state, Task=function, start()", express[0], target=">= 5,000/s"))
    rows.append(Row("workflows", "  same, per CPU-second", express[1], target=">= 5,000/s"))
    rows.append(Row("workflows", "EXPRESS 5-state, Task=function, start_sync()", express_sync))
    rows.append(
        Row("workflows", "STANDARD 5-state, Task=Pass (vs moto)", standard_pass[0], other=_moto(False), target="ratio")
    )
    rows.append(Row("workflows", "EXPRESS 5-state, Task=Pass (vs moto)", express_pass[0], other=_moto(True)))
    for kind, figures in map_rows:
        label = "EXPRESS" if kind == "map-express" else "STANDARD"
        rows.append(Row("workflows", f"{label} Map of 10,000 items, MaxConcurrency 40 (items/s)", figures))
    return rows


if __name__ == "__main__":
    from bench.common import format_rows

    print(format_rows(run()))
