"""Each module imports on its own (no import cycles), and the Lambda entrypoint stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["stratus.aws.iam", "stratus.aws.synth.kinds.events", "stratus.aws.deploy"])
def test_module_imports_first(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_entrypoint_imports_neither_synthesis_nor_boto3() -> None:
    code = (
        "import sys, stratus.aws.entrypoint\n"
        "loaded = [m for m in ('stratus.aws.synth', 'boto3', 'samtranslator') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
