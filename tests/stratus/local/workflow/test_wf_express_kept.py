"""Finished EXPRESS executions keep their history packed: it reads back exactly as it was recorded."""

from __future__ import annotations

import math
from typing import Any

from stratus import App
from stratus.local.workflow.views import pack_events, unpack_events
from stratus.testing import local

MACHINE: dict[str, Any] = {
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Result": {"n": None, "text": "null"}, "ResultPath": "$.shaped", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def test_a_packed_history_reads_back_equal_and_fresh() -> None:
    events = [{"id": 1, "timestamp": 1700000000.125, "type": "PassStateEntered", "details": {"input": "{}"}}]
    packed = pack_events(events)
    assert isinstance(packed, bytes)
    first, second = unpack_events(packed), unpack_events(packed)
    assert first == events and second == events
    first[0]["details"]["input"] = "changed"
    assert second[0]["details"]["input"] == "{}"


def test_what_would_not_read_back_equal_stays_a_list() -> None:
    for events in (
        [{"id": 1, "value": math.nan}],  # orjson writes NaN as null
        [{1: "not a string key"}],  # orjson refuses it
        [{"id": 1, "text": "\ud800"}],  # a lone surrogate: orjson refuses it
    ):
        packed = pack_events(events)  # type: ignore[arg-type]
        assert packed is events
        assert unpack_events(packed) == events


def test_nulls_that_stand_for_none_are_packed() -> None:
    events = [{"id": 1, "details": {"input": '{"a":null}'}, "other": None}]
    packed = pack_events(events)
    assert isinstance(packed, bytes)
    assert unpack_events(packed) == events


def test_the_history_of_a_finished_express_execution_is_unchanged() -> None:
    app = App("kept")
    flow = app.workflow("flow", definition=MACHINE, type="EXPRESS")
    with local(app) as env:
        arn = flow.start({"a": None}).arn
        env.settle()
        assert flow.describe(arn).status == "SUCCEEDED"
        events = flow.history(arn)
        assert [e["type"] for e in events] == [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ]
        assert events[-1]["executionSucceededEventDetails"]["output"] == (
            '{"a":null,"shaped":{"n":null,"text":"null"}}'
        )
        assert flow.history(arn) == events  # read again: the same
        synced = flow.start_sync({"b": 1})
        assert flow.history(synced.arn)[0]["executionStartedEventDetails"]["input"] == '{"b":1}'
