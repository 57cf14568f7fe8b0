"""Fail: stops with an error name and cause (literal, from a path or intrinsic, or JSONata)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.workflows import intrinsics
from stratus.workflows.errors import QUERY_EVALUATION, RUNTIME, StatesError
from stratus.workflows.jsonata_expr import Expression, is_expression
from stratus.workflows.jsonpath import JsonPathSyntaxError, Path, PathNotFound, compile_path
from stratus.workflows.states.base import Failed, Outcome, Problems, State
from stratus.workflows.templates import call_intrinsic, compact, type_name

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime


#: the intrinsic functions AWS accepts in ErrorPath/CausePath (those that return a string)
_STRING_FUNCTIONS = {
    "States.Format",
    "States.JsonToString",
    "States.ArrayGetItem",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.UUID",
}


class FailState(State):
    type = "Fail"
    terminal = True
    JSONPATH_FIELDS = {"Error", "Cause", "ErrorPath", "CausePath"}
    JSONATA_FIELDS = {"Error", "Cause"}

    def compile(self, problems: Problems) -> None:
        self.fields: dict[str, Any] = {}
        for key in ("Error", "Cause"):
            if key in self.raw and f"{key}Path" in self.raw:
                problems.add(self.where, f"'{key}' and '{key}Path' cannot both be set")
            value = self.raw.get(key)
            if value is not None:
                if not isinstance(value, str):
                    problems.add(f"{self.where}/{key}", "must be a string")
                elif self.jsonata and is_expression(value):
                    self.fields[key] = self.expression_field(key, problems)
                else:
                    self.fields[key] = value
            path_key = f"{key}Path"
            if path_key in self.raw:
                text = self.raw[path_key]
                try:
                    if intrinsics.is_intrinsic(text):
                        call = intrinsics.compile_intrinsic(text)
                        if call.name not in _STRING_FUNCTIONS:
                            allowed = ", ".join(sorted(_STRING_FUNCTIONS))
                            problems.add(
                                f"{self.where}/{path_key}",
                                f"{call.name} does not return a string; use one of {allowed}",
                            )
                        self.fields[key] = call
                    else:
                        path = compile_path(text)
                        if not path.is_reference:
                            problems.add(
                                f"{self.where}/{path_key}", "must be a reference path (no wildcards or filters)"
                            )
                        self.fields[key] = path
                except (JsonPathSyntaxError, intrinsics.IntrinsicSyntaxError, TypeError) as exc:
                    problems.add(f"{self.where}/{path_key}", str(exc))

    def _value(self, key: str, rt: Runtime, frame: Frame) -> str | None:
        spec = self.fields.get(key)
        if spec is None or isinstance(spec, str):
            return spec
        env = self.env(rt, frame, frame.input)
        if isinstance(spec, Expression):
            value = spec.evaluate(env, key)
        elif isinstance(spec, Path):
            try:
                value = env.scope().read(spec)
            except PathNotFound as exc:
                raise StatesError(
                    RUNTIME,
                    f"The JSONPath '{spec.text}' specified for the field '{key}Path' could not be found in the "
                    f"input '{compact(frame.input)}'",
                ) from exc
        else:
            value = call_intrinsic(spec, env, f"{key}Path")
        if not isinstance(value, str):
            if isinstance(spec, Expression):
                raise StatesError(
                    QUERY_EVALUATION,
                    f"The JSONata expression '{spec.source}' specified for the field '{key}' returned an unexpected "
                    f"result type. Expected 'string', but was '{type_name(value)}' for value: {compact(value)}",
                )
            raise StatesError(RUNTIME, f"The {key}Path value must be a string, but was: {compact(value)}")
        return value

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        return Failed(self._value("Error", rt, frame), self._value("Cause", rt, frame))
