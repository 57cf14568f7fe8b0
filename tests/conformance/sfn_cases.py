"""Helpers for the Step Functions conformance run: the corpus, its Lambda functions, the comparison.

The corpus (recorded against real AWS) lives beside the repository, in
``shared/conformance/stepfunctions``; ``STRATUS_CONFORMANCE_DIR`` may point at another
``conformance`` folder. Cases are read when the tests run, never copied into the repo.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import os
from pathlib import Path
from typing import Any

from stratus.clock import VirtualClock
from stratus.workflows import LambdaContext, LambdaFunctions

_MISSING = object()


def corpus_dir() -> Path:
    override = os.environ.get("STRATUS_CONFORMANCE_DIR")
    if override:
        return Path(override) / "stepfunctions"
    return Path(__file__).resolve().parents[3] / "shared" / "conformance" / "stepfunctions"


def case_files() -> list[Path]:
    root = corpus_dir()
    if not root.is_dir():
        return []
    return sorted(root.glob("*/*.json"))


# -- the Lambda functions the cases describe ------------------------------------------------------


# The two raising handlers are compiled from their deployed source, under the path the Lambda runtime
# shows (/var/task/handler.py), so their stack traces read as AWS recorded them.
_RAISING_SOURCES = {
    "raise_exception": 'def handler(event, context):\n    raise Exception("Some exception was raised.")\n',
    "raise_custom_exception": (
        "class CustomException(Exception):\n"
        "    message: str\n"
        "\n"
        "    def __init__(self):\n"
        '        self.message = "Some custom exception was raised."\n'
        "\n"
        "\n"
        "def handler(event, context):\n"
        "    raise CustomException()\n"
    ),
}
_HANDLER_FILE = "/var/task/handler.py"


def _deployed(source: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(source, _HANDLER_FILE, "exec"), namespace)
    handler = namespace["handler"]
    handler.deployed_source = source
    return handler


def lambda_functions(clock: VirtualClock) -> LambdaFunctions:
    """Python handlers behaving as the corpus' ``lambda_functions`` descriptions say (keyed by handler)."""

    def echo_function(event: Any, context: LambdaContext) -> Any:
        return {"Return": "HelloWorld"}

    def id_function(event: Any, context: LambdaContext) -> Any:
        return event

    def large_output_string(event: Any, context: LambdaContext) -> Any:
        return "a" * (257 * 1024)

    def return_bytes_str(event: Any, context: LambdaContext) -> Any:
        return b'"HelloWorld!"'

    def wait_60_seconds(event: Any, context: LambdaContext) -> Any:
        clock.advance(60)  # the function's 60 s sleep, on the test's virtual clock
        return event

    handlers = {
        f.__name__: f
        for f in (
            echo_function,
            id_function,
            large_output_string,
            return_bytes_str,
            wait_60_seconds,
        )
    }
    for name, source in _RAISING_SOURCES.items():
        handlers[name] = _deployed(source)
    return _ByHandler(handlers)


class _ByHandler(LambdaFunctions):
    """Function names are ``sfn_conformance_fn<N>_<handler>``: resolve by the handler part."""

    def __init__(self, handlers: dict[str, Any]) -> None:
        super().__init__()
        self.handlers = handlers

    def invoke(self, resource: str, payload: Any, context: Any) -> Any:
        name = resource.split(":function:", 1)[-1].split(":")[0]
        for handler_name, handler in self.handlers.items():
            if name.startswith("sfn_conformance_fn") and name.endswith("_" + handler_name):
                self.functions[name] = handler
                source = getattr(handler, "deployed_source", None)
                if source is not None:  # what the runtime's traceback shows for /var/task/handler.py
                    linecache.cache[_HANDLER_FILE] = (len(source), None, source.splitlines(True), _HANDLER_FILE)
        return super().invoke(resource, payload, context)


# -- comparison ------------------------------------------------------------------------------------


def _split(path: str) -> list[str]:
    assert path.startswith("$.")
    return path[2:].split(".")


def _take(doc: Any, keys: list[str]) -> Any:
    for key in keys:
        if isinstance(doc, dict) and key in doc:
            doc = doc[key]
        else:
            return _MISSING
    return doc


def _put(doc: Any, keys: list[str], value: Any) -> Any:
    if not keys:
        return value
    if isinstance(doc, dict) and keys[0] in doc:
        doc = dict(doc)
        doc[keys[0]] = _put(doc[keys[0]], keys[1:], value)
    return doc


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def outcome_of(case: dict[str, Any], status: str, output: Any, error: Any, cause: Any) -> tuple[Any, Any]:
    """(expected, actual) as comparable documents, generated values replaced by their type."""
    expect = case["expect"]
    if expect.get("cause_is_json") and isinstance(cause, str):
        with contextlib.suppress(json.JSONDecodeError):
            cause = json.loads(cause)
    if expect["status"] == "SUCCEEDED":
        expected: dict[str, Any] = {"status": "SUCCEEDED", "output": expect["output"]}
        actual: dict[str, Any] = {"status": status, "output": output}
        if status != "SUCCEEDED":
            actual.update(error=error, cause=cause)
    else:
        expected = {"status": expect["status"], "error": expect.get("error"), "cause": expect.get("cause")}
        actual = {"status": status, "error": error, "cause": cause}
        if status == "SUCCEEDED":
            actual["output"] = output
    for path in case.get("normalised_fields", []):
        keys = _split(path)
        want, got = _take(expected, keys), _take(actual, keys)
        if want is _MISSING or got is _MISSING:
            continue
        # A placeholder string may stand for a generated number (e.g. MathRandom's 'RandomNumberGenerated').
        same_shape = _kind(got) == _kind(want) or (isinstance(want, str) and _kind(got) == "number")
        placeholder = f"<generated {_kind(want)}>"
        expected = _put(expected, keys, placeholder)
        actual = _put(actual, keys, placeholder if same_shape else got)
    return expected, actual
