"""`stratus workflow ...` commands: validate and run Amazon States Language files.

stratus workflow validate machine.asl.json
stratus workflow run machine.asl.json --input '{"n": 1}' --function charge=billing.handlers:charge
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from stratus.clock import Clock, SystemClock, VirtualClock
from stratus.workflows import InvalidDefinition, parse, run

app = typer.Typer(help="Workflows in Amazon States Language (Step Functions).", no_args_is_help=True)


def _load(file: Path) -> Any:
    try:
        return parse(file.read_text(encoding="utf-8"), name=file.name.split(".")[0] or "StateMachine")
    except OSError as exc:
        typer.echo(f"cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def validate(file: Path = typer.Argument(..., help="The ASL definition (JSON).")) -> None:
    """Check a definition as CreateStateMachine would: print "valid", or every problem, one a line (exit 1)."""
    try:
        _load(file)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            typer.echo(problem)
        raise typer.Exit(1) from exc
    typer.echo("valid")


def _function(spec: str) -> tuple[str, Any]:
    name, sep, target = spec.partition("=")
    module_name, colon, attr = target.partition(":")
    if not sep or not colon or not name or not module_name or not attr:
        raise typer.BadParameter(f"'{spec}' is not NAME=module:callable", param_hint="--function")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        handler = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise typer.BadParameter(f"cannot load {target}: {exc}", param_hint="--function") from exc
    if not callable(handler):
        raise typer.BadParameter(f"{target} is not callable", param_hint="--function")
    return name, handler


@app.command("run")
def run_command(
    file: Path = typer.Argument(..., help="The ASL definition (JSON)."),
    input: str = typer.Option("{}", "--input", "-i", help="The execution input (JSON)."),
    function: list[str] = typer.Option(
        [], "--function", "-f", help="NAME=module:callable: the Lambda function NAME runs this handler(event, context)."
    ),
    skip_waits: bool = typer.Option(
        False, "--skip-waits", help="Run on a virtual clock: Wait states and retries take no time."
    ),
) -> None:
    """Run one execution: print its output JSON (exit 0), or {"error", "cause"} (exit 1)."""
    try:
        payload = json.loads(input)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--input") from exc
    functions = dict(_function(spec) for spec in function)
    try:
        machine = _load(file)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from exc
    clock: Clock = VirtualClock(time.time()) if skip_waits else SystemClock()
    result = run(machine, payload, clock=clock, tasks=functions)
    if result.succeeded:
        typer.echo(json.dumps(result.output, ensure_ascii=False))
        return
    typer.echo(json.dumps({"error": result.error, "cause": result.cause}, ensure_ascii=False))
    raise typer.Exit(1)
