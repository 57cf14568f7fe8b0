"""The API port's fixture: serve an App's HTTP and WebSocket APIs through the gateway in process.

``serve(app)`` binds the app on a virtual clock (``stratus.testing.local``) and yields
``(env, client)`` with a Starlette TestClient over ``build_gateway(env.cloud)``. The
adapter parameter is ``local`` now; an ``aws`` variant (API Gateway on moto) plugs in here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from stratus import App
from stratus.local.gateway import build_gateway
from stratus.testing import LocalEnv, local

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

Serve = Callable[..., AbstractContextManager[tuple[LocalEnv, TestClient]]]


@pytest.fixture(params=["local"])
def serve(request: pytest.FixtureRequest) -> Serve:
    @contextmanager
    def run(*apps: App, debug: bool = False) -> Iterator[tuple[LocalEnv, TestClient]]:
        with local(*apps) as env, TestClient(build_gateway(env.cloud, debug=debug)) as client:
            yield env, client

    return run
