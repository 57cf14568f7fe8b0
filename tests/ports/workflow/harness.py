"""The workflow suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.ports.harness_base import AwsEnv, PortHarness

from stratus import App

#: Why a step that waits for executions to progress cannot run on moto.
NO_EXECUTIONS = (
    "moto gap: Step Functions executions do not run on moto (they stay RUNNING), so there is nothing to settle"
)


class AwsWorkflowEnv(AwsEnv):
    """The slice of ``LocalEnv`` the workflow suite uses, on moto."""

    settle_skip = NO_EXECUTIONS


class Harness(PortHarness):
    @contextmanager
    def _aws(self, app: App) -> Iterator[AwsWorkflowEnv]:
        from tests.stratus.aws.adapters.moto_cloud import create_workflow, moto_cloud

        from stratus.aws.adapters.workflow import AwsWorkflow

        with moto_cloud() as cloud:
            for workflow in app.resources_of("workflow"):
                create_workflow(cloud, workflow)
                cloud.bind(workflow, AwsWorkflow)
            yield AwsWorkflowEnv(cloud)
