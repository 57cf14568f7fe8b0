"""The ASL interpreter against 927 executions recorded on real AWS Step Functions.

One test per corpus file: run the definition on the recorded input with a virtual clock
and compare the status and output (or error and cause) with what AWS produced. Cases
known to fail are listed, each with a reason, in ``stepfunctions_known_failures.json``
and marked ``xfail(strict=True)``: a listed case that starts passing fails the run until
it is removed from the list.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from stratus.clock import VirtualClock
from stratus.workflows import parse, run


def _load_helpers() -> ModuleType:
    # Loaded by file path so this works whether or not tests/conformance is a package.
    name = "stratus_sfn_conformance_cases"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("sfn_cases.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_helpers = _load_helpers()
case_files, corpus_dir, lambda_functions, outcome_of = (
    _helpers.case_files,
    _helpers.corpus_dir,
    _helpers.lambda_functions,
    _helpers.outcome_of,
)

_KNOWN = json.loads((Path(__file__).parent / "stepfunctions_known_failures.json").read_text())
_FILES = case_files()


def _params() -> list[object]:
    if not _FILES:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"conformance corpus not found at {corpus_dir()}"))]
    params: list[object] = []
    for path in _FILES:
        marks = []
        if path.stem in _KNOWN:
            marks.append(pytest.mark.xfail(reason=_KNOWN[path.stem], strict=True))
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("path", _params())
def test_recorded_execution(path: Path) -> None:
    case = json.loads(path.read_text())
    clock = VirtualClock(1_700_000_000.0)
    machine = parse(case["definition"], name="sfn-conformance")
    result = run(
        machine,
        case["input"],
        clock=clock,
        tasks=lambda_functions(clock),
        name="conformance-execution",
        machine_type=case.get("state_machine_type", "STANDARD"),
    )
    expected, actual = outcome_of(case, result.status, result.output, result.error, result.cause)
    assert actual == expected


def test_known_failures_are_cases() -> None:
    names = {p.stem for p in _FILES}
    if not names:
        pytest.skip(f"conformance corpus not found at {corpus_dir()}")
    assert sorted(set(_KNOWN) - names) == []
