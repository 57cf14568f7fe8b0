"""The `stratus logs / metrics / traces` commands, against a state folder written by a test run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stratus import App
from stratus.cli.observe import app as cli
from stratus.clock import VirtualClock
from stratus.observability import logger
from stratus.observability.context import parse_header
from stratus.testing import local

T0 = 1_700_000_040.0
runner = CliRunner()


@pytest.fixture(scope="module")
def state(tmp_path_factory: Any) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("state")
    app = App("cli")
    news = app.topic("news")

    @app.on_topic(news)
    def listener(event: Any, context: Any) -> None:
        logger.info("heard")

    @app.function
    def speaker(event: Any, context: Any) -> str:
        logger.info("speaking", words=3)
        news.publish("hi")
        if event.get("fail"):
            raise RuntimeError("no")
        return context.trace_id

    with local(app, state_dir=folder, clock=VirtualClock(T0)) as env:
        header = speaker.invoke({})
        with pytest.raises(Exception):  # noqa: B017
            speaker.invoke({"fail": True})
        env.settle()
    return folder, parse_header(header)[0] or ""


def run(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_logs(state: tuple[Path, str]) -> None:
    folder, trace = state
    out = run("logs", "--state-dir", str(folder))
    assert "speaking" in out and "heard" in out and "cli-speaker" in out
    only = run("logs", "--state-dir", str(folder), "--trace-id", trace, "--stream", "app")
    assert "speaking" in only and "heard" in only
    assert run("logs", "--state-dir", str(folder), "--function", "listener", "--stream", "app").count("heard") == 2
    assert "error" in run("logs", "--state-dir", str(folder), "--text", "RuntimeError")
    assert run("logs", "--state-dir", str(folder), "--since", "10m").strip() == ""  # the run was in 2023
    json_out = run("logs", "--state-dir", str(folder), "--json", "--limit", "1")
    assert json_out.startswith("{") and json_out.count("\n") == 1
    bad = runner.invoke(cli, ["logs", "--state-dir", str(folder), "--since", "soon"])
    assert bad.exit_code != 0


def test_metrics(state: tuple[Path, str]) -> None:
    folder, _ = state
    out = run("metrics", "--state-dir", str(folder), "--since", str(T0 - 60), "--function", "cli-speaker")
    assert "Invocations" in out and "Errors" in out and "Duration" in out and "p99" in out
    assert "cli-listener" not in out
    assert "no datapoints" in run("metrics", "--state-dir", str(folder))  # last hour: nothing
    assert "no metrics" in run("metrics", "--state-dir", str(folder / "empty"))


def test_traces(state: tuple[Path, str]) -> None:
    folder, trace = state
    recent = run("traces", "--state-dir", str(folder), "--since", str(T0 - 60))
    assert trace in recent and "cli-speaker" in recent
    tree = run("traces", trace, "--state-dir", str(folder))
    assert "cli-speaker" in tree and "SNS cli-news" in tree and "cli-listener" in tree and "ms" in tree
    lines = tree.splitlines()
    assert [i for i, line in enumerate(lines) if "cli-speaker" in line] < [
        i for i, line in enumerate(lines) if "cli-listener (server)" in line
    ]
    missing = runner.invoke(cli, ["traces", "1-00000000-000000000000000000000000", "--state-dir", str(folder)])
    assert missing.exit_code == 1
