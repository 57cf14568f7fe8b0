"""What the API returns about executions: DescribeExecution records and the ``.sync`` task output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from stratus.local.workflow.store import Row
from stratus.resources.workflow import Execution
from stratus.workflows import ExecutionState
from stratus.workflows.engine import to_text


def dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def parse(text: str | None) -> Any:
    return None if text is None else json.loads(text)


#: types orjson would write its own way (datetimes, dataclasses, subclasses): refused, so they are kept as they are
_PACK_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS

PackedEvents = bytes | list[dict[str, Any]]


def pack_events(events: list[dict[str, Any]]) -> PackedEvents:
    """A finished execution's history as one bytes object, when that reads back exactly.

    Kept EXPRESS executions would otherwise hold a few dozen dicts each, which the garbage
    collector walks on every full collection; a bytes object is not walked at all. A history
    that does not read back equal (orjson writes NaN as ``null``, so a text with a ``null`` is
    read back to be sure) or that orjson refuses stays a list.
    """
    try:
        packed = orjson.dumps(events, option=_PACK_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return events
    if b"null" in packed and orjson.loads(packed) != events:
        return events
    return packed


def unpack_events(packed: PackedEvents) -> list[dict[str, Any]]:
    """The history :func:`pack_events` kept, as fresh dicts."""
    if isinstance(packed, bytes):
        events: list[dict[str, Any]] = orjson.loads(packed)
        return events
    return [dict(e) for e in packed]


def summary_of(ex: ExecutionState, input_text: str) -> Execution:
    """DescribeExecution of an execution held in memory."""
    return Execution(
        arn=ex.execution_arn,
        name=ex.name,
        state_machine_arn=ex.state_machine_arn,
        status=ex.status,
        start_date=dt(ex.start_time) or datetime.now(UTC),
        stop_date=dt(ex.stop_time),
        input=json.loads(input_text),
        output=ex.output if ex.status == "SUCCEEDED" else None,
        error=ex.error,
        cause=ex.cause,
        redrive_count=ex.redrive_count,
        redrive_date=dt(ex.redrive_time),
    )


def from_row(row: Row) -> Execution:
    """DescribeExecution of a stored execution."""
    return Execution(
        arn=row.arn,
        name=row.name,
        state_machine_arn=row.machine,
        status=row.status,
        start_date=dt(row.start) or datetime.now(UTC),
        stop_date=dt(row.stop),
        input=parse(row.input),
        output=parse(row.output),
        error=row.error,
        cause=row.cause,
        redrive_count=row.redrive_count,
        redrive_date=dt(row.redrive_time),
    )


def describe_output(execution: Execution, input_text: str, *, parsed: bool) -> dict[str, Any]:
    """DescribeExecution as a ``.sync`` (text Input/Output) or ``.sync:2`` (JSON) task returns it."""
    millis = lambda d: int(d.timestamp() * 1000) if d is not None else None  # noqa: E731
    out: dict[str, Any] = {
        "ExecutionArn": execution.arn,
        "Input": json.loads(input_text) if parsed else input_text,
        "InputDetails": {"Included": True},
        "Name": execution.name,
        "RedriveCount": execution.redrive_count,
        "StartDate": millis(execution.start_date),
        "StateMachineArn": execution.state_machine_arn,
        "Status": execution.status,
        "StopDate": millis(execution.stop_date),
    }
    if execution.status == "SUCCEEDED":
        out["Output"] = execution.output if parsed else to_text(execution.output)
        out["OutputDetails"] = {"Included": True}
    if execution.error is not None:
        out["Error"] = execution.error
    if execution.cause is not None:
        out["Cause"] = execution.cause
    return out
