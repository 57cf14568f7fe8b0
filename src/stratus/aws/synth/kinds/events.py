"""Event buses, their rules and archives (EventBridge), and schedules (EventBridge Scheduler)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from stratus.aws.iam import allow
from stratus.aws.synth.kinds.targets import ROLE_KINDS, role_actions, target_arn
from stratus.aws.synth.names import (
    arn,
    check_name,
    describe,
    logical_id,
    physical_name,
    resource_id,
    schedule_group,
    sub_arn,
)
from stratus.aws.synth.synthesizer import Synthesizer, generator
from stratus.resources.base import Resource


def _pattern(pattern: Any) -> Any:
    source = pattern.source
    return json.loads(source) if isinstance(source, str) else source


def _service_role(synth: Synthesizer, role_id: str, service: str, statements: list[dict[str, Any]]) -> None:
    synth.template.add(
        role_id,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "deliver",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ]
            if statements
            else None,
        },
    )


@generator("event_bus")
def event_bus(resource: Any, synth: Synthesizer) -> None:
    bid = resource_id(resource)
    bus_name = check_name("event_bus", physical_name(resource), describe(resource))
    synth.template.add(bid, "AWS::Events::EventBus", {"Name": bus_name, "Description": resource.description or None})
    for rule in resource.rules.values():
        rid = logical_id(bid, "Rule", rule.name)
        where = f"rule {rule.name!r} of {describe(resource)}"
        rule_arn = sub_arn("events", f"rule/{bus_name}/{resource.app.name}-{rule.name}")
        role_statements: list[dict[str, Any]] = []
        targets = []
        for i, target in enumerate(rule.targets):
            dest: Resource[Any] = target.resource
            spec: dict[str, Any] = {
                "Id": f"{dest.kind}-{dest.name}"[:60] + (f"-{i}" if i else ""),
                "Arn": target_arn(dest, synth),
                "RetryPolicy": {
                    "MaximumRetryAttempts": target.retry_attempts,
                    "MaximumEventAgeInSeconds": target.max_event_age,
                },
            }
            if target.input is not None:
                spec["Input"] = json.dumps(target.input)
            if target.input_path is not None:
                spec["InputPath"] = target.input_path
            if target.input_transformer is not None:
                spec["InputTransformer"] = {
                    "InputPathsMap": dict(target.input_transformer.paths) or None,
                    "InputTemplate": target.input_transformer.template,
                }
                if not target.input_transformer.paths:
                    del spec["InputTransformer"]["InputPathsMap"]
            if target.dead_letter is not None:
                spec["DeadLetterConfig"] = {"Arn": arn(target.dead_letter)}
                synth.allow_delivery(target.dead_letter, "events.amazonaws.com", rule_arn)
            if target.group_id:
                spec["SqsParameters"] = {"MessageGroupId": target.group_id}
            if dest.kind in ROLE_KINDS:
                spec["RoleArn"] = {"Fn::GetAtt": [f"{rid}Role", "Arn"]}
                role_statements.append(allow(role_actions(dest), arn(dest)))
            elif dest.kind == "function":
                synth.allow_invoke(dest, "events.amazonaws.com", rule_arn, logical_id(rid, dest.name))
            else:
                synth.allow_delivery(dest, "events.amazonaws.com", rule_arn)
            targets.append(spec)
        if role_statements:
            _service_role(synth, f"{rid}Role", "events.amazonaws.com", role_statements)
        synth.template.add(
            rid,
            "AWS::Events::Rule",
            {
                "Name": check_name("rule", f"{resource.app.name}-{rule.name}", where),
                "EventBusName": bus_name,
                "EventPattern": _pattern(rule.pattern),
                "State": "ENABLED" if rule.enabled else "DISABLED",
                "Description": rule.description or None,
                "Targets": targets,
            },
            DependsOn=bid,
        )
    for archive in resource.archives.values():
        synth.template.add(
            logical_id(bid, "Archive", archive.name),
            "AWS::Events::Archive",
            {
                "ArchiveName": check_name(
                    "archive",
                    f"{resource.app.name}-{archive.name}",
                    f"archive {archive.name!r} of {describe(resource)}",
                ),
                "SourceArn": {"Fn::GetAtt": [bid, "Arn"]},
                "EventPattern": _pattern(archive.pattern) if archive.pattern is not None else None,
                "RetentionDays": archive.retention_days or None,
            },
        )


def _group(synth: Synthesizer, name: str, group_id: str) -> None:
    if group_id not in synth.template.resources:
        synth.template.add(group_id, "AWS::Scheduler::ScheduleGroup", {"Name": name})


_SCHEDULED_EVENT = {
    "version": "0",
    "id": "<aws.scheduler.execution-id>",
    "detail-type": "Scheduled Event",
    "source": "aws.scheduler",
    "time": "<aws.scheduler.scheduled-time>",
    "resources": ["<aws.scheduler.schedule-arn>"],
    "detail": {},
}


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@generator("schedule")
def schedule(resource: Any, synth: Synthesizer) -> None:
    spec = resource.spec
    where = describe(resource)
    name = check_name("schedule", physical_name(resource), where)
    group = check_name("schedule_group", schedule_group(resource), where)
    _group(synth, group, "ScheduleGroup")
    dest = spec.target
    target: dict[str, Any] = {
        "Arn": target_arn(dest, synth),
        "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        # Without a payload the target gets the "Scheduled Event" envelope, as locally.
        "Input": json.dumps(spec.payload if spec.payload is not None else _SCHEDULED_EVENT),
        "RetryPolicy": {"MaximumRetryAttempts": spec.retry_attempts, "MaximumEventAgeInSeconds": spec.max_event_age},
    }
    if spec.dead_letter is not None:
        target["DeadLetterConfig"] = {"Arn": arn(spec.dead_letter)}
    if dest.kind == "queue" and getattr(dest, "fifo", False):
        target["SqsParameters"] = {"MessageGroupId": name}
    if dest.kind == "event_bus":
        target["EventBridgeParameters"] = {"DetailType": "Scheduled Event", "Source": "aws.scheduler"}
    synth.template.add(
        resource_id(resource),
        "AWS::Scheduler::Schedule",
        {
            "Name": name,
            "GroupName": group,
            "ScheduleExpression": spec.expression,
            "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if spec.enabled else "DISABLED",
            "StartDate": _iso(spec.start),
            "EndDate": _iso(spec.end),
            "Target": target,
        },
        DependsOn="ScheduleGroup",
    )
    _scheduler_role(synth, "SchedulerRole", [dest], [spec.dead_letter] if spec.dead_letter else [])


def _scheduler_role(synth: Synthesizer, role_id: str, targets: list[Any], dead_letters: list[Any]) -> None:
    """One role per group that the scheduler assumes; statements accumulate per target."""
    statements = [allow(role_actions(t), target_arn(t, synth) if t.kind == "function" else arn(t)) for t in targets]
    statements += [allow(["sqs:SendMessage"], arn(q)) for q in dead_letters]
    existing = synth.template.resources.get(role_id)
    if existing is None:
        _service_role(synth, role_id, "scheduler.amazonaws.com", statements)
        return
    if "Policies" not in existing["Properties"]:
        existing["Properties"]["Policies"] = [
            {"PolicyName": "deliver", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
        ]
    current = existing["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    current.extend(s for s in statements if s not in current)


@generator("scheduler")
def scheduler(resource: Any, synth: Synthesizer) -> None:
    """A group for schedules created at run time; its role may deliver to any target of the app."""
    group = check_name("schedule_group", schedule_group(resource), describe(resource))
    _group(synth, group, resource_id(resource))
    kinds = ("function", "queue", "topic", "event_bus", "workflow")
    targets = [r for r in synth.app.resources if r.kind in kinds]
    queues = [r for r in synth.app.resources if r.kind == "queue"]
    _scheduler_role(synth, f"{resource_id(resource)}Role", targets, queues)
