"""Running executions: data flow, time, errors, Parallel/Map, history, persistence (stratus.workflows.engine)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.clock import VirtualClock
from stratus.workflows import ExecutionState, Runtime, TaskFailed, parse, run, start_execution
from stratus.workflows.tasks import as_invoker

FN = "arn:aws:lambda:us-east-1:123456789012:function:"


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def test_pass_data_flow_applies_input_parameters_result_and_output_paths(clock: VirtualClock) -> None:
    definition = machine(
        {
            "Shape": {
                "Type": "Pass",
                "InputPath": "$.order",
                "Parameters": {"id.$": "$.id", "fixed": 1, "who.$": "$$.State.Name"},
                "ResultPath": "$.shaped",
                "OutputPath": "$.shaped",
                "End": True,
            }
        }
    )
    result = run(definition, {"order": {"id": "o-1"}, "other": 2}, clock=clock)
    assert result.status == "SUCCEEDED"
    assert result.output == {"id": "o-1", "fixed": 1, "who": "Shape"}


def test_result_path_null_keeps_the_input_and_input_path_null_gives_empty_object(clock: VirtualClock) -> None:
    definition = machine(
        {
            "Keep": {"Type": "Pass", "Result": "ignored", "ResultPath": None, "Next": "Empty"},
            "Empty": {"Type": "Pass", "InputPath": None, "End": True},
        }
    )
    assert run(definition, {"a": 1}, clock=clock).output == {}
    definition["States"]["Keep"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    del definition["States"]["Empty"]
    assert run(definition, {"a": 1}, clock=clock).output == {"a": 1}


def test_wait_skips_virtual_time_and_history_shows_it() -> None:
    clock = VirtualClock(1_000_000.0)
    definition = machine({"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}})
    result = run(definition, {"x": 1}, clock=clock)
    assert result.output == {"x": 1}
    assert clock.now() == 1_000_000.0 + 3600
    entered, exited = (e for e in result.history if e["type"].startswith("WaitState"))
    assert exited["timestamp"] - entered["timestamp"] == 3600


def test_wait_timestamp_path_and_bad_seconds_path(clock: VirtualClock) -> None:
    definition = machine({"Until": {"Type": "Wait", "TimestampPath": "$.at", "End": True}})
    start = clock.now()
    run(definition, {"at": "2030-01-01T00:00:00Z"}, clock=clock)
    assert clock.now() == pytest.approx(1893456000.0) and clock.now() > start
    bad = machine({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}})
    result = run(bad, {"s": -2}, clock=clock)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). "
        "The SecondsPath parameter references a negative value: $.s == -2"
    )


def test_history_events_are_numbered_and_chained(clock: VirtualClock) -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}})
    history = run(definition, {}, clock=clock).history
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == [1, 2, 3, 4, 5, 6]
    assert [e["previousEventId"] for e in history] == [0, 1, 2, 3, 4, 5]
    assert history[1]["stateEnteredEventDetails"]["name"] == "A"
    assert json.loads(history[-1]["executionSucceededEventDetails"]["output"]) == {}


class Flaky:
    """Fails ``failures`` times with ``error``, then returns the attempt count and the retry count seen."""

    def __init__(self, failures: int, error: str = "Busy") -> None:
        self.failures = failures
        self.error = error
        self.calls = 0
        self.times: list[float] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls += 1
        self.times.append(context.clock.now())
        if self.calls <= self.failures:
            raise TaskFailed(self.error, f"attempt {self.calls}")
        return {"calls": self.calls}


def task(name: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FN + name, **fields}


def test_retry_waits_with_exponential_backoff_on_the_clock(clock: VirtualClock) -> None:
    flaky = Flaky(3)
    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}]
    result = run(machine({"T": task("flaky", Retry=retry, End=True)}), {}, clock=clock, tasks={"flaky": flaky})
    assert result.output == {"calls": 4}
    gaps = [b - a for a, b in zip(flaky.times, flaky.times[1:], strict=False)]
    assert gaps == [2, 6, 18]


def test_retry_max_delay_caps_the_interval_and_exhaustion_fails(clock: VirtualClock) -> None:
    flaky = Flaky(10)
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 3, "MaxDelaySeconds": 15}]
    result = run(machine({"T": task("flaky", Retry=retry, End=True)}), {}, clock=clock, tasks={"flaky": flaky})
    assert (result.status, result.error, result.cause) == ("FAILED", "Busy", "attempt 4")
    assert [b - a for a, b in zip(flaky.times, flaky.times[1:], strict=False)] == [10, 15, 15]


def test_max_attempts_zero_never_retries(clock: VirtualClock) -> None:
    flaky = Flaky(1)
    retry = [{"ErrorEquals": ["Busy"], "MaxAttempts": 0}]
    result = run(machine({"T": task("flaky", Retry=retry, End=True)}), {}, clock=clock, tasks={"flaky": flaky})
    assert (result.status, flaky.calls) == ("FAILED", 1)


def test_full_jitter_never_waits_longer_than_the_backoff(clock: VirtualClock) -> None:
    flaky = Flaky(3)
    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 4, "MaxAttempts": 3, "JitterStrategy": "FULL"}]
    run(machine({"T": task("flaky", Retry=retry, End=True)}), {}, clock=clock, tasks={"flaky": flaky})
    gaps = [b - a for a, b in zip(flaky.times, flaky.times[1:], strict=False)]
    assert all(0 <= gap <= limit for gap, limit in zip(gaps, [4, 8, 16], strict=True))


def test_catch_routes_error_output_through_result_path(clock: VirtualClock) -> None:
    definition = machine(
        {
            "T": task(
                "flaky", Catch=[{"ErrorEquals": ["Busy"], "ResultPath": "$.failure", "Next": "Handled"}], End=True
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    result = run(definition, {"order": 1}, clock=clock, tasks={"flaky": Flaky(5)})
    assert result.output == {"order": 1, "failure": {"Error": "Busy", "Cause": "attempt 1"}}


def test_states_runtime_is_never_caught(clock: VirtualClock) -> None:
    definition = machine(
        {
            "P": {
                "Type": "Task",
                "Resource": FN + "echo",
                "OutputPath": "$.missing",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    result = run(definition, {}, clock=clock, tasks={"echo": lambda e, c: e})
    assert result.error == "States.Runtime"
    assert "Invalid path '$.missing' : No results for path: $['missing']" in (result.cause or "")


def test_lambda_exception_is_reported_like_the_python_runtime(clock: VirtualClock) -> None:
    def boom(event: Any, context: Any) -> Any:
        raise ValueError("bad order")

    result = run(machine({"T": task("boom", End=True)}), {}, clock=clock, tasks={"boom": boom})
    assert result.error == "ValueError"
    cause = json.loads(result.cause or "")
    assert (cause["errorType"], cause["errorMessage"]) == ("ValueError", "bad order")
    assert "raise ValueError" in cause["stackTrace"][0]
    types = [e["type"] for e in result.history]
    assert types[2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed"]


def test_unknown_function_fails_with_resource_not_found(clock: VirtualClock) -> None:
    result = run(machine({"T": task("ghost", End=True)}), {}, clock=clock, tasks={})
    assert result.error == "Lambda.ResourceNotFoundException"
    assert "Function not found" in (result.cause or "")


def test_task_running_past_its_timeout_is_states_timeout(clock: VirtualClock) -> None:
    def slow(event: Any, context: Any) -> Any:
        clock.advance(30)
        return event

    result = run(machine({"T": task("slow", TimeoutSeconds=10, End=True)}), {}, clock=clock, tasks={"slow": slow})
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Timeout", None)


def test_payload_over_256_kib_is_data_limit_exceeded(clock: VirtualClock) -> None:
    result = run(machine({"Big": {"Type": "Pass", "Result": "x" * (256 * 1024), "End": True}}), {}, clock=clock)
    assert result.error == "States.DataLimitExceeded"
    assert result.cause == (
        "The state/task 'Big' returned a result with a size exceeding the maximum number of bytes service limit."
    )


def test_parallel_outputs_in_branch_order_and_fails_on_first_failure(clock: VirtualClock) -> None:
    ok = machine(
        {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 5, "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}},
                ],
                "End": True,
            }
        }
    )
    assert run(ok, {"in": 1}, clock=clock).output == [{"in": 1}, "b"]
    ok["States"]["P"]["Branches"][1]["States"]["B"] = {"Type": "Fail", "Error": "E", "Cause": "C"}
    failed = run(ok, {}, clock=clock)
    assert (failed.error, failed.cause) == ("E", "C")
    assert "ParallelStateFailed" in [e["type"] for e in failed.history]


def map_machine(**fields: Any) -> dict[str, Any]:
    processor = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": False, "Next": "Bad"}],
                "Default": "Good",
            },
            "Bad": {"Type": "Fail", "Error": "ItemFailed", "Cause": "bad item"},
            "Good": {"Type": "Pass", "Parameters": {"index.$": "$$.Map.Item.Index"}, "End": True},
        },
    }
    return machine({"M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **fields}})


def test_map_runs_each_item_with_its_index(clock: VirtualClock) -> None:
    result = run(map_machine(), {"items": [{"ok": True}, {"ok": True}]}, clock=clock)
    assert result.output == [{"index": 0}, {"index": 1}]
    assert [e["type"] for e in result.history].count("MapIterationStarted") == 2


def test_map_item_selector_sees_item_value_and_input(clock: VirtualClock) -> None:
    definition = map_machine(ItemSelector={"ok.$": "$$.Map.Item.Value", "tag.$": "$.tag"})
    result = run(definition, {"items": [True], "tag": "t"}, clock=clock)
    assert result.output == [{"index": 0}]


def test_map_failure_fails_the_state_unless_tolerated(clock: VirtualClock) -> None:
    items = {"items": [{"ok": True}, {"ok": False}, {"ok": True}]}
    failed = run(map_machine(), items, clock=clock)
    assert (failed.error, failed.cause) == ("ItemFailed", "bad item")
    tolerated = run(map_machine(ToleratedFailureCount=1), items, clock=clock)
    assert tolerated.output == [{"index": 0}, {"Error": "ItemFailed", "Cause": "bad item"}, {"index": 2}]
    exceeded = run(map_machine(ToleratedFailurePercentage=10), items, clock=clock)
    assert exceeded.error == "States.ExceedToleratedFailureThreshold"


def test_variables_are_scoped_to_their_map_iteration(clock: VirtualClock) -> None:
    definition = machine(
        {
            "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {"Type": "Pass", "Assign": {"y.$": "$x"}, "Parameters": {"x.$": "$x"}, "End": True}
                    },
                },
                "Next": "After",
            },
            "After": {"Type": "Pass", "Parameters": {"x.$": "$x", "map.$": "$"}, "End": True},
        }
    )
    result = run(definition, [1, 2], clock=clock)
    assert result.output == {"x": 1, "map": [{"x": 1}, {"x": 1}]}
    definition["States"]["After"]["Parameters"] = {"y.$": "$y"}
    assert run(definition, [1], clock=clock).error == "States.Runtime"


def test_assignments_take_effect_after_the_state(clock: VirtualClock) -> None:
    definition = machine(
        {
            "One": {"Type": "Pass", "Assign": {"n": 1}, "Next": "Two"},
            "Two": {"Type": "Pass", "Assign": {"n": 2, "old.$": "$n"}, "Parameters": {"seen.$": "$n"}, "Next": "Three"},
            "Three": {"Type": "Pass", "Parameters": {"n.$": "$n", "old.$": "$old", "prev.$": "$.seen"}, "End": True},
        }
    )
    assert run(definition, {}, clock=clock).output == {"n": 2, "old": 1, "prev": 1}


def test_jsonata_state_with_arguments_output_and_assign(clock: VirtualClock) -> None:
    definition = machine(
        {
            "Call": {
                "Type": "Task",
                "Resource": FN + "double",
                "Arguments": {"n": "{% $states.input.n %}"},
                "Assign": {"last": "{% $states.result.n %}"},
                "Output": "{% {'doubled': $states.result.n, 'was': $states.input.n} %}",
                "Next": "Report",
            },
            "Report": {"Type": "Pass", "Output": "{% $merge([$states.input, {'last': $last}]) %}", "End": True},
        },
        QueryLanguage="JSONata",
    )
    result = run(definition, {"n": 21}, clock=clock, tasks={"double": lambda e, c: {"n": e["n"] * 2}})
    assert result.output == {"doubled": 42, "was": 21, "last": 42}


def test_jsonata_choice_and_undefined_result(clock: VirtualClock) -> None:
    definition = machine(
        {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big", "Output": "big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Succeed"},
            "Small": {"Type": "Pass", "Output": "{% $states.input.nothing %}", "End": True},
        },
        QueryLanguage="JSONata",
    )
    assert run(definition, {"n": 11}, clock=clock).output == "big"
    failed = run(definition, {"n": 1}, clock=clock)
    assert failed.error == "States.QueryEvaluationError"
    assert "returned nothing (undefined)" in (failed.cause or "")


def test_execution_state_survives_serialization_mid_wait() -> None:
    clock = VirtualClock(0)
    parsed = parse(
        machine(
            {
                "Before": {"Type": "Pass", "Assign": {"v": "kept"}, "Next": "Nap"},
                "Nap": {"Type": "Wait", "Seconds": 60, "Next": "After"},
                "After": {"Type": "Pass", "Parameters": {"v.$": "$v", "in.$": "$"}, "End": True},
            }
        )
    )
    execution = start_execution(parsed, {"a": 1}, clock=clock, name="e1")
    wake = Runtime(parsed, execution, clock, as_invoker(None)).step()
    assert wake == 60
    saved = json.dumps(execution.to_dict())  # what a durable executor would commit

    clock.set(wake)
    restored = ExecutionState.from_dict(json.loads(saved))  # as after a crash
    assert Runtime(parsed, restored, clock, as_invoker(None)).step() is None
    assert restored.status == "SUCCEEDED"
    assert restored.output == {"v": "kept", "in": {"a": 1}}
    assert [e["id"] for e in restored.events] == list(range(1, len(restored.events) + 1))


def test_machine_timeout_ends_the_execution_timed_out(clock: VirtualClock) -> None:
    start = clock.now()
    definition = machine({"Nap": {"Type": "Wait", "Seconds": 100, "End": True}}, TimeoutSeconds=30)
    result = run(definition, {}, clock=clock)
    assert (result.status, result.error) == ("TIMED_OUT", "States.Timeout")
    assert clock.now() == start + 30
    assert result.history[-1]["type"] == "ExecutionTimedOut"


def test_execution_resumes_inside_a_map_iteration_after_a_restart() -> None:
    clock = VirtualClock(0)
    parsed = parse(
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Nap",
                        "States": {
                            "Nap": {"Type": "Wait", "SecondsPath": "$.s", "Next": "Done"},
                            "Done": {
                                "Type": "Pass",
                                "Parameters": {"slept.$": "$.s", "i.$": "$$.Map.Item.Index"},
                                "End": True,
                            },
                        },
                    },
                    "End": True,
                }
            }
        )
    )
    execution = start_execution(parsed, [{"s": 10}, {"s": 5}], clock=clock)
    wakes = []
    while True:
        wake = Runtime(parsed, execution, clock, as_invoker(None)).step()
        if wake is None:
            break
        wakes.append(wake)
        execution = ExecutionState.from_dict(json.loads(json.dumps(execution.to_dict())))
        clock.set(wake)
    assert wakes == [10, 15]  # iterations run one after the other
    assert execution.output == [{"slept": 10, "i": 0}, {"slept": 5, "i": 1}]


def test_retry_on_parallel_reruns_every_branch(clock: VirtualClock) -> None:
    flaky = Flaky(1)
    definition = machine(
        {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": task("flaky", End=True)}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}},
                ],
                "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 3}],
                "End": True,
            }
        }
    )
    result = run(definition, {}, clock=clock, tasks={"flaky": flaky})
    assert result.output == [{"calls": 2}, "b"]
    assert [e["type"] for e in result.history].count("ParallelStateStarted") == 2


def test_jsonata_now_reads_the_engine_clock() -> None:
    clock = VirtualClock(0)
    definition = machine(
        {"Now": {"Type": "Pass", "Output": "{% [$now(), $millis()] %}", "End": True}}, QueryLanguage="JSONata"
    )
    assert run(definition, {}, clock=clock).output == ["1970-01-01T00:00:00.000Z", 0]


def test_result_path_into_a_non_object_is_result_path_match_failure(clock: VirtualClock) -> None:
    definition = machine({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "End": True}})
    result = run(definition, "just a string", clock=clock)
    assert result.error == "States.ResultPathMatchFailure"
    assert result.cause == "Unable to apply ResultPath '$.x' to input '\"just a string\"'"


def test_every_transition_can_be_committed_and_a_crash_mid_state_reruns_it(clock: VirtualClock) -> None:
    parsed = parse(
        machine({"A": {"Type": "Pass", "Next": "T"}, "T": task("count", End=True)}),
    )
    commits: list[str] = []
    calls: list[int] = []

    def count(event: Any, context: Any) -> Any:
        calls.append(1)
        return len(calls)

    execution = start_execution(parsed, {}, clock=clock)
    runtime = Runtime(
        parsed,
        execution,
        clock,
        as_invoker({"count": count}),
        on_transition=lambda ex: commits.append(json.dumps(ex.to_dict())),
    )
    assert runtime.step() is None
    assert execution.output == 1
    # The commit made right after the Task was entered: a crash there resumes by running the task again.
    entered_task = next(
        c for c in commits if json.loads(c)["root"]["state"] == "T" and json.loads(c)["root"]["phase"] == "running"
    )
    restored = ExecutionState.from_dict(json.loads(entered_task))
    assert Runtime(parsed, restored, clock, as_invoker({"count": count})).step() is None
    assert restored.output == 2
    assert [e["type"] for e in restored.events].count("TaskStateEntered") == 1


def test_state_exited_events_record_assigned_variables(clock: VirtualClock) -> None:
    history = run(machine({"A": {"Type": "Pass", "Assign": {"answer": 42}, "End": True}}), {}, clock=clock).history
    exited = next(e for e in history if e["type"] == "PassStateExited")["stateExitedEventDetails"]
    assert exited["assignedVariables"] == {"answer": "42"}


def test_map_events_name_each_iteration_even_for_equal_items(clock: VirtualClock) -> None:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    definition = machine({"M": {"Type": "Map", "ItemProcessor": processor, "End": True}})
    history = run(definition, [7, 7, 7], clock=clock).history
    started = [e["mapIterationStartedEventDetails"]["index"] for e in history if e["type"] == "MapIterationStarted"]
    assert started == [0, 1, 2]
