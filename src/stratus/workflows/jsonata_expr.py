"""JSONata expressions in a state (``"{% ... %}"``), evaluated with jsonata-python.

Step Functions binds ``$states`` (``input``, ``result``, ``errorOutput``, ``context``),
the workflow's variables, and its own functions (``$partition``, ``$range``, ``$hash``,
``$random``, ``$uuid``, ``$parse``). A result of *undefined* or of a type JSON cannot
hold is a ``States.QueryEvaluationError`` naming the expression and the field.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import jsonata
from jsonata import functions, jexception, utils

from stratus.workflows import intrinsics
from stratus.workflows.errors import QUERY_EVALUATION, StatesError

_J = jsonata.Jsonata


class JsonataSyntaxError(ValueError):
    """The expression does not parse."""


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and len(value) >= 4


class Expression:
    """One compiled ``{% ... %}`` expression."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.source = text[2:-2].strip()
        try:
            self._compiled = _J(self.source)
        except jexception.JException as exc:
            raise JsonataSyntaxError(f"'{self.source}': {exc}") from exc
        self._compiled.set_output_convert_nulls(False)
        #: whether the expression can read $states.context (building it is skipped otherwise)
        self.uses_context = "context" in self.source

    def evaluate(self, env: Any, field: str, *, allow_undefined: bool = False) -> Any:
        """The value, or a ``States.QueryEvaluationError`` naming ``field`` (``Output/result``...).

        ``env`` is a :class:`~stratus.workflows.templates.Env` (or a ready mapping of bindings).
        """
        bindings = env if isinstance(env, dict) else env.bindings(context=self.uses_context)
        env = dict(_FUNCTIONS)
        env.update(bindings)
        try:
            result = self._compiled.evaluate(None, env)
        except jexception.JException as exc:
            raise StatesError(
                QUERY_EVALUATION,
                f"The JSONata expression '{self.source}' specified for the field '{field}' threw an error during "
                f"evaluation. {exc.error}: {_message(exc)}",
            ) from exc
        except StatesError:
            raise
        except Exception as exc:
            raise StatesError(
                QUERY_EVALUATION,
                f"The JSONata expression '{self.source}' specified for the field '{field}' threw an error during "
                f"evaluation. {exc}",
            ) from exc
        if result is None:
            if allow_undefined:
                return None
            raise StatesError(
                QUERY_EVALUATION,
                f"The JSONata expression '{self.source}' specified for the field '{field}' returned nothing "
                "(undefined).",
            )
        try:
            return to_json(result)
        except TypeError as exc:
            raise StatesError(
                QUERY_EVALUATION,
                f"The JSONata expression '{self.source}' specified for the field '{field}' returned an unsupported "
                "result type.",
            ) from exc


def _message(exc: jexception.JException) -> str:
    text = str(exc)
    return text


def to_json(value: Any) -> Any:
    """Plain JSON values from a JSONata result (sequences to lists, JSONata null to None)."""
    if value is utils.Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if isinstance(value, list):
        if getattr(value, "sequence", False) and len(value) == 1:
            return to_json(value[0])
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    raise TypeError(f"unsupported JSONata result {type(value).__name__}")


def to_jsonata(value: Any) -> Any:
    """JSON values as jsonata-python wants them bound (null kept distinct from undefined)."""
    if value is None:
        return utils.Utils.NULL_VALUE
    if isinstance(value, dict):
        return {k: to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonata(v) for v in value]
    return value


def clock_functions(now: float) -> dict[str, Any]:
    """``$now()`` and ``$millis()`` reading the engine's clock (virtual in tests), not the wall clock."""
    millis = int(now * 1000)

    def _now(picture: Any = None, timezone: Any = None) -> Any:
        return functions.Functions.datetime_from_millis(millis, picture, timezone)

    return {"now": _J.JLambda(_now), "millis": _J.JLambda(lambda: millis)}


# -- the functions Step Functions adds to JSONata -----------------------------------------------


def _fail(name: str, message: str) -> StatesError:
    return StatesError(QUERY_EVALUATION, f"{name}: {message}")


def _partition(array: Any, size: Any) -> Any:
    if not isinstance(array, list) or not isinstance(size, int | float) or size <= 0:
        raise _fail("$partition", "expects an array and a positive chunk size")
    size = int(size)
    return [list(array[i : i + size]) for i in range(0, len(array), size)]


def _range(start: Any, end: Any, step: Any) -> Any:
    call = intrinsics.Call("States.ArrayRange", [], "$range")
    return utils.Utils.create_sequence_from_iter(intrinsics.FUNCTIONS["States.ArrayRange"](call, [start, end, step]))


def _hash(data: Any, algorithm: Any) -> Any:
    call = intrinsics.Call("States.Hash", [], "$hash")
    return intrinsics.FUNCTIONS["States.Hash"](call, [data, algorithm])


def _random(*seed: Any) -> Any:
    if seed:
        return random.Random(seed[0]).random()
    return random.random()


def _uuid() -> Any:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _fail("$parse", "expects a JSON string")
    try:
        return to_jsonata(json.loads(text))
    except json.JSONDecodeError as exc:
        raise _fail("$parse", f"the string is not valid JSON: {text}") from exc


_FUNCTIONS: dict[str, Any] = {
    "partition": _J.JLambda(_partition),
    "range": _J.JLambda(_range),
    "hash": _J.JLambda(_hash),
    "random": _J.JLambda(_random),
    "uuid": _J.JLambda(_uuid),
    "parse": _J.JLambda(_parse),
}
