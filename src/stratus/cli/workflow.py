"""`stratus workflow ...` commands: validate and run Amazon States Language files; work on a state folder.

stratus workflow validate machine.asl.json
stratus workflow run machine.asl.json --input '{"n": 1}' --function charge=billing.handlers:charge
stratus workflow executions --machine shop-checkout --status RUNNING
stratus workflow history arn:aws:states:...:execution:shop-checkout:o-1
stratus workflow send-task-success TOKEN --output '{"approved": true}'

The state-folder commands read ``workflows.db`` directly; the task-token commands post the
call for the process running the workflows (see ``stratus.local.workflow.inbox``).
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


# -- the state folder ------------------------------------------------------------------------------

_STATE = typer.Option(Path(".stratus"), "--state-dir", help="The state folder of the local cloud.")


def _post(state_dir: Path, token: str, kind: str, body: Any) -> None:
    from stratus.errors import StratusError
    from stratus.local.workflow.inbox import post

    if not (state_dir / "workflows.db").is_file():
        typer.echo(f"no workflows in {state_dir}", err=True)
        raise typer.Exit(2)
    try:
        arn = post(state_dir, token, kind, body)
    except StratusError as exc:
        typer.echo(f"{exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{kind} sent for {arn}")


@app.command("send-task-success")
def send_task_success(
    token: str = typer.Argument(..., help="The task token ($$.Task.Token)."),
    output: str = typer.Option("{}", "--output", "-o", help="The task's output (JSON)."),
    state_dir: Path = _STATE,
) -> None:
    """SendTaskSuccess: the waiting Task continues with OUTPUT."""
    try:
        value = json.loads(output)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--output") from exc
    _post(state_dir, token, "success", {"output": value})


@app.command("send-task-failure")
def send_task_failure(
    token: str = typer.Argument(..., help="The task token ($$.Task.Token)."),
    error: str | None = typer.Option(None, "--error", help="The error name Retry/Catch match on."),
    cause: str | None = typer.Option(None, "--cause", help="A description of the failure."),
    state_dir: Path = _STATE,
) -> None:
    """SendTaskFailure: the waiting Task fails with ERROR and CAUSE."""
    body: dict[str, Any] = {}
    if error is not None:
        body["error"] = error
    if cause is not None:
        body["cause"] = cause
    _post(state_dir, token, "failure", body)


@app.command("send-task-heartbeat")
def send_task_heartbeat(
    token: str = typer.Argument(..., help="The task token ($$.Task.Token)."),
    state_dir: Path = _STATE,
) -> None:
    """SendTaskHeartbeat: the waiting Task is still being worked on (resets HeartbeatSeconds)."""
    _post(state_dir, token, "heartbeat", {})


def _store(state_dir: Path) -> Any:
    from stratus.local.workflow.inbox import open_store

    if not (state_dir / "workflows.db").is_file():
        typer.echo(f"no workflows in {state_dir}", err=True)
        raise typer.Exit(2)
    return open_store(state_dir)


def _when(epoch: float | None, timespec: str = "seconds") -> str:
    from datetime import UTC, datetime

    return "-" if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec=timespec)


@app.command("executions")
def executions_command(
    machine: str | None = typer.Option(None, "--machine", "-m", help="Only this state machine (name or ARN)."),
    status: str | None = typer.Option(None, "--status", "-s", help="Only executions with this status."),
    state_dir: Path = _STATE,
) -> None:
    """ListExecutions over the state folder: status, start, stop and ARN, newest first."""
    store = _store(state_dir)
    query = "SELECT status, start, stop, arn, machine FROM executions"
    rows = store.db.execute(query + " ORDER BY start DESC, rowid DESC")
    store.db.close()
    for row_status, start, stop, arn, machine_arn in rows:
        if status is not None and row_status != status:
            continue
        if machine is not None and machine not in (machine_arn, machine_arn.rsplit(":", 1)[-1]):
            continue
        typer.echo(f"{row_status:<10} {_when(start)}  {_when(stop)}  {arn}")


@app.command("history")
def history_command(
    execution_arn: str = typer.Argument(..., help="The execution ARN."),
    reverse: bool = typer.Option(False, "--reverse", help="Newest event first."),
    state_dir: Path = _STATE,
) -> None:
    """GetExecutionHistory over the state folder: one JSON event a line."""
    store = _store(state_dir)
    try:
        if store.row(execution_arn) is None:
            typer.echo(f"ExecutionDoesNotExist: Execution Does Not Exist: '{execution_arn}'", err=True)
            raise typer.Exit(1)
        events = store.events(execution_arn)
    finally:
        store.db.close()
    for event in reversed(events) if reverse else events:
        event = {**event, "timestamp": _when(event["timestamp"], "milliseconds")}
        typer.echo(json.dumps(event, ensure_ascii=False))
