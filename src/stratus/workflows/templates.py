"""Payload templates: Parameters, ResultSelector, ItemSelector and Assign (JSONPath), and
Arguments, Output, Assign and any other field holding ``{% %}`` expressions (JSONata).

A template is compiled once into a small tree; evaluating it against an :class:`Env`
builds the JSON value. In JSONPath templates a key ending in ``.$`` takes its value from
a path (``$.x``, ``$$.x``, ``$var.x``) or an intrinsic function; in JSONata templates any
string of the form ``{% ... %}`` is an expression.
"""

from __future__ import annotations

from typing import Any

from stratus import jsontext
from stratus.workflows import intrinsics
from stratus.workflows.errors import RUNTIME, Problems, StatesError
from stratus.workflows.jsonata_expr import Expression, JsonataSyntaxError, clock_functions, is_expression, to_jsonata
from stratus.workflows.jsonpath import JsonPathSyntaxError, Path, PathNotFound, compile_path

_COMPACT = jsontext.compact


class Env:
    """Everything an expression in a state can read.

    ``context`` may be given as a zero-argument callable: the context object is then only
    built when an expression reads ``$$`` or ``$states.context``.
    """

    def __init__(
        self,
        doc: Any,
        context: Any,
        variables: dict[str, Any],
        extra: dict[str, Any] | None = None,
        *,
        now: float | None = None,
    ) -> None:
        self.doc = doc  # what ``$`` means (JSONPath) / ``$states.input`` (JSONata)
        self._context = context
        self.variables = variables
        self.extra = extra or {}  # result / errorOutput for JSONata
        self.now = now  # the engine's clock, for JSONata's $now() and $millis()

    @property
    def context(self) -> Any:
        if callable(self._context):
            self._context = self._context()
        return self._context

    def scope(self) -> intrinsics.Scope:
        return intrinsics.Scope(self.doc, lambda: self.context, self.variables)

    def bindings(self, *, context: bool = True) -> dict[str, Any]:
        """JSONata bindings: ``$states`` (without ``context`` when the expression cannot read it) and variables."""
        states = {"input": self.doc, "context": self.context} if context else {"input": self.doc}
        states.update(self.extra)
        out = {k: to_jsonata(v) for k, v in self.variables.items()}
        out["states"] = to_jsonata(states)
        if self.now is not None:
            out.update(clock_functions(self.now))
        return out


def type_name(value: Any) -> str:
    """A JSON value's type as AWS names it in error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


#: the text of the last few objects serialized, by identity: a state's output is written into its
#: exit event, checked against the size limit and written into the next state's entry event, and
#: values are never modified in place once built (see ``Path.set``), so each is encoded once
_RECENT: dict[int, tuple[Any, str]] = {}
_RECENT_MAX = 64


def compact(value: Any) -> str:
    """Compact JSON text of ``value`` (containers are remembered by identity for a few calls)."""
    if not isinstance(value, dict | list):
        return _COMPACT(value)
    key = id(value)
    hit = _RECENT.get(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    text = _COMPACT(value)
    if len(_RECENT) >= _RECENT_MAX:
        _RECENT.clear()
    _RECENT[key] = (value, text)
    return text


def not_found(path_text: str, field_name: str, doc: Any) -> StatesError:
    return StatesError(
        RUNTIME,
        f"The JSONPath '{path_text}' specified for the field '{field_name}' could not be found in the input "
        f"'{compact(doc)}'",
    )


def read_path(path: Path, env: Env, field_name: str) -> Any:
    """A ``.$`` value: its path read from the input, the context object or a variable."""
    try:
        return env.scope().read(path)
    except PathNotFound as exc:
        raise not_found(path.text, field_name, env.doc) from exc


def call_intrinsic(call: intrinsics.Call, env: Env, field_name: str) -> Any:
    """A ``.$`` value computed by an intrinsic function."""
    try:
        return intrinsics.evaluate(call, env.scope())
    except PathNotFound as exc:
        raise not_found(call.text, field_name, env.doc) from exc


class Template:
    """A compiled template; ``evaluate(env)`` builds the value."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def evaluate(self, env: Env) -> Any:
        return _eval(self.node, env)


def compile_jsonpath_template(value: Any, where: str, problems: Problems) -> Template:
    return Template(_compile_jp(value, where, problems))


def _compile_jp(value: Any, where: str, problems: Problems) -> Any:
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = []
        for key, sub in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                name = key[:-2]
                if not isinstance(sub, str):
                    problems.add(f"{where}/{key}", "the value of a '.$' field must be a string (a path or function)")
                    continue
                if intrinsics.is_intrinsic(sub):
                    try:
                        items.append((name, ("intrinsic", intrinsics.compile_intrinsic(sub), key)))
                    except intrinsics.IntrinsicSyntaxError as exc:
                        problems.add(f"{where}/{key}", f"{exc}")
                    continue
                try:
                    items.append((name, ("path", compile_path(sub), key)))
                except JsonPathSyntaxError as exc:
                    problems.add(f"{where}/{key}", f"{exc}")
            else:
                items.append((key, _compile_jp(sub, f"{where}/{key}", problems)))
        return ("dict", items)
    if isinstance(value, list):
        return ("list", [_compile_jp(v, f"{where}[{i}]", problems) for i, v in enumerate(value)])
    return ("lit", value)


def compile_jsonata_template(value: Any, where: str, field_name: str, problems: Problems) -> Template:
    return Template(_compile_ja(value, where, field_name, problems))


def _compile_ja(value: Any, where: str, field_name: str, problems: Problems) -> Any:
    if is_expression(value):
        try:
            return ("jsonata", Expression(value), field_name)
        except JsonataSyntaxError as exc:
            problems.add(where, f"{exc}")
            return ("lit", None)
    if isinstance(value, dict):
        return (
            "dict",
            [(k, _compile_ja(v, f"{where}/{k}", f"{field_name}/{k}", problems)) for k, v in value.items()],
        )
    if isinstance(value, list):
        return ("list", [_compile_ja(v, f"{where}[{i}]", f"{field_name}[{i}]", problems) for i, v in enumerate(value)])
    return ("lit", value)


def has_jsonata(value: Any) -> bool:
    if is_expression(value):
        return True
    if isinstance(value, dict):
        return any(has_jsonata(v) for v in value.values())
    if isinstance(value, list):
        return any(has_jsonata(v) for v in value)
    return False


def _eval(node: Any, env: Env) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "dict":
        return {k: _eval(sub, env) for k, sub in node[1]}
    if kind == "list":
        return [_eval(sub, env) for sub in node[1]]
    if kind == "path":
        return read_path(node[1], env, node[2])
    if kind == "intrinsic":
        return call_intrinsic(node[1], env, node[2])
    if kind == "jsonata":
        return node[1].evaluate(env, node[2])
    raise AssertionError(kind)
