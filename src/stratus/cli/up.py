"""`stratus up`: every system on one address, with the dispatcher, scheduler and workflows running."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def up(
    host: str = typer.Option("127.0.0.1", help="Address to bind (127.0.0.1 keeps it on this machine)."),
    port: int = typer.Option(8000, help="Port to serve on."),
    state_dir: Path = typer.Option(Path(".stratus"), help="Where state is kept between runs."),
    system: list[str] = typer.Option([], "--system", "-s", help="Only this system (repeatable)."),
    durability: str = typer.Option("process", help="'process' (survives kill -9) or 'fsync' (survives power loss)."),
    debug: bool = typer.Option(False, help="List nearby routes on 404s."),
    pin_cpu: bool = typer.Option(
        True,
        "--one-cpu/--all-cpus",
        help="Keep the process on one CPU, where the GIL changes hands cheaply (the default), or let it use all.",
    ),
) -> None:
    """Start every system (or those named) on one address; Ctrl-C drains and stops."""
    from stratus import systems
    from stratus.errors import StateFolderInUse
    from stratus.local.cloud import LocalCloud

    started = time.perf_counter()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    # One JSON line per invocation and per HTTP request, on the console as in the state folder.
    for stream in ("stratus.functions", "stratus.access", "stratus.app"):
        logging.getLogger(stream).setLevel(logging.INFO)
    apps = systems.load_all(system or None)
    if durability not in ("process", "fsync"):
        raise typer.BadParameter("durability must be 'process' or 'fsync'")
    cloud = LocalCloud(state_dir, durability=durability)  # type: ignore[arg-type]
    cloud.base_url = f"http://{host}:{port}"
    try:
        for app in apps:
            cloud.bind(app)
    except StateFolderInUse as error:
        cloud.close()
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from None
    if pin_cpu:
        from stratus.local.affinity import pin_to_one_cpu

        pin_to_one_cpu()
    cloud.start()

    from stratus.local.gateway import build_gateway, settle_garbage_collector

    gateway = build_gateway(cloud, debug=debug)
    settle_garbage_collector()
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            gateway,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
            proxy_headers=False,  # the gateway is the edge: a client must not choose its own sourceIp
        )
    )
    # Before serving: a Ctrl-C from the moment requests can arrive drains and stops cleanly.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    if not thread.is_alive():
        cloud.close()
        raise typer.Exit(1)
    _print_endpoints(cloud, apps, host, port, time.perf_counter() - started)

    stop.wait()
    console.print("stopping: draining in-flight work...")
    server.should_exit = True
    thread.join(10)
    cloud.close()
    console.print("stopped.")


def _print_endpoints(cloud: object, apps: list[Any], host: str, port: int, seconds: float) -> None:
    base = f"http://{host}:{port}"
    table = Table(title=f"Stratus is up on {base} ({seconds:.2f} s)")
    table.add_column("system")
    table.add_column("base URL")
    table.add_column("OpenAPI")
    for app in apps:
        apis = list(app.resources_of("http_api"))
        if not apis:
            table.add_row(app.name, "—", "—")
        for api in apis:
            prefix = getattr(api, "prefix", f"/{app.name}")
            table.add_row(app.name, f"{base}{prefix}", f"{base}{prefix}/openapi.json")
    console.print(table)
    console.print(f"console: {base}/_console    state: {getattr(cloud, 'state_dir', '')}")
    from stratus.console import ensure_admin_token

    token = ensure_admin_token(getattr(cloud, "state_dir", Path(".stratus")))
    console.print(f"console admin token (for admin actions from other machines): {token}")
