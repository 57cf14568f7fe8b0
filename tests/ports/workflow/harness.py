"""The workflow suite's harness: binds a test's app to the adapter under test (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import stratus.testing
from stratus import App

#: Why a step that waits for executions to progress cannot run on moto.
NO_EXECUTIONS = (
    "moto gap: Step Functions executions do not run on moto (they stay RUNNING), so there is nothing to settle"
)


class AwsWorkflowEnv:
    """The slice of ``LocalEnv`` the workflow suite uses, on moto."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud

    def settle(self, **kwargs: Any) -> None:
        pytest.skip(NO_EXECUTIONS)

    def restart(self) -> None:
        pytest.skip("restarts the process state: local adapter only")

    def advance(self, seconds: float) -> None:
        pytest.skip("moves time: needs the local adapter's virtual clock")

    @property
    def clock(self) -> Any:
        pytest.skip("moves time: needs the local adapter's virtual clock")

    @property
    def state_dir(self) -> Any:
        pytest.skip("local-only inspection: reads the local runtime's state directory")


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter

    @contextmanager
    def bind(self, app: App, **settings: Any) -> Iterator[Any]:
        """Bind the app's resources to the adapter under test (settings go to ``stratus.testing.local``).

        On ``aws`` the app's workflows are created in moto and bound to ``AwsWorkflow``; other
        resources stay unbound (the tests that use them are skipped on ``aws``).
        """
        if self.adapter == "local":
            with stratus.testing.local(app, **settings) as env:
                yield env
            return
        if settings:
            pytest.skip(f"local runtime settings {sorted(settings)}: local adapter only")
        with self._aws(app) as env:
            yield env

    @contextmanager
    def _aws(self, app: App) -> Iterator[AwsWorkflowEnv]:
        from tests.stratus.aws.adapters.moto_cloud import create_workflow, moto_cloud

        from stratus.aws.adapters.workflow import AwsWorkflow

        with moto_cloud() as cloud:
            for workflow in app.resources_of("workflow"):
                create_workflow(cloud, workflow)
                cloud.bind(workflow, AwsWorkflow)
            yield AwsWorkflowEnv(cloud)
