"""The log sink: JSON lines per stream, written on flush, readable back, whatever the values."""

from __future__ import annotations

import json
from pathlib import Path

from stratus.local.logs import LogSink


def test_records_are_buffered_then_written_as_one_json_line_each(tmp_path: Path) -> None:
    sink = LogSink(tmp_path)
    sink.write("functions", {"function": "shop-checkout", "duration_ms": 1.25, "cold": True, "route": None})
    sink.write("access", {"path": "/café", "status": 200})
    assert not (tmp_path / "functions.jsonl").exists() or (tmp_path / "functions.jsonl").read_text() == ""
    assert sink.flush() == 2
    lines = (tmp_path / "functions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"function": "shop-checkout", "duration_ms": 1.25, "cold": True, "route": None}
    ]
    assert sink.read("access") == [{"path": "/café", "status": 200}]
    sink.close()


def test_values_orjson_refuses_still_make_a_line(tmp_path: Path) -> None:
    sink = LogSink(tmp_path)
    sink.write("app", {"big": 2**70, "object": object.__name__, "set": {1}})  # a set goes through str()
    sink.write("app", {"text": "lone \ud800 surrogate", "name": "café"})
    sink.flush()
    first, second = sink.read("app")  # read back as UTF-8: the file stays valid
    assert first["big"] == 2**70 and first["set"] == "{1}"
    assert second == {"text": "lone \ud800 surrogate", "name": "café"}
    sink.close()


def test_lines_append_across_sinks_of_the_same_folder(tmp_path: Path) -> None:
    first = LogSink(tmp_path)
    first.write("access", {"n": 1})
    first.close()
    second = LogSink(tmp_path)
    second.write("access", {"n": 2})
    assert [r["n"] for r in second.read("access")] == [1, 2]
    second.close()
