"""The environment variables a function gets for each resource it uses.

The names and meanings are the contract documented in :mod:`stratus.aws.cloud`; this
module is the template side of it (the adapters read, the template writes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.aws.cloud import env_name
from stratus.aws.synth.names import arn, bucket_name, logical_id, physical_name, ref, resource_id, schedule_group

if TYPE_CHECKING:
    from stratus.aws.synth.synthesizer import Synthesizer
    from stratus.resources.base import Resource


def env_values(resource: Resource[Any], synth: Synthesizer) -> dict[str, Any]:
    kind, name = resource.kind, resource.name
    main = env_name(kind, name)
    rid = resource_id(resource)
    value: Any
    extra: dict[str, Any] = {}
    if kind == "function":
        alias = synth.release(resource) is not None
        value = f"{physical_name(resource)}:live" if alias else physical_name(resource)
    elif kind in ("table", "event_bus", "stream", "alarm", "api_keys"):
        value = physical_name(resource)
    elif kind == "bucket":
        value = bucket_name(resource)
    elif kind in ("queue", "secret"):
        value = ref(resource)  # a queue's Ref is its URL, a secret's its ARN
    elif kind in ("topic", "workflow"):
        value = arn(resource)
    elif kind == "key":
        value = {"Fn::GetAtt": [rid, "Arn"]}
    elif kind == "user_pool":
        value = ref(resource)
        clients = getattr(resource, "clients", {})
        pairs = ",".join(f'"{c}":"${{{logical_id(rid, "Client", c)}}}"' for c in clients)
        extra["CLIENTS"] = {"Fn::Sub": "{" + pairs + "}"}
    elif kind == "sql":
        value = {"Ref": f"{rid}Secret"}
        extra["CLUSTER"] = arn(resource)
    elif kind == "cache":
        value = {"Fn::Sub": f"rediss://${{{rid}.Endpoint.Address}}:${{{rid}.Endpoint.Port}}"}
    elif kind == "search":
        value = {"Fn::GetAtt": [rid, "CollectionEndpoint"]}
        extra["INDEX"] = name
    elif kind == "schedule":
        value = physical_name(resource)
        extra["GROUP"] = schedule_group(resource)
    elif kind == "scheduler":
        value = schedule_group(resource)
        extra["ROLE"] = {"Fn::GetAtt": [f"{rid}Role", "Arn"]}
    elif kind == "http_api":
        value = {"Fn::Sub": f"https://${{{rid}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"}
    elif kind == "websocket_api":
        value = {"Fn::Sub": f"https://${{{rid}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/live"}
    else:
        return {}
    out = {main: value}
    out.update({f"{main}_{suffix}": v for suffix, v in extra.items()})
    return out
