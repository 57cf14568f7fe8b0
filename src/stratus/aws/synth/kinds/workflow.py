"""Workflows (AWS::Serverless::StateMachine): the ASL file, its substitutions, and its role.

The definition is written as declared (with its ``${Name}`` placeholders) next to the
template, and each substitution becomes a ``DefinitionSubstitutions`` entry with the value
CloudFormation produces for that resource — the same values the local engine substitutes
(:func:`stratus.resources.workflow.substitution_value`). The state machine's role may call
exactly the substituted resources.
"""

from __future__ import annotations

from typing import Any

from stratus.aws.iam import allow
from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import arn, bucket_name, check_name, describe, physical_name, ref, resource_id, sub_arn
from stratus.aws.synth.synthesizer import Synthesizer, generator
from stratus.resources.base import Resource


def substitution(value: Any, where: str) -> Any:
    if not isinstance(value, Resource):
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    kind = value.kind
    if kind in ("function", "topic", "workflow"):
        return arn(value)
    if kind == "queue":
        return ref(value)
    if kind == "bucket":
        return bucket_name(value)
    if kind in ("table", "event_bus", "stream"):
        return physical_name(value)
    raise SynthError(f"{where}: a {kind} cannot be a definition substitution")


def _statements(value: Resource[Any]) -> list[dict[str, Any]]:
    kind = value.kind
    if kind == "function":
        target = arn(value)
        return [allow(["lambda:InvokeFunction"], [target, {"Fn::Sub": ["${Fn}:*", {"Fn": target}]}])]
    if kind == "queue":
        return [allow(["sqs:SendMessage"], arn(value))]
    if kind == "topic":
        return [allow(["sns:Publish"], arn(value))]
    if kind == "event_bus":
        return [allow(["events:PutEvents"], arn(value))]
    if kind == "stream":
        return [allow(["kinesis:PutRecord", "kinesis:PutRecords"], arn(value))]
    if kind == "table":
        return [
            allow(
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
                arn(value),
            )
        ]
    if kind == "bucket":
        return [allow(["s3:GetObject", "s3:PutObject"], {"Fn::Sub": ["${B}/*", {"B": arn(value)}]})]
    if kind == "workflow":
        name = physical_name(value)
        return [
            allow(["states:StartExecution"], arn(value)),
            allow(["states:DescribeExecution", "states:StopExecution"], sub_arn("states", f"execution:{name}:*")),
            allow(
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                sub_arn("events", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"),
            ),
        ]
    return []


@generator("workflow")
def workflow(resource: Any, synth: Synthesizer) -> None:
    where = describe(resource)
    name = check_name("workflow", physical_name(resource), where)
    path = f"workflows/{resource.name}.asl.json"
    synth.files[path] = resource.template
    statements = [allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")]
    for value in resource.substitutions.values():
        if isinstance(value, Resource):
            statements.extend(s for s in _statements(value) if s not in statements)
    wid = resource_id(resource)
    synth.template.add(
        wid,
        "AWS::Serverless::StateMachine",
        {
            "Name": name,
            "Type": resource.type,
            "DefinitionUri": path,
            "DefinitionSubstitutions": {k: substitution(v, where) for k, v in resource.substitutions.items()} or None,
            "Policies": [{"Version": "2012-10-17", "Statement": statements}],
            "Tracing": {"Enabled": True},
        },
    )
