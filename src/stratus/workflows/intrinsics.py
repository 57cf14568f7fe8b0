"""The intrinsic functions of Amazon States Language (``States.Format(...)``, ``States.Hash(...)``...).

Hand-written: the intrinsic-function syntax (single-quoted strings with ``\\'``, ``\\{``,
``\\}`` and ``\\\\`` escapes, JSONPath arguments, nested calls) exists only in ASL, and
the functions must behave as AWS's Java implementation does (``Math.round`` rounding in
``MathAdd``, Java ``Map.toString`` in ``Format``, ``StringSplit`` splitting on any of
the delimiter characters). Expressions are parsed once, at definition load.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from stratus.workflows.errors import INTRINSIC_FAILURE, RUNTIME, StatesError
from stratus.workflows.jsonpath import JsonPathSyntaxError, Path, compile_path


class IntrinsicSyntaxError(ValueError):
    """The text is not a valid intrinsic function call."""


@dataclass
class Call:
    name: str
    args: list[Any]  # Literal | Path | Call
    text: str


@dataclass
class Literal:
    value: Any


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


def compile_intrinsic(text: str) -> Call:
    parser = _Parser(text)
    call = parser.call()
    parser.skip()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"'{text}': unexpected text after the function call: '{text[parser.pos :]}'")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> Call:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "."):
            self.pos += 1
        name = self.text[start : self.pos]
        if name not in FUNCTIONS:
            raise IntrinsicSyntaxError(f"'{self.text}': unknown intrinsic function '{name}'")
        self.skip()
        if not self.text.startswith("(", self.pos):
            raise IntrinsicSyntaxError(f"'{self.text}': expected '(' after {name}")
        self.pos += 1
        args: list[Any] = []
        self.skip()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            empty = Call(name, args, self.text[start : self.pos])
            _check_arity(empty, self.text)
            return empty
        while True:
            args.append(self.arg())
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                break
            raise IntrinsicSyntaxError(f"'{self.text}': expected ',' or ')' at position {self.pos}")
        call = Call(name, args, self.text[start : self.pos])
        _check_arity(call, self.text)
        return call

    def arg(self) -> Any:
        self.skip()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise IntrinsicSyntaxError(f"'{text}': missing argument")
        c = text[pos]
        if c == "'":
            out = []
            i = pos + 1
            while i < len(text):
                ch = text[i]
                if ch == "\\" and i + 1 < len(text):
                    out.append("\\" + text[i + 1] if text[i + 1] in "{}" else text[i + 1])
                    i += 2
                    continue
                if ch == "'":
                    self.pos = i + 1
                    return Literal("".join(out))
                out.append(ch)
                i += 1
            raise IntrinsicSyntaxError(f"'{text}': unterminated string")
        if c == "$":
            depth, i, quote = 0, pos, None
            while i < len(text):
                ch = text[i]
                if quote:
                    if ch == quote:
                        quote = None
                elif ch in "'\"" and depth > 0:
                    quote = ch
                elif ch in "[(":
                    depth += 1
                elif ch in "])":
                    if depth == 0:
                        break
                    depth -= 1
                elif ch == "," and depth == 0:
                    break
                i += 1
            raw = text[pos:i].strip()
            self.pos = i
            try:
                return compile_path(raw)
            except JsonPathSyntaxError as exc:
                raise IntrinsicSyntaxError(f"'{text}': {exc}") from exc
        if text.startswith("States.", pos):
            return self.call()
        end = pos
        while end < len(text) and text[end] not in ",)":
            end += 1
        raw = text[pos:end].strip()
        self.pos = end
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise IntrinsicSyntaxError(f"'{text}': bad argument '{raw}'") from exc
        if isinstance(value, (dict, list)):
            raise IntrinsicSyntaxError(f"'{text}': bad argument '{raw}'")
        return Literal(value)


_ARITY: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}


def _check_arity(call: Call, text: str) -> None:
    low, high = _ARITY[call.name]
    n = len(call.args)
    if n < low or (high is not None and n > high):
        want = f"{low}" if low == high else (f"at least {low}" if high is None else f"{low} to {high}")
        raise IntrinsicSyntaxError(f"'{text}': {call.name} takes {want} argument(s), got {n}")


# -- evaluation ---------------------------------------------------------------------------------


class Scope:
    """What an expression can read: the state input ($), the context object ($$) and variables.

    ``context`` may be a zero-argument callable that builds the context object when first read.
    """

    def __init__(self, doc: Any, context: Any, variables: dict[str, Any]) -> None:
        self.doc = doc
        self.context = context
        self.variables = variables

    def root(self, path: Path) -> Any:
        if path.root == "$$":
            if callable(self.context):  # the context object, built on first use
                self.context = self.context()
            return self.context
        if path.root == "var":
            assert path.variable is not None
            if path.variable not in self.variables:
                raise StatesError(RUNTIME, f"The variable '${path.variable}' is not defined")
            return self.variables[path.variable]
        return self.doc

    def read(self, path: Path) -> Any:
        return path.get(self.root(path))


def evaluate(call: Call, scope: Scope) -> Any:
    """The call's value; raises StatesError (States.IntrinsicFailure) or PathNotFound (an argument path)."""
    args = []
    for arg in call.args:
        if isinstance(arg, Literal):
            args.append(arg.value)
        elif isinstance(arg, Call):
            args.append(evaluate(arg, scope))
        else:
            args.append(scope.read(arg))  # PathNotFound: the caller names the field
    return FUNCTIONS[call.name](call, args)


def _fail(call: Call, message: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, f"Invalid arguments in {call.name}: {message}")


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def java_string(value: Any) -> str:
    """How AWS's Java runtime prints a value inside States.Format."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def _format(call: Call, args: list[Any]) -> Any:
    template = args[0]
    if not isinstance(template, str):
        raise _fail(call, "the first argument must be a string")
    values = args[1:]
    out = []
    i = 0
    used = 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and i + 1 < len(template) and template[i + 1] in "{}":
            out.append(template[i + 1])
            i += 2
            continue
        if template.startswith("{}", i):
            if used >= len(values):
                raise _fail(call, "the number of arguments does not match the number of placeholders")
            out.append(java_string(values[used]))
            used += 1
            i += 2
            continue
        out.append(ch)
        i += 1
    if used != len(values):
        raise _fail(call, "the number of arguments does not match the number of placeholders")
    return "".join(out)


def _string_to_json(call: Call, args: list[Any]) -> Any:
    text = args[0]
    if not isinstance(text, str):
        raise _fail(call, "the argument must be a string")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(call, f"the string is not valid JSON: {text}") from exc
    if isinstance(value, float) and value == 0:
        return 0
    return value


def _json_to_string(call: Call, args: list[Any]) -> Any:
    return json.dumps(args[0], separators=(",", ":"), ensure_ascii=False)


def _array(call: Call, args: list[Any]) -> Any:
    return list(args)


def _array_partition(call: Call, args: list[Any]) -> Any:
    array, size = args
    if not isinstance(array, list):
        raise _fail(call, "the first argument must be an array")
    if not _is_int(size) or size <= 0:
        raise _fail(call, "the chunk size must be a positive integer")
    size = int(size)
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(call: Call, args: list[Any]) -> Any:
    array, value = args
    if not isinstance(array, list):
        raise _fail(call, "the first argument must be an array")
    return any(_json_equal(item, value) for item in array)


def _json_equal(a: Any, b: Any) -> bool:
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _array_range(call: Call, args: list[Any]) -> Any:
    if not all(_is_int(a) for a in args):
        raise _fail(call, "the start, end and step must be integers")
    start, end, step = (int(a) for a in args)
    if step == 0:
        raise _fail(call, "the step cannot be 0")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise _fail(call, "the result would have more than 1000 items")
    return values


def _array_get_item(call: Call, args: list[Any]) -> Any:
    array, index = args
    if not isinstance(array, list):
        raise _fail(call, "the first argument must be an array")
    if not _is_int(index) or not 0 <= int(index) < len(array):
        raise _fail(call, f"the index {index} is out of bounds")
    return array[int(index)]


def _array_length(call: Call, args: list[Any]) -> Any:
    if not isinstance(args[0], list):
        raise _fail(call, "the argument must be an array")
    return len(args[0])


def _array_unique(call: Call, args: list[Any]) -> Any:
    if not isinstance(args[0], list):
        raise _fail(call, "the argument must be an array")
    out: list[Any] = []
    for item in args[0]:
        if not any(_json_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _b64encode(call: Call, args: list[Any]) -> Any:
    if not isinstance(args[0], str):
        raise _fail(call, "the argument must be a string")
    if len(args[0]) > 10000:
        raise _fail(call, "the string is longer than 10000 characters")
    return base64.b64encode(args[0].encode()).decode()


def _b64decode(call: Call, args: list[Any]) -> Any:
    if not isinstance(args[0], str):
        raise _fail(call, "the argument must be a string")
    if len(args[0]) > 10000:
        raise _fail(call, "the string is longer than 10000 characters")
    try:
        return base64.b64decode(args[0], validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(call, "the argument is not valid base64") from exc


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(call: Call, args: list[Any]) -> Any:
    data, algorithm = args
    if algorithm not in _HASHES:
        raise _fail(call, f"the hash algorithm '{algorithm}' is not one of: {', '.join(_HASHES)}")
    if data is None:
        raise _fail(call, "the data cannot be null")
    text = data if isinstance(data, str) else java_string(data)
    if len(text) > 10000:
        raise _fail(call, "the data is longer than 10000 characters")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _json_merge(call: Call, args: list[Any]) -> Any:
    left, right, deep = args
    if not isinstance(left, dict) or not isinstance(right, dict):
        raise _fail(call, "the first two arguments must be JSON objects")
    if not isinstance(deep, bool):
        raise _fail(call, "the third argument must be a boolean")
    if deep:
        raise _fail(call, "deep merging is not supported; the third argument must be false")
    merged = dict(left)
    merged.update(right)
    return merged


def _math_random(call: Call, args: list[Any]) -> Any:
    if not all(_is_num(a) for a in args):
        raise _fail(call, "the arguments must be numbers")
    start, end = int(args[0]), int(args[1])
    if start > end:
        raise _fail(call, "the start must not be greater than the end")
    rng = random.Random(int(args[2])) if len(args) == 3 else random
    return rng.randint(start, end - 1) if end > start else start


def _java_round(value: float) -> int:
    return math.floor(value + 0.5)


def _math_add(call: Call, args: list[Any]) -> Any:
    if not all(_is_num(a) for a in args):
        raise _fail(call, "the arguments must be numbers")
    return _java_round(args[0]) + _java_round(args[1])


def _string_split(call: Call, args: list[Any]) -> Any:
    text, delimiters = args
    if not isinstance(text, str) or not isinstance(delimiters, str):
        raise _fail(call, "the arguments must be strings")
    parts = [text]
    for d in delimiters:
        parts = [piece for part in parts for piece in part.split(d)]
    return [p for p in parts if p != ""]


def _uuid(call: Call, args: list[Any]) -> Any:
    return str(uuid.uuid4())


FUNCTIONS: dict[str, Any] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _b64encode,
    "States.Base64Decode": _b64decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
