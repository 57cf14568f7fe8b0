"""AwsCloud: binds an App's declared resources to the boto3 adapters, on AWS or an AWS-compatible endpoint.

This is the AWS twin of :class:`stratus.local.cloud.LocalCloud`. Binding attaches, to each
resource, the adapter named in :data:`AWS_ADAPTERS` (``kind -> "module:Class"``), constructed
as ``Class(resource, cloud)`` exactly like the local adapters. Adapters are created lazily,
on the first call through the handle: a Lambda function imports the whole app but touches
a few resources, and an adapter module that is not written yet fails only when the resource
it serves is used (:class:`AdapterMissing`), never at import or bind.

Physical identity — the environment-variable contract
-----------------------------------------------------
The template (``stratus.aws.synth``) gives every function the environment variables of the
resources it uses, and the adapter reads its resource's identity with
``cloud.physical_id(resource)`` (or ``cloud.physical_id(resource, "CLIENTS")``...). Names:

    STRATUS_<KIND>_<NAME>[_<SUFFIX>]

``<KIND>`` is the resource kind upper-cased (``TABLE``, ``EVENT_BUS``, ``USER_POOL``...), and
``<NAME>`` the declared name upper-cased with every character outside ``[A-Z0-9]`` replaced by
``_`` (``orders.fifo`` -> ``ORDERS_FIFO``). Values:

=================  ==========================================================================
kind               value of ``STRATUS_<KIND>_<NAME>`` (and suffixed variables)
=================  ==========================================================================
table              table name
bucket             bucket name
queue              queue URL
topic              topic ARN
event_bus          event bus name
stream             Kinesis stream name
workflow           state machine ARN
function           function name (for Invoke)
schedule           schedule name (in the system's schedule group, ``_GROUP``)
scheduler          schedule group name; ``_ROLE``: the role ARN schedules assume to reach targets
user_pool          user pool id; ``_CLIENTS``: JSON object, client name -> client id
secret             secret ARN
key                key ARN
sql                ARN of the secret holding the DSN/credentials; ``_CLUSTER``: Aurora cluster ARN
                   (the adapter may use the RDS Data API with the two)
cache              Redis URL (``rediss://host:port``)
search             OpenSearch Serverless collection endpoint; ``_INDEX``: the index name
http_api           the API's base URL
websocket_api      the management (``@connections``) endpoint URL
alarm              alarm name
api_keys           name of the DynamoDB table (``pk``/``sk``, both strings) the store keeps keys in
=================  ==========================================================================

Besides those: ``STRATUS_SYSTEM`` (the app name), ``STRATUS_FUNCTION`` (the declared function
this Lambda runs) and, optionally, ``STRATUS_ENDPOINT_URL`` (else ``AWS_ENDPOINT_URL``): every
client talks to that endpoint (moto, LocalStack...), except one an adapter asks for at its
resource's own address (``client(service, endpoint_url=...)``: a WebSocket API's ``@connections``).
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from stratus.app import App
from stratus.clock import Clock, SystemClock
from stratus.errors import NotBound, ValidationError
from stratus.resources.base import Resource

#: boto3 adapter per resource kind: "module:Class", called as ``Class(resource, cloud)``.
#: Modules are named after the kind (``keys``/``secrets`` after their port modules, as locally).
AWS_ADAPTERS: dict[str, str] = {
    "table": "stratus.aws.adapters.table:AwsTable",
    "bucket": "stratus.aws.adapters.bucket:AwsBucket",
    "sql": "stratus.aws.adapters.sql:AwsSql",
    "cache": "stratus.aws.adapters.cache:AwsCache",
    "search": "stratus.aws.adapters.search:AwsSearch",
    "secret": "stratus.aws.adapters.secrets:AwsSecret",
    "key": "stratus.aws.adapters.keys:AwsKey",
    "queue": "stratus.aws.adapters.queue:AwsQueue",
    "stream": "stratus.aws.adapters.stream:AwsStream",
    "function": "stratus.aws.adapters.function:AwsFunction",
    "topic": "stratus.aws.adapters.topic:AwsTopic",
    "event_bus": "stratus.aws.adapters.event_bus:AwsEventBus",
    "http_api": "stratus.aws.adapters.http_api:AwsHttpApi",
    "websocket_api": "stratus.aws.adapters.websocket_api:AwsWebSocketApi",
    "user_pool": "stratus.aws.adapters.user_pool:AwsUserPool",
    "alarm": "stratus.aws.adapters.alarm:AwsAlarm",
    "workflow": "stratus.aws.adapters.workflow:AwsWorkflow",
    "schedule": "stratus.aws.adapters.schedule:AwsSchedule",
    "scheduler": "stratus.aws.adapters.schedule:AwsScheduler",
    "api_keys": "stratus.aws.adapters.api_keys:AwsApiKeys",
}

#: Suffixed variables a kind carries besides its main one.
ENV_SUFFIXES: dict[str, tuple[str, ...]] = {
    "user_pool": ("CLIENTS",),
    "sql": ("CLUSTER",),
    "scheduler": ("ROLE",),
    "schedule": ("GROUP",),
    "search": ("INDEX",),
}

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def env_name(kind: str, name: str, suffix: str = "") -> str:
    """The environment variable carrying the physical identity of resource ``name`` of ``kind``."""
    base = f"STRATUS_{kind.upper()}_{_NOT_ALNUM.sub('_', name.upper())}"
    return f"{base}_{suffix}" if suffix else base


def env_names(resource: Resource[Any]) -> list[str]:
    """Every variable a function using ``resource`` is given."""
    main = env_name(resource.kind, resource.name)
    return [main, *(f"{main}_{s}" for s in ENV_SUFFIXES.get(resource.kind, ()))]


class AdapterMissing(NotBound):
    """The resource is used on AWS but its boto3 adapter does not exist (yet)."""

    code = "AdapterMissing"


class _Deferred:
    """Stands in for an adapter until the first call, then builds it and delegates to it."""

    def __init__(self, resource: Resource[Any], cloud: AwsCloud, path: str) -> None:
        self._resource = resource
        self._cloud = cloud
        self._path = path
        self._adapter: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = _construct(self._path, self._resource, self._cloud)
        return self._adapter

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __repr__(self) -> str:
        state = "loaded" if self._adapter is not None else "not loaded"
        return f"<deferred {self._path} for {self._resource!r} ({state})>"


def _construct(path: str, resource: Resource[Any], cloud: AwsCloud) -> Any:
    module, _, attr = path.partition(":")
    where = f"{resource.kind} {resource.name!r} of app {resource.app.name!r}"
    try:
        factory: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            raise AdapterMissing(f"{where} is used on AWS, but its adapter module {module} does not exist") from exc
        raise
    except AttributeError as exc:
        raise AdapterMissing(f"{where} is used on AWS, but {module} defines no {attr}") from exc
    return factory(resource, cloud)


class AwsCloud:
    """boto3 adapters for every port; physical identities come from the environment (see module docs)."""

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        session: Any = None,
        adapters: dict[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.endpoint_url = (
            endpoint_url or self.environ.get("STRATUS_ENDPOINT_URL") or self.environ.get("AWS_ENDPOINT_URL") or None
        )
        self.region = region or self.environ.get("AWS_REGION") or self.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.clock: Clock = clock or SystemClock()
        self._session = session
        self._adapters = {**AWS_ADAPTERS, **(adapters or {})}
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        self._apps: dict[str, App] = {}
        self._bound: list[Resource[Any]] = []
        self._lock = threading.RLock()

    @property
    def apps(self) -> list[App]:
        return list(self._apps.values())

    # -- what adapters use --------------------------------------------------------------
    def physical_id(self, resource: Resource[Any], suffix: str = "") -> str:
        """The value of the resource's environment variable (NotBound, naming it, if unset)."""
        variable = env_name(resource.kind, resource.name, suffix)
        value = self.environ.get(variable)
        if not value:
            raise NotBound(
                f"{resource.kind} {resource.name!r} of app {resource.app.name!r} has no physical identity: "
                f"{variable} is not set (does the template grant this function the resource?)"
            )
        return value

    def client(self, service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
        """One boto3 client per service, for this cloud's region and endpoint, made with its session.

        ``endpoint_url`` (and ``region``) override the cloud's for a service reached at a
        per-resource address: the ``@connections`` endpoint of a WebSocket API, signed for the
        API's region. One client is kept per (service, region, endpoint).
        """
        region = region or self.region
        endpoint = endpoint_url or self.endpoint_url
        key = (service, region, endpoint)
        with self._lock:
            made = self._clients.get(key)
            if made is None:
                options: dict[str, Any] = {}
                if service == "s3":  # SigV4 presigned URLs (SigV2 ones don't honour a 7-day expiry)
                    from botocore.config import Config

                    options["config"] = Config(signature_version="s3v4")
                made = self._boto_session().client(service, region_name=region, endpoint_url=endpoint, **options)
                self._clients[key] = made
            return made

    def credentials(self) -> Any:
        """The credentials of this cloud's session (botocore ``Credentials``), for requests boto3 does not
        make itself (OpenSearch's data plane, signed with SigV4 by opensearch-py); None when there are none."""
        return self._boto_session().get_credentials()

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    # -- binding ------------------------------------------------------------------------
    def bind(self, app: App) -> App:
        """Attach a (deferred) adapter to each of ``app``'s resources."""
        with self._lock:
            existing = self._apps.get(app.name)
            if existing is not None and existing is not app:
                raise ValidationError(f"another app named {app.name!r} is already bound to this cloud")
            self._apps[app.name] = app
            for resource in app.resources:
                if resource.is_bound:
                    continue
                path = self._adapters.get(resource.kind)
                if path is None:
                    continue
                resource.bind(_Deferred(resource, self, path))
                self._bound.append(resource)
            return app

    def close(self) -> None:
        with self._lock:
            for resource in reversed(self._bound):
                backend = resource._backend
                resource.unbind()
                adapter = getattr(backend, "_adapter", None)
                close = getattr(adapter, "close", None)
                if callable(close):
                    close()
            self._bound.clear()
            self._apps.clear()
            self._clients.clear()

    def __enter__(self) -> AwsCloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
