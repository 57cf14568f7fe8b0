"""A stand-in cloud for running the port suites' ``aws`` parameter on moto, in-process.

``MotoCloud`` offers what the adapters reach through ``stratus.aws.adapters._context``:
``physical_id(resource[, suffix])``, ``client(service[, endpoint_url=, region=])`` and ``clock``. A fixture opens
``moto_cloud()`` (moto's ``mock_aws`` with dummy credentials), creates each resource in moto
with the ``create_*`` helpers (which record the physical identity) and binds the handle to
its adapter with ``cloud.bind(resource, AdapterClass)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from stratus.clock import Clock, SystemClock
from stratus.errors import NotBound

REGION = "us-east-1"
ACCOUNT = "123456789012"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
_CLIENTS: dict[tuple[str, str, str | None], Any] = {}


class MotoCloud:
    """Physical identities, clients and a clock for adapters under moto."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.region = REGION
        self.account_id = ACCOUNT
        self.clock: Clock = clock or SystemClock()
        self.ids: dict[tuple[str, str, str], str] = {}
        self._bound: list[Any] = []

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        try:
            return self.ids[(resource.kind, resource.name, suffix)]
        except KeyError:
            raise NotBound(f"{resource.kind} {resource.name!r} was not created in moto") from None

    def set_id(self, resource: Any, value: str, suffix: str = "") -> None:
        self.ids[(resource.kind, resource.name, suffix)] = value

    def client(self, service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
        # Clients are made once per test session (making one costs more than most moto calls);
        # moto intercepts them whenever a mock is active.
        key = (service, region or self.region, endpoint_url)
        made = _CLIENTS.get(key)
        if made is None:
            # moto serves DynamoDB Streams on the regional endpoint only, not the account-based one
            # botocore derives from the stream ARN.
            config = None
            if service == "dynamodbstreams":
                config = Config(account_id_endpoint_mode="disabled")
            elif service == "s3":
                config = Config(signature_version="s3v4")  # SigV4 presigned URLs, as on AWS today
            made = boto3.client(service, region_name=region or self.region, endpoint_url=endpoint_url, config=config)
            _CLIENTS[key] = made
        return made

    def bind(self, resource: Any, adapter: Any) -> Any:
        backend = adapter(resource, self)
        resource.bind(backend)
        self._bound.append(resource)
        return backend

    def close(self) -> None:
        for resource in reversed(self._bound):
            resource.unbind()
        self._bound.clear()


@contextmanager
def moto_cloud(clock: Clock | None = None) -> Iterator[MotoCloud]:
    """moto's in-process AWS (dummy credentials) and a cloud over it."""
    saved = {k: os.environ.get(k) for k in (*_CREDENTIALS, "AWS_ENDPOINT_URL", "STRATUS_ENDPOINT_URL")}
    os.environ.update(_CREDENTIALS)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("STRATUS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            cloud = MotoCloud(clock)
            try:
                yield cloud
            finally:
                cloud.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- creating resources in moto the way the synthesized template would ------------------------


def create_table(cloud: MotoCloud, table: Any) -> str:
    """A DynamoDB table for a ``Table`` handle: keys, indexes, stream and TTL as declared."""
    schema = table.schema
    name = table.qualified_name
    types: dict[str, str] = {}

    def key_schema(partition: Any, sort: Any) -> list[dict[str, str]]:
        out = [{"AttributeName": partition.name, "KeyType": "HASH"}]
        types[partition.name] = partition.type
        if sort is not None:
            out.append({"AttributeName": sort.name, "KeyType": "RANGE"})
            types[sort.name] = sort.type
        return out

    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(schema.partition, schema.sort),
        "BillingMode": "PAY_PER_REQUEST",
    }
    globals_: list[dict[str, Any]] = []
    locals_: list[dict[str, Any]] = []
    for index in schema.indexes.values():
        projection: dict[str, Any] = {"ProjectionType": index.projection_type}
        if index.projection_type == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.include)
        entry = {
            "IndexName": index.name,
            "KeySchema": key_schema(index.partition, index.sort),
            "Projection": projection,
        }
        (globals_ if index.is_global else locals_).append(entry)
    if globals_:
        params["GlobalSecondaryIndexes"] = globals_
    if locals_:
        params["LocalSecondaryIndexes"] = locals_
    params["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]
    if table.stream_view is not None:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view}
    client = cloud.client("dynamodb")
    client.create_table(**params)
    if table.ttl_attribute is not None:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )
    cloud.set_id(table, name)
    return name


def create_queue(cloud: MotoCloud, queue: Any) -> str:
    """An SQS queue for a ``Queue`` handle (its dead-letter queue must exist already)."""
    attributes = {
        "VisibilityTimeout": str(queue.visibility_timeout),
        "DelaySeconds": str(queue.delay),
        "MessageRetentionPeriod": str(queue.retention),
        "MaximumMessageSize": str(queue.max_message_size),
        "ReceiveMessageWaitTimeSeconds": str(queue.receive_wait),
    }
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        if queue.content_based_deduplication:
            attributes["ContentBasedDeduplication"] = "true"
    client = cloud.client("sqs")
    if queue.dead_letter is not None:
        dlq_url = cloud.physical_id(queue.dead_letter.queue)
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.dead_letter.max_receive_count}
        )
    url = client.create_queue(QueueName=queue.qualified_name, Attributes=attributes)["QueueUrl"]
    cloud.set_id(queue, url)
    return str(url)


def create_bucket(cloud: MotoCloud, bucket: Any) -> str:
    """An S3 bucket for a ``Bucket`` handle (versioned as declared); named as the template names it."""
    name = f"{bucket.qualified_name}-{ACCOUNT}-{REGION}"
    client = cloud.client("s3")
    client.create_bucket(Bucket=name)
    if bucket.versioning:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    cloud.set_id(bucket, name)
    return name


class HttpClient:
    """The slice of an HTTP client the presigned-URL tests use, over ``requests`` (which moto intercepts)."""

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        import requests

        return requests.get(url, headers=headers or {}, timeout=30)

    def put(self, url: str, content: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        import requests

        return requests.put(url, data=content, headers=headers or {}, timeout=30)


def create_stream(cloud: MotoCloud, stream: Any) -> str:
    """A Kinesis data stream for a ``Stream`` handle (shards and retention as declared)."""
    name = stream.qualified_name
    client = cloud.client("kinesis")
    client.create_stream(StreamName=name, ShardCount=stream.shards)
    if stream.retention_hours != 24:
        client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=stream.retention_hours)
    cloud.set_id(stream, name)
    return name


def create_secret(cloud: MotoCloud, secret: Any) -> str:
    """A Secrets Manager secret with no value yet (as the template creates it)."""
    client = cloud.client("secretsmanager")
    arn = client.create_secret(Name=secret.qualified_name, Description=secret.description)["ARN"]
    cloud.set_id(secret, arn)
    return str(arn)


def create_key(cloud: MotoCloud, key: Any) -> str:
    """A KMS symmetric key (rotation as declared) with its alias, as the template creates it."""
    client = cloud.client("kms")
    arn = client.create_key(Description=key.description, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    if key.rotation_period_days is not None:
        client.enable_key_rotation(KeyId=arn, RotationPeriodInDays=key.rotation_period_days)
    client.create_alias(AliasName=f"alias/{key.qualified_name}", TargetKeyId=arn)
    cloud.set_id(key, arn)
    return str(arn)


def create_topic(cloud: MotoCloud, topic: Any) -> str:
    """An SNS topic for a ``Topic`` handle (FIFO and deduplication as declared), as the template creates it.

    Its declared SQS, HTTP, email and SMS subscriptions are created too (their queues and
    dead-letter queues must exist already); function subscriptions are left out, as moto runs no
    Lambda functions for these suites.
    """
    client = cloud.client("sns")
    attributes: dict[str, str] = {}
    if topic.fifo:
        attributes["FifoTopic"] = "true"
        if topic.content_based_deduplication:
            attributes["ContentBasedDeduplication"] = "true"
    arn = str(client.create_topic(Name=topic.qualified_name, Attributes=attributes)["TopicArn"])
    cloud.set_id(topic, arn)
    sqs = cloud.client("sqs")

    def queue_arn(queue: Any) -> str:
        url = cloud.physical_id(queue)
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        return str(found["QueueArn"])

    for sub in topic.subscriptions:
        if sub.protocol == "lambda":
            continue
        endpoint = queue_arn(sub.endpoint) if sub.protocol == "sqs" else sub.endpoint
        sub_attributes: dict[str, str] = {}
        if sub.filter_policy is not None:
            source = sub.filter_policy.source
            sub_attributes["FilterPolicy"] = source if isinstance(source, str) else json.dumps(source)
            sub_attributes["FilterPolicyScope"] = sub.filter_scope
        if sub.raw:
            sub_attributes["RawMessageDelivery"] = "true"
        if sub.dead_letter is not None:
            sub_attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": queue_arn(sub.dead_letter)})
        client.subscribe(
            TopicArn=arn,
            Protocol=sub.protocol,
            Endpoint=endpoint,
            Attributes=sub_attributes,
            ReturnSubscriptionArn=True,
        )
    return arn


def create_event_bus(cloud: MotoCloud, bus: Any) -> str:
    """An EventBridge bus for an ``EventBus`` handle, with its rules and archives, as the template creates them.

    Rules are named ``<app>-<rule>`` and archives ``<app>-<archive>``. Targets that are queues,
    topics or other buses get their ARN when they were created already (in moto); function and
    workflow targets are left out, as moto runs no Lambda functions or state machines for these
    suites.
    """
    client = cloud.client("events")
    name = bus.qualified_name
    params: dict[str, Any] = {"Name": name}
    if bus.description:
        params["Description"] = bus.description
    bus_arn = str(client.create_event_bus(**params)["EventBusArn"])
    cloud.set_id(bus, name)

    def pattern(source: Any) -> str:
        return source if isinstance(source, str) else json.dumps(source)

    def arn_of(resource: Any) -> str | None:
        try:
            identity = cloud.physical_id(resource)
        except NotBound:
            return None
        if resource.kind == "queue":
            found = cloud.client("sqs").get_queue_attributes(QueueUrl=identity, AttributeNames=["QueueArn"])
            return str(found["Attributes"]["QueueArn"])
        if resource.kind == "event_bus":
            return str(client.describe_event_bus(Name=identity)["Arn"])
        return identity if identity.startswith("arn:") else None

    for rule in bus.rules.values():
        rule_name = f"{bus.app.name}-{rule.name}"
        rule_params: dict[str, Any] = {
            "Name": rule_name,
            "EventBusName": name,
            "EventPattern": pattern(rule.pattern.source),
            "State": "ENABLED" if rule.enabled else "DISABLED",
        }
        if rule.description:
            rule_params["Description"] = rule.description
        client.put_rule(**rule_params)
        targets: list[dict[str, Any]] = []
        for i, target in enumerate(rule.targets):
            dest = target.resource
            dest_arn = arn_of(dest)
            if dest_arn is None:
                continue
            spec: dict[str, Any] = {
                "Id": f"{dest.kind}-{dest.name}"[:60] + (f"-{i}" if i else ""),
                "Arn": dest_arn,
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
                spec["InputTransformer"] = {"InputTemplate": target.input_transformer.template}
                if target.input_transformer.paths:
                    spec["InputTransformer"]["InputPathsMap"] = dict(target.input_transformer.paths)
            if target.dead_letter is not None:
                dead_letter = arn_of(target.dead_letter)
                if dead_letter is not None:
                    spec["DeadLetterConfig"] = {"Arn": dead_letter}
            if target.group_id:
                spec["SqsParameters"] = {"MessageGroupId": target.group_id}
            targets.append(spec)
        if targets:
            client.put_targets(Rule=rule_name, EventBusName=name, Targets=targets)
    for archive in bus.archives.values():
        archive_params: dict[str, Any] = {"ArchiveName": f"{bus.app.name}-{archive.name}", "EventSourceArn": bus_arn}
        if archive.pattern is not None:
            archive_params["EventPattern"] = pattern(archive.pattern.source)
        if archive.retention_days:
            archive_params["RetentionDays"] = archive.retention_days
        client.create_archive(**archive_params)
    return name


def record_function(cloud: MotoCloud, function: Any) -> str:
    """The ARN a ``Function`` handle's deployed function would have, recorded as its physical identity.

    Nothing is created: moto runs no Lambda functions for these suites, and EventBridge Scheduler
    accepts a target ARN without checking it.
    """
    try:
        return cloud.physical_id(function)
    except NotBound:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function.qualified_name}"
        cloud.set_id(function, arn)
        return arn


def _target_arn(cloud: MotoCloud, resource: Any) -> str:
    """The ARN of a schedule target or dead-letter queue already created (or, a function, recorded)."""
    if resource.kind == "function":
        return record_function(cloud, resource)
    identity = cloud.physical_id(resource)
    if resource.kind == "queue":
        found = cloud.client("sqs").get_queue_attributes(QueueUrl=identity, AttributeNames=["QueueArn"])
        return str(found["Attributes"]["QueueArn"])
    if resource.kind == "event_bus":
        return str(cloud.client("events").describe_event_bus(Name=identity)["Arn"])
    return identity


def _schedule_group(cloud: MotoCloud, name: str) -> None:
    client = cloud.client("scheduler")
    with suppress(client.exceptions.ConflictException):
        client.create_schedule_group(Name=name)


def create_schedule(cloud: MotoCloud, schedule: Any) -> str:
    """An EventBridge Scheduler schedule for a declared ``Schedule``, in the app's group, as the template does."""
    spec = schedule.spec
    name = schedule.qualified_name
    group = schedule.app.name
    _schedule_group(cloud, group)
    scheduled_event = {
        "version": "0",
        "id": "<aws.scheduler.execution-id>",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "time": "<aws.scheduler.scheduled-time>",
        "resources": ["<aws.scheduler.schedule-arn>"],
        "detail": {},
    }
    target: dict[str, Any] = {
        "Arn": _target_arn(cloud, spec.target),
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{group}-scheduler",
        "Input": json.dumps(spec.payload if spec.payload is not None else scheduled_event),
        "RetryPolicy": {"MaximumRetryAttempts": spec.retry_attempts, "MaximumEventAgeInSeconds": spec.max_event_age},
    }
    if spec.dead_letter is not None:
        target["DeadLetterConfig"] = {"Arn": _target_arn(cloud, spec.dead_letter)}
    if spec.target.kind == "queue" and getattr(spec.target, "fifo", False):
        target["SqsParameters"] = {"MessageGroupId": name}
    if spec.target.kind == "event_bus":
        target["EventBridgeParameters"] = {"DetailType": "Scheduled Event", "Source": "aws.scheduler"}
    params: dict[str, Any] = {
        "Name": name,
        "GroupName": group,
        "ScheduleExpression": spec.expression,
        "ScheduleExpressionTimezone": spec.timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED" if spec.enabled else "DISABLED",
        "Target": target,
    }
    if spec.start is not None:
        params["StartDate"] = datetime.fromtimestamp(spec.start, UTC)
    if spec.end is not None:
        params["EndDate"] = datetime.fromtimestamp(spec.end, UTC)
    cloud.client("scheduler").create_schedule(**params)
    cloud.set_id(schedule, name)
    cloud.set_id(schedule, group, "GROUP")
    return name


def create_scheduler(cloud: MotoCloud, scheduler: Any) -> str:
    """The schedule group of a ``Scheduler`` (run-time schedules), with the role its schedules name."""
    name = scheduler.qualified_name
    _schedule_group(cloud, name)
    cloud.set_id(scheduler, name)
    cloud.set_id(scheduler, f"arn:aws:iam::{ACCOUNT}:role/{name}-scheduler", "ROLE")
    return name


def create_workflow(cloud: MotoCloud, workflow: Any) -> str:
    """A Step Functions state machine for a ``Workflow`` handle (type as declared), as the template creates it.

    The definition's ``${...}`` substitutions are resolved with moto's region and account, as
    CloudFormation resolves them; the role is the name the template gives, not checked by moto.
    """
    client = cloud.client("stepfunctions")
    arn = client.create_state_machine(
        name=workflow.qualified_name,
        definition=workflow.definition_text(REGION, ACCOUNT),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{workflow.qualified_name}-role",
        type=workflow.type,
    )["stateMachineArn"]
    cloud.set_id(workflow, str(arn))
    return str(arn)
