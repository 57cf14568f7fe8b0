"""The one Lambda handler every Stratus function runs: ``stratus.aws.entrypoint.handler``.

All functions of a system share one code bundle; the environment says which declared
function this Lambda is (``STRATUS_SYSTEM``, ``STRATUS_FUNCTION``). On a cold start the
system's ``app`` module is imported once (``systems.<system>.app``, or
``STRATUS_APP_MODULE``), bound to AWS with :class:`~stratus.aws.cloud.AwsCloud`, and the
function's ``init`` runs; each invocation then converts the AWS event
(:mod:`stratus.aws.events`), runs the declared handler, and returns its result in the
shape AWS expects.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import threading
from dataclasses import dataclass
from typing import Any

from stratus.app import App
from stratus.aws.cloud import AwsCloud
from stratus.aws.events import authorize, detect, to_aws_result, to_handler_event
from stratus.errors import ValidationError


@dataclass
class _Runtime:
    key: tuple[str, str, str]
    app: App
    cloud: AwsCloud
    function: Any


_runtime: _Runtime | None = None
_lock = threading.Lock()


def _environment() -> tuple[str, str, str]:
    try:
        system = os.environ["STRATUS_SYSTEM"]
        function = os.environ["STRATUS_FUNCTION"]
    except KeyError as missing:
        raise ValidationError(f"the Stratus entrypoint needs the environment variable {missing.args[0]}") from None
    return system, function, os.environ.get("STRATUS_APP_MODULE") or f"systems.{system}.app"


def runtime() -> _Runtime:
    """The bound app and the declared function of this Lambda (created on the cold start)."""
    global _runtime
    key = _environment()
    current = _runtime
    if current is not None and current.key == key:
        return current
    with _lock:
        if _runtime is not None and _runtime.key == key:
            return _runtime
        system, name, module_name = key
        module = importlib.import_module(module_name)
        app = getattr(module, "app", None)
        if not isinstance(app, App) or app.name != system:
            raise ValidationError(f"{module_name} must define `app = App({system!r})`")
        if _runtime is not None:
            _runtime.cloud.close()
        cloud = AwsCloud()
        cloud.bind(app)
        function: Any = app.resource("function", name)
        if function.init is not None:
            function.init()
        _runtime = _Runtime(key, app, cloud, function)
        return _runtime


def reset() -> None:
    """Forget the bound app (the next invocation is a cold start); for tests."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.cloud.close()
        _runtime = None


def handler(event: Any, context: Any) -> Any:
    """Lambda's handler for every function of every Stratus system."""
    function = runtime().function
    source = detect(event)
    if source == "http":
        denied = authorize(event, function)
        if denied is not None:
            return denied
    typed = to_handler_event(function, event)
    if inspect.iscoroutinefunction(function.handler):
        result = asyncio.run(function.handler(typed, context))
    else:
        result = function.handler(typed, context)
    return to_aws_result(function, source, result)
