"""Delivering to a resource from EventBridge rules and Scheduler schedules: the target ARN and its extras.

Both services take the same target shape (an ARN, a role for some kinds, SQS parameters for
FIFO queues), so rules and schedules share this module; the resource policies a target needs
(a queue or topic policy, a Lambda permission) are added by the caller, who knows the source.
"""

from __future__ import annotations

from typing import Any

from stratus.aws.synth.names import arn, ref
from stratus.aws.synth.synthesizer import Synthesizer
from stratus.resources.base import Resource

#: Target kinds that need the service to assume a role (the others use resource policies).
ROLE_KINDS = ("event_bus", "workflow")


def target_arn(resource: Resource[Any], synth: Synthesizer) -> Any:
    if resource.kind == "function":
        return synth.function_arn(resource)
    if resource.kind == "topic":
        return ref(resource)
    return arn(resource)


def role_actions(resource: Resource[Any]) -> list[str]:
    """What the role of a rule or schedule must be allowed to do to deliver to ``resource``."""
    return {
        "function": ["lambda:InvokeFunction"],
        "queue": ["sqs:SendMessage"],
        "topic": ["sns:Publish"],
        "event_bus": ["events:PutEvents"],
        "workflow": ["states:StartExecution"],
    }[resource.kind]
