"""The schedule port's conformance fixture: each test runs once per adapter.

A test declares its app (schedules, schedulers, targets), then binds it with
``with harness.bind(app, clock=...) as env:``. ``local`` is the embedded runtime
(``stratus.testing.local``) on a virtual clock; ``aws`` creates the schedules and schedule
groups in moto (EventBridge Scheduler, shaped as the synthesized template shapes them) and
binds them to ``AwsSchedule``/``AwsScheduler``. The tests watch schedules fire over virtual
hours or days, which only the local runtime's clock can do: on ``aws`` they are skipped with
their reason, or skip at ``env.settle()`` once the steps before it have run.
"""

from __future__ import annotations

import pytest
from tests.ports.schedule.harness import Harness

ADAPTERS = ["local", "aws"]

_TIME = "moves time (settles over virtual hours/days to watch schedules fire): needs the local virtual clock"
_FUNCTIONS = "; firings are checked by local delivery to functions through the dispatcher"

#: Tests the aws adapter cannot meaningfully run on moto, and why. Not listed:
#: ``test_run_time_schedules_in_a_group`` runs on aws through create, the ConflictError on a
#: duplicate name and listing by prefix, then skips where it settles (``AwsScheduleEnv.settle``).
AWS_SKIPS: dict[str, str] = {
    "test_declared_cron_schedule_fires_at_each_occurrence": _TIME + _FUNCTIONS,
    "test_rate_schedule_with_payload_and_timezone_validation": _TIME + _FUNCTIONS,
    "test_missed_occurrences_are_delivered_after_a_restart_within_max_age": (
        "restarts the process state and moves time: local adapter only"
    ),
    "test_function_target_failures_follow_the_functions_async_retries_and_destination": (
        _TIME + _FUNCTIONS + " (its async retries and on-failure destination)"
    ),
    "test_disabled_schedule_does_not_fire_until_enabled": _TIME + _FUNCTIONS,
}


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "aws" and request.node.originalname in AWS_SKIPS:
        pytest.skip(AWS_SKIPS[request.node.originalname])
    return Harness(request.param)
