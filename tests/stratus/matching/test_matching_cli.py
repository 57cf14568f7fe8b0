"""`stratus events test-pattern`: TestEventPattern from the command line."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from stratus.cli import app

EVENT = json.dumps({"id": "1", "account": "1", "source": "orders", "time": "t", "region": "r", "detail-type": "Placed"})
runner = CliRunner()


def test_prints_true_or_false() -> None:
    hit = runner.invoke(app, ["events", "test-pattern", "--event", EVENT, "--pattern", '{"source": ["orders"]}'])
    assert hit.exit_code == 0 and hit.stdout.strip() == "true"
    miss = runner.invoke(app, ["events", "test-pattern", "--event", EVENT, "--pattern", '{"source": ["x"]}'])
    assert miss.exit_code == 0 and miss.stdout.strip() == "false"


def test_invalid_pattern_exits_2_with_aws_wording() -> None:
    result = runner.invoke(app, ["events", "test-pattern", "--event", EVENT, "--pattern", '{"source": []}'])
    assert result.exit_code == 2
    assert "InvalidEventPatternException: Event pattern is not valid. Reason: Empty arrays are not allowed" in (
        result.stderr
    )
    assert result.stdout == ""


def test_invalid_event_exits_2_with_aws_wording() -> None:
    result = runner.invoke(app, ["events", "test-pattern", "--event", "[]", "--pattern", '{"source": ["x"]}'])
    assert result.exit_code == 2
    assert "ValidationException: Parameter Event is not valid." in result.stderr


def test_reads_file_urls(tmp_path: Any) -> None:
    event_file = tmp_path / "event.json"
    event_file.write_text(EVENT, encoding="utf-8")
    pattern_file = tmp_path / "pattern.json"
    pattern_file.write_text('{"detail-type": [{"prefix": "Pla"}]}', encoding="utf-8")
    result = runner.invoke(
        app, ["events", "test-pattern", "--event", f"file://{event_file}", "--pattern", f"file://{pattern_file}"]
    )
    assert result.exit_code == 0 and result.stdout.strip() == "true"
    missing = runner.invoke(app, ["events", "test-pattern", "--event", "file:///nonexistent", "--pattern", "{}"])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
