"""The ``stratus`` command line (typer + rich).

Each group of commands lives in its own module and is mounted here.
"""

from __future__ import annotations

import typer
from rich.console import Console

import stratus

app = typer.Typer(
    name="stratus",
    help="Stratus: the cloud, on your machine.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.callback()
def _root() -> None:
    """Stratus: the cloud, on your machine."""


@app.command()
def version() -> None:
    """Print the Stratus version."""
    console.print(f"stratus {stratus.__version__}")


def _mount() -> None:
    from stratus.cli import aws, demo, events, observe, up, workflow

    app.command(name="up")(up.up)
    app.command(name="logs")(observe.logs)
    app.command(name="metrics")(observe.metrics)
    app.command(name="traces")(observe.traces)
    app.command(name="synth")(aws.synth)
    app.command(name="deploy")(aws.deploy)
    app.command(name="demo")(demo.demo)
    app.add_typer(events.app, name="events")
    app.add_typer(workflow.app, name="workflow")


_mount()


def main() -> None:
    app()
