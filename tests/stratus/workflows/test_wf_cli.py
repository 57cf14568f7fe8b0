"""`stratus workflow validate|run` (stratus.cli.workflow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stratus.cli import app

runner = CliRunner()


def write(tmp_path: Path, definition: object) -> str:
    path = tmp_path / "machine.asl.json"
    path.write_text(json.dumps(definition))
    return str(path)


def test_validate_prints_valid(tmp_path: Path) -> None:
    file = write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    result = runner.invoke(app, ["workflow", "validate", file])
    assert (result.exit_code, result.output.strip()) == (0, "valid")


def test_validate_lists_problems_and_exits_1(tmp_path: Path) -> None:
    file = write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    result = runner.invoke(app, ["workflow", "validate", file])
    assert result.exit_code == 1
    assert result.output.splitlines() == ["MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"]


def test_run_prints_the_output(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hi {}', $.name)"}, "End": True}
            },
        },
    )
    result = runner.invoke(app, ["workflow", "run", file, "--input", '{"name": "Ann"}'])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"greeting": "hi Ann"}


def test_run_prints_error_and_cause_and_exits_1(tmp_path: Path) -> None:
    file = write(tmp_path, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "because"}}})
    result = runner.invoke(app, ["workflow", "run", file])
    assert result.exit_code == 1
    assert json.loads(result.output) == {"error": "Oops", "cause": "because"}


def test_run_calls_functions_given_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wf_cli_handlers.py").write_text("def double(event, context):\n    return event['n'] * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    file = write(
        tmp_path,
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": True}
            },
        },
    )
    result = runner.invoke(
        app, ["workflow", "run", file, "-i", '{"n": 21}', "--function", "double=wf_cli_handlers:double"]
    )
    sys.modules.pop("wf_cli_handlers", None)
    assert (result.exit_code, result.output.strip()) == (0, "42")


def test_run_skip_waits_runs_a_long_wait_instantly(tmp_path: Path) -> None:
    file = write(tmp_path, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}})
    result = runner.invoke(app, ["workflow", "run", file, "--skip-waits", "-i", "[1]"])
    assert (result.exit_code, json.loads(result.output)) == (0, [1])


def test_run_rejects_bad_input_and_bad_function_specs(tmp_path: Path) -> None:
    file = write(tmp_path, {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    assert runner.invoke(app, ["workflow", "run", file, "--input", "{nope"]).exit_code == 2
    assert runner.invoke(app, ["workflow", "run", file, "--function", "just-a-name"]).exit_code == 2
