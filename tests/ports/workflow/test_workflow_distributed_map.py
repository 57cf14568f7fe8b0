"""Distributed Map: items from a bucket (listing, JSON, CSV), batches, results written back to the bucket."""

from __future__ import annotations

import json
from typing import Any

from tests.ports.workflow.harness import Harness

from stratus import App


def distributed(reader: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": reader,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Task", "Resource": "${Work}", "End": True}},
                },
                "MaxConcurrency": 40,
                "End": True,
                **extra,
            }
        },
    }


def data_app(definition: dict[str, Any]) -> tuple[App, Any, Any, list[Any]]:
    app = App("dmap")
    data = app.bucket("data")
    seen: list[Any] = []

    @app.function
    def work(event: Any, context: Any) -> Any:
        seen.append(event)
        return {"got": event}

    flow = app.workflow("each", definition=definition, substitutions={"Work": work, "Data": data})
    return app, flow, data, seen


def test_items_from_a_json_object(harness: Harness) -> None:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON", "MaxItems": 3},
        "Parameters": {"Bucket": "${Data}", "Key.$": "$.key"},
    }
    app, flow, data, _ = data_app(distributed(reader))
    with harness.bind(app) as env:
        data.put("in/items.json", json.dumps([{"n": i} for i in range(5)]))
        execution = flow.start({"key": "in/items.json"})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED", done.cause
        assert done.output == [{"got": {"n": 0}}, {"got": {"n": 1}}, {"got": {"n": 2}}]  # MaxItems


def test_items_from_a_listing_and_from_csv_in_batches(harness: Harness) -> None:
    listing = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "${Data}", "Prefix": "logs/"}}
    app, flow, data, _ = data_app(distributed(listing))
    with harness.bind(app) as env:
        for name in ("a", "b"):
            data.put(f"logs/{name}.txt", "x")
        data.put("other/c.txt", "x")
        execution = flow.start({})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "SUCCEEDED", done.cause
        assert [item["got"]["Key"] for item in done.output] == ["logs/a.txt", "logs/b.txt"]
        assert {"Size", "ETag", "LastModified"} <= set(done.output[0]["got"])

    csv_reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": "${Data}", "Key": "rows.csv"},
    }
    batched = distributed(csv_reader, ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"source": "rows.csv"}})
    app, flow, data, seen = data_app(batched)
    with harness.bind(app) as env:
        data.put("rows.csv", "id,name\n1,ann\n2,bob\n3,cy\n")
        done = flow.describe(flow.start({}).arn)
        env.settle()
        done = flow.describe(done.arn)
        assert done.status == "SUCCEEDED", done.cause
        assert seen == [
            {"Items": [{"id": "1", "name": "ann"}, {"id": "2", "name": "bob"}], "BatchInput": {"source": "rows.csv"}},
            {"Items": [{"id": "3", "name": "cy"}], "BatchInput": {"source": "rows.csv"}},
        ]


def test_result_writer_puts_results_in_the_bucket(harness: Harness) -> None:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": "${Data}", "Key": "items.jsonl"},
    }
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "${Data}", "Prefix": "results"}}
    app, flow, data, _ = data_app(distributed(reader, ResultWriter=writer))
    with harness.bind(app) as env:
        data.put("items.jsonl", '{"n": 1}\n{"n": 2}\n')
        done = flow.describe(flow.start({}).arn)
        env.settle()
        done = flow.describe(done.arn)
        assert done.status == "SUCCEEDED", done.cause
        details = done.output["ResultWriterDetails"]
        assert details["Bucket"] == "dmap-data" and details["Key"].startswith("results/")
        assert ":mapRun:dmap-each/Each:" in done.output["MapRunArn"]
        manifest = json.loads(data.get(details["Key"]).body)
        (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
        records = json.loads(data.get(succeeded["Key"]).body)
        assert [json.loads(r["Output"]) for r in records] == [{"got": {"n": 1}}, {"got": {"n": 2}}]
        assert {r["Status"] for r in records} == {"SUCCEEDED"}


def test_a_missing_object_fails_the_map(harness: Harness) -> None:
    reader = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "${Data}", "Key": "nope.json"}}
    app, flow, _, _ = data_app(distributed(reader))
    with harness.bind(app) as env:
        execution = flow.start({})
        env.settle()
        done = flow.describe(execution.arn)
        assert done.status == "FAILED" and (done.error or "").startswith("S3.")
