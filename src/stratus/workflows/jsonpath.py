"""JSONPath as Step Functions reads it.

Hand-written because Step Functions' JSONPath is its own dialect and no maintained
library matches it: AWS evaluates paths with Jayway semantics (a *definite* path such as
``$.a[0].b`` yields one value or an error naming the missing property; an *indefinite*
one, with ``*``, ``..``, slices, unions or ``[?(...)]`` filters, yields a list, possibly
empty), roots a path at the state input (``$``), the context object (``$$``) or a
variable (``$name``), and restricts ResultPath to reference paths it can write into.
jsonpath-ng (the usual Python choice) differs on each of these points and is not a
dependency of Stratus.

Paths are compiled once (:func:`compile_path`) when the definition is parsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


class JsonPathSyntaxError(ValueError):
    """The text is not a JSONPath."""


class PathNotFound(LookupError):
    """A definite path does not exist in the document (message in Jayway's words)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Step:
    kind: str  # key | index | wild | slice | union | filter | desc | length
    key: str | None = None
    index: int | None = None
    slice: tuple[int | None, int | None, int | None] | None = None
    union: tuple[str | int, ...] = ()
    filter: Any = None
    desc: Step | None = None


_MISSING = object()


@dataclass
class Path:
    """A compiled path. ``root`` is ``$`` (input), ``$$`` (context) or ``var`` (``variable`` names it)."""

    text: str
    root: str
    steps: list[Step] = field(default_factory=list)
    variable: str | None = None

    @property
    def definite(self) -> bool:
        return all(s.kind in ("key", "index", "length") for s in self.steps)

    @property
    def is_reference(self) -> bool:
        """A reference path: only named fields and array indexes (what ResultPath accepts)."""
        return all(s.kind in ("key", "index") for s in self.steps)

    # -- reading -----------------------------------------------------------------------------

    def get(self, doc: Any) -> Any:
        """The value at a definite path (raising :class:`PathNotFound`), or the list of matches."""
        if self.definite:
            return self._get_definite(doc)
        return self.find(doc)

    def _get_definite(self, doc: Any) -> Any:
        current = doc
        walked = "$"
        last = len(self.steps) - 1
        for i, step in enumerate(self.steps):
            if step.kind == "length":
                if isinstance(current, (list, str, dict)):
                    current = len(current)
                    continue
                raise PathNotFound(f"Invalid path '{self.text}' : length() on a non-array value at {walked}")
            if step.kind == "key":
                label = f"['{step.key}']"
                if not isinstance(current, dict):
                    shown = "null" if current is None else _short(current)
                    raise PathNotFound(
                        f"Expected to find an object with property {label} in path {walked} but found '{shown}'. "
                        "This is not a json object according to the JsonProvider: "
                        "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
                    )
                if step.key not in current:
                    if i == last:
                        raise PathNotFound(f"No results for path: {walked}{label}")
                    raise PathNotFound(f"Missing property in path {walked}{label}")
                current = current[step.key]
                walked += label
            else:  # index
                label = f"[{step.index}]"
                if not isinstance(current, list):
                    raise PathNotFound(f"Filter: {label} can only be applied to arrays. Current context is: {walked}")
                index = step.index if step.index is not None else 0
                if not -len(current) <= index < len(current):
                    raise PathNotFound(f"Index {index} out of bounds in path {walked}")
                current = current[index]
                walked += label
        return current

    def find(self, doc: Any) -> list[Any]:
        """Every value the path matches (an empty list when none)."""
        nodes = [doc]
        for step in self.steps:
            out: list[Any] = []
            for node in nodes:
                out.extend(_apply(step, node))
            nodes = out
        return nodes

    def exists(self, doc: Any) -> bool:
        if self.definite:
            try:
                self._get_definite(doc)
            except PathNotFound:
                return False
            return True
        return bool(self.find(doc))

    # -- writing (ResultPath) ------------------------------------------------------------------

    def set(self, doc: Any, value: Any) -> Any:
        """``doc`` with ``value`` written at this reference path (objects created as needed).

        ``doc`` is not modified: the containers along the path are copied, the rest is shared
        (the engine never mutates a value in place).
        """
        if not self.steps:
            return value
        return self._set(doc, 0, value, doc)

    def _set(self, node: Any, i: int, value: Any, doc: Any) -> Any:
        step = self.steps[i]
        final = i == len(self.steps) - 1
        if step.kind == "key":
            if not isinstance(node, dict):
                raise PathNotFound(f"Unable to apply ResultPath '{self.text}' to input '{_short(doc)}'")
            copy_ = dict(node)
            child = node.get(step.key)
            copy_[step.key] = value if final else self._set({} if child is None else child, i + 1, value, doc)
            return copy_
        index = step.index if step.index is not None else 0
        if not isinstance(node, list) or not -len(node) <= index < len(node):
            raise PathNotFound(f"Unable to apply ResultPath '{self.text}' to input '{_short(doc)}'")
        items = list(node)
        items[index] = value if final else self._set(node[index], i + 1, value, doc)
        return items


def _short(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _apply(step: Step, node: Any) -> list[Any]:
    kind = step.kind
    if kind == "key":
        if isinstance(node, dict) and step.key in node:
            return [node[step.key]]
        return []
    if kind == "index":
        if isinstance(node, list) and step.index is not None and -len(node) <= step.index < len(node):
            return [node[step.index]]
        return []
    if kind == "wild":
        if isinstance(node, dict):
            return list(node.values())
        if isinstance(node, list):
            return list(node)
        return []
    if kind == "slice":
        if isinstance(node, list) and step.slice is not None:
            start, stop, stride = step.slice
            return node[slice(start, stop, stride)]
        return []
    if kind == "union":
        out = []
        for item in step.union:
            if isinstance(item, int):
                if isinstance(node, list) and -len(node) <= item < len(node):
                    out.append(node[item])
            elif isinstance(node, dict) and item in node:
                out.append(node[item])
        return out
    if kind == "filter":
        items = node if isinstance(node, list) else ([node] if isinstance(node, dict) else [])
        return [item for item in items if _truthy(step.filter, item)]
    if kind == "length":
        return [len(node)] if isinstance(node, (list, dict, str)) else []
    if kind == "desc":
        out = []
        for sub in _descendants(node):
            assert step.desc is not None
            out.extend(_apply(step.desc, sub))
        return out
    raise AssertionError(kind)


def _descendants(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, dict):
        for v in node.values():
            out.extend(_descendants(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(_descendants(v))
    return out


# -- filter expressions -------------------------------------------------------------------------


def _truthy(expr: Any, item: Any) -> bool:
    value = _eval_filter(expr, item)
    return value is not _MISSING and value is not False and value is not None


def _eval_filter(expr: Any, item: Any) -> Any:
    op = expr[0]
    if op == "lit":
        return expr[1]
    if op == "@":
        path: Path = expr[1]
        matches = path.find(item) if not path.definite else ([path._get_definite(item)] if path.exists(item) else [])
        if not matches:
            return _MISSING
        return matches[0] if path.definite else matches
    if op == "!":
        return not _truthy(expr[1], item)
    if op == "&&":
        return _truthy(expr[1], item) and _truthy(expr[2], item)
    if op == "||":
        return _truthy(expr[1], item) or _truthy(expr[2], item)
    left = _eval_filter(expr[1], item)
    right = _eval_filter(expr[2], item)
    if left is _MISSING or right is _MISSING:
        return op == "!=" and not (left is _MISSING and right is _MISSING)
    if op == "==":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    if op == "=~":
        return isinstance(left, str) and isinstance(right, re.Pattern) and bool(right.fullmatch(left))
    if op in ("in", "nin"):
        found = isinstance(right, list) and any(_same(left, r) for r in right)
        return found if op == "in" else not found
    comparable = (_is_number(left) and _is_number(right)) or (isinstance(left, str) and isinstance(right, str))
    if not comparable:
        return False
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise AssertionError(op)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


# -- parsing ------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def compile_path(text: str) -> Path:
    """Compile ``text`` (``$...``, ``$$...`` or ``$var...``), raising :class:`JsonPathSyntaxError`."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise JsonPathSyntaxError(f"'{text}' is not a JSONPath (it must start with '$')")
    if text.startswith("$$"):
        path = Path(text, "$$")
        pos = 2
    else:
        m = _VARIABLE.match(text)
        if m:
            path = Path(text, "var", variable=m.group(1))
            pos = m.end()
        else:
            path = Path(text, "$")
            pos = 1
    steps, end = _parse_steps(text, pos, stop=None)
    if end != len(text):
        raise JsonPathSyntaxError(f"'{text}' is not a valid JSONPath (unexpected '{text[end:]}')")
    path.steps = steps
    return path


def _parse_steps(text: str, pos: int, stop: str | None) -> tuple[list[Step], int]:
    steps: list[Step] = []
    n = len(text)
    while pos < n:
        ch = text[pos]
        if stop is not None and (ch.isspace() or ch in stop):
            break
        if text.startswith("..", pos):
            pos += 2
            if pos < n and text[pos] == "[":
                inner, pos = _parse_bracket(text, pos)
            elif pos < n and text[pos] == "*":
                inner, pos = Step("wild"), pos + 1
            else:
                name, pos = _parse_name(text, pos, stop)
                inner = Step("key", key=name)
            steps.append(Step("desc", desc=inner))
        elif ch == ".":
            pos += 1
            if pos < n and text[pos] == "*":
                steps.append(Step("wild"))
                pos += 1
                continue
            name, pos = _parse_name(text, pos, stop)
            if name == "length()":
                steps.append(Step("length"))
            else:
                steps.append(Step("key", key=name))
        elif ch == "[":
            step, pos = _parse_bracket(text, pos)
            steps.append(step)
        else:
            raise JsonPathSyntaxError(f"'{text}' is not a valid JSONPath (unexpected '{ch}' at {pos})")
    return steps, pos


def _parse_name(text: str, pos: int, stop: str | None) -> tuple[str, int]:
    start = pos
    n = len(text)
    while pos < n and text[pos] not in ".[":
        if stop is not None and (text[pos].isspace() or text[pos] in stop):
            break
        if text[pos] == "(" and text.startswith("()", pos):
            pos += 2
            break
        pos += 1
    name = text[start:pos]
    if not name:
        raise JsonPathSyntaxError(f"'{text}' is not a valid JSONPath (empty field name at {start})")
    return name, pos


def _parse_bracket(text: str, pos: int) -> tuple[Step, int]:
    assert text[pos] == "["
    pos += 1
    if text.startswith("?(", pos):
        depth = 0
        i = pos + 1
        quote = None
        while i < len(text):
            c = text[i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        if i >= len(text) or not text.startswith("]", i + 1):
            raise JsonPathSyntaxError(f"'{text}' has an unterminated filter")
        expr = _FilterParser(text[pos + 2 : i], text).parse()
        return Step("filter", filter=expr), i + 2
    end = _find_close(text, pos)
    body = text[pos:end].strip()
    pos = end + 1
    if body == "*":
        return Step("wild"), pos
    parts = _split_union(body, text)
    if len(parts) == 1:
        part = parts[0]
        if isinstance(part, str):
            return Step("key", key=part), pos
        if isinstance(part, int):
            return Step("index", index=part), pos
        return Step("slice", slice=part), pos
    if any(isinstance(p, tuple) for p in parts):
        raise JsonPathSyntaxError(f"'{text}': slices cannot be combined in a union")
    return Step("union", union=tuple(p for p in parts if not isinstance(p, tuple))), pos


def _find_close(text: str, pos: int) -> int:
    quote = None
    i = pos
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "]":
            return i
        i += 1
    raise JsonPathSyntaxError(f"'{text}' has an unterminated '['")


def _split_union(body: str, text: str) -> list[Any]:
    parts: list[Any] = []
    for raw in _split_top(body, ","):
        item = raw.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            body_text = item[1:-1]
            parts.append(body_text.replace("\\'", "'") if item[0] == "'" else body_text)
        elif ":" in item:
            bits = item.split(":")
            if len(bits) > 3:
                raise JsonPathSyntaxError(f"'{text}': bad slice '[{body}]'")
            try:
                nums = [int(b) if b.strip() else None for b in bits]
            except ValueError as exc:
                raise JsonPathSyntaxError(f"'{text}': bad slice '[{body}]'") from exc
            while len(nums) < 3:
                nums.append(None)
            parts.append((nums[0], nums[1], nums[2]))
        else:
            try:
                parts.append(int(item))
            except ValueError as exc:
                raise JsonPathSyntaxError(f"'{text}': bad subscript '[{body}]'") from exc
    return parts


def _split_top(body: str, sep: str) -> list[str]:
    out, quote, start = [], None, 0
    for i, c in enumerate(body):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == sep:
            out.append(body[start:i])
            start = i + 1
    out.append(body[start:])
    return out


class _FilterParser:
    """``[?( ... )]`` expressions: comparisons of ``@``-paths and literals joined by ``&&``, ``||``, ``!``."""

    _OPS = ("==", "!=", "<=", ">=", "=~", "<", ">", " in ", " nin ")

    def __init__(self, src: str, whole: str) -> None:
        self.src = src
        self.pos = 0
        self.whole = whole

    def error(self, what: str) -> JsonPathSyntaxError:
        return JsonPathSyntaxError(f"'{self.whole}': bad filter expression ({what})")

    def skip(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos].isspace():
            self.pos += 1

    def parse(self) -> Any:
        expr = self.parse_or()
        self.skip()
        if self.pos != len(self.src):
            raise self.error(f"unexpected '{self.src[self.pos :]}'")
        return expr

    def parse_or(self) -> Any:
        left = self.parse_and()
        while True:
            self.skip()
            if self.src.startswith("||", self.pos):
                self.pos += 2
                left = ("||", left, self.parse_and())
            else:
                return left

    def parse_and(self) -> Any:
        left = self.parse_unary()
        while True:
            self.skip()
            if self.src.startswith("&&", self.pos):
                self.pos += 2
                left = ("&&", left, self.parse_unary())
            else:
                return left

    def parse_unary(self) -> Any:
        self.skip()
        if self.src.startswith("!", self.pos) and not self.src.startswith("!=", self.pos):
            self.pos += 1
            return ("!", self.parse_unary())
        if self.src.startswith("(", self.pos):
            self.pos += 1
            expr = self.parse_or()
            self.skip()
            if not self.src.startswith(")", self.pos):
                raise self.error("missing ')'")
            self.pos += 1
            return expr
        left = self.parse_operand()
        self.skip()
        for op in self._OPS:
            if self.src.startswith(op, self.pos):
                self.pos += len(op)
                return (op.strip(), left, self.parse_operand())
        return left

    def parse_operand(self) -> Any:
        self.skip()
        src, pos = self.src, self.pos
        if pos >= len(src):
            raise self.error("missing operand")
        c = src[pos]
        if c == "@":
            steps, end = _parse_steps(src, pos + 1, stop=" =!<>&|)")
            self.pos = end
            return ("@", Path("@" + src[pos + 1 : end], "@", steps))
        if c in "'\"":
            end = src.find(c, pos + 1)
            if end < 0:
                raise self.error("unterminated string")
            self.pos = end + 1
            return ("lit", src[pos + 1 : end])
        if c == "/":
            end = src.rfind("/")
            if end <= pos:
                raise self.error("unterminated regular expression")
            flags = 0
            self.pos = end + 1
            if src.startswith("i", self.pos):
                flags = re.IGNORECASE
                self.pos += 1
            return ("lit", re.compile(src[pos + 1 : end], flags))
        if c == "[":
            end = src.find("]", pos)
            self.pos = end + 1
            return ("lit", json.loads(src[pos : end + 1].replace("'", '"')))
        m = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(src, pos)
        if not m:
            raise self.error(f"unexpected '{src[pos:]}'")
        self.pos = m.end()
        return ("lit", json.loads(m.group(0)))
