"""The template being written: resources, parameters and outputs, with duplicate-id checks.

A thin dict wrapper so generators can't silently overwrite each other's resources, and so
resource policies contributed by several generators (a queue that a topic and a rule both
deliver to) are merged into one policy per queue or topic at the end.
"""

from __future__ import annotations

from typing import Any

from stratus.aws.synth.errors import SynthError

TRANSFORM = "AWS::Serverless-2016-10-31"
#: Kinds reached over the network inside a VPC (ElastiCache, Aurora through its PostgreSQL endpoint):
#: a function using one runs in the VPC too, and the template takes the network as parameters.
VPC_KINDS = frozenset({"cache", "sql"})


class Template:
    def __init__(self, description: str) -> None:
        self.description = description
        self.parameters: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        #: queue/topic logical id -> policy statements other resources need on it.
        self.queue_policies: dict[str, list[dict[str, Any]]] = {}
        self.topic_policies: dict[str, list[dict[str, Any]]] = {}

    def add(self, logical_id: str, type_: str, properties: dict[str, Any], **attributes: Any) -> str:
        if logical_id in self.resources:
            raise SynthError(f"two declarations produce the CloudFormation resource {logical_id!r}; rename one")
        body: dict[str, Any] = {"Type": type_, "Properties": {k: v for k, v in properties.items() if v is not None}}
        body.update({k: v for k, v in attributes.items() if v is not None})
        self.resources[logical_id] = body
        return logical_id

    def parameter(self, name: str, type_: str, description: str) -> dict[str, str]:
        self.parameters.setdefault(name, {"Type": type_, "Description": description})
        return {"Ref": name}

    def subnet_ids(self) -> dict[str, str]:
        """The ``SubnetIds`` parameter: where the VPC resources (:data:`VPC_KINDS`) and their functions run."""
        return self.parameter(
            "SubnetIds",
            "List<AWS::EC2::Subnet::Id>",
            "Subnets (in two Availability Zones at least) of the cache, the SQL clusters and the functions using them",
        )

    def security_group_ids(self) -> dict[str, str]:
        """The ``SecurityGroupIds`` parameter, shared by the VPC resources and the functions using them."""
        return self.parameter(
            "SecurityGroupIds",
            "List<AWS::EC2::SecurityGroup::Id>",
            "Security groups of the cache, the SQL clusters and the functions using them; they must admit "
            "each other on Redis (6379) and PostgreSQL (5432)",
        )

    def output(self, name: str, value: Any, description: str) -> None:
        self.outputs[name] = {"Description": description, "Value": value}

    def allow_queue(self, queue_id: str, statement: dict[str, Any]) -> None:
        if statement not in self.queue_policies.setdefault(queue_id, []):
            self.queue_policies[queue_id].append(statement)

    def allow_topic(self, topic_id: str, statement: dict[str, Any]) -> None:
        if statement not in self.topic_policies.setdefault(topic_id, []):
            self.topic_policies[topic_id].append(statement)

    def to_dict(self) -> dict[str, Any]:
        for queue_id, statements in self.queue_policies.items():
            self.add(
                f"{queue_id}Policy",
                "AWS::SQS::QueuePolicy",
                {
                    "Queues": [{"Ref": queue_id}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                },
            )
        for topic_id, statements in self.topic_policies.items():
            self.add(
                f"{topic_id}Policy",
                "AWS::SNS::TopicPolicy",
                {
                    "Topics": [{"Ref": topic_id}],
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                },
            )
        self.queue_policies, self.topic_policies = {}, {}
        out: dict[str, Any] = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Transform": TRANSFORM,
            "Description": self.description,
        }
        if self.parameters:
            out["Parameters"] = self.parameters
        out["Resources"] = self.resources
        if self.outputs:
            out["Outputs"] = self.outputs
        return out


def service_statement(service: str, action: str, resource: Any, source_arn: Any) -> dict[str, Any]:
    """A resource-policy statement letting an AWS service act for one source (confused-deputy safe)."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
