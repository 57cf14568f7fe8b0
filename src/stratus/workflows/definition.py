"""Loading a definition: validate it as AWS does at CreateStateMachine, and compile it once.

:func:`parse` checks the structure (unknown, missing and mistyped fields, Next/End,
transitions to unknown states, unreachable states, bad paths, intrinsics and JSONata,
States.ALL placement, JSONata/JSONPath field mixing) and raises
:class:`~stratus.workflows.errors.InvalidDefinition` listing *every* problem with its
location. The result, a :class:`StateMachine`, holds one :class:`Program` (a
``StartAt`` + ``States`` list) per level: the machine, each Parallel branch, each Map
ItemProcessor, keyed by where it sits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stratus.workflows.errors import MISSING_TRANSITION_TARGET, InvalidDefinition, Problems
from stratus.workflows.states import STATE_TYPES, State
from stratus.workflows.states.distributed import ALLOWED as DISTRIBUTED_ALLOWED

JSONPATH, JSONATA = "JSONPath", "JSONata"
_TOP_FIELDS = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
_BRANCH_FIELDS = {"StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"}
_MAX_NAME = 80


@dataclass
class Program:
    key: str
    start_at: str
    states: dict[str, State]
    jsonata: bool


class StateMachine:
    """A parsed, validated, compiled state machine."""

    def __init__(self, definition: dict[str, Any], programs: dict[str, Program], name: str) -> None:
        self.definition = definition
        self.programs = programs
        self.name = name
        self.query_language = JSONATA if programs[""].jsonata else JSONPATH
        self.timeout_seconds: int | None = definition.get("TimeoutSeconds")

    @property
    def start_at(self) -> str:
        return self.programs[""].start_at

    def __repr__(self) -> str:
        return f"<StateMachine {self.name} ({len(self.programs[''].states)} states)>"


def _escape(name: str) -> str:
    """A state name inside a program key (``/`` and ``#`` separate key parts)."""
    return name.replace("~", "~0").replace("/", "~1").replace("#", "~2")


def parse(
    definition: str | dict[str, Any], *, name: str = "StateMachine", distributed_map: bool = False
) -> StateMachine:
    """Validate and compile ``definition`` (ASL JSON text or the parsed object).

    ``distributed_map=True`` accepts distributed Maps: the runner's task invoker then serves
    the S3 resources their ItemReader and ResultWriter name (see ``states/distributed.py``).
    """
    token = DISTRIBUTED_ALLOWED.set(distributed_map)
    try:
        return _parse(definition, name)
    finally:
        DISTRIBUTED_ALLOWED.reset(token)


def _parse(definition: str | dict[str, Any], name: str) -> StateMachine:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise InvalidDefinition(
                [f"SCHEMA_VALIDATION_FAILED: the definition is not valid JSON ({exc}) at /"]
            ) from exc
    if not isinstance(definition, dict):
        raise InvalidDefinition(["SCHEMA_VALIDATION_FAILED: the definition must be a JSON object at /"])
    problems = Problems()
    for key in definition:
        if key not in _TOP_FIELDS:
            problems.add("/", f'The field "{key}" is not supported by Step Functions')
    language = definition.get("QueryLanguage", JSONPATH)
    if language not in (JSONPATH, JSONATA):
        problems.add("/QueryLanguage", f"must be 'JSONPath' or 'JSONata', not {language!r}")
        language = JSONPATH
    if "Version" in definition and definition["Version"] != "1.0":
        problems.add("/Version", "must be '1.0'")
    timeout = definition.get("TimeoutSeconds")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0):
        problems.add("/TimeoutSeconds", "must be a positive integer")
    programs: dict[str, Program] = {}
    _compile_program("", definition, "", language == JSONATA, problems, programs)
    if problems:
        raise InvalidDefinition(problems.items)
    return StateMachine(definition, programs, name)


def _compile_program(
    key: str,
    raw: Any,
    where: str,
    jsonata: bool,
    problems: Problems,
    programs: dict[str, Program],
) -> None:
    if not isinstance(raw, dict):
        problems.add(where or "/", "must be an object with StartAt and States")
        return
    if key:
        for field in raw:
            if field not in _BRANCH_FIELDS:
                problems.add(where, f'The field "{field}" is not supported by Step Functions')
        if "QueryLanguage" in raw:
            jsonata = raw["QueryLanguage"] == JSONATA
    start_at = raw.get("StartAt")
    states_raw = raw.get("States")
    if not isinstance(start_at, str):
        problems.add(where or "/", "'StartAt' is required and must be a state name")
    if not isinstance(states_raw, dict) or not states_raw:
        problems.add(where or "/", "'States' is required and must be a non-empty object")
        return
    states: dict[str, State] = {}
    for name, state_raw in states_raw.items():
        state_where = f"{where}/States/{name}"
        if len(name) > _MAX_NAME:
            problems.add(state_where, f"state names are at most {_MAX_NAME} characters")
        if not isinstance(state_raw, dict):
            problems.add(state_where, "a state must be an object")
            continue
        type_name = state_raw.get("Type")
        cls = STATE_TYPES.get(type_name) if isinstance(type_name, str) else None
        if cls is None:
            problems.add(state_where, f"unknown or missing state 'Type': {type_name!r}")
            continue
        state_lang = state_raw.get("QueryLanguage")
        state_jsonata = jsonata
        if state_lang is not None:
            if state_lang not in (JSONPATH, JSONATA):
                problems.add(f"{state_where}/QueryLanguage", f"must be 'JSONPath' or 'JSONata', not {state_lang!r}")
            elif state_lang == JSONPATH and jsonata:
                problems.add(
                    f"{state_where}/QueryLanguage",
                    "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
                )
            else:
                state_jsonata = state_lang == JSONATA
        state = cls(name, state_raw, state_where, state_jsonata, problems)
        states[name] = state
        for suffix, sub_raw, sub_where in state.sub_programs():
            sub_key = f"{key}/{_escape(name)}{suffix}"
            _compile_program(sub_key, sub_raw, sub_where, state_jsonata, problems, programs)
            state.attach_program(suffix, sub_key)
    if isinstance(start_at, str) and start_at not in states_raw:
        problems.add(f"{where}/StartAt", f"Missing 'StartAt' target: {start_at}", MISSING_TRANSITION_TARGET)
    for state in states.values():
        for target, at in state.transitions():
            if target not in states_raw:
                field = at.rsplit("/", 1)[-1].split("[")[0]
                problems.add(at, f"Missing '{field}' target: {target}", MISSING_TRANSITION_TARGET)
    if isinstance(start_at, str) and start_at in states:
        seen = {start_at}
        todo = [start_at]
        while todo:
            current = states.get(todo.pop())
            if current is None:
                continue
            for target, _ in current.transitions():
                if target in states and target not in seen:
                    seen.add(target)
                    todo.append(target)
        for name in states:
            if name not in seen:
                problems.add(f"{where}/States/{name}", f'State "{name}" is not reachable.', MISSING_TRANSITION_TARGET)
    if isinstance(start_at, str):
        programs[key] = Program(key, start_at, states, jsonata)
