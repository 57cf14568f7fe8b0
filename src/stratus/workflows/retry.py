"""Retry and Catch: which errors they match, how long a retry waits, where a catch goes.

``States.ALL`` matches every error except ``States.Runtime``, which AWS never retries or
catches; it must be alone in its ErrorEquals and in the last retrier/catcher.
``States.TaskFailed`` matches any error but ``States.Timeout``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import ALL, RUNTIME, TASK_FAILED, TIMEOUT

if TYPE_CHECKING:
    from stratus.workflows.errors import Problems
    from stratus.workflows.states.base import State
    from stratus.workflows.templates import Template


def error_matches(names: list[str], error: str | None) -> bool:
    if error == RUNTIME:
        return False
    for name in names:
        if name == ALL:
            return True
        if name == TASK_FAILED and error != TIMEOUT:
            return True
        if name == error:
            return True
    return False


@dataclass
class Retrier:
    error_equals: list[str]
    interval: float = 1.0
    max_attempts: int = 3
    backoff: float = 2.0
    max_delay: float | None = None
    jitter: str = "NONE"

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        seconds = self.interval * (self.backoff**attempt)
        if self.max_delay is not None:
            seconds = min(seconds, self.max_delay)
        if self.jitter == "FULL":
            seconds = random.uniform(0, seconds)
        return seconds


@dataclass
class Catcher:
    error_equals: list[str]
    next: str
    result_path: Any = None  # Path | None
    result_null: bool = False
    output: Template | None = None
    assign: Template | None = None


def _error_equals(raw: dict[str, Any], where: str, problems: Problems, last: bool) -> list[str]:
    names = raw.get("ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.add(where, "'ErrorEquals' must be a non-empty array of error names")
        return []
    if ALL in names and (len(names) > 1 or not last):
        problems.add(where, "'States.ALL' must appear alone in 'ErrorEquals' and only in the last entry")
    return names


def _number(raw: dict[str, Any], key: str, where: str, problems: Problems, *, integer: bool, low: float) -> Any:
    value = raw[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or value < low:
        kind = "an integer" if integer else "a number"
        problems.add(f"{where}/{key}", f"must be {kind} >= {low}")
        return None
    return value


def compile_retriers(raw: Any, where: str, problems: Problems) -> list[Retrier]:
    if not isinstance(raw, list):
        problems.add(where, "must be an array")
        return []
    out = []
    allowed = {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.add(w, "must be an object")
            continue
        for key in set(item) - allowed:
            problems.add(w, f'The field "{key}" is not supported by Step Functions in a retrier')
        r = Retrier(_error_equals(item, w, problems, i == len(raw) - 1))
        if "IntervalSeconds" in item:
            v = _number(item, "IntervalSeconds", w, problems, integer=True, low=1)
            r.interval = v if v is not None else r.interval
        if "MaxAttempts" in item:
            v = _number(item, "MaxAttempts", w, problems, integer=True, low=0)
            r.max_attempts = int(v) if v is not None else r.max_attempts
        if "BackoffRate" in item:
            v = _number(item, "BackoffRate", w, problems, integer=False, low=1)
            r.backoff = v if v is not None else r.backoff
        if "MaxDelaySeconds" in item:
            r.max_delay = _number(item, "MaxDelaySeconds", w, problems, integer=True, low=1)
        if "JitterStrategy" in item:
            if item["JitterStrategy"] not in ("FULL", "NONE"):
                problems.add(f"{w}/JitterStrategy", "must be 'FULL' or 'NONE'")
            else:
                r.jitter = item["JitterStrategy"]
        out.append(r)
    return out


def compile_catchers(raw: Any, where: str, problems: Problems, jsonata: bool, state: State) -> list[Catcher]:
    from stratus.workflows.jsonpath import JsonPathSyntaxError, compile_path
    from stratus.workflows.templates import compile_jsonata_template, compile_jsonpath_template

    if not isinstance(raw, list):
        problems.add(where, "must be an array")
        return []
    out = []
    allowed = {"ErrorEquals", "Next", "Comment", "Assign"} | ({"Output"} if jsonata else {"ResultPath"})
    for i, item in enumerate(raw):
        w = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.add(w, "must be an object")
            continue
        for key in set(item) - allowed:
            problems.add(w, f'The field "{key}" is not supported by Step Functions in a catcher')
        names = _error_equals(item, w, problems, i == len(raw) - 1)
        nxt = item.get("Next")
        if not isinstance(nxt, str):
            problems.add(w, "a catcher needs 'Next'")
            nxt = ""
        c = Catcher(names, nxt)
        if "ResultPath" in item:
            if item["ResultPath"] is None:
                c.result_null = True
            else:
                try:
                    c.result_path = compile_path(item["ResultPath"])
                except (JsonPathSyntaxError, TypeError) as exc:
                    problems.add(f"{w}/ResultPath", str(exc))
        if "Output" in item:
            c.output = compile_jsonata_template(item["Output"], f"{w}/Output", "Output", problems)
        if "Assign" in item:
            from stratus.workflows.states.base import check_variable_names

            if isinstance(item["Assign"], dict):
                check_variable_names(item["Assign"], f"{w}/Assign", problems, jsonpath=not jsonata)
            if jsonata:
                c.assign = compile_jsonata_template(item["Assign"], f"{w}/Assign", "Assign", problems)
            else:
                c.assign = compile_jsonpath_template(item["Assign"], f"{w}/Assign", problems)
        out.append(c)
    return out
