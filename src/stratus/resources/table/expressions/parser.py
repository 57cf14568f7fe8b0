"""The tokenizer and the shared parts of DynamoDB's expression parsers.

Why by hand: DynamoDB's expression grammar is small (paths, placeholders, a few
operators and functions) but its error messages are specific (``Syntax error; token:
"x", near: "a x b"``, reserved keywords, undefined placeholders), and a parser
generator would add a dependency and still need this error layer. A regular-expression
tokenizer and recursive descent give exact messages in a few hundred lines.

Each parser resolves ``#name`` placeholders while parsing and leaves ``:value``
placeholders as :class:`~stratus.resources.table.expressions.operands.ValueRef` nodes,
so the parse of ``(text, names)`` can be cached and bound to new values cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.table.expressions.messages import (
    MAX_EXPRESSION_BYTES,
    invalid,
    reserved_word,
    syntax_error,
    undefined_name,
    undefined_value,
    unused,
)
from stratus.resources.table.expressions.operands import PathOperand, ValueRef
from stratus.resources.table.expressions.paths import MAX_PATH_DEPTH, Path
from stratus.resources.table.expressions.reserved import is_reserved
from stratus.resources.table.values import validate_value

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<namevar>\#[A-Za-z0-9_]+)
  | (?P<valuevar>:[A-Za-z0-9_]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>[0-9]+)
  | (?P<op><>|<=|>=|=|<|>)
  | (?P<punct>[(),.\[\]+\-])
    """,
    re.VERBOSE,
)

#: Words the grammars use as operators (all of them are also reserved words).
KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, namevar, valuevar, num, op, punct, eof, bad
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split expression text into tokens; unknown characters become ``bad`` tokens, EOF closes the list."""
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    while pos < size:
        match = _TOKEN.match(text, pos)
        if match is None:
            tokens.append(Token("bad", text[pos], pos, pos + 1))
            pos += 1
            continue
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos, match.end()))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", size, size))
    return tokens


def check_names(names: Mapping[str, str] | None) -> dict[str, str]:
    """Check ExpressionAttributeNames: keys ``#...``, values non-empty strings."""
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise ValidationError("ExpressionAttributeNames must be a mapping of '#placeholder' to attribute name")
    for key, value in names.items():
        if not isinstance(key, str) or not _NAME_KEY.fullmatch(key):
            raise ValidationError(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
        if not isinstance(value, str) or not value:
            raise ValidationError(
                f"ExpressionAttributeNames contains invalid value: Empty attribute name; for key: {key}"
            )
    return dict(names)


def check_values(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ExpressionAttributeValues: keys ``:...``, values valid DynamoDB values (normalized)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationError("ExpressionAttributeValues must be a mapping of ':placeholder' to value")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _VALUE_KEY.fullmatch(key):
            raise ValidationError(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
        out[key] = validate_value(value, path=key)
    return out


def check_text(text: object, kind: str) -> str:
    if not isinstance(text, str):
        raise ValidationError(f"{kind} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise invalid(kind, "The expression can not be empty;")
    size = len(text.encode("utf-8"))
    if size > MAX_EXPRESSION_BYTES:
        raise invalid(kind, f"Expression size has exceeded the maximum allowed size; expression size: {size}")
    return text


def check_unused(
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    *expressions: Any,
) -> None:
    """Refuse names or values that none of a request's expressions uses, as DynamoDB does.

    Each expression exposes ``names_used`` and ``values_used`` (every parsed
    expression does). Use this when one request carries several expressions sharing
    the two maps, and parse each with ``check_unused=False``.
    """
    names_used: set[str] = set()
    values_used: set[str] = set()
    for expression in expressions:
        if expression is None:
            continue
        names_used |= expression.names_used
        values_used |= expression.values_used
    extra_names = set(names or ()) - names_used
    if extra_names:
        raise unused("ExpressionAttributeNames", extra_names)
    extra_values = set(values or ()) - values_used
    if extra_values:
        raise unused("ExpressionAttributeValues", extra_values)


def bind_values(kind: str, values_used: tuple[str, ...], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check that every placeholder used is defined; return the validated values."""
    checked = check_values(values)
    for name in values_used:
        if name not in checked:
            raise undefined_value(kind, name)
    return checked


class Parser:
    """Token cursor with the pieces every expression grammar shares (paths, placeholders, errors)."""

    def __init__(self, text: str, kind: str, names: Mapping[str, str]) -> None:
        self.text = text
        self.kind = kind
        self.names = names
        self.tokens = tokenize(text)
        self.pos = 0
        self.names_used: set[str] = set()
        #: Value placeholders in order of first use.
        self.values_used: dict[str, None] = {}

    # -- cursor --------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        index = min(self.pos + offset, len(self.tokens) - 1)
        return self.tokens[index]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def is_punct(self, text: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "punct" and token.text == text

    def is_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "name" and token.text.upper() == word

    def is_call(self) -> bool:
        return self.peek().kind == "name" and self.is_punct("(", 1)

    def expect_punct(self, text: str) -> Token:
        if not self.is_punct(text):
            raise self.error()
        return self.advance()

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.error()
        return self.advance()

    def expect_end(self) -> None:
        if self.peek().kind != "eof":
            raise self.error()

    def error(self, token: Token | None = None) -> ValidationError:
        """A syntax error at ``token`` (default: the current one), quoting the text around it."""
        if token is None:
            token = self.peek()
        index = self.tokens.index(token)
        before = self.tokens[index - 1] if index > 0 else token
        after = self.tokens[index + 1] if index + 1 < len(self.tokens) else token
        start = before.start
        end = after.end if after.kind != "eof" else len(self.text)
        near = self.text[start:end] if token.kind != "eof" else self.text[start:].rstrip()
        return syntax_error(self.kind, token.text, near)

    # -- shared grammar ------------------------------------------------------------------------

    def path_element(self) -> str:
        token = self.peek()
        if token.kind == "namevar":
            self.advance()
            if token.text not in self.names:
                raise undefined_name(self.kind, token.text)
            self.names_used.add(token.text)
            return self.names[token.text]
        if token.kind == "name":
            if token.text.upper() in KEYWORDS:
                raise self.error()
            if is_reserved(token.text):
                raise reserved_word(self.kind, token.text)
            self.advance()
            return token.text
        raise self.error()

    def path(self) -> Path:
        """``name ( '.' name | '[' digits ']' )*`` with ``#name`` placeholders resolved."""
        elements: list[str | int] = [self.path_element()]
        while True:
            if self.is_punct("."):
                self.advance()
                elements.append(self.path_element())
            elif self.is_punct("["):
                self.advance()
                token = self.peek()
                if token.kind != "num":
                    raise self.error()
                self.advance()
                self.expect_punct("]")
                elements.append(int(token.text))
            else:
                break
            if len(elements) > MAX_PATH_DEPTH:
                raise invalid(
                    self.kind, f"The document path has too many nesting levels; nesting levels: {len(elements)}"
                )
        return Path(elements)

    def path_operand(self) -> PathOperand:
        return PathOperand(self.path())

    def value_ref(self) -> ValueRef:
        token = self.advance()
        assert token.kind == "valuevar"
        self.values_used.setdefault(token.text, None)
        return ValueRef(token.text)
