"""Helpers shared by the console's tests (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from stratus.console import create_console
from stratus.local.gateway import build_gateway
from stratus.testing import LocalEnv

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("192.0.2.10", 50000)
POST_HEADERS = {"X-Stratus-Console": "1"}


def mounted(env: LocalEnv) -> Starlette:
    """The gateway of ``env`` with the console mounted at /_console (as build_gateway will do)."""
    gateway = build_gateway(env.cloud)
    gateway.router.routes.insert(0, Mount("/_console", app=create_console(env.cloud)))
    return gateway
