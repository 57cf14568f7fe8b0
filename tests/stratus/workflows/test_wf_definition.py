"""Loading definitions: every problem found at once, with its location (stratus.workflows.definition)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.workflows import InvalidDefinition, parse


def sv(where: str, message: str) -> str:
    return f"SCHEMA_VALIDATION_FAILED: {message} at {where}"


def mt(where: str, message: str) -> str:
    return f"MISSING_TRANSITION_TARGET: {message} at {where}"


def problems(definition: Any) -> list[str]:
    with pytest.raises(InvalidDefinition) as info:
        parse(definition)
    assert info.value.code == "InvalidDefinition"
    return info.value.problems


def test_a_valid_definition_parses_from_text_and_compiles_its_branches() -> None:
    text = json.dumps(
        {
            "Comment": "ok",
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
                    "Next": "M",
                },
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}},
                    "End": True,
                },
            },
        }
    )
    machine = parse(text)
    assert machine.start_at == "P"
    assert set(machine.programs) == {"", "/P#0", "/M#map"}


def test_the_message_reads_as_aws_create_state_machine_error() -> None:
    with pytest.raises(InvalidDefinition) as info:
        parse({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}}})
    assert info.value.message == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next, "
        'MISSING_TRANSITION_TARGET: State "C" is not reachable. at /States/C\''
    )


def test_structure_problems_are_all_listed_with_locations() -> None:
    found = problems(
        {
            "StartAt": "Nowhere",
            "Extra": 1,
            "States": {
                "A": {"Type": "Pass", "Next": "Missing"},
                "B": {"Type": "Pass"},
                "C": {"Type": "Teleport", "End": True},
                "D": {"Type": "Pass", "End": True, "Next": "A", "Bogus": 1},
            },
        }
    )
    assert sv("/", 'The field "Extra" is not supported by Step Functions') in found
    assert mt("/StartAt", "Missing 'StartAt' target: Nowhere") in found
    assert mt("/States/A/Next", "Missing 'Next' target: Missing") in found
    assert sv("/States/B", "a state needs 'Next' or 'End': true") in found
    assert sv("/States/C", "unknown or missing state 'Type': 'Teleport'") in found
    assert sv("/States/D", "a state cannot have both 'Next' and 'End'") in found
    assert sv("/States/D", 'The field "Bogus" is not supported by Step Functions in a Pass state') in found
    assert len(found) == 7


def test_unreachable_states_are_reported() -> None:
    found = problems({"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Island": {"Type": "Succeed"}}})
    assert found == [mt("/States/Island", 'State "Island" is not reachable.')]


def test_bad_paths_intrinsics_and_jsonata_are_reported() -> None:
    found = problems(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "InputPath": "nope", "Parameters": {"x.$": "States.Nope(1)"}, "Next": "B"},
                "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input. %}", "End": True},
            },
        }
    )
    assert len(found) == 3
    assert found[0].startswith("SCHEMA_VALIDATION_FAILED: 'nope' is not a JSONPath")
    assert found[0].endswith(" at /States/A/InputPath")
    assert "unknown intrinsic function 'States.Nope'" in found[1] and found[1].endswith(" at /States/A/Parameters/x.$")
    assert found[2].endswith(" at /States/B/Output")


def test_states_all_must_be_alone_and_last() -> None:
    found = problems(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}],
                    "Catch": [{"ErrorEquals": ["States.ALL", "Y"], "Next": "T"}],
                    "End": True,
                }
            },
        }
    )
    assert found == [
        sv("/States/T/Retry[0]", "'States.ALL' must appear alone in 'ErrorEquals' and only in the last entry"),
        sv("/States/T/Catch[0]", "'States.ALL' must appear alone in 'ErrorEquals' and only in the last entry"),
    ]


def test_choice_rules_need_next_and_one_operator_and_default_is_optional() -> None:
    found = problems(
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.x", "NumericEquals": 1},
                        {"Variable": "$.x", "NumericEquals": 1, "StringEquals": "a", "Next": "D"},
                        {"Variable": "$.x", "NumericEquals": "one", "Next": "D"},
                    ],
                },
                "D": {"Type": "Succeed"},
            },
        }
    )
    assert found == [
        sv("/States/C/Choices[0]", "a choice rule needs 'Next'"),
        sv("/States/C/Choices[1]", "a choice rule needs exactly one comparison operator (found 2)"),
        sv("/States/C/Choices[2]/NumericEquals", "the value 'one' is not a valid numeric"),
    ]


def test_jsonata_and_jsonpath_fields_cannot_be_mixed() -> None:
    found = problems(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Parameters": {"a": 1}, "Next": "B"},
                "B": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True},
            },
        }
    )
    assert found == [
        sv("/States/A", "the field 'Parameters' is a JSONPath field; this state uses JSONata"),
        sv("/States/B/QueryLanguage", "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata"),
    ]
    found = problems({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "End": True}}})
    assert found == [sv("/States/A", "the field 'Output' is a JSONata field; this state uses JSONPath")]


def test_bad_retry_numbers_and_wait_fields() -> None:
    found = problems(
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "Next": "T"},
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                    "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5, "MaxAttempts": -1, "JitterStrategy": "SOME"}],
                    "End": True,
                },
            },
        }
    )
    assert found == [
        sv("/States/W", "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath"),
        sv("/States/T/Retry[0]/MaxAttempts", "must be an integer >= 0"),
        sv("/States/T/Retry[0]/BackoffRate", "must be a number >= 1"),
        sv("/States/T/Retry[0]/JitterStrategy", "must be 'FULL' or 'NONE'"),
    ]


@pytest.mark.parametrize("definition", ["not json", "[]", {"States": {}}, {"StartAt": "A", "States": []}])
def test_garbage_is_rejected_cleanly(definition: Any) -> None:
    assert problems(definition)


def test_assign_variable_names_are_checked() -> None:
    found = problems(
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Assign": {"states": 1, "9lives": 2, "ok_1": 3}, "End": True}},
        }
    )
    assert found == [
        sv("/States/A/Assign", "'states' is reserved and cannot be assigned"),
        sv("/States/A/Assign", "'9lives' is not a valid variable name"),
    ]


def test_task_resource_must_be_an_arn() -> None:
    found = problems({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "my-function", "End": True}}})
    assert found == [sv("/States/T/Resource", "'my-function' is not a valid resource ARN")]
    for resource in (
        "arn:aws:lambda:eu-west-1:123456789012:function:f:live",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:us-east-1:123456789012:activity:review",
    ):
        parse({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True}}})


def test_distributed_map_is_reported_as_unsupported() -> None:
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    found = problems({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}}})
    assert found == [
        sv(
            "/States/M/ItemProcessor/ProcessorConfig/Mode",
            "only INLINE Map is supported by this engine (got 'DISTRIBUTED')",
        )
    ]


def test_state_names_with_separators_do_not_collide() -> None:
    inner = {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "Result": "inner", "End": True}}}
    machine = parse(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "Branches": [inner], "Next": "P#0"},
                "P#0": {"Type": "Parallel", "Branches": [inner], "End": True},
            },
        }
    )
    assert len(machine.programs) == 3


def test_fail_paths_take_reference_paths_and_string_intrinsics() -> None:
    found = problems(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e[*]", "CausePath": "States.Array($.c)"}}}
    )
    assert found[0] == sv("/States/F/ErrorPath", "must be a reference path (no wildcards or filters)")
    assert "States.Array does not return a string" in found[1] and found[1].endswith(" at /States/F/CausePath")
