"""The workflow port's conformance fixture: each test runs once per adapter.

A test declares its app (workflows and the resources their tasks use), then binds it with
``with harness.bind(app) as env:``. ``local`` is the embedded runtime
(``stratus.testing.local``) with its Step Functions engine; ``aws`` creates the state
machines in moto (definition substitutions resolved as CloudFormation would) and binds them to
``AwsWorkflow``. moto stores executions but runs none of them, so a test that needs an
execution to progress is skipped on ``aws`` with its reason, or skips at ``env.settle()``
once the steps before it (starting, naming, describing) have run.
"""

from __future__ import annotations

import pytest
from tests.ports.workflow.harness import NO_EXECUTIONS, Harness

ADAPTERS = ["local", "aws"]

_FUNCTIONS = "; its tasks call local functions through the dispatcher"
_RESOURCES = "; its tasks reach the app's other resources (queues, tables, topics, buses, buckets) locally"
_TOKENS = NO_EXECUTIONS + " to a .waitForTaskToken task; its tokens come from local functions and queues"
_TIME = "moves time (virtual clock): needs the local adapter's virtual clock"
_RESTART = "restarts the process state: local adapter only"

#: Tests the aws adapter cannot meaningfully run on moto, and why. Not listed (they run on aws):
#: test_unknown_execution_does_not_exist, test_start_sync_is_only_for_express,
#: test_execution_names_and_inputs_are_validated, and test_start_is_idempotent_by_name_while_running
#: (which skips where it settles, after checking names on moto).
AWS_SKIPS: dict[str, str] = {
    # callbacks
    "test_waits_for_the_token_then_continues_with_its_output": _TOKENS,
    "test_a_function_can_send_the_token_back": _TOKENS,
    "test_failure_is_caught_like_any_task_error": _TOKENS,
    "test_timeout_seconds_fails_the_task_on_the_clock": _TOKENS + "; it also moves time",
    "test_heartbeats_keep_the_task_alive_until_they_stop": _TOKENS + "; it also moves time",
    "test_bad_tokens_are_refused": "local-only hook: forges a token with the local engine's token format",
    "test_any_workflow_handle_routes_any_token": _TOKENS,
    "test_the_cli_sends_success_to_a_running_cloud_and_reads_history": (
        "local-only: drives the CLI against the local runtime's state directory"
    ),
    "test_the_cli_sends_failure": "local-only: drives the CLI against the local runtime's state directory",
    "test_a_function_invoked_with_the_token_can_answer_before_the_task_starts_waiting": _TOKENS,
    "test_output_too_large_is_invalid_output": _TOKENS,
    # concurrency
    "test_every_iteration_waits_for_its_callback_at_once": _TOKENS,
    "test_max_concurrency_limits_how_many_wait_at_once": _TOKENS,
    "test_waiting_iterations_overlap_on_the_clock": _TOKENS + "; it also moves time",
    # declaration
    "test_substitutions_put_what_cloudformation_would": (
        NO_EXECUTIONS + "; the test also expects the local account 000000000000 in the ARNs"
    ),
    "test_deliver_starts_an_execution_and_bus_rules_can_target_workflows": (
        "local delivery through the dispatcher (stratus.local.targets.deliver) and local bus rules"
    ),
    # distributed map
    "test_items_from_a_json_object": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS,
    "test_items_from_a_listing_and_from_csv_in_batches": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS,
    "test_result_writer_puts_results_in_the_bucket": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS,
    "test_a_missing_object_fails_the_map": NO_EXECUTIONS + _RESOURCES,
    # durability
    "test_restart_mid_execution_resumes_without_rerunning_finished_tasks": _RESTART,
    "test_a_callback_waits_across_a_restart": _RESTART,
    "test_kill_9_mid_task_then_a_new_process_finishes_every_execution": (
        "kills a local runtime process and restarts from its state directory: local adapter only"
    ),
    "test_a_map_and_a_parallel_resume_after_restarts": _RESTART,
    # executions
    "test_start_then_settle_runs_to_success_with_aws_history": (
        NO_EXECUTIONS + _FUNCTIONS + "; the test also expects the local account 000000000000 in the ARN"
    ),
    "test_executions_lists_newest_first_and_filters_by_status": NO_EXECUTIONS + "; it also moves time",
    "test_a_wait_of_a_day_finishes_instantly_with_settle": _TIME + "; " + NO_EXECUTIONS,
    "test_stop_aborts_a_running_execution": NO_EXECUTIONS + " (it settles before stopping)",
    "test_redrive_restarts_from_the_state_that_failed": NO_EXECUTIONS + _FUNCTIONS,
    "test_redrive_window_is_fourteen_days": NO_EXECUTIONS + "; it also moves time",
    "test_machine_timeout_ends_timed_out": NO_EXECUTIONS + "; it also moves time",
    # express
    "test_start_sync_returns_the_outcome": NO_EXECUTIONS + _FUNCTIONS + "; the Wait passes on the virtual clock",
    "test_start_runs_in_the_background": NO_EXECUTIONS + _FUNCTIONS,
    "test_express_names_are_not_unique_and_cannot_be_redriven": NO_EXECUTIONS + _FUNCTIONS,
    # integrations
    **{
        name: NO_EXECUTIONS + _RESOURCES + _FUNCTIONS
        for name in (
            "test_sqs_send_message",
            "test_sqs_errors_are_task_errors",
            "test_sns_publish_reaches_subscribers",
            "test_dynamodb_put_get_update_delete",
            "test_dynamodb_condition_failure_is_catchable",
            "test_events_put_events_runs_bus_rules",
            "test_lambda_invoke_returns_the_invoke_response",
            "test_lambda_invoke_of_a_missing_function",
            "test_start_execution_fire_and_forget_and_sync",
            "test_a_failed_child_fails_the_sync_task",
            "test_a_task_can_start_a_workflow_of_another_kind_express",
            "test_stopping_a_parent_stops_the_child_it_waits_for",
            "test_a_malformed_request_is_the_service_refusing_it",
        )
    },
    # saga
    "test_happy_path_runs_every_step_against_local_resources": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS,
    "test_declined_charge_compensates_then_fails": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS,
    "test_retries_back_off_on_the_clock": NO_EXECUTIONS + _RESOURCES + _FUNCTIONS + "; it also moves time",
}


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "aws" and request.node.originalname in AWS_SKIPS:
        pytest.skip(AWS_SKIPS[request.node.originalname])
    return Harness(request.param)
