"""`stratus events ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Event buses and patterns (EventBridge).", no_args_is_help=True)
