"""``stratus synth`` as a command: the template and the build folder on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from stratus.cli import aws

APP = """
from stratus import App

app = App("clisample")
jobs = app.queue("jobs")


@app.on_queue(jobs)
def work(event, context):
    return None
"""


def _cli() -> typer.Typer:
    cli = typer.Typer()
    cli.command(name="synth")(aws.synth)
    cli.command(name="deploy")(aws.deploy)
    return cli


def test_synth_writes_template_and_build(tmp_path: Path) -> None:
    root = tmp_path / "clisystems"
    (root / "clisample").mkdir(parents=True)
    (root / "clisample" / "app.py").write_text(APP)
    (root / "clisample" / "domain.py").write_text("X = 1\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), ["synth", "clisample", "-o", str(out), "--no-layer", "--systems", str(root)])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load((out / "template.yaml").read_text())
    assert document["Transform"] == "AWS::Serverless-2016-10-31"
    function = document["Resources"]["FunctionWork"]["Properties"]
    assert function["CodeUri"] == "build/code"
    assert "Layers" not in function
    code = out / "build" / "code"
    assert (code / "stratus" / "aws" / "entrypoint.py").is_file()
    assert (code / "systems" / "clisample" / "domain.py").is_file()
    assert (code / "systems" / "__init__.py").is_file()
    assert not (out / "build" / "layer").exists()
    assert not list(code.rglob("__pycache__"))

    # The bundle runs as Lambda runs it: from its own folder, handler stratus.aws.entrypoint.handler.
    script = (
        "import json, stratus\n"
        "from stratus.aws.entrypoint import handler\n"
        "event = {'Records': [{'messageId': 'm', 'body': 'x', 'eventSource': 'aws:sqs', 'attributes': {}}]}\n"
        "print(json.dumps([stratus.__file__, handler(event, None)]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(code), "STRATUS_SYSTEM": "clisample", "STRATUS_FUNCTION": "work"}
    env.pop("STRATUS_APP_MODULE", None)
    ran = subprocess.run([sys.executable, "-c", script], cwd=code, env=env, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    location, result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert location.startswith(str(code))
    assert result is None


def test_synth_reports_bad_declarations(tmp_path: Path) -> None:
    root = tmp_path / "badsystems"
    (root / "badsample").mkdir(parents=True)
    (root / "badsample" / "app.py").write_text(APP.replace("clisample", "badsample"))
    result = CliRunner().invoke(
        _cli(),
        [
            "synth",
            "badsample",
            "-o",
            str(tmp_path / "o"),
            "--no-layer",
            "--deployment",
            "sideways",
            "--systems",
            str(root),
        ],
    )
    assert result.exit_code == 1
    assert "deployment must be one of" in result.output


def test_synth_with_layer_installs_pinned_requirements_for_lambda(tmp_path: Path, monkeypatch: Any) -> None:
    from stratus.aws.synth import build

    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> Any:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "boto3").mkdir(parents=True)
        return type("Done", (), {"returncode": 0, "stderr": ""})()

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    root = tmp_path / "layersystems"
    (root / "layersample").mkdir(parents=True)
    (root / "layersample" / "app.py").write_text(APP.replace("clisample", "layersample"))
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), ["synth", "layersample", "-o", str(out), "--systems", str(root)])
    assert result.exit_code == 0, result.output
    (command,) = calls
    assert command[command.index("--target") + 1] == str(out / "build" / "layer" / "python")
    assert command[command.index("--platform") + 1] == "manylinux2014_x86_64"
    assert "boto3==1.44.5" in command
    assert not [c for c in command if c.startswith(("pytest", "moto", "ruff"))]  # dev dependencies stay out
    document = yaml.safe_load((out / "template.yaml").read_text())
    assert document["Resources"]["DependenciesLayer"]["Properties"]["ContentUri"] == "build/layer"
    assert document["Resources"]["FunctionWork"]["Properties"]["Layers"] == [{"Ref": "DependenciesLayer"}]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_deploy_command_against_moto(tmp_path: Path, aws_env: None) -> None:
    from moto import mock_aws

    root = tmp_path / "deploysystems"
    (root / "deploysample").mkdir(parents=True)
    (root / "deploysample" / "app.py").write_text(APP.replace("clisample", "deploysample"))
    with mock_aws():
        result = CliRunner().invoke(
            _cli(),
            ["deploy", "deploysample", "--no-layer", "--stack-name", "cli-stack", "--systems", str(root)],
        )
        assert result.exit_code == 0, result.output
        assert "stack cli-stack: CREATE_COMPLETE" in result.output
        import boto3

        assert boto3.client("sqs").get_queue_url(QueueName="deploysample-jobs")["QueueUrl"]
