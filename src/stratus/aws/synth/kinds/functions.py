"""Functions (AWS::Serverless::Function): code, settings, role, event sources and release strategy.

Each function gets its own role whose policy is derived by :mod:`stratus.aws.iam` (SAM's
generated roles would attach AWS-managed policies on ``*``), SAM events for the sources
Lambda polls or API Gateway routes (SQS, Kinesis, DynamoDB streams, S3, HTTP API), and
``EventInvokeConfig`` for asynchronous invocations (retries, age, destinations).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from stratus.aws.iam import function_policy
from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import arn, check_name, describe, logical_id, physical_name, ref, resource_id
from stratus.aws.synth.synthesizer import ALIAS, Synthesizer, generator
from stratus.aws.synth.template import VPC_KINDS

HANDLER = "stratus.aws.entrypoint.handler"
RUNTIME = "python3.11"
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
#: Lambda's limit on the environment: all keys and values together.
MAX_ENVIRONMENT_BYTES = 4096
_PSEUDO = {"${AWS::Partition}": 10, "${AWS::Region}": 14, "${AWS::AccountId}": 12, "${AWS::URLSuffix}": 13}
_VARIABLE = re.compile(r"\$\{[^}]+\}")
DESTINATION_TYPES = {"queue": "SQS", "topic": "SNS", "function": "Lambda", "event_bus": "EventBridge"}


def _filters(patterns: tuple[dict[str, Any], ...]) -> dict[str, Any] | None:
    if not patterns:
        return None
    return {"Filters": [{"Pattern": json.dumps(p, separators=(",", ":"))} for p in patterns]}


def _queue_event(spec: Any) -> dict[str, Any]:
    return {
        "Type": "SQS",
        "Properties": {
            "Queue": arn(spec.queue),
            "BatchSize": spec.batch_size,
            "MaximumBatchingWindowInSeconds": spec.batching_window or None,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if spec.report_failures else None,
            "ScalingConfig": {"MaximumConcurrency": spec.max_concurrency} if spec.max_concurrency else None,
            "FilterCriteria": _filters(spec.filters),
        },
    }


def _stream_event(spec: Any) -> dict[str, Any]:
    source = spec.source
    on_failure = spec.on_failure
    return {
        "Type": "DynamoDB" if spec.is_table else "Kinesis",
        "Properties": {
            "Stream": {"Fn::GetAtt": [resource_id(source), "StreamArn" if spec.is_table else "Arn"]},
            "StartingPosition": spec.starting_position,
            "BatchSize": spec.batch_size,
            "MaximumBatchingWindowInSeconds": spec.batching_window or None,
            "BisectBatchOnFunctionError": True if spec.bisect_on_error else None,
            "MaximumRetryAttempts": spec.retry_attempts if spec.retry_attempts != -1 else None,
            "MaximumRecordAgeInSeconds": spec.max_record_age if spec.max_record_age != -1 else None,
            "DestinationConfig": (
                {"OnFailure": {"Type": DESTINATION_TYPES[on_failure.kind], "Destination": arn(on_failure)}}
                if on_failure is not None
                else None
            ),
            "ParallelizationFactor": spec.parallelization if spec.parallelization != 1 else None,
            "TumblingWindowInSeconds": spec.tumbling_window or None,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if spec.report_failures else None,
            "FilterCriteria": _filters(spec.filters),
        },
    }


def _bucket_event(spec: Any) -> dict[str, Any]:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", spec.rule.prefix), ("suffix", spec.rule.suffix)) if v]
    return {
        "Type": "S3",
        "Properties": {
            "Bucket": ref(spec.bucket),
            "Events": list(spec.rule.events),
            "Filter": {"S3Key": {"Rules": rules}} if rules else None,
        },
    }


def _http_event(route: Any) -> dict[str, Any]:
    from stratus.aws.events import is_native
    from stratus.aws.synth.kinds.apis import authorizer_name

    api = route.api
    properties: dict[str, Any] = {"ApiId": ref(api), "PayloadFormatVersion": "2.0"}
    if not route.is_default:
        properties["Method"] = route.method
        # The local gateway mounts each API under a prefix; on AWS each API has its own domain, so the
        # route's own path is the path (and the event's rawPath/routeKey match what runs locally).
        properties["Path"] = route.path
    properties["TimeoutInMillis"] = int(route.timeout * 1000)
    if route.authorizer is not None and is_native(route.authorizer):
        properties["Auth"] = {"Authorizer": authorizer_name(route.authorizer)}
        if route.scopes:
            properties["Auth"]["AuthorizationScopes"] = list(route.scopes)
    elif api.authorizer is not None and is_native(api.authorizer):
        properties["Auth"] = {"Authorizer": "NONE"}
    if route.throttle is not None:
        properties["RouteSettings"] = {
            "ThrottlingBurstLimit": route.throttle.burst,
            "ThrottlingRateLimit": float(route.throttle.rate),
        }
    return {"Type": "HttpApi", "Properties": properties}


def _events(function: Any, synth: Synthesizer) -> dict[str, Any]:
    events: dict[str, Any] = {}
    for i, trigger in enumerate(function.triggers):
        spec = trigger.options.get("spec")
        if trigger.kind == "queue":
            event = _queue_event(spec)
        elif trigger.kind in ("stream", "table_stream"):
            event = _stream_event(spec)
        elif trigger.kind == "bucket":
            event = _bucket_event(spec)
        elif trigger.kind == "http":
            event = _http_event(trigger.options["route"])
        else:
            continue  # websocket routes and authorizers are wired by their API's generator
        source = trigger.source.name if trigger.source is not None else str(i)
        name = logical_id(trigger.kind, source, str(i + 1))
        event["Properties"] = {k: v for k, v in event["Properties"].items() if v is not None}
        events[name] = event
    for name, event in synth.events.get(function.name, []):
        event["Properties"] = {k: v for k, v in event["Properties"].items() if v is not None}
        events[name] = event
    return events


def _environment(function: Any, synth: Synthesizer) -> dict[str, Any]:
    where = describe(function)
    variables: dict[str, Any] = {}
    for key, value in function.environment.items():
        if key in RESERVED_ENV or key.startswith("STRATUS_"):
            raise SynthError(f"{where}: environment variable {key!r} is reserved (by Lambda or by Stratus)")
        variables[key] = value
    variables["STRATUS_SYSTEM"] = synth.app.name
    variables["STRATUS_FUNCTION"] = function.name
    for resource in synth.usage[function.name].resources:
        variables.update(synth.env_value(resource))
    _check_environment_size(function, variables)
    return variables


def _estimated_size(value: Any) -> int:
    """A generous estimate of a value once CloudFormation has resolved it (ARNs and URLs ≤ 120 bytes)."""
    if isinstance(value, str):
        for pseudo, size in _PSEUDO.items():
            value = value.replace(pseudo, "x" * size)
        return len(_VARIABLE.sub("x" * 60, value).encode())
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        extra = 0 if isinstance(sub, str) else sum(_estimated_size(v) for v in sub[1].values())
        return _estimated_size(text) + extra
    return 120


def _check_environment_size(function: Any, variables: dict[str, Any]) -> None:
    size = sum(len(k.encode()) + _estimated_size(v) for k, v in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise SynthError(
            f"{describe(function)}: its environment would take about {size} bytes (it uses "
            f"{len(variables)} variables); Lambda allows {MAX_ENVIRONMENT_BYTES}. Split the function, or use fewer "
            "resources from one handler"
        )


def _invoke_config(function: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "MaximumRetryAttempts": function.retries,
        "MaximumEventAgeInSeconds": function.max_event_age,
    }
    destinations = {}
    for key, dest in (("OnSuccess", function.on_success), ("OnFailure", function.on_failure)):
        if dest is not None:
            destinations[key] = {"Type": DESTINATION_TYPES[dest.kind], "Destination": arn(dest)}
    if destinations:
        config["DestinationConfig"] = destinations
    return config


def _errors_alarm(function: Any, synth: Synthesizer, fid: str) -> str:
    name = physical_name(function)
    return synth.template.add(
        f"{fid}ErrorsAlarm",
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": f"Errors of the new version of {name} during a gradual deployment",
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [
                {"Name": "FunctionName", "Value": name},
                {"Name": "Resource", "Value": f"{name}:{ALIAS}"},
            ],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    )


@generator("function")
def function(resource: Any, synth: Synthesizer) -> None:
    fid = resource_id(resource)
    name = check_name("function", physical_name(resource), describe(resource))
    usage = synth.usage[resource.name]
    role_id = f"{fid}Role"
    synth.template.add(
        role_id,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": function_policy(resource, usage.resources, usage.names),
                    },
                }
            ],
        },
    )
    # A function using the cache or an SQL cluster reaches it inside their VPC.
    in_vpc = any(r.kind in VPC_KINDS for r in usage.resources)
    release = synth.release(resource)
    properties: dict[str, Any] = {
        "FunctionName": name,
        "Description": resource.description or None,
        "CodeUri": synth.options.code_uri,
        "Handler": HANDLER,
        "Runtime": RUNTIME,
        "MemorySize": resource.memory,
        "Timeout": math.ceil(resource.timeout),
        "Role": {"Fn::GetAtt": [role_id, "Arn"]},
        "Tracing": "Active",
        "Environment": {"Variables": _environment(resource, synth)},
        "ReservedConcurrentExecutions": resource.reserved_concurrency,
        "Layers": [{"Ref": "DependenciesLayer"}] if synth.options.layer_uri else None,
        "Events": _events(resource, synth) or None,
        "EventInvokeConfig": _invoke_config(resource),
        "VpcConfig": (
            {"SubnetIds": synth.template.subnet_ids(), "SecurityGroupIds": synth.template.security_group_ids()}
            if in_vpc
            else None
        ),
    }
    if release is not None:
        properties["AutoPublishAlias"] = ALIAS
        properties["DeploymentPreference"] = {
            "Type": release,
            "Alarms": [{"Ref": _errors_alarm(resource, synth, fid)}],
        }
    synth.template.add(fid, "AWS::Serverless::Function", properties)
