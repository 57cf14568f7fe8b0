"""Queues (SQS) and topics (SNS) with their subscriptions.

A function's subscription is an ``SNS`` event of the function (SAM adds the permission);
queue, HTTP, email and SMS subscriptions are ``AWS::SNS::Subscription`` resources, and a
queue that a topic delivers to gets a queue policy allowing that topic only.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import arn, check_name, describe, logical_id, physical_name, ref, resource_id
from stratus.aws.synth.synthesizer import Synthesizer, generator


@generator("queue")
def queue(resource: Any, synth: Synthesizer) -> None:
    name = check_name("queue", physical_name(resource), describe(resource))
    dead = resource.dead_letter
    visibility, queue_name = resource.visibility_timeout, resource.name
    for function in synth.app.functions():
        for trigger in function.triggers:
            if trigger.kind == "queue" and trigger.source is resource and function.timeout > visibility:
                raise SynthError(
                    f"{describe(function)}: its timeout ({function.timeout:g} s) is longer than the visibility "
                    f"timeout ({visibility} s) of the queue {queue_name!r} that triggers it; Lambda refuses "
                    "such an event-source mapping"
                )
    synth.template.add(
        resource_id(resource),
        "AWS::SQS::Queue",
        {
            "QueueName": name,
            "FifoQueue": True if resource.fifo else None,
            "ContentBasedDeduplication": True if resource.content_based_deduplication else None,
            "VisibilityTimeout": resource.visibility_timeout,
            "MessageRetentionPeriod": resource.retention,
            "DelaySeconds": resource.delay,
            "MaximumMessageSize": resource.max_message_size,
            "ReceiveMessageWaitTimeSeconds": resource.receive_wait,
            "RedrivePolicy": (
                {"deadLetterTargetArn": arn(dead.queue), "maxReceiveCount": dead.max_receive_count} if dead else None
            ),
            "SqsManagedSseEnabled": True,
        },
        DependsOn=resource_id(dead.queue) if dead else None,
    )


def _filter(policy: Any) -> Any:
    if policy is None:
        return None
    source = policy.source
    return json.loads(source) if isinstance(source, str) else source


@generator("topic")
def topic(resource: Any, synth: Synthesizer) -> None:
    tid = resource_id(resource)
    synth.template.add(
        tid,
        "AWS::SNS::Topic",
        {
            "TopicName": check_name("topic", physical_name(resource), describe(resource)),
            "FifoTopic": True if resource.fifo else None,
            "ContentBasedDeduplication": True if resource.content_based_deduplication else None,
        },
    )
    for i, sub in enumerate(resource.subscriptions):
        endpoint = sub.endpoint
        sid = logical_id(tid, "Subscription", str(i + 1))
        properties: dict[str, Any] = {
            "TopicArn": ref(resource),
            "Protocol": sub.protocol,
            "FilterPolicy": _filter(sub.filter_policy),
            "FilterPolicyScope": sub.filter_scope if sub.filter_policy is not None else None,
            "RawMessageDelivery": True if sub.raw else None,
            "RedrivePolicy": {"deadLetterTargetArn": arn(sub.dead_letter)} if sub.dead_letter else None,
        }
        if sub.protocol == "lambda":
            # The function's own SNS event: SAM writes the subscription and the permission (to the alias if any).
            event = {k: v for k, v in properties.items() if k not in ("TopicArn", "Protocol", "RawMessageDelivery")}
            synth.add_event(endpoint, f"{tid}{i + 1}", {"Type": "SNS", "Properties": {"Topic": ref(resource), **event}})
            if sub.dead_letter is not None:
                synth.allow_delivery(sub.dead_letter, "sns.amazonaws.com", ref(resource))
            continue
        if sub.protocol == "sqs":
            properties["Endpoint"] = arn(endpoint)
            synth.allow_delivery(endpoint, "sns.amazonaws.com", ref(resource))
        else:
            properties["Endpoint"] = endpoint
        if sub.dead_letter is not None:
            synth.allow_delivery(sub.dead_letter, "sns.amazonaws.com", ref(resource))
        synth.template.add(sid, "AWS::SNS::Subscription", properties)
