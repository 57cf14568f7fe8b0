"""What every state shares: its fields, its data flow, and the outcomes it reports.

A state never drives the execution itself. Each call (``enter``, ``resume``, ``act``,
``children_done``) returns an *outcome* (:class:`Done`, :class:`Failed`, :class:`Sleep`,
:class:`Spawn`) and the engine (``stratus.workflows.engine``) records it, so every
transition is a step a durable executor can persist before it takes effect.

Data flow (JSONPath): InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath
-> OutputPath, with Assign evaluated against the result. (JSONata): Arguments ->
(work) -> Output, with Assign; both see ``$states.input`` / ``$states.result``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import DATA_LIMIT, RESULT_PATH_MATCH, RUNTIME, Problems, StatesError
from stratus.workflows.jsonata_expr import Expression, JsonataSyntaxError, is_expression
from stratus.workflows.jsonpath import JsonPathSyntaxError, Path, PathNotFound, compile_path
from stratus.workflows.retry import Catcher, Retrier, compile_catchers, compile_retriers
from stratus.workflows.templates import (
    Env,
    Template,
    compact,
    compile_jsonata_template,
    compile_jsonpath_template,
)

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

#: AWS's payload limit for state input/output and execution input (256 KiB).

MAX_PAYLOAD_BYTES = 256 * 1024

COMMON = {"Type", "Comment", "QueryLanguage"}
TRANSITION = {"Next", "End"}
JSONPATH_IO = {"InputPath", "OutputPath"}
JSONATA_IO = {"Output"}


# -- outcomes -----------------------------------------------------------------------------------


@dataclass
class Done:
    """The state finished with ``output``; ``next`` overrides the state's Next (Choice, Catch)."""

    output: Any
    next: str | None = None
    assigned: dict[str, Any] | None = None


@dataclass
class Failed:
    error: str | None
    cause: str | None = None


@dataclass
class Sleep:
    """Resume this state (``phase``: ``wait`` or ``retry``) at clock time ``until``."""

    until: float
    phase: str = "wait"


@dataclass
class Spawn:
    """Run these child frames (Parallel branches, Map iterations), then call ``children_done``."""

    children: list[Frame] = field(default_factory=list)


Outcome = Done | Failed | Sleep | Spawn


def size_of(value: Any) -> int:
    text = compact(value)
    return len(text) if text.isascii() else len(text.encode())


_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VARIABLE_NAME = 80


def check_variable_names(assign: dict[str, Any], where: str, problems: Problems, *, jsonpath: bool) -> None:
    """Assign keys are variable names (``name.$`` in JSONPath); ``states`` is reserved."""
    for key in assign:
        name = key[:-2] if jsonpath and key.endswith(".$") else key
        if name == "states":
            problems.add(where, "'states' is reserved and cannot be assigned")
        elif not _VARIABLE_NAME.match(name) or len(name) > MAX_VARIABLE_NAME:
            problems.add(where, f"'{name}' is not a valid variable name")


# -- the base state -----------------------------------------------------------------------------


class State:
    """A compiled state. Subclasses declare their fields and implement the behaviour."""

    type = ""
    #: fields this type accepts beyond COMMON, per query language
    JSONPATH_FIELDS: set[str] = set()
    JSONATA_FIELDS: set[str] = set()
    terminal = False  # Succeed/Fail: no Next/End
    has_transition = True  # Choice has its own transitions

    def __init__(self, name: str, raw: dict[str, Any], where: str, jsonata: bool, problems: Problems) -> None:
        self.name = name
        self.raw = raw
        self.where = where
        self.jsonata = jsonata
        nxt = raw.get("Next")
        self.next: str | None = nxt if isinstance(nxt, str) else None
        self.end = raw.get("End") is True
        self.retriers: list[Retrier] = []
        self.catchers: list[Catcher] = []
        self.input_path: Path | None = None
        self.output_path: Path | None = None
        self.result_path: Path | None = None
        self.input_null = "InputPath" in raw and raw["InputPath"] is None
        self.output_null = "OutputPath" in raw and raw["OutputPath"] is None
        self.result_null = "ResultPath" in raw and raw["ResultPath"] is None
        self.parameters: Template | None = None
        self.result_selector: Template | None = None
        self.arguments: Template | None = None
        self.output: Template | None = None
        self.assign: Template | None = None
        self._check_fields(problems)
        self._compile_common(problems)
        self.compile(problems)

    # -- loading -----------------------------------------------------------------------------

    def _check_fields(self, problems: Problems) -> None:
        allowed = COMMON | (self.JSONATA_FIELDS if self.jsonata else self.JSONPATH_FIELDS)
        if not self.terminal and self.has_transition:
            allowed = allowed | TRANSITION
        other = self.JSONPATH_FIELDS if self.jsonata else self.JSONATA_FIELDS
        for key in self.raw:
            if key in allowed:
                continue
            if key in other:
                lang = "JSONPath" if self.jsonata else "JSONata"
                mine = "JSONata" if self.jsonata else "JSONPath"
                problems.add(self.where, f"the field '{key}' is a {lang} field; this state uses {mine}")
            else:
                problems.add(self.where, f'The field "{key}" is not supported by Step Functions in a {self.type} state')
        if self.terminal or not self.has_transition:
            return
        has_next, has_end = "Next" in self.raw, "End" in self.raw
        if has_next and has_end:
            problems.add(self.where, "a state cannot have both 'Next' and 'End'")
        elif not has_next and not self.end:
            problems.add(self.where, "a state needs 'Next' or 'End': true")
        if has_next and not isinstance(self.raw["Next"], str):
            problems.add(self.where, "'Next' must be a state name")
        if has_end and self.raw["End"] is not True:
            problems.add(self.where, "'End' must be true")

    def _compile_common(self, problems: Problems) -> None:
        raw = self.raw
        if self.jsonata:
            if "Arguments" in raw:
                self.arguments = self.jsonata_template("Arguments", problems)
            if "Output" in raw:
                self.output = self.jsonata_template("Output", problems)
            if "Assign" in raw:
                self.assign = self.jsonata_assign(raw["Assign"], f"{self.where}/Assign", problems)
        else:
            self.input_path = self.path_field("InputPath", problems)
            self.output_path = self.path_field("OutputPath", problems)
            self.result_path = self.path_field("ResultPath", problems)
            if self.result_path is not None and not self.result_path.is_reference:
                problems.add(f"{self.where}/ResultPath", "must be a reference path (no wildcards or filters)")
            if self.result_path is not None and self.result_path.root != "$":
                problems.add(f"{self.where}/ResultPath", "must start with '$'")
            if "Parameters" in raw:
                self.parameters = self.jsonpath_template("Parameters", problems)
            if "ResultSelector" in raw:
                self.result_selector = self.jsonpath_template("ResultSelector", problems)
            if "Assign" in raw:
                self.assign = self.jsonpath_assign(raw["Assign"], f"{self.where}/Assign", problems)
        if "Retry" in raw:
            self.retriers = compile_retriers(raw["Retry"], f"{self.where}/Retry", problems)
        if "Catch" in raw:
            self.catchers = compile_catchers(raw["Catch"], f"{self.where}/Catch", problems, self.jsonata, self)

    def compile(self, problems: Problems) -> None:
        """Compile the type's own fields."""

    def path_field(self, key: str, problems: Problems) -> Path | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problems.add(f"{self.where}/{key}", "must be a JSONPath string")
            return None
        try:
            return compile_path(value)
        except JsonPathSyntaxError as exc:
            problems.add(f"{self.where}/{key}", str(exc))
            return None

    def jsonpath_template(self, key: str, problems: Problems) -> Template:
        return compile_jsonpath_template(self.raw[key], f"{self.where}/{key}", problems)

    def jsonata_template(self, key: str, problems: Problems) -> Template:
        return compile_jsonata_template(self.raw[key], f"{self.where}/{key}", key, problems)

    def jsonpath_assign(self, value: Any, where: str, problems: Problems) -> Template | None:
        if not isinstance(value, dict):
            problems.add(where, "must be an object")
            return None
        check_variable_names(value, where, problems, jsonpath=True)
        return compile_jsonpath_template(value, where, problems)

    def jsonata_assign(self, value: Any, where: str, problems: Problems) -> Template | None:
        if not isinstance(value, dict):
            problems.add(where, "must be an object")
            return None
        check_variable_names(value, where, problems, jsonpath=False)
        return compile_jsonata_template(value, where, "Assign", problems)

    def expression_field(self, key: str, problems: Problems) -> Expression | None:
        value = self.raw.get(key)
        if not isinstance(value, str) or not is_expression(value):
            return None
        try:
            return Expression(value)
        except JsonataSyntaxError as exc:
            problems.add(f"{self.where}/{key}", str(exc))
            return None

    def sub_programs(self) -> list[tuple[str, Any, str]]:
        """(key suffix, raw state list, location) of each nested state list (Parallel branches, Map processor)."""
        return []

    def attach_program(self, suffix: str, key: str) -> None:
        """Told the key under which the nested state list with ``suffix`` was compiled."""

    def transitions(self) -> list[tuple[str, str]]:
        """(target, where) for every state this one can go to (for reachability checks)."""
        out = []
        if self.next is not None:
            out.append((self.next, f"{self.where}/Next"))
        for i, c in enumerate(self.catchers):
            out.append((c.next, f"{self.where}/Catch[{i}]/Next"))
        return out

    # -- running -----------------------------------------------------------------------------

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        raise NotImplementedError

    def act(self, rt: Runtime, frame: Frame) -> Outcome:
        """Do the (retryable) work again after a Retry interval."""
        return self.enter(rt, frame)

    def resume(self, rt: Runtime, frame: Frame) -> Outcome:
        raise NotImplementedError

    def children_done(self, rt: Runtime, frame: Frame) -> Outcome:
        raise NotImplementedError

    def poll(self, rt: Runtime, frame: Frame) -> Outcome | float:
        """A state waiting in the ``callback`` phase: its outcome, or the clock time to look again."""
        raise NotImplementedError

    def concurrency(self, frame: Frame) -> int | None:
        """How many children may be running (started, not finished) at once; None: all of them."""
        return None

    def child_started(self, rt: Runtime, frame: Frame, child: Frame) -> None:
        """A child frame is about to run its first state."""

    def child_finished(self, rt: Runtime, frame: Frame, child: Frame) -> Outcome | None:
        """A child frame ended; an outcome here ends the state early (a failed branch)."""
        return None

    # -- data flow helpers ------------------------------------------------------------------------

    def env(self, rt: Runtime, frame: Frame, doc: Any, **extra: Any) -> Env:
        return Env(doc, lambda: rt.context(frame), frame.variables, extra, now=rt.clock.now())

    def apply_path(self, path: Path | None, null: bool, value: Any, rt: Runtime, frame: Frame) -> Any:
        """InputPath/OutputPath: ``$`` when absent, ``{}`` when null."""
        if null:
            return {}
        if path is None:
            return value
        env = self.env(rt, frame, value)
        try:
            return path.get(env.scope().root(path))
        except PathNotFound as exc:
            raise StatesError(RUNTIME, f"Invalid path '{path.text}' : {exc.message}") from exc

    def effective_input(self, rt: Runtime, frame: Frame) -> Any:
        """The input the state works on: InputPath then Parameters (JSONPath), Arguments (JSONata)."""
        raw = frame.input
        if self.jsonata:
            if self.arguments is not None:
                return self.arguments.evaluate(self.env(rt, frame, raw))
            return raw
        value = self.apply_path(self.input_path, self.input_null, raw, rt, frame)
        if self.parameters is not None:
            value = self.parameters.evaluate(self.env(rt, frame, value))
        return value

    def finish(self, rt: Runtime, frame: Frame, result: Any, *, has_result: bool = True) -> Done:
        """Turn the state's result into its output (and its variable assignments)."""
        raw = frame.input
        if self.jsonata:
            env = self.env(rt, frame, raw, result=result) if has_result else self.env(rt, frame, raw)
            output = self.output.evaluate(env) if self.output is not None else (result if has_result else raw)
            assigned = self.assign.evaluate(env) if self.assign is not None else None
        else:
            if has_result and self.result_selector is not None:
                result = self.result_selector.evaluate(self.env(rt, frame, result))
            if has_result:
                self.check_size(result, rt, frame)
                assigned = self.assign.evaluate(self.env(rt, frame, result)) if self.assign is not None else None
                if self.result_null:
                    combined = raw
                elif self.result_path is None:
                    combined = result
                else:
                    try:
                        combined = self.result_path.set(raw, result)
                    except PathNotFound as exc:
                        raise StatesError(RESULT_PATH_MATCH, exc.message) from exc
            else:
                combined = result
                assigned = self.assign.evaluate(self.env(rt, frame, result)) if self.assign is not None else None
            output = self.apply_path(self.output_path, self.output_null, combined, rt, frame)
        self.check_size(output, rt, frame)
        return Done(output, assigned=assigned)

    def check_size(self, value: Any, rt: Runtime, frame: Frame, who: str | None = None) -> None:
        if size_of(value) > MAX_PAYLOAD_BYTES:
            raise StatesError(
                DATA_LIMIT,
                f"The state/task '{who or self.name}' returned a result with a size exceeding the maximum number "
                "of bytes service limit.",
            )
