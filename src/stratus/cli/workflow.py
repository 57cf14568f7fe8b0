"""`stratus workflow ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Workflows in Amazon States Language (Step Functions).", no_args_is_help=True)
