"""Secrets (Secrets Manager), keys (KMS), SQL (Aurora Serverless v2 PostgreSQL), cache (ElastiCache
Serverless Redis) and search indexes (OpenSearch Serverless).

The SQL adapter connects to the cluster's PostgreSQL endpoint (see
:mod:`stratus.aws.adapters.sql`), so the cluster and the cache live in a VPC: the template
then takes ``SubnetIds`` and ``SecurityGroupIds`` parameters, shared by the cache, the
cluster (its ``DBSubnetGroup`` and ``VpcSecurityGroupIds``) and the functions that use them
(their ``VpcConfig``); the security groups must admit each other on 6379 and 5432. The
cluster's credentials are a generated secret attached to the cluster (host and port
included) that asks for TLS (``sslmode: require``); the cluster also enables the RDS Data
API. The OpenSearch Serverless
collection (with its encryption, network and data-access policies) is synthesized from the
AWS documentation but has not been deployed by a test: moto does not implement it.

Refused (SynthError): a secret's ``rotation`` — a rotation schedule needs a rotation
function built from the Python handler, which is not synthesized yet.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import check_name, describe, logical_id, physical_name, resource_id
from stratus.aws.synth.synthesizer import Synthesizer, generator


@generator("secret")
def secret(resource: Any, synth: Synthesizer) -> None:
    if resource.rotation is not None:
        raise SynthError(
            f"{describe(resource)}: automatic rotation is not synthesized for AWS yet (it needs a rotation "
            "function); declare the secret without rotation= to deploy it"
        )
    synth.template.add(
        resource_id(resource),
        "AWS::SecretsManager::Secret",
        {
            "Name": check_name("secret", physical_name(resource), describe(resource)),
            "Description": resource.description or None,
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )


@generator("key")
def key(resource: Any, synth: Synthesizer) -> None:
    kid = resource_id(resource)
    period = resource.rotation_period_days
    synth.template.add(
        kid,
        "AWS::KMS::Key",
        {
            "Description": resource.description or f"{describe(resource)}",
            "EnableKeyRotation": period is not None,
            "RotationPeriodInDays": period,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        # The account administers the key; functions get use through their own roles.
                        "Sid": "AccountAdministration",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
        },
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    )
    synth.template.add(
        f"{kid}Alias",
        "AWS::KMS::Alias",
        {
            "AliasName": f"alias/{check_name('key', physical_name(resource), describe(resource))}",
            "TargetKeyId": {"Ref": kid},
        },
    )


@generator("sql")
def sql(resource: Any, synth: Synthesizer) -> None:
    cid = resource_id(resource)
    name = check_name("sql", physical_name(resource), describe(resource))
    secret_id = f"{cid}Secret"
    synth.template.add(
        secret_id,
        "AWS::SecretsManager::Secret",
        {
            "Name": f"{name}-credentials",
            "Description": f"Credentials of the Aurora cluster of {describe(resource)}",
            "GenerateSecretString": {
                # The adapter reads sslmode from the secret: Aurora always offers TLS, so plaintext is refused.
                "SecretStringTemplate": json.dumps({"username": "stratus", "dbname": "stratus", "sslmode": "require"}),
                "GenerateStringKey": "password",
                "PasswordLength": 32,
                "ExcludeCharacters": "\"@/\\'",
            },
        },
    )
    subnet_group = synth.template.add(
        f"{cid}SubnetGroup",
        "AWS::RDS::DBSubnetGroup",
        {
            "DBSubnetGroupName": name,
            "DBSubnetGroupDescription": f"Subnets of the Aurora cluster of {describe(resource)}",
            "SubnetIds": synth.template.subnet_ids(),
        },
    )
    resolve = f"{{{{resolve:secretsmanager:${{{secret_id}}}:SecretString:"
    synth.template.add(
        cid,
        "AWS::RDS::DBCluster",
        {
            "DBClusterIdentifier": name,
            "DBSubnetGroupName": {"Ref": subnet_group},
            "VpcSecurityGroupIds": synth.template.security_group_ids(),
            "Engine": "aurora-postgresql",
            "EngineVersion": "17.9",
            "DatabaseName": "stratus",
            "MasterUsername": {"Fn::Sub": f"{resolve}username}}}}"},
            "MasterUserPassword": {"Fn::Sub": f"{resolve}password}}}}"},
            "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 8},
            "EnableHttpEndpoint": True,
            "StorageEncrypted": True,
        },
        DeletionPolicy="Snapshot",
        UpdateReplacePolicy="Snapshot",
    )
    synth.template.add(
        f"{cid}Instance",
        "AWS::RDS::DBInstance",
        {"DBClusterIdentifier": {"Ref": cid}, "DBInstanceClass": "db.serverless", "Engine": "aurora-postgresql"},
    )
    synth.template.add(
        f"{cid}SecretAttachment",
        "AWS::SecretsManager::SecretTargetAttachment",
        {"SecretId": {"Ref": secret_id}, "TargetId": {"Ref": cid}, "TargetType": "AWS::RDS::DBCluster"},
    )


@generator("cache")
def cache(resource: Any, synth: Synthesizer) -> None:
    synth.template.add(
        resource_id(resource),
        "AWS::ElastiCache::ServerlessCache",
        {
            "ServerlessCacheName": check_name("cache", physical_name(resource), describe(resource)),
            "Engine": "redis",
            "MajorEngineVersion": "7",
            "SubnetIds": synth.template.subnet_ids(),
            "SecurityGroupIds": synth.template.security_group_ids(),
        },
    )


@generator("search")
def search(resource: Any, synth: Synthesizer) -> None:
    sid = resource_id(resource)
    name = check_name("search", physical_name(resource), describe(resource))
    rules = [{"ResourceType": "collection", "Resource": [f"collection/{name}"]}]
    encryption = synth.template.add(
        f"{sid}EncryptionPolicy",
        "AWS::OpenSearchServerless::SecurityPolicy",
        {"Name": f"{name}-enc"[:32], "Type": "encryption", "Policy": json.dumps({"Rules": rules, "AWSOwnedKey": True})},
    )
    network = synth.template.add(
        f"{sid}NetworkPolicy",
        "AWS::OpenSearchServerless::SecurityPolicy",
        {
            "Name": f"{name}-net"[:32],
            "Type": "network",
            "Policy": json.dumps([{"Rules": rules, "AllowFromPublic": True}]),
        },
    )
    synth.template.add(
        sid,
        "AWS::OpenSearchServerless::Collection",
        {"Name": name, "Type": "SEARCH"},
        DependsOn=[encryption, network],
    )
    roles = [f"${{{logical_id('function', f)}Role.Arn}}" for f in synth.users.get(sid, [])]
    if roles:
        policy = [
            {
                "Rules": [
                    {"ResourceType": "index", "Resource": [f"index/{name}/*"], "Permission": ["aoss:*"]},
                    {"ResourceType": "collection", "Resource": [f"collection/{name}"], "Permission": ["aoss:*"]},
                ],
                "Principal": ["__ROLES__"],
            }
        ]
        text = json.dumps(policy).replace('"__ROLES__"', ",".join(f'"{r}"' for r in roles))
        synth.template.add(
            f"{sid}AccessPolicy",
            "AWS::OpenSearchServerless::AccessPolicy",
            {"Name": f"{name}-access"[:32], "Type": "data", "Policy": {"Fn::Sub": text}},
        )
