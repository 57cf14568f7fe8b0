"""`stratus demo SYSTEM`: drive realistic traffic through a system and print what happened.

A system opts in with ``systems/<name>/demo.py`` defining
``run(base_url, customers, orders, progress, **extra) -> dict``. Without ``--base-url`` the
system is started here, on a temporary state folder and a free 127.0.0.1 port, with its
background work running as under `stratus up`; the module's optional ``prepare(cloud)``
returns extra keyword arguments for ``run`` (an administrator's credentials, say).
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _running(app: Any, module: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The app served on a free port from a temporary state folder; yields (base URL, extra run kwargs)."""
    import uvicorn

    from stratus.local.cloud import LocalCloud
    from stratus.local.gateway import build_gateway

    folder = tempfile.mkdtemp(prefix="stratus-demo-")
    port = _free_port()
    cloud = LocalCloud(folder)
    cloud.base_url = f"http://127.0.0.1:{port}"
    server: Any = None
    thread: threading.Thread | None = None
    try:
        cloud.bind(app)
        cloud.start()
        config = uvicorn.Config(build_gateway(cloud), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="demo-gateway", daemon=True)
        thread.start()
        while not server.started and thread.is_alive():
            time.sleep(0.01)
        prepare = getattr(module, "prepare", None)
        extra = prepare(cloud) if callable(prepare) else {}
        yield cloud.base_url, dict(extra or {})
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(10)
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def demo(system: str, customers: int = 20, orders: int = 50, base_url: str | None = None) -> None:
    """Drive realistic traffic through SYSTEM (started here unless --base-url names a running one)."""
    from stratus import systems

    app = systems.load(system)
    try:
        module = importlib.import_module(f"{systems.systems_folder().name}.{system}.demo")
    except ModuleNotFoundError:
        console.print(f"[red]system {system!r} has no demo (systems/{system}/demo.py)[/red]")
        raise typer.Exit(1) from None
    if customers < 1 or orders < 1:
        raise typer.BadParameter("--customers and --orders must be at least 1")

    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        if base_url is None:
            with _running(app, module) as (url, extra):
                summary = module.run(url, customers, orders, progress, **extra)
        else:
            try:
                summary = module.run(base_url, customers, orders, progress)
            except ValueError as error:  # what the demo needs from a running system (an administrator, say)
                bar.stop()
                console.print(f"[red]{error}[/red]")
                raise typer.Exit(2) from None
    _print(system, summary)


def _print(system: str, summary: dict[str, Any]) -> None:
    latency = summary.pop("latency_ms", None)
    table = Table(title=f"stratus demo {system}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), json.dumps(value) if isinstance(value, dict | list) else str(value))
    console.print(table)
    if latency:
        routes = Table(title="latency per route (ms)")
        for column in ("route", "count", "p50", "p99"):
            routes.add_column(column, justify="left" if column == "route" else "right")
        for route, figures in latency.items():
            routes.add_row(route, str(figures["count"]), f"{figures['p50']:.1f}", f"{figures['p99']:.1f}")
        console.print(routes)
