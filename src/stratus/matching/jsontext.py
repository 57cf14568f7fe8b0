"""Reading rule text (event patterns, filter policies) the way AWS's Jackson-based parsers do.

AWS reports a malformed rule with Jackson's wording (``Unrecognized token 'this': was expecting ...``),
and Jackson differs from :mod:`json` in what it accepts: it stops after the root value (trailing text is
ignored), rejects ``NaN``/``Infinity``, and keeps the last of duplicate keys. :func:`loads` parses with
:mod:`json` (fast, C) and only when that fails walks the text with a small scanner that names the first
error the way Jackson would. No Python library reproduces Jackson's messages, hence this module.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.matching.errors import PatternError

#: Jackson's default limit on nesting (AWS parses rules with it).
MAX_NESTING_DEPTH = 1000
_EXPECTED_VALUE = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_decoder = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))


def _reject_constant(name: str) -> Any:
    raise PatternError(f"Non-standard token '{name}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow")


def loads(text: str) -> Any:
    """Parse the first JSON value of ``text``; raise :class:`PatternError` with Jackson's wording if malformed."""
    start = _skip_ws(text, 0)
    if start >= len(text):
        raise PatternError("No content to map due to end-of-input")
    try:
        value, _end = _decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        try:
            reason = _Scanner(text).first_error()
        except RecursionError:
            reason = None
        raise PatternError(reason or exc.msg) from None
    except RecursionError:  # deeper than Python's parser goes: far beyond Jackson's limit of 1000 too
        raise PatternError(
            f"Document nesting depth exceeds the maximum allowed ({MAX_NESTING_DEPTH}, from "
            "`StreamReadConstraints.getMaxNestingDepth()`)"
        ) from None
    return value


def check_root_is_object(text: str) -> None:
    """Reject text whose first token does not open an object, as Ruler does before reading further.

    A bare word is a tokenizer error (``Unrecognized token``); any other well-formed first token that is not
    ``{`` is ``Filter is not an object``.
    """
    start = _skip_ws(text, 0)
    if start >= len(text):
        raise PatternError("No content to map due to end-of-input")
    c = text[start]
    if c == "{":
        return
    if c.isalpha() or c in "_$":
        scanner = _Scanner(text)
        scanner.i = start
        scanner._token()
    elif c not in '["-' and not c.isdigit():
        raise PatternError(f"Unexpected character ({_char(c)}): expected a valid value {_EXPECTED_VALUE}")
    raise PatternError("Filter is not an object")


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    return i


def _char(c: str) -> str:
    return f"'{c}' (code {ord(c)})"


class _Scanner:
    """Walks JSON text only to find and describe its first error, in Jackson's words."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING_DEPTH:
            raise PatternError(
                f"Document nesting depth ({self.depth}) exceeds the maximum allowed ({MAX_NESTING_DEPTH}, from "
                "`StreamReadConstraints.getMaxNestingDepth()`)"
            )

    def first_error(self) -> str | None:
        try:
            self.i = _skip_ws(self.text, 0)
            self._value()
        except PatternError as exc:
            return exc.reason
        return None

    def _peek(self) -> str | None:
        self.i = _skip_ws(self.text, self.i)
        return self.text[self.i] if self.i < len(self.text) else None

    def _value(self) -> None:
        c = self._peek()
        if c is None:
            raise PatternError("Unexpected end-of-input: expected a value")
        if c == "{":
            self._object()
        elif c == "[":
            self._array()
        elif c == '"':
            self._string()
        elif c == "-" or c.isdigit():
            self._number()
        elif c.isalpha() or c in "_$":
            self._token()
        else:
            raise PatternError(f"Unexpected character ({_char(c)}): expected a valid value {_EXPECTED_VALUE}")

    def _token(self) -> None:
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isalnum() or self.text[self.i] in "_$"):
            self.i += 1
        word = self.text[start : self.i]
        if word in ("true", "false", "null"):
            return
        if word in ("NaN", "Infinity"):
            _reject_constant(word)
        raise PatternError(f"Unrecognized token '{word}': was expecting {_EXPECTED_VALUE}")

    def _string(self) -> None:
        self.i += 1
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if c == '"':
                self.i += 1
                return
            if c == "\\":
                nxt = text[self.i + 1] if self.i + 1 < len(text) else ""
                if nxt == "u":
                    digits = text[self.i + 2 : self.i + 6]
                    if len(digits) < 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                        raise PatternError("Unexpected character in unicode escape: expected a hex-digit")
                    self.i += 6
                    continue
                if nxt and nxt not in '"\\/bfnrt':
                    raise PatternError(f"Unrecognized character escape {_char(nxt)}")
                self.i += 2
                continue
            if ord(c) < 32:
                raise PatternError(
                    f"Illegal unquoted character ((CTRL-CHAR, code {ord(c)})): has to be escaped using backslash "
                    "to be included in string value"
                )
            self.i += 1
        raise PatternError("Unexpected end-of-input: was expecting closing quote for a string value")

    def _number(self) -> None:
        text = self.text
        if text[self.i] == "-":
            self.i += 1
            if self.i >= len(text) or not text[self.i].isdigit():
                c = text[self.i] if self.i < len(text) else " "
                raise PatternError(
                    f"Unexpected character ({_char(c)}) in numeric value: expected digit (0-9) to follow minus sign, "
                    "for valid numeric value"
                )
        if text[self.i] == "0" and self.i + 1 < len(text) and text[self.i + 1].isdigit():
            raise PatternError("Invalid numeric value: Leading zeroes not allowed")
        while self.i < len(text) and (text[self.i].isdigit() or text[self.i] in ".eE+-"):
            self.i += 1

    def _object(self) -> None:
        self._enter()
        self.i += 1
        c = self._peek()
        if c == "}":
            self.i += 1
            self.depth -= 1
            return
        while True:
            c = self._peek()
            if c is None:
                raise PatternError("Unexpected end-of-input: expected close marker for Object")
            if c != '"':
                raise PatternError(f"Unexpected character ({_char(c)}): was expecting double-quote to start field name")
            self._string()
            c = self._peek()
            if c != ":":
                if c is None:
                    raise PatternError("Unexpected end-of-input: expected close marker for Object")
                raise PatternError(
                    f"Unexpected character ({_char(c)}): was expecting a colon to separate field name and value"
                )
            self.i += 1
            self._value()
            c = self._peek()
            if c == ",":
                self.i += 1
                continue
            if c == "}":
                self.i += 1
                self.depth -= 1
                return
            if c is None:
                raise PatternError("Unexpected end-of-input: expected close marker for Object")
            raise PatternError(f"Unexpected character ({_char(c)}): was expecting comma to separate Object entries")

    def _array(self) -> None:
        self._enter()
        self.i += 1
        if self._peek() == "]":
            self.i += 1
            self.depth -= 1
            return
        while True:
            self._value()
            c = self._peek()
            if c == ",":
                self.i += 1
                continue
            if c == "]":
                self.i += 1
                self.depth -= 1
                return
            if c is None:
                raise PatternError("Unexpected end-of-input: expected close marker for Array")
            raise PatternError(f"Unexpected character ({_char(c)}): was expecting comma to separate Array entries")
