"""The local cloud: binds Apps' declared resources to the embedded adapters.

A ``LocalCloud`` owns a state folder, a clock and the adapters it has created. Binding
an App creates (or reopens) one backend per declared resource; because the state lives
in the folder, binding again after a restart resumes where the last process stopped.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from stratus.app import App
from stratus.clock import Clock, SystemClock
from stratus.errors import ValidationError
from stratus.local.pumps import Pump, PumpRunner
from stratus.local.storage import Durability, Storage
from stratus.resources.base import Resource

T = TypeVar("T")

#: Default embedded adapter per resource kind: "module:Class", called as ``Class(resource, cloud)``.
LOCAL_ADAPTERS: dict[str, str] = {
    "table": "stratus.local.table:LocalTable",
    "bucket": "stratus.local.bucket:LocalBucket",
    "sql": "stratus.local.sql:SqliteDatabase",
    "cache": "stratus.local.cache:MemoryCache",
    "search": "stratus.local.search:LocalSearchIndex",
    "secret": "stratus.local.secrets:LocalSecret",
    "key": "stratus.local.keys:LocalKey",
    "queue": "stratus.local.queue:LocalQueue",
    "stream": "stratus.local.stream:LocalStream",
    "function": "stratus.local.functions:LocalFunction",
    "topic": "stratus.local.topic:LocalTopic",
    "event_bus": "stratus.local.event_bus:LocalEventBus",
    "http_api": "stratus.local.gateway:LocalHttpApi",
    "websocket_api": "stratus.local.websocket:LocalWebSocketApi",
    "user_pool": "stratus.local.userpool:LocalUserPool",
    "api_keys": "stratus.local.api_keys:LocalApiKeys",
    "alarm": "stratus.local.alarms:LocalAlarm",
    "workflow": "stratus.local.workflow:LocalWorkflow",
    "schedule": "stratus.local.schedule:LocalSchedule",
    "scheduler": "stratus.local.schedule:LocalScheduler",
}

#: Adapters for real servers, chosen per kind with ``LocalCloud(adapters=...)`` or ``stratus up --sql postgres``.
SERVER_ADAPTERS: dict[str, dict[str, str]] = {
    "sql": {"sqlite": "stratus.local.sql:SqliteDatabase", "postgres": "stratus.servers.postgres:PostgresDatabase"},
    "cache": {"memory": "stratus.local.cache:MemoryCache", "redis": "stratus.servers.redis:RedisCache"},
}

ACCOUNT_ID = "000000000000"
REGION = "us-east-1"


def load_adapter(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


class LocalCloud:
    """Embedded adapters for every port, over one state folder and one clock."""

    def __init__(
        self,
        state_dir: Path | str = ".stratus",
        *,
        clock: Clock | None = None,
        durability: Durability = "process",
        adapters: dict[str, str] | None = None,
        account_id: str = ACCOUNT_ID,
        region: str = REGION,
    ) -> None:
        self.storage = Storage(state_dir, durability=durability)
        self.clock: Clock = clock or SystemClock()
        self.account_id = account_id
        self.region = region
        #: Where `stratus up` serves HTTP; presigned URLs and callbacks point here.
        self.base_url = "http://127.0.0.1:8000"
        self._adapters = {**LOCAL_ADAPTERS, **(adapters or {})}
        self._apps: dict[str, App] = {}
        self._bound: list[Resource[Any]] = []
        self._shared: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._closers: list[Callable[[], None]] = []
        self._pumps: list[Pump] = []
        self._runner: PumpRunner | None = None
        self._started_hooks = False

    @property
    def state_dir(self) -> Path:
        return self.storage.root

    @property
    def apps(self) -> list[App]:
        return list(self._apps.values())

    def arn(self, service: str, resource: str) -> str:
        """An ARN in AWS's shape for a local resource (``arn:aws:sqs:us-east-1:000000000000:name``)."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """One object per cloud for ``key`` (an engine shared by every resource of a kind)."""
        with self._lock:
            if key not in self._shared:
                obj = factory()
                self._shared[key] = obj
                close = getattr(obj, "close", None)
                if callable(close):
                    self._closers.append(close)
            return self._shared[key]

    @property
    def pumps(self) -> list[Pump]:
        """The background work of every adapter (dispatcher, async invocations, schedules...)."""
        return list(self._pumps)

    def add_pump(self, pump: Pump) -> None:
        """Register background work; started at once if the cloud is already running."""
        with self._lock:
            self._pumps.append(pump)
            if self._runner is not None:
                self._runner.start([pump])

    @property
    def running(self) -> bool:
        """True while pumps run on background threads (``start``), False under ``settle`` or before start."""
        return self._runner is not None

    def wake(self, pump: Pump | None = None) -> None:
        """New work may be due for ``pump`` (for every pump, if None): let it look now, not at its next tick."""
        runner = self._runner
        if runner is not None:
            runner.wake(pump)

    def start(self) -> None:
        """Run the apps' startup hooks, then every pump on a background thread (what `stratus up` does)."""
        self.run_startup_hooks()
        with self._lock:
            if self._runner is None:
                self._runner = PumpRunner(self.clock)
                self._runner.start(self._pumps)

    def run_startup_hooks(self) -> None:
        """Run each bound app's startup hooks once."""
        with self._lock:
            if self._started_hooks:
                return
            self._started_hooks = True
            apps = list(self._apps.values())
        for app in apps:
            for hook in app.startup_hooks:
                hook(self)

    def stop(self) -> None:
        """Stop the background threads, letting in-flight work finish, then run shutdown hooks."""
        with self._lock:
            runner, self._runner = self._runner, None
            ran_hooks, self._started_hooks = self._started_hooks, False
            apps = list(self._apps.values())
        if runner is not None:
            runner.stop()
        if ran_hooks:
            for app in reversed(apps):
                for hook in reversed(app.shutdown_hooks):
                    hook(self)

    def bind(self, app: App) -> App:
        """Create a backend for each of ``app``'s resources and attach it to the resource."""
        with self._lock:
            existing = self._apps.get(app.name)
            if existing is not None and existing is not app:
                raise ValidationError(f"another app named {app.name!r} is already bound to this cloud")
            self._apps[app.name] = app
            fresh = []
            for resource in app.resources:
                if resource.is_bound:
                    continue
                path = self._adapters.get(resource.kind)
                if path is None:
                    continue  # kinds bound by other runtimes are not resources here
                backend = load_adapter(path)(resource, self)
                resource.bind(backend)
                self._bound.append(resource)
                fresh.append(backend)
            # Metrics, traces and the app log exist for every cloud, whatever its apps declare.
            from stratus.observability.hub import attach

            attach(self)
            # Wiring that needs every resource of the app bound (event-source mappings) comes last.
            for backend in fresh:
                after_bind = getattr(backend, "after_bind", None)
                if callable(after_bind):
                    after_bind()
            return app

    def close(self) -> None:
        """Unbind every resource and close every backend and database."""
        self.stop()
        with self._lock:
            for resource in reversed(self._bound):
                backend = resource._backend
                resource.unbind()
                close = getattr(backend, "close", None)
                if callable(close):
                    close()
            self._bound.clear()
            for closer in reversed(self._closers):
                closer()
            self._closers.clear()
            self._shared.clear()
            self._pumps.clear()
            self._apps.clear()
            self.storage.close()

    def __enter__(self) -> LocalCloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
