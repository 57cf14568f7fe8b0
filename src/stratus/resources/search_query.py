"""User search text → a list of clauses any engine can render safely.

Search boxes receive whatever people type: unbalanced quotes, parentheses, ``AND``,
``NEAR(``, colons. Handing that text to a query language (FTS5's, Lucene's) makes
ordinary input fail with syntax errors, so the port parses it itself into a tiny,
closed grammar, as OpenSearch's ``simple_query_string`` does:

- ``word``            a term
- ``"two words"``     a phrase (an unclosed quote runs to the end of the text)
- ``lapt*``           a prefix (also ``"a phr"*``)
- ``-word``           excludes documents that match

Everything else is literal text, tokenized by the engine. Adapters render the clauses
into their engine's syntax with every clause quoted, so no user text is ever read as an
operator. Written by hand because it is small and must match the engines' tokenizers,
not a general query language.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.errors import ValidationError

#: OpenSearch's indices.query.bool.max_clause_count default.
MAX_CLAUSES = 1024
MAX_QUERY_LENGTH = 10_000


@dataclass(frozen=True)
class Clause:
    """One term or phrase of a query: ``text`` as typed (the engine tokenizes it)."""

    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


def _has_token(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def parse_query(query: str) -> list[Clause]:
    """Parse search text into clauses; text without letters or digits yields no clause."""
    if not isinstance(query, str):
        raise ValidationError(f"query must be a string, got {type(query).__name__}")
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError(f"query must be at most {MAX_QUERY_LENGTH} characters, got {len(query)}")
    query = query.replace("\x00", " ")  # NUL ends a C string: engines would see a truncated query
    clauses: list[Clause] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and not query[i + 1].isspace():
            negated = True
            i += 1
            ch = query[i]
        if ch == '"':
            end = query.find('"', i + 1)
            if end == -1:
                end = n
            body = query[i + 1 : end]
            i = end + 1
            prefix = i < n and query[i] == "*"
            if prefix:
                i += 1
            phrase = True
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] != '"':
                j += 1
            body = query[i:j]
            i = j
            prefix = body.endswith("*")
            body = body.rstrip("*")
            phrase = False
        if _has_token(body):
            clauses.append(Clause(body, phrase=phrase, prefix=prefix, negated=negated))
    if len(clauses) > MAX_CLAUSES:
        raise ValidationError(f"query has {len(clauses)} terms; at most {MAX_CLAUSES} are allowed")
    return clauses
