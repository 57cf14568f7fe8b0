"""AwsWorkflow on moto: executions are started, described, listed, stopped; errors map to the port's.

The workflow conformance suite drives the local engine directly (no adapter parameter yet), and
moto's Step Functions does not run states by default, so these tests check the adapter's calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.stratus.aws.adapters.moto_cloud import MotoCloud, moto_cloud

from stratus import App
from stratus.aws.adapters.workflow import AwsWorkflow
from stratus.resources.workflow import ExecutionAlreadyExists, ExecutionDoesNotExist, Workflow

DEFINITION = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@pytest.fixture
def cloud() -> Iterator[MotoCloud]:
    with moto_cloud() as c:
        yield c


def _machine(cloud: MotoCloud, workflow: Workflow) -> str:
    arn = cloud.client("stepfunctions").create_state_machine(
        name=workflow.qualified_name,
        definition=workflow.definition_text(cloud.region, cloud.account_id),
        roleArn=f"arn:aws:iam::{cloud.account_id}:role/sfn",
        type=workflow.type,
    )["stateMachineArn"]
    cloud.set_id(workflow, arn)
    return str(arn)


def test_start_describe_list_and_stop(cloud: MotoCloud) -> None:
    app = App("shop")
    checkout = app.workflow("checkout", definition=DEFINITION)
    arn = _machine(cloud, checkout)
    cloud.bind(checkout, AwsWorkflow)
    assert checkout.arn == arn

    execution = checkout.start({"order": "o-1"}, name="o-1")
    assert execution.name == "o-1" and execution.state_machine_arn == arn
    assert execution.input == {"order": "o-1"}
    assert execution.status in ("RUNNING", "SUCCEEDED")
    assert checkout.describe(execution.arn).arn == execution.arn
    assert [e.arn for e in checkout.executions()] == [execution.arn]
    with pytest.raises(ExecutionAlreadyExists):
        checkout.start({"order": "other"}, name="o-1")

    stopped = checkout.stop(execution.arn, error="Cancelled", cause="customer asked")
    assert stopped.status in ("ABORTED", "SUCCEEDED")
    assert isinstance(checkout.history(execution.arn), list)
    missing = execution.arn.replace(":o-1", ":nope")
    with pytest.raises(ExecutionDoesNotExist):
        checkout.describe(missing)


def test_inputs_travel_as_json_text(cloud: MotoCloud) -> None:
    app = App("shop")
    flow = app.workflow("flow", definition=DEFINITION)
    _machine(cloud, flow)
    cloud.bind(flow, AwsWorkflow)
    execution = flow.start([1, {"a": "b"}])
    raw = cloud.client("stepfunctions").describe_execution(executionArn=execution.arn)
    assert json.loads(raw["input"]) == [1, {"a": "b"}]
