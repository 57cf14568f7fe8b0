"""Names on AWS: logical ids, physical names, ARNs, and the limits AWS puts on them.

Every physical name is the resource's qualified name (``<app>-<name>``), as locally, so a
resource is found under the same name in the console of either cloud. Buckets are the
exception S3 forces: bucket names are global, so they also carry the account and region.

ARNs are built with ``Fn::Sub`` from those names rather than with ``Fn::GetAtt``: a role
policy that names a function, or a bucket that notifies the function whose role reads it,
would otherwise be a dependency cycle CloudFormation refuses.
"""

from __future__ import annotations

import re
from typing import Any

from stratus.aws.synth.errors import SynthError
from stratus.resources.base import Resource

#: Longest physical name AWS accepts, per kind (bucket: with the ``-<account>-<region>`` suffix).
NAME_LIMITS: dict[str, int] = {
    "function": 64,
    "queue": 80,
    "topic": 256,
    "table": 255,
    "bucket": 63,
    "workflow": 80,
    "rule": 64,
    "event_bus": 256,
    "stream": 128,
    "schedule": 64,
    "schedule_group": 64,
    "secret": 512,
    "alarm": 255,
    "user_pool": 128,
    "http_api": 128,
    "websocket_api": 128,
    "archive": 48,
    "sql": 63,
    "cache": 40,
    "search": 32,
    "key": 250,
}

_CHARSETS: dict[str, tuple[re.Pattern[str], str]] = {
    "function": (re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, '-' and '_'"),
    "queue": (re.compile(r"^[A-Za-z0-9_-]+(\.fifo)?$"), "letters, digits, '-' and '_' (plus '.fifo')"),
    "topic": (re.compile(r"^[A-Za-z0-9_-]+(\.fifo)?$"), "letters, digits, '-' and '_' (plus '.fifo')"),
    "table": (re.compile(r"^[A-Za-z0-9_.-]+$"), "letters, digits, '_', '-' and '.'"),
    "bucket": (re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"), "lower-case letters, digits, '-' and '.'"),
    "workflow": (re.compile(r"^[A-Za-z0-9_.-]+$"), "letters, digits, '_', '-' and '.'"),
    "rule": (re.compile(r"^[.\-_A-Za-z0-9]+$"), "letters, digits, '.', '-' and '_'"),
    "stream": (re.compile(r"^[A-Za-z0-9_.-]+$"), "letters, digits, '_', '-' and '.'"),
    "schedule": (re.compile(r"^[0-9a-zA-Z_.-]+$"), "letters, digits, '_', '-' and '.'"),
    "sql": (re.compile(r"^[a-z][a-z0-9-]*$"), "lower-case letters, digits and '-', starting with a letter"),
    "cache": (re.compile(r"^[a-z][a-z0-9-]*$"), "lower-case letters, digits and '-', starting with a letter"),
    "search": (re.compile(r"^[a-z][a-z0-9-]*$"), "lower-case letters, digits and '-', starting with a letter"),
}

#: The account/region suffix of a bucket name: "-" + 12 digits + "-" + the longest region name.
BUCKET_SUFFIX_LENGTH = 1 + 12 + 1 + len("ap-southeast-5") + 2

_PARTS = re.compile(r"[A-Za-z0-9]+")


def check_name(kind: str, name: str, declaration: str, *, reserve: int = 0) -> str:
    """Raise SynthError (naming ``declaration``) if AWS would refuse ``name`` for ``kind``."""
    limit = NAME_LIMITS.get(kind)
    if limit is not None and len(name) + reserve > limit:
        extra = f" (plus {reserve} characters AWS needs)" if reserve else ""
        raise SynthError(
            f"{declaration}: its name on AWS, {name!r}, is {len(name)} characters{extra}; "
            f"AWS allows {limit} for a {kind.replace('_', ' ')}"
        )
    charset = _CHARSETS.get(kind)
    if charset is not None and not charset[0].match(name):
        raise SynthError(f"{declaration}: its name on AWS, {name!r}, may contain only {charset[1]}")
    if kind in ("sql", "cache", "search") and ("--" in name or name.endswith("-")):
        raise SynthError(f"{declaration}: its name on AWS, {name!r}, may not contain '--' or end with '-'")
    return name


def describe(resource: Resource[Any]) -> str:
    return f"{resource.kind} {resource.name!r} of app {resource.app.name!r}"


def logical_id(kind: str, *names: str) -> str:
    """A CloudFormation logical id: alphanumeric CamelCase of the kind and names."""
    words = [w for part in (kind, *names) for w in _PARTS.findall(part.replace("_", " "))]
    return "".join(w[:1].upper() + w[1:] for w in words)[:255]


def resource_id(resource: Resource[Any]) -> str:
    return logical_id(resource.kind, resource.name)


def physical_name(resource: Resource[Any]) -> str:
    """The name a resource has on AWS (a bucket adds ``-<account>-<region>`` at deploy time)."""
    if resource.kind in ("sql", "cache", "search", "bucket"):
        return resource.qualified_name.lower().replace("_", "-").replace(".", "-")
    return resource.qualified_name


def bucket_name(resource: Resource[Any]) -> dict[str, Any]:
    return {"Fn::Sub": f"{physical_name(resource)}-${{AWS::AccountId}}-${{AWS::Region}}"}


def sub_arn(service: str, rest: str) -> dict[str, Any]:
    """``arn:<partition>:<service>:<region>:<account>:<rest>`` with the pseudo parameters."""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"}


def arn(resource: Resource[Any]) -> Any:
    """The ARN of a declared resource, as a template value."""
    kind, name = resource.kind, physical_name(resource)
    if kind in ("table", "api_keys"):
        return sub_arn("dynamodb", f"table/{name}")
    if kind == "bucket":
        return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{name}-${{AWS::AccountId}}-${{AWS::Region}}"}
    if kind == "queue":
        return sub_arn("sqs", name)
    if kind == "topic":
        return sub_arn("sns", name)
    if kind == "event_bus":
        return sub_arn("events", f"event-bus/{name}")
    if kind == "stream":
        return sub_arn("kinesis", f"stream/{name}")
    if kind == "function":
        return sub_arn("lambda", f"function:{name}")
    if kind == "workflow":
        return sub_arn("states", f"stateMachine:{name}")
    if kind == "schedule":
        return sub_arn("scheduler", f"schedule/{resource.app.name}/{name}")
    if kind == "scheduler":
        return sub_arn("scheduler", f"schedule/{schedule_group(resource)}/*")
    if kind == "alarm":
        return sub_arn("cloudwatch", f"alarm:{name}")
    if kind == "secret":
        return ref(resource)
    if kind == "sql":
        return {"Fn::GetAtt": [resource_id(resource), "DBClusterArn"]}
    if kind in ("key", "user_pool", "search"):
        return {"Fn::GetAtt": [resource_id(resource), "Arn"]}
    raise SynthError(f"{describe(resource)}: no ARN for a {kind}")


def ref(resource: Resource[Any]) -> dict[str, Any]:
    return {"Ref": resource_id(resource)}


def schedule_group(resource: Resource[Any]) -> str:
    """Declared schedules live in the group named after the app; a Scheduler gets its own group."""
    if resource.kind == "scheduler":
        return resource.qualified_name
    return resource.app.name
