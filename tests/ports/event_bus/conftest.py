"""The event bus port's conformance fixture: each test runs once per adapter.

A test declares its app (buses, rules, targets), then binds it with
``with harness.bind(app) as env:``. ``local`` is the embedded runtime (``stratus.testing.local``);
``aws`` creates the buses in moto with their rules, queue/bus targets and archives (named as
the synthesized template names them) and binds them to ``AwsEventBus``/``AwsQueue``. On
moto, EventBridge delivers to queues and buses inside ``PutEvents``, so ``env.settle()`` has
nothing to wait for; moving time, restarting and the local delivery hooks belong to the
local runtime.
"""

from __future__ import annotations

import pytest
from tests.ports.event_bus.harness import Harness

ADAPTERS = ["local", "aws"]

_FUNCTIONS = (
    "local delivery to functions through the dispatcher: on AWS, EventBridge invokes Lambda functions, which "
    "moto does not run here"
)
_FAILING_DELIVERY = (
    "patches the local runtime's delivery to fail (a local-only hook): a failing target cannot be injected "
    "into EventBridge"
)

#: Tests the aws adapter cannot meaningfully run on moto, and why.
AWS_SKIPS: dict[str, str] = {
    "test_rules_route_matching_events_to_targets": _FUNCTIONS,
    "test_put_events_reports_each_entry": _FUNCTIONS + " (the test checks what its rule's function heard)",
    "test_failed_deliveries_retry_with_backoff_then_give_up": (
        _FAILING_DELIVERY + "; it also moves time and inspects the local delivery table"
    ),
    "test_cross_bus_rules_forward_the_event": _FUNCTIONS + " (the forwarded event is checked by a function)",
    "test_archive_and_replay_to_chosen_rules": (
        "moves time (virtual clock), and reads archived events, for which EventBridge has no API "
        "(AwsEventBus.archived raises UnsupportedOperation)"
    ),
    "test_disabled_rule_stays_disabled_after_restart": "restarts the process state: local adapter only",
    "test_undeliverable_events_go_to_the_targets_dead_letter_queue": _FAILING_DELIVERY,
}


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "aws" and request.node.originalname in AWS_SKIPS:
        pytest.skip(AWS_SKIPS[request.node.originalname])
    return Harness(request.param)
