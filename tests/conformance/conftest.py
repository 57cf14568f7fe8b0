"""Locating the conformance corpora recorded against real AWS (never copied into the repository).

The corpora live in ``shared/conformance`` beside the repository (``<repo>/../shared/conformance``; the
CI clone has ``shared/`` beside it the same way), or wherever ``STRATUS_CONFORMANCE_DIR`` points.

A test asks for one case of a JSON-lines corpus by taking the fixture named in :data:`CORPORA`; it is
then parametrized with one case per line (id = the case name). When the file is missing, the cases
become one skipped test that says where the corpus was looked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ENV = "STRATUS_CONFORMANCE_DIR"

#: Fixture name -> corpus file (JSON lines, one case per line with a "name").
CORPORA = {
    "eventbridge_case": "eventbridge-patterns.jsonl",
    "sns_case": "sns-filter-policies.jsonl",
}


def conformance_dir() -> Path:
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return (repo_root / ".." / "shared" / "conformance").resolve()


def corpus_cases(filename: str) -> list[Any]:
    """One ``pytest.param`` per line of ``filename`` (id = the case name), or one skip if it is missing."""
    path = conformance_dir() / filename
    if not path.is_file():
        reason = f"conformance corpus {path} not found (set {ENV} to the shared/conformance folder)"
        return [pytest.param(None, id="corpus-missing", marks=pytest.mark.skip(reason=reason))]
    params = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                case = json.loads(line)
                params.append(pytest.param(case, id=case["name"]))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, filename in CORPORA.items():
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, corpus_cases(filename))
