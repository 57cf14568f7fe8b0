"""Tables (DynamoDB), buckets (S3), streams (Kinesis), and API-key stores (a DynamoDB table)."""

from __future__ import annotations

from typing import Any

from stratus.aws.synth.names import BUCKET_SUFFIX_LENGTH, bucket_name, check_name, describe, physical_name, resource_id
from stratus.aws.synth.synthesizer import Synthesizer, generator


def _key_schema(partition: Any, sort: Any) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def _projection(index: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": index.projection_type}
    if index.projection_type == "INCLUDE":
        out["NonKeyAttributes"] = list(index.include)
    return out


@generator("table")
def table(resource: Any, synth: Synthesizer) -> None:
    name = check_name("table", physical_name(resource), describe(resource))
    schema = resource.schema
    types: dict[str, str] = {}
    for attribute in (schema.partition, schema.sort):
        if attribute is not None:
            types[attribute.name] = attribute.type
    gsis: list[dict[str, Any]] = []
    lsis: list[dict[str, Any]] = []
    for index in schema.indexes.values():
        for attribute in (index.partition, index.sort):
            if attribute is not None:
                types[attribute.name] = attribute.type
        spec = {
            "IndexName": index.name,
            "KeySchema": _key_schema(index.partition, index.sort),
            "Projection": _projection(index),
        }
        (gsis if index.is_global else lsis).append(spec)
    synth.template.add(
        resource_id(resource),
        "AWS::DynamoDB::Table",
        {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in types.items()],
            "KeySchema": _key_schema(schema.partition, schema.sort),
            "GlobalSecondaryIndexes": gsis or None,
            "LocalSecondaryIndexes": lsis or None,
            "StreamSpecification": {"StreamViewType": resource.stream_view} if resource.stream_view else None,
            "TimeToLiveSpecification": (
                {"AttributeName": resource.ttl_attribute, "Enabled": True} if resource.ttl_attribute else None
            ),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )


@generator("bucket")
def bucket(resource: Any, synth: Synthesizer) -> None:
    check_name("bucket", physical_name(resource), describe(resource), reserve=BUCKET_SUFFIX_LENGTH)
    synth.template.add(
        resource_id(resource),
        "AWS::S3::Bucket",
        {
            "BucketName": bucket_name(resource),
            "VersioningConfiguration": {"Status": "Enabled"} if resource.versioning else None,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )


@generator("stream")
def stream(resource: Any, synth: Synthesizer) -> None:
    synth.template.add(
        resource_id(resource),
        "AWS::Kinesis::Stream",
        {
            "Name": check_name("stream", physical_name(resource), describe(resource)),
            "ShardCount": resource.shards,
            "RetentionPeriodHours": resource.retention_hours,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )


@generator("api_keys")
def api_keys(resource: Any, synth: Synthesizer) -> None:
    """An API-key store: a table (``pk``/``sk`` strings) holding key hashes, plans and quota counts.

    HTTP APIs have no usage plans, so the keys are checked in the route's function (see
    ``stratus.aws.events.authorize``) by the ``api_keys`` adapter, against this table.
    """
    synth.template.add(
        resource_id(resource),
        "AWS::DynamoDB::Table",
        {
            "TableName": check_name("table", physical_name(resource), describe(resource)),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )
