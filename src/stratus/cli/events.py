"""`stratus events ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer

from stratus.errors import ValidationError

app = typer.Typer(help="Event buses and patterns (EventBridge).", no_args_is_help=True)


def _text(value: str) -> str:
    """The option's JSON, or the content of ``file://path`` (as the AWS CLI accepts)."""
    if value.startswith("file://"):
        path = Path(value[len("file://") :])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    return value


@app.command("test-pattern")
def test_pattern(
    event: str = typer.Option(
        ..., "--event", help="The event as JSON, or file://path (needs id, account, source, time, region, detail-type)."
    ),
    pattern: str = typer.Option(..., "--pattern", help="The event pattern as JSON, or file://path."),
) -> None:
    """Like `aws events test-event-pattern`: print true or false; exit 2 with AWS's error if either is invalid."""
    from stratus.matching import test_event_pattern

    try:
        result = test_event_pattern(_text(event), _text(pattern))
    except ValidationError as exc:
        typer.echo(f"{exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo("true" if result else "false")
