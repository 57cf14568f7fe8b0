"""Least-privilege IAM: each function's role allows exactly what its code and triggers need.

The resources come from :mod:`stratus.aws.uses` (what the handler's code references) and
from the function's declaration (its triggers and destinations). For each resource the
actions are narrowed to the operations the code calls: the port's method names loaded by
the handler (``orders.get`` and ``orders.query`` → read actions only). When none of a
port's methods shows up (the handle is passed to code we do not follow), the function gets
every action of that port on that one resource — never a wildcard resource.

Each statement names the one resource it is about, by an ARN built from its physical
name (see :mod:`stratus.aws.synth.names`), so roles never form dependency cycles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stratus.aws.synth.names import arn, physical_name, resource_id, schedule_group, sub_arn
from stratus.aws.synth.template import VPC_KINDS
from stratus.resources.base import Resource

Statement = dict[str, Any]

#: kind -> {group: (port methods that need it, IAM actions)}.
ACCESS: dict[str, dict[str, tuple[frozenset[str], tuple[str, ...]]]] = {
    "table": {
        "read": (
            frozenset({"get", "batch_get", "query", "query_all", "scan", "scan_all", "tx_get", "tx_check"}),
            (
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DescribeTable",
            ),
        ),
        "write": (
            frozenset({"put", "update", "delete", "batch_write", "tx_put", "tx_update", "tx_delete", "tx_check"}),
            (
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DescribeTable",
            ),
        ),
    },
    "bucket": {
        "read": (
            frozenset({"get", "head", "exists", "copy", "presigned_url"}),
            ("s3:GetObject", "s3:GetObjectVersion"),
        ),
        "write": (
            frozenset(
                {
                    "put",
                    "delete",
                    "delete_many",
                    "copy",
                    "presigned_url",
                    "create_multipart_upload",
                    "upload_part",
                    "complete_multipart_upload",
                    "abort_multipart_upload",
                }
            ),
            (
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ),
        ),
        "list": (
            frozenset({"list", "iterate", "list_versions", "list_multipart_uploads", "exists", "head", "get"}),
            ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
        ),
    },
    "queue": {
        "send": (frozenset({"send", "send_batch"}), ("sqs:SendMessage", "sqs:GetQueueAttributes")),
        "consume": (
            frozenset({"receive", "delete", "delete_batch", "change_visibility", "change_visibility_batch", "peek"}),
            (
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ),
        ),
        "manage": (
            frozenset({"purge", "attributes", "redrive", "next_visible_at"}),
            (
                "sqs:PurgeQueue",
                "sqs:GetQueueAttributes",
                "sqs:StartMessageMoveTask",
                "sqs:ListMessageMoveTasks",
                "sqs:CancelMessageMoveTask",
            ),
        ),
    },
    "topic": {
        "publish": (frozenset({"publish", "publish_batch"}), ("sns:Publish",)),
        "subscribe": (frozenset({"subscribe_email", "subscribe_sms", "subscribe_http"}), ("sns:Subscribe",)),
        "manage": (
            frozenset({"all_subscriptions", "unsubscribe"}),
            ("sns:ListSubscriptionsByTopic", "sns:Unsubscribe", "sns:GetTopicAttributes"),
        ),
    },
    "event_bus": {
        "put": (frozenset({"put", "put_events"}), ("events:PutEvents",)),
        "manage": (
            frozenset({"enable_rule", "disable_rule", "replay", "archived"}),
            (
                "events:EnableRule",
                "events:DisableRule",
                "events:DescribeRule",
                "events:StartReplay",
                "events:DescribeEventBus",
                "events:DescribeArchive",
            ),
        ),
    },
    "stream": {
        "write": (frozenset({"put", "put_records"}), ("kinesis:PutRecord", "kinesis:PutRecords")),
        "read": (
            frozenset({"get_records", "get_shard_iterator", "list_shards", "describe"}),
            (
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
            ),
        ),
        "manage": (frozenset({"split_shard", "merge_shards"}), ("kinesis:SplitShard", "kinesis:MergeShards")),
    },
    "secret": {
        "read": (
            frozenset({"get", "describe", "list_versions", "arn"}),
            ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"),
        ),
        "write": (
            frozenset({"put", "update_stage", "rotate", "rotate_if_due"}),
            (
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
                "secretsmanager:RotateSecret",
                "secretsmanager:TagResource",
            ),
        ),
    },
    "key": {
        "use": (
            frozenset({"encrypt", "decrypt", "generate_data_key", "decrypt_data_key", "seal", "open", "describe"}),
            ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
        ),
        "manage": (
            frozenset({"enable", "disable", "rotate", "rotate_if_due", "schedule_deletion", "cancel_deletion"}),
            (
                "kms:EnableKey",
                "kms:DisableKey",
                "kms:RotateKeyOnDemand",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
                "kms:GetKeyRotationStatus",
                "kms:ListKeyRotations",
            ),
        ),
    },
    "function": {
        "invoke": (frozenset({"invoke", "invoke_async"}), ("lambda:InvokeFunction",)),
    },
    "workflow": {
        "run": (
            frozenset({"start", "start_sync", "describe", "stop", "history", "executions", "redrive"}),
            (
                "states:StartExecution",
                "states:StartSyncExecution",
                "states:DescribeExecution",
                "states:StopExecution",
                "states:GetExecutionHistory",
                "states:ListExecutions",
                "states:RedriveExecution",
            ),
        ),
    },
    "scheduler": {
        "manage": (
            frozenset({"create", "delete", "get", "enable", "disable", "list"}),
            (
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ),
        ),
    },
    "schedule": {
        "manage": (
            frozenset({"state", "enable", "disable"}),
            ("scheduler:GetSchedule", "scheduler:UpdateSchedule"),
        ),
    },
    "search": {"use": (frozenset({"index", "index_many", "get", "delete", "search"}), ("aoss:APIAccessAll",))},
}


def _groups(kind: str, names: set[str]) -> list[str]:
    table = ACCESS.get(kind, {})
    chosen = [group for group, (methods, _) in table.items() if methods & names]
    return chosen or list(table)


def _actions(kind: str, names: set[str]) -> list[str]:
    out: list[str] = []
    for group in _groups(kind, names):
        for action in ACCESS[kind][group][1]:
            if action not in out:
                out.append(action)
    return out


def allow(actions: Iterable[str], resources: Any) -> Statement:
    return {
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resources if isinstance(resources, list) else [resources],
    }


def _camel(method: str) -> str:
    return "".join(part.title() for part in method.split("_"))


def resource_statements(resource: Resource[Any], names: set[str]) -> list[Statement]:
    """What a function whose code uses ``resource`` (calling methods among ``names``) may do."""
    kind = resource.kind
    if kind == "api_keys":
        # The adapter keeps keys and counters in one table; what it does is not visible in the handler.
        actions = sorted({a for group in ACCESS["table"].values() for a in group[1]})
        return [allow(actions, arn(resource))]
    if kind == "table":
        table_arn = arn(resource)
        index = {"Fn::Sub": ["${Table}/index/*", {"Table": table_arn}]}
        return [allow(_actions(kind, names), [table_arn, index])]
    if kind == "bucket":
        bucket_arn = arn(resource)
        objects = {"Fn::Sub": ["${Bucket}/*", {"Bucket": bucket_arn}]}
        out = []
        groups = _groups(kind, names)
        object_actions = [a for g in groups if g != "list" for a in ACCESS[kind][g][1]]
        if object_actions:
            out.append(allow(dict.fromkeys(object_actions), objects))
        if "list" in groups:
            out.append(allow(ACCESS[kind]["list"][1], bucket_arn))
        return out
    if kind == "workflow":
        name = physical_name(resource)
        executions = sub_arn("states", f"execution:{name}:*")
        out = [allow(_actions(kind, names), [arn(resource), executions])]
        if names & {"send_task_success", "send_task_failure", "send_task_heartbeat"}:
            # Task-token calls have no resource-level permissions (IAM's reference lists none).
            out.append(allow(["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"], "*"))
        return out
    if kind == "user_pool":
        admin = sorted(f"cognito-idp:{_camel(n)}" for n in names if n.startswith("admin_"))
        if "get_user" in names:  # the adapter completes GetUser (no status or dates) with AdminGetUser
            admin = sorted({*admin, "cognito-idp:AdminGetUser"})
        return [allow(admin, arn(resource))] if admin else []
    if kind == "scheduler":
        group = schedule_group(resource)
        return [
            allow(_actions(kind, names), sub_arn("scheduler", f"schedule/{group}/*")),
            allow(["scheduler:ListSchedules"], "*"),
            allow(["iam:PassRole"], {"Fn::GetAtt": [f"{resource_id(resource)}Role", "Arn"]}),
        ]
    if kind == "schedule":
        return [
            allow(_actions(kind, names), arn(resource)),
            allow(["iam:PassRole"], {"Fn::GetAtt": ["SchedulerRole", "Arn"]}),
        ]
    if kind == "sql":
        return [
            allow(["secretsmanager:GetSecretValue"], ref_secret(resource)),
            allow(
                [
                    "rds-data:ExecuteStatement",
                    "rds-data:BatchExecuteStatement",
                    "rds-data:BeginTransaction",
                    "rds-data:CommitTransaction",
                    "rds-data:RollbackTransaction",
                ],
                arn(resource),
            ),
        ]
    if kind == "websocket_api":
        return [
            allow(
                ["execute-api:ManageConnections"],
                sub_arn("execute-api", f"${{{resource_id(resource)}}}/*/*/@connections/*"),
            )
        ]
    if kind == "function":
        target = arn(resource)
        qualified = {"Fn::Sub": ["${Fn}:*", {"Fn": target}]}
        return [allow(_actions(kind, names), [target, qualified])]
    if kind in ACCESS:
        return [allow(_actions(kind, names), arn(resource))]
    return []  # http_api, cache (network access), alarm: nothing to call through IAM


def ref_secret(resource: Resource[Any]) -> dict[str, Any]:
    """The generated credentials secret of a SQL database."""
    return {"Ref": f"{resource_id(resource)}Secret"}


def destination_statement(resource: Resource[Any]) -> Statement:
    """What delivering to ``resource`` (a destination or a failure target) needs."""
    action = {
        "queue": "sqs:SendMessage",
        "topic": "sns:Publish",
        "function": "lambda:InvokeFunction",
        "event_bus": "events:PutEvents",
    }[resource.kind]
    return allow([action], arn(resource))


def trigger_statements(trigger: Any) -> list[Statement]:
    """What Lambda's event-source mapping must do, with the function's role, to poll a source."""
    spec = trigger.options.get("spec")
    if trigger.kind == "queue":
        return [
            allow(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
                arn(trigger.source),
            )
        ]
    if trigger.kind == "stream":
        out = [
            allow(
                [
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:ListShards",
                ],
                arn(trigger.source),
            )
        ]
    elif trigger.kind == "table_stream":
        stream = {"Fn::GetAtt": [resource_id(trigger.source), "StreamArn"]}
        out = [
            allow(
                ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
                stream,
            )
        ]
    else:
        return []
    if spec is not None and spec.on_failure is not None:
        out.append(destination_statement(spec.on_failure))
    return out


def function_policy(function: Any, used: list[Resource[Any]], names: set[str]) -> list[Statement]:
    """Every statement of ``function``'s role: logs, tracing, its resources, triggers and destinations."""
    log_group = sub_arn("logs", f"log-group:/aws/lambda/{physical_name(function)}")
    statements = [
        allow(["logs:CreateLogGroup"], log_group),
        allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            {"Fn::Sub": ["${Group}:*", {"Group": log_group}]},
        ),
        # X-Ray's write actions have no resource-level permissions.
        allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
    ]
    for resource in used:
        statements.extend(resource_statements(resource, names))
    for trigger in function.triggers:
        statements.extend(trigger_statements(trigger))
    for destination in (function.on_success, function.on_failure):
        if destination is not None:
            statements.append(destination_statement(destination))
    if any(r.kind in VPC_KINDS for r in used):
        # A function in a VPC (it uses the cache or an SQL cluster) creates its network interfaces
        # (Lambda's documented minimum).
        statements.append(
            allow(
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "*",
            )
        )
    return statements


__all__ = ["ACCESS", "allow", "destination_statement", "function_policy", "resource_statements", "trigger_statements"]
