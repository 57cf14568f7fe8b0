"""The build folder: the function code (stratus + the system) and the shared dependencies layer.

Every function of a system runs the same code bundle (``build/``: the ``stratus`` package
and ``systems/<name>``), with handler ``stratus.aws.entrypoint.handler``; which function it
is comes from ``STRATUS_FUNCTION``. Third-party dependencies go into one Lambda layer
(``build/layer/python/``) shared by every function of the system ("Lambda Layer Sharing"),
installed by pip from the pinned runtime requirements for Lambda's platform.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import stratus
from stratus.aws.synth.errors import SynthError

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache")


def runtime_requirements() -> list[str]:
    """The pinned runtime dependencies: pyproject.toml's when in a checkout, else the installed metadata."""
    pyproject = Path(stratus.__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            return list(tomllib.load(fh)["project"]["dependencies"])
    return [r for r in importlib.metadata.requires("stratus") or [] if "extra ==" not in r]


def copy_code(build: Path, system: str, systems_root: Path) -> None:
    """Copy ``stratus`` and ``systems/<system>`` into ``build`` (replacing what was there)."""
    source = systems_root / system
    if not (source / "app.py").is_file():
        raise SynthError(f"system {system!r}: no app.py in {source}")
    for stale in (build / "stratus", build / "systems"):
        if stale.exists():
            shutil.rmtree(stale)
    build.mkdir(parents=True, exist_ok=True)
    shutil.copytree(Path(stratus.__file__).resolve().parent, build / "stratus", ignore=_IGNORE)
    shutil.copytree(source, build / "systems" / system, ignore=_IGNORE)
    package_init = systems_root / "__init__.py"
    target = build / "systems" / "__init__.py"
    if package_init.is_file():
        shutil.copyfile(package_init, target)
    else:
        target.write_text('"""The systems, as packaged for AWS Lambda."""\n')


def install_layer(layer: Path, requirements: list[str] | None = None) -> None:
    """pip-install the requirements into ``layer/python`` for Lambda (manylinux x86_64, CPython 3.11)."""
    target = layer / "python"
    if layer.exists():
        shutil.rmtree(layer)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        "3.11",
        "--only-binary=:all:",
        *(requirements if requirements is not None else runtime_requirements()),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SynthError(f"installing the dependencies layer failed:\n{result.stderr[-2000:]}")
