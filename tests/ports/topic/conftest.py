"""The topic port's conformance fixture: each test runs once per adapter.

A test declares its app (topics, the queues they fan out to, functions), then binds it with
``with harness.bind(app) as env:``. ``local`` is the embedded runtime (``stratus.testing.local``);
``aws`` creates the topics and queues in moto, with their declared subscriptions, and binds
them to ``AwsTopic``/``AwsQueue``. On moto, SNS delivers to SQS inside ``Publish``, so
``env.settle()`` has nothing to wait for; moving time, restarting and the local outbox belong
to the local runtime.
"""

from __future__ import annotations

import pytest
from tests.ports.topic.harness import Harness

ADAPTERS = ["local", "aws"]

_FUNCTIONS = (
    "local delivery to functions through the dispatcher: on AWS, SNS invokes Lambda functions, which moto "
    "does not run here"
)

#: Tests the aws adapter cannot meaningfully run on moto, and why.
AWS_SKIPS: dict[str, str] = {
    "test_fan_out_to_functions_with_filter_policies": _FUNCTIONS,
    "test_body_scope_filter_policy": _FUNCTIONS,
    "test_email_and_sms_go_to_the_outbox_and_per_protocol_messages": (
        "local-only inspection: reads the local runtime's email/SMS outbox"
    ),
    "test_http_delivery_retries_per_the_default_policy": (
        "moves time (virtual clock) to measure SNS's HTTP retry delays"
    ),
    "test_runtime_subscriptions_persist_and_can_be_removed": "restarts the process state: local adapter only",
    "test_publish_validation_sends_nothing": _FUNCTIONS + " (the test checks its function sink heard nothing)",
    "test_batch_publish_reports_per_entry_results": _FUNCTIONS + " (the test checks what its function sink heard)",
    "test_undelivered_messages_survive_a_restart": "restarts the process state: local adapter only",
    "test_publish_to_queues_is_durable_across_a_restart": "restarts the process state: local adapter only",
    "test_a_delivery_its_queue_rejects_is_retried_then_dead_lettered": (
        "moves time (virtual clock) through SNS's retries of an SQS delivery"
    ),
    "test_fifo_topic_rules": (
        "moto gap: a FIFO topic's Publish returns a new MessageId for a duplicate MessageDeduplicationId and no "
        "SequenceNumber"
    ),
}


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "aws" and request.node.originalname in AWS_SKIPS:
        pytest.skip(AWS_SKIPS[request.node.originalname])
    return Harness(request.param)
