"""Wait: resumes after ``Seconds`` or at ``Timestamp`` (or their ``...Path`` / JSONata forms).

The state never sleeps: it returns "resume at T" (a :class:`Sleep`) read from the clock,
so a runner on a virtual clock skips the time and a durable executor can persist it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import QUERY_EVALUATION, RUNTIME, StatesError
from stratus.workflows.jsonata_expr import Expression, is_expression
from stratus.workflows.jsonpath import PathNotFound
from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Outcome, Problems, Sleep, State
from stratus.workflows.templates import compact
from stratus.workflows.timestamps import parse_timestamp

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

_MAX_SECONDS = 99999999


class WaitState(State):
    type = "Wait"
    JSONPATH_FIELDS = JSONPATH_IO | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"}
    JSONATA_FIELDS = JSONATA_IO | {"Seconds", "Timestamp", "Assign"}

    def compile(self, problems: Problems) -> None:
        keys = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in self.raw]
        if len(keys) != 1:
            problems.add(self.where, "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath")
        self.seconds_expr: Expression | None = None
        self.timestamp_expr: Expression | None = None
        seconds = self.raw.get("Seconds")
        if "Seconds" in self.raw:
            if self.jsonata and is_expression(seconds):
                self.seconds_expr = self.expression_field("Seconds", problems)
            elif not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= _MAX_SECONDS:
                problems.add(f"{self.where}/Seconds", f"must be an integer between 0 and {_MAX_SECONDS}")
        if "Timestamp" in self.raw:
            ts = self.raw["Timestamp"]
            if self.jsonata and is_expression(ts):
                self.timestamp_expr = self.expression_field("Timestamp", problems)
            elif parse_timestamp(ts) is None:
                problems.add(f"{self.where}/Timestamp", f"'{ts}' is not an ISO-8601 extended offset date-time")
        self.seconds_path = self.path_field("SecondsPath", problems)
        self.timestamp_path = self.path_field("TimestampPath", problems)

    def _until(self, rt: Runtime, frame: Frame, value: Any) -> float:
        start = frame.entered_time
        if self.seconds_expr is not None:
            seconds = self.seconds_expr.evaluate(self.env(rt, frame, frame.input), "Seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not float(seconds).is_integer():
                raise StatesError(
                    QUERY_EVALUATION,
                    f"The JSONata expression '{self.seconds_expr.source}' specified for the field 'Seconds' returned "
                    f"an unexpected result type. Expected 'integer', but was '{type(seconds).__name__}' for value: "
                    f"{compact(seconds)}",
                )
            if seconds < 0:
                raise StatesError(QUERY_EVALUATION, f"The Seconds field references a negative value: {seconds}")
            return start + int(seconds)
        if self.timestamp_expr is not None:
            text = self.timestamp_expr.evaluate(self.env(rt, frame, frame.input), "Timestamp")
            moment = parse_timestamp(text)
            if moment is None:
                raise StatesError(
                    QUERY_EVALUATION,
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "
                    f"{text if isinstance(text, str) else compact(text)}",
                )
            return moment
        if "Seconds" in self.raw:
            return start + int(self.raw["Seconds"])
        if "Timestamp" in self.raw:
            return parse_timestamp(self.raw["Timestamp"]) or start
        env = self.env(rt, frame, value)
        if self.seconds_path is not None:
            path = self.seconds_path
            try:
                seconds = env.scope().read(path)
            except PathNotFound as exc:
                raise StatesError(
                    RUNTIME, f"The SecondsPath parameter does not reference an input value: {path.text}"
                ) from exc
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not float(seconds).is_integer():
                raise StatesError(
                    RUNTIME,
                    f"The SecondsPath parameter cannot be parsed as a long value: {path.text} == {_show(seconds)}",
                )
            if seconds < 0:
                raise StatesError(
                    RUNTIME, f"The SecondsPath parameter references a negative value: {path.text} == {_show(seconds)}"
                )
            return start + int(seconds)
        assert self.timestamp_path is not None
        path = self.timestamp_path
        try:
            text = env.scope().read(path)
        except PathNotFound as exc:
            raise StatesError(
                RUNTIME, f"The TimestampPath parameter does not reference an input value: {path.text}"
            ) from exc
        moment = parse_timestamp(text)
        if moment is None:
            raise StatesError(
                RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format "
                f"string: {path.text} == {_show(text)}",
            )
        return moment

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        value = (
            frame.input if self.jsonata else self.apply_path(self.input_path, self.input_null, frame.input, rt, frame)
        )
        frame.data["value"] = value
        return Sleep(self._until(rt, frame, value))

    def resume(self, rt: Runtime, frame: Frame) -> Outcome:
        return self.finish(rt, frame, frame.data["value"], has_result=False)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else compact(value)
