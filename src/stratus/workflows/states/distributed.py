"""Distributed Map: items read from S3 (ItemReader), grouped (ItemBatcher), results written to S3 (ResultWriter).

A Map whose ``ItemProcessor.ProcessorConfig.Mode`` is ``DISTRIBUTED`` reads its items
through the runner's task invoker: ``arn:aws:states:::s3:listObjectsV2`` (the items are
the listed objects) or ``arn:aws:states:::s3:getObject`` (the object is a JSON array, JSON
lines or CSV, per ``ReaderConfig.InputType``), up to ``ReaderConfig.MaxItems``. With an
ItemBatcher each iteration receives ``{"Items": [...], "BatchInput": ...}``. With a
ResultWriter the results go to ``arn:aws:states:::s3:putObject`` as AWS lays them out
(``<Prefix>/<map run id>/manifest.json`` and ``SUCCEEDED_0.json``/``FAILED_0.json``) and
the state's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.

A runner opts in with ``parse(..., distributed_map=True)`` when its invoker serves those
S3 resources; the bare interpreter reports a distributed Map as unsupported. Iterations run
as the inline Map's do (one after another, in this execution), not as child executions.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import RUNTIME, Problems, StatesError
from stratus.workflows.tasks import TaskContext
from stratus.workflows.templates import Env, Template, compact, compile_jsonpath_template

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

#: set by ``parse(..., distributed_map=True)`` while a definition is compiled
ALLOWED: ContextVar[bool] = ContextVar("distributed_map_allowed", default=False)

LIST_OBJECTS = "arn:aws:states:::s3:listObjectsV2"
GET_OBJECT = "arn:aws:states:::s3:getObject"
PUT_OBJECT = "arn:aws:states:::s3:putObject"
_INPUT_TYPES = ("JSON", "JSONL", "CSV")


@dataclass
class Distributed:
    reader: str | None = None
    reader_parameters: Template | None = None
    input_type: str = "JSON"
    csv_headers: list[str] | None = None  # None: the first row
    max_items: int | None = None
    batch_size: int | None = None
    batch_input: Template | None = None
    writer_parameters: Template | None = None


def compile_distributed(raw: dict[str, Any], where: str, problems: Problems) -> Distributed:
    config = Distributed()
    reader = raw.get("ItemReader")
    if reader is not None:
        at = f"{where}/ItemReader"
        if not isinstance(reader, dict) or reader.get("Resource") not in (LIST_OBJECTS, GET_OBJECT):
            problems.add(at, f"'Resource' must be '{LIST_OBJECTS}' or '{GET_OBJECT}'")
        else:
            config.reader = reader["Resource"]
            if "Parameters" in reader:
                config.reader_parameters = compile_jsonpath_template(reader["Parameters"], f"{at}/Parameters", problems)
            settings = reader.get("ReaderConfig", {})
            if not isinstance(settings, dict):
                problems.add(f"{at}/ReaderConfig", "must be an object")
                settings = {}
            input_type = settings.get("InputType", "JSON")
            if config.reader == GET_OBJECT and input_type not in _INPUT_TYPES:
                problems.add(f"{at}/ReaderConfig/InputType", f"must be one of {', '.join(_INPUT_TYPES)}")
            config.input_type = input_type
            if settings.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
                headers = settings.get("CSVHeaders")
                if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
                    problems.add(f"{at}/ReaderConfig/CSVHeaders", "must be a list of column names")
                else:
                    config.csv_headers = headers
            max_items = settings.get("MaxItems")
            if max_items is not None:
                if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
                    problems.add(f"{at}/ReaderConfig/MaxItems", "must be a positive integer")
                else:
                    config.max_items = max_items
    batcher = raw.get("ItemBatcher")
    if batcher is not None:
        at = f"{where}/ItemBatcher"
        size = batcher.get("MaxItemsPerBatch") if isinstance(batcher, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            problems.add(at, "'MaxItemsPerBatch' must be a positive integer")
        else:
            config.batch_size = size
            if "BatchInput" in batcher:
                config.batch_input = compile_jsonpath_template(batcher["BatchInput"], f"{at}/BatchInput", problems)
    writer = raw.get("ResultWriter")
    if writer is not None:
        at = f"{where}/ResultWriter"
        if not isinstance(writer, dict) or writer.get("Resource") != PUT_OBJECT or "Parameters" not in writer:
            problems.add(at, f"needs 'Resource': '{PUT_OBJECT}' and 'Parameters' (Bucket, Prefix)")
        else:
            config.writer_parameters = compile_jsonpath_template(writer["Parameters"], f"{at}/Parameters", problems)
    return config


def _context(rt: Runtime, frame: Frame, name: str) -> TaskContext:
    return TaskContext(
        state_name=name, execution_arn=rt.execution.execution_arn, context_object=rt.context(frame), clock=rt.clock
    )


def read_items(config: Distributed, rt: Runtime, frame: Frame, name: str, value: Any) -> list[Any]:
    """The items the ItemReader names."""
    assert config.reader is not None
    env = Env(value, lambda: rt.context(frame), frame.variables, now=rt.clock.now())
    parameters = config.reader_parameters.evaluate(env) if config.reader_parameters is not None else {}
    answer = rt.tasks.invoke(config.reader, parameters, _context(rt, frame, name))
    if config.reader == LIST_OBJECTS:
        items = list(answer.get("Contents", []))
    else:
        body = answer.get("Body", "")
        items = _parse_body(body if isinstance(body, str) else compact(body), config)
    return items[: config.max_items] if config.max_items is not None else items


def _parse_body(text: str, config: Distributed) -> list[Any]:
    try:
        if config.input_type == "JSON":
            items = json.loads(text)
            if not isinstance(items, list):
                raise StatesError(RUNTIME, "The ItemReader's JSON object is not an array")
            return items
        if config.input_type == "JSONL":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise StatesError(RUNTIME, f"The ItemReader could not parse the object as {config.input_type}: {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    headers = config.csv_headers
    if headers is None:
        if not rows:
            return []
        headers, rows = rows[0], rows[1:]
    return [dict(zip(headers, row, strict=False)) for row in rows]


def batches(config: Distributed, rt: Runtime, frame: Frame, items: list[Any], value: Any) -> list[Any]:
    """Items grouped by the ItemBatcher: ``{"Items": [...], "BatchInput": ...}``."""
    assert config.batch_size is not None
    batch_input = None
    if config.batch_input is not None:
        batch_input = config.batch_input.evaluate(
            Env(value, lambda: rt.context(frame), frame.variables, now=rt.clock.now())
        )
    out = []
    for start in range(0, len(items), config.batch_size):
        batch: dict[str, Any] = {"Items": items[start : start + config.batch_size]}
        if batch_input is not None:
            batch["BatchInput"] = batch_input
        out.append(batch)
    return out


def write_results(
    config: Distributed, rt: Runtime, frame: Frame, name: str, label: str, children: list[Frame], value: Any
) -> dict[str, Any]:
    """Write the iterations' outcomes as ResultWriter does; the state's result."""
    assert config.writer_parameters is not None
    env = Env(value, lambda: rt.context(frame), frame.variables, now=rt.clock.now())
    parameters = config.writer_parameters.evaluate(env)
    bucket, prefix = parameters.get("Bucket"), str(parameters.get("Prefix", "")).strip("/")
    ex = rt.execution
    run_id = str(uuid.uuid4())
    parts = ex.state_machine_arn.split(":")
    map_run = ":".join([*parts[:5], "mapRun", f"{ex.state_machine_name}/{label}:{run_id}"])
    base = f"{prefix}/{run_id}" if prefix else run_id
    succeeded, failed = [], []
    for child in children:
        record: dict[str, Any] = {
            "ExecutionArn": f"{ex.execution_arn}/{child.map_item['Index'] if child.map_item else 0}",
            "Input": compact(child.input),
            "InputDetails": {"Included": True},
            "Name": run_id,
            "Status": "SUCCEEDED" if child.status == "SUCCEEDED" else "FAILED",
        }
        if child.status == "SUCCEEDED":
            record["Output"] = compact(child.output)
            record["OutputDetails"] = {"Included": True}
            succeeded.append(record)
        else:
            record["Error"], record["Cause"] = child.error, child.cause
            failed.append(record)
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, records in (("SUCCEEDED", succeeded), ("FAILED", failed)):
        if not records:
            continue
        key = f"{base}/{status}_0.json"
        body = compact(records)
        rt.tasks.invoke(PUT_OBJECT, {"Bucket": bucket, "Key": key, "Body": body}, _context(rt, frame, name))
        files[status].append({"Key": key, "Size": len(body.encode())})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run, "ResultFiles": files}
    manifest_key = f"{base}/manifest.json"
    rt.tasks.invoke(
        PUT_OBJECT, {"Bucket": bucket, "Key": manifest_key, "Body": compact(manifest)}, _context(rt, frame, name)
    )
    return {"MapRunArn": map_run, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
