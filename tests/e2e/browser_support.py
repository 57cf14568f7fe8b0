"""Helpers of the browser tests: a real server (uvicorn on a free loopback port), chromium's location, screenshots.

A module of its own (not conftest): every test folder has a conftest, and they cannot import each other.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("STRATUS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright==1.65.2)"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    cloud: Any

    def get(self, path: str) -> Any:
        import httpx

        return httpx.get(self.url + path, timeout=30)

    def post(self, path: str, **kwargs: Any) -> Any:
        import httpx

        return httpx.post(self.url + path, timeout=30, **kwargs)


def serve(*apps: Any) -> Iterator[Server]:
    """Bind ``apps`` to a fresh cloud on the system clock and serve the gateway with the console mounted."""
    import uvicorn
    from starlette.routing import Mount

    from stratus.console import create_console
    from stratus.local.cloud import LocalCloud
    from stratus.local.gateway import build_gateway

    folder = tempfile.mkdtemp(prefix="stratus-console-e2e-")
    port = free_port()
    cloud = LocalCloud(folder)
    cloud.base_url = f"http://127.0.0.1:{port}"
    for app in apps:
        cloud.bind(app)
    cloud.start()
    gateway = build_gateway(cloud)
    gateway.router.routes.insert(0, Mount("/_console", app=create_console(cloud)))
    config = uvicorn.Config(
        gateway, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-e2e", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    try:
        yield Server(cloud.base_url, cloud)
    finally:
        server.should_exit = True
        thread.join(10)
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def shot(page: Any, name: str) -> None:
    """Save a screenshot to test-artifacts/console/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
