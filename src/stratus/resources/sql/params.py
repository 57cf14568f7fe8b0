"""Named ``:name`` parameters, one style for both adapters.

SQLite understands ``:name`` itself; psycopg wants ``%(name)s``. The translation has to
know SQL's lexical structure so that it rewrites only real parameters: ``::`` casts,
text inside '...' (and E'...' escapes), "quoted identifiers", $tag$dollar quotes$tag$,
``--`` and nested ``/* */`` comments are copied as they are, and every literal ``%``
is doubled for psycopg. No library does this for PostgreSQL's dialect (sqlparse
tokenizes but is slow and does not rewrite), so it is a small hand-written scanner,
run once per distinct statement text (results are cached).

Limitation: ``arr[lo:hi]`` slices with a name after the colon look like parameters;
write ``arr[lo : hi]`` with spaces (a ``:`` followed by a space is never a parameter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from stratus.errors import ValidationError

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: The Python types a parameter may have, on both adapters.
VALUE_TYPES = (type(None), bool, int, float, str, bytes, Decimal, datetime, date)


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL text, scanned once: its parameter names and its psycopg form."""

    text: str
    #: Parameter names in order of first use.
    names: tuple[str, ...]
    #: The text with ``%(name)s`` placeholders and ``%`` doubled (for psycopg).
    pyformat: str


@lru_cache(maxsize=2048)
def compile_statement(sql: str) -> Statement:
    """Scan ``sql`` for ``:name`` parameters (see the module docstring for what is skipped)."""
    out: list[str] = []
    names: dict[str, None] = {}
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _is_ident_char(sql[i - 2]))
            end = _end_of_quoted(sql, i, "'", backslash=escapes)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == '"':
            end = _end_of_quoted(sql, i, '"', backslash=False)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "/" and sql.startswith("/*", i):
            end = _end_of_block_comment(sql, i)
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "$" and (i == 0 or not _is_ident_char(sql[i - 1])) and (tag := _DOLLAR_TAG.match(sql, i)):
            close = sql.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == ":":
            if sql.startswith("::", i):
                out.append("::")
                i += 2
            elif (m := _IDENT.match(sql, i + 1)) is not None:
                names[m.group()] = None
                out.append(f"%({m.group()})s")
                i = m.end()
            else:
                out.append(":")
                i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return Statement(sql, tuple(names), "".join(out))


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_$"


def _end_of_quoted(sql: str, start: int, quote: str, *, backslash: bool) -> int:
    """Index just past the quote closing the literal opened at ``start`` (doubled quotes stay inside)."""
    i, n = start + 1, len(sql)
    while i < n:
        c = sql[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def _end_of_block_comment(sql: str, start: int) -> int:
    depth, i, n = 0, start, len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def bind(statement: Statement, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The values ``statement`` needs from ``params``, checked; extra keys are ignored."""
    if params is None:
        params = {}
    elif not isinstance(params, Mapping):
        raise ValidationError(f"SQL parameters must be a dict of name -> value, got {type(params).__name__}")
    values: dict[str, Any] = {}
    missing = [name for name in statement.names if name not in params]
    if missing:
        raise ValidationError(f"no value given for SQL parameter {', '.join(':' + m for m in missing)}")
    for name in statement.names:
        values[name] = check_value(name, params[name])
    return values


def check_value(name: str, value: Any) -> Any:
    """``value`` if both adapters can store it, else a ValidationError naming the parameter."""
    if not isinstance(value, VALUE_TYPES):
        raise ValidationError(
            f"SQL parameter :{name} has unsupported type {type(value).__name__} "
            "(use int, float, str, bytes, bool, None, Decimal, datetime or date)"
        )
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        raise ValidationError(f"SQL parameter :{name} is outside the 64-bit integer range")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError(f"SQL parameter :{name} is not a finite Decimal ({value})")
    return value


def check_sql(sql: object) -> str:
    if not isinstance(sql, str) or not sql.strip():
        raise ValidationError(f"SQL must be a non-empty string, got {sql!r}")
    return sql
