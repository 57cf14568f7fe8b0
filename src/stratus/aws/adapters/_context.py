"""What every boto3 adapter needs from the cloud it is bound to: identity, clients, credentials, clock.

Adapters are constructed as ``Adapter(resource, cloud)`` and reach AWS only through the four
functions below, so they work with :class:`stratus.aws.cloud.AwsCloud` and with any smaller
object (a test's stand-in) that offers part of its surface:

``physical_id(resource, cloud, suffix="")``
    ``cloud.physical_id(resource)`` (or ``cloud.physical_id(resource, suffix)``) when the cloud has
    that method; otherwise the environment variable ``STRATUS_<KIND>_<NAME>[_<SUFFIX>]`` with
    ``KIND`` the resource kind upper-cased and ``NAME`` the declared name upper-cased with every
    character outside ``[A-Z0-9]`` replaced by ``_``. Unset: :class:`stratus.errors.NotBound`.
``client(service, cloud, endpoint_url=None, region=None)``
    ``cloud.client(service)`` when the cloud has that method (``cloud.client(service,
    endpoint_url=..., region=...)`` when either is given: the cloud must then accept them);
    otherwise one cached ``boto3.client(service)`` per (service, region, endpoint), with the
    region from ``AWS_REGION``/``AWS_DEFAULT_REGION`` (default ``us-east-1``) and the endpoint
    from ``STRATUS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL`` when set; S3 clients sign with SigV4
    (``signature_version="s3v4"``), which presigned URLs need. ``endpoint_url``/``region``
    override those for a service reached at a per-resource address (a WebSocket API's
    ``@connections`` endpoint, signed for the API's region).
``credentials(cloud)``
    ``cloud.credentials()`` when the cloud has that method, else the default boto3 session's:
    for requests boto3 does not make (OpenSearch's data plane, signed by opensearch-py).
``clock(cloud)``
    ``cloud.clock`` when present, else a :class:`stratus.clock.SystemClock`.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from stratus.clock import Clock, SystemClock
from stratus.errors import NotBound, StratusError

__all__ = [
    "ClientError",
    "client",
    "clock",
    "credentials",
    "env_variable",
    "error_code",
    "error_message",
    "physical_id",
]

_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_clients: dict[tuple[str, str, str | None], Any] = {}
_lock = threading.Lock()


def env_variable(resource: Any, suffix: str = "") -> str:
    """``STRATUS_<KIND>_<NAME>[_<SUFFIX>]`` for ``resource``."""
    base = f"STRATUS_{resource.kind.upper()}_{_NOT_ALNUM.sub('_', resource.name.upper())}"
    return f"{base}_{suffix}" if suffix else base


def physical_id(resource: Any, cloud: Any, suffix: str = "") -> str:
    """The physical identity (name, URL or ARN) of ``resource`` on AWS."""
    method = getattr(cloud, "physical_id", None)
    if callable(method):
        return str(method(resource, suffix) if suffix else method(resource))
    variable = env_variable(resource, suffix)
    value = os.environ.get(variable)
    if not value:
        raise NotBound(
            f"{resource.kind} {resource.name!r} has no physical identity on AWS: the environment variable "
            f"{variable} is not set"
        )
    return value


def client(service: str, cloud: Any, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 client for ``service``: the cloud's own, or one made from the environment.

    ``endpoint_url`` and ``region`` override the cloud's (or the environment's) for this client.
    """
    method = getattr(cloud, "client", None)
    if callable(method):
        overrides = {k: v for k, v in (("endpoint_url", endpoint_url), ("region", region)) if v is not None}
        return method(service, **overrides)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = endpoint_url or os.environ.get("STRATUS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None
    key = (service, region, endpoint)
    with _lock:
        made = _clients.get(key)
        if made is None:
            import boto3

            # S3 presigned URLs must be SigV4 (7-day expiry, every region); other services use defaults.
            config = Config(signature_version="s3v4") if service == "s3" else None
            made = boto3.client(service, region_name=region, endpoint_url=endpoint, config=config)
            _clients[key] = made
        return made


def credentials(cloud: Any) -> Any:
    """The AWS credentials requests are signed with: the cloud's, or the default boto3 session's."""
    method = getattr(cloud, "credentials", None)
    if callable(method):
        return method()
    import boto3

    return boto3.session.Session().get_credentials()


def clock(cloud: Any) -> Clock:
    """The cloud's clock, or the system clock."""
    found = getattr(cloud, "clock", None)
    return found if found is not None else SystemClock()


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore ClientError (``ConditionalCheckFailedException``...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "") or error)


def translate_error(error: Any, errors: dict[str, type[StratusError]]) -> StratusError:
    """The port error for a botocore ClientError, by AWS error code (``errors``); a generic one otherwise."""
    code = error_code(error)
    message = error_message(error)
    cls = errors.get(code)
    if cls is not None:
        return cls(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def utc(value: Any) -> datetime | None:
    """A boto3 timestamp (datetime or epoch seconds) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)
