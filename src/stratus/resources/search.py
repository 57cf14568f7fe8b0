"""The search port (the OpenSearch role): full-text search with filters, ranges, facets and sorting.

``app.search_index("products", fields={"name": "text", "category": "keyword", ...})``
declares an index and its mapping. Field types, as in OpenSearch:

- ``text``     analysed for full-text search (case folding, diacritics removed), ranked by BM25
- ``keyword``  exact values: filters, facets, sorting
- ``number``   filters, ranges, sorting (numeric strings are coerced, as OpenSearch does)
- ``boolean``  filters, facets, sorting
- ``date``     ISO 8601 text, ``date``/``datetime`` or epoch milliseconds: ranges, sorting

Any field may hold a list of values. Fields not in the mapping are stored and returned
but not searchable (OpenSearch's ``dynamic: false``). Dotted names (``"author.name"``)
reach into nested objects.

Relevance weights: the first declared text field (the title-like one) weighs 2, the
others 1, unless ``weights`` says otherwise; a term in a short, heavily weighted field
ranks highest. Query text is parsed by :mod:`stratus.resources.search_query`, so no user
input can be a syntax error.

``index`` and ``index_many`` validate every document against the mapping before
writing, and ``index_many`` writes all or nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from stratus.errors import ValidationError
from stratus.resources.base import Resource, validate_name
from stratus.resources.search_query import Clause, parse_query

if TYPE_CHECKING:
    from stratus.app import App

FieldType = Literal["text", "keyword", "number", "boolean", "date"]
FIELD_TYPES: tuple[str, ...] = ("text", "keyword", "number", "boolean", "date")

MAX_SIZE = 100
#: OpenSearch's index.max_result_window.
MAX_RESULT_WINDOW = 10_000
MAX_ID_BYTES = 512
#: Lucene's limit on one indexed keyword term.
MAX_KEYWORD_BYTES = 32766
MAX_BATCH = 10_000

_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class DocumentMappingError(ValidationError):
    """A document's field does not fit the index's mapping (OpenSearch's mapper_parsing_exception)."""

    code = "mapper_parsing_exception"


# Values.


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    document: dict[str, Any]


@dataclass(frozen=True)
class SearchResult:
    """One page of hits, the total number of matches, facet counts and the next page's cursor."""

    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)
    cursor: str | None = None

    @property
    def ids(self) -> list[str]:
        return [h.id for h in self.hits]


@dataclass(frozen=True)
class PreparedDocument:
    """A validated document: its stored JSON, its text per text field and its exact values."""

    doc_id: str
    source: str
    texts: tuple[str | None, ...]
    #: (field, number, string) per exact value; number for number/date/boolean, string for keyword/boolean.
    values: tuple[tuple[str, float | None, str | None], ...]


@dataclass(frozen=True)
class SortKey:
    field: str  # "_score", "_id" or a declared field
    descending: bool
    type: str  # "score", "id" or the field type


@dataclass(frozen=True)
class Query:
    """A validated search, as the adapter receives it."""

    clauses: tuple[Clause, ...]
    operator: Literal["or", "and"]
    #: field → (type, accepted values: numbers for number/date/boolean, strings for keyword)
    filters: tuple[tuple[str, str, tuple[Any, ...]], ...]
    #: field → (type, low, high), bounds inclusive, None for open
    ranges: tuple[tuple[str, str, Any, Any], ...]
    facets: tuple[tuple[str, str], ...]
    sort: tuple[SortKey, ...]
    size: int
    offset: int


# The backend contract.


class SearchBackend(ABC):
    """What an adapter implements; documents and queries are validated by :class:`SearchIndex`."""

    @abstractmethod
    def index_many(self, documents: list[PreparedDocument]) -> None:
        """Upsert every document, all or nothing."""

    @abstractmethod
    def delete(self, doc_id: str) -> bool: ...

    @abstractmethod
    def get(self, doc_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def search(self, query: Query) -> tuple[list[SearchHit], int, dict[str, dict[Any, int]]]:
        """The page of hits, the total and the facet counts (values as strings for keywords, bools for booleans)."""


# The handle.


class SearchIndex(Resource[SearchBackend]):
    """A search index (an OpenSearch index with an explicit mapping)."""

    kind = "search"
    max_name_length = 255

    def __init__(
        self,
        app: App,
        name: str,
        *,
        fields: dict[str, FieldType],
        weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(app, name)
        validate_name("search index", name, max_length=255, pattern=_INDEX_NAME)
        if not isinstance(fields, dict) or not fields:
            raise ValidationError(f"search index {name!r}: fields must be a non-empty dict of field name to type")
        for fname, ftype in fields.items():
            if not isinstance(fname, str) or not _FIELD_NAME.match(fname):
                raise ValidationError(f"search index {name!r}: field name {fname!r} is not a valid identifier path")
            if ftype not in FIELD_TYPES:
                raise ValidationError(
                    f"search index {name!r}: field {fname!r} has type {ftype!r}; use one of {', '.join(FIELD_TYPES)}"
                )
        self.fields: dict[str, str] = dict(fields)
        self.text_fields: tuple[str, ...] = tuple(f for f, t in fields.items() if t == "text")
        chosen = dict(weights or {})
        for fname, w in chosen.items():
            if fname not in self.text_fields:
                raise ValidationError(f"search index {name!r}: weights names {fname!r}, which is not a text field")
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
                raise ValidationError(f"search index {name!r}: weight of {fname!r} must be a positive number")
        self.weights: dict[str, float] = {
            f: float(chosen.get(f, 2.0 if i == 0 else 1.0)) for i, f in enumerate(self.text_fields)
        }

    def settings(self) -> dict[str, Any]:
        return {"fields": dict(self.fields), "weights": dict(self.weights)}

    # Writes.

    def index(self, doc_id: str, document: dict[str, Any]) -> None:
        """Create or replace the document ``doc_id``."""
        self.backend.index_many([self.prepare(doc_id, document)])

    def index_many(self, documents: Mapping[str, dict[str, Any]] | Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Create or replace many documents at once: all are validated first, then all are written."""
        pairs = list(documents.items() if isinstance(documents, Mapping) else documents)
        if len(pairs) > MAX_BATCH:
            raise ValidationError(f"index_many takes at most {MAX_BATCH} documents, got {len(pairs)}")
        prepared: dict[str, PreparedDocument] = {}
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValidationError(f"index_many takes (doc_id, document) pairs, got {pair!r}")
            prepared[pair[0]] = self.prepare(pair[0], pair[1])  # the last one of a repeated id wins
        self.backend.index_many(list(prepared.values()))
        return len(prepared)

    def delete(self, doc_id: str) -> bool:
        """Remove the document; False if there was none."""
        return self.backend.delete(_check_id(doc_id))

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The stored document, or None."""
        return self.backend.get(_check_id(doc_id))

    # Search.

    def search(
        self,
        query: str = "",
        *,
        filters: dict[str, Any] | None = None,
        ranges: dict[str, tuple[Any, Any]] | None = None,
        facets: list[str] | None = None,
        sort: list[str] | None = None,
        size: int = 10,
        cursor: str | None = None,
        from_: int = 0,
        operator: Literal["or", "and"] = "or",
    ) -> SearchResult:
        """Search the index.

        ``query`` is matched against the text fields (any term by default, every term with
        ``operator="and"``); ``filters`` keep documents whose field equals the value (a list
        means any of them); ``ranges`` keep ``lo <= value <= hi`` (``None`` for an open side);
        ``facets`` count matches per value of keyword or boolean fields; ``sort`` takes
        ``"field"``, ``"-field"``, ``"_score"`` (default when there is query text) and ``"_id"``,
        and ties are broken by id. Page with the returned ``cursor`` or with ``from_``.
        """
        clauses = parse_query(query)
        if clauses and not self.text_fields:
            raise ValidationError(f"search index {self.name!r} has no text fields to match query text against")
        if operator not in ("or", "and"):
            raise ValidationError(f"operator must be 'or' or 'and', got {operator!r}")
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
            raise ValidationError(f"size must be an integer from 0 to {MAX_SIZE}, got {size!r}")
        if isinstance(from_, bool) or not isinstance(from_, int) or from_ < 0:
            raise ValidationError(f"from_ must be a non-negative integer, got {from_!r}")
        checked_filters = tuple(self._filter(f, v) for f, v in _items("filters", filters))
        checked_ranges = tuple(self._range(f, b) for f, b in _items("ranges", ranges))
        checked_facets = tuple(self._facet(f) for f in _list("facets", facets))
        keys = self._sort(sort, has_text=any(not c.negated for c in clauses))
        fingerprint = _fingerprint(query, operator, checked_filters, checked_ranges, keys)
        if cursor is not None:
            if from_:
                raise ValidationError("give either cursor or from_, not both")
            offset = _read_cursor(cursor, fingerprint)
        else:
            if from_ + size > MAX_RESULT_WINDOW:
                raise ValidationError(
                    f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}]; "
                    "use the cursor to page further"
                )
            offset = from_
        hits, total, facet_counts = self.backend.search(
            Query(tuple(clauses), operator, checked_filters, checked_ranges, checked_facets, keys, size, offset)
        )
        next_offset = offset + len(hits)
        next_cursor = _make_cursor(next_offset, fingerprint) if size and next_offset < total else None
        return SearchResult(hits=hits, total=total, facets=facet_counts, cursor=next_cursor)

    # Validation of queries.

    def _field_type(self, fname: object, what: str) -> str:
        if not isinstance(fname, str) or fname not in self.fields:
            raise ValidationError(f"{what}: {fname!r} is not a field of search index {self.name!r}")
        return self.fields[fname]

    def _filter(self, fname: str, value: Any) -> tuple[str, str, tuple[Any, ...]]:
        ftype = self._field_type(fname, "filters")
        if ftype == "text":
            raise ValidationError(f"filters: {fname!r} is a text field; match it with the query text instead")
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        return fname, ftype, tuple(_exact(fname, ftype, v, ValidationError) for v in values)

    def _range(self, fname: str, bounds: Any) -> tuple[str, str, Any, Any]:
        ftype = self._field_type(fname, "ranges")
        if ftype not in ("number", "date", "keyword"):
            raise ValidationError(f"ranges: {fname!r} is a {ftype} field; ranges apply to number, date and keyword")
        if not isinstance(bounds, tuple | list) or len(bounds) != 2:
            raise ValidationError(f"ranges: {fname!r} needs a (low, high) pair, got {bounds!r}")
        lo, hi = (None if b is None else _exact(fname, ftype, b, ValidationError) for b in bounds)
        return fname, ftype, lo, hi

    def _facet(self, fname: str) -> tuple[str, str]:
        ftype = self._field_type(fname, "facets")
        if ftype not in ("keyword", "boolean"):
            raise ValidationError(f"facets: {fname!r} is a {ftype} field; facets count keyword and boolean fields")
        return fname, ftype

    def _sort(self, sort: list[str] | None, *, has_text: bool) -> tuple[SortKey, ...]:
        if sort is None:
            return (SortKey("_score", True, "score"),) if has_text else ()
        keys = []
        for item in _list("sort", sort):
            if not isinstance(item, str) or not item:
                raise ValidationError(f"sort entries must be field names, got {item!r}")
            descending = item.startswith("-")
            fname = item[1:] if descending else item
            if fname == "_score":
                if descending:
                    raise ValidationError("sort: '_score' already sorts best first; '-_score' is not supported")
                keys.append(SortKey("_score", True, "score"))
                continue
            if fname == "_id":
                keys.append(SortKey("_id", descending, "id"))
                continue
            ftype = self._field_type(fname, "sort")
            if ftype == "text":
                raise ValidationError(f"sort: {fname!r} is a text field and cannot be sorted; declare it as keyword")
            keys.append(SortKey(fname, descending, ftype))
        return tuple(keys)

    # Validation of documents.

    def prepare(self, doc_id: str, document: dict[str, Any]) -> PreparedDocument:
        """Check ``document`` against the mapping and extract what the engine indexes."""
        doc_id = _check_id(doc_id)
        if not isinstance(document, dict):
            raise ValidationError(f"document {doc_id!r} must be a dict, got {type(document).__name__}")
        try:
            source = json.dumps(document, default=_json_default, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise DocumentMappingError(f"document {doc_id!r} is not JSON-serializable: {exc}") from None
        texts: list[str | None] = []
        values: list[tuple[str, float | None, str | None]] = []
        for fname, ftype in self.fields.items():
            raw = _lookup(document, fname)
            items = [v for v in (raw if isinstance(raw, list | tuple) else [raw]) if v is not None]
            if ftype == "text":
                for v in items:
                    if not isinstance(v, str):
                        raise DocumentMappingError(
                            f"document {doc_id!r}: text field {fname!r} must hold strings, got {type(v).__name__}"
                        )
                texts.append("\n".join(items) if items else None)
                continue
            for v in items:
                exact = _exact(fname, ftype, v, DocumentMappingError)
                if ftype == "keyword":
                    values.append((fname, None, exact))
                elif ftype == "boolean":
                    values.append((fname, float(exact), "true" if exact else "false"))
                else:
                    values.append((fname, exact, None))
        return PreparedDocument(doc_id, source, tuple(texts), tuple(values))


# Helpers.


def _check_id(doc_id: object) -> str:
    if not isinstance(doc_id, str) or not doc_id:
        raise ValidationError(f"document id must be a non-empty string, got {doc_id!r}")
    if len(doc_id.encode()) > MAX_ID_BYTES:
        raise ValidationError(f"document id must be at most {MAX_ID_BYTES} bytes, got {len(doc_id.encode())}")
    return doc_id


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def _lookup(document: dict[str, Any], path: str) -> Any:
    if path in document:
        return document[path]
    current: Any = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def to_epoch(value: Any) -> float:
    """A date value as epoch seconds: ISO 8601 text (UTC when no offset), date/datetime, or epoch millis."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float):
        return float(value) / 1000.0
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    raise ValueError(f"{type(value).__name__} is not a date")


def _exact(fname: str, ftype: str, value: Any, error: type[ValidationError]) -> Any:
    """``value`` normalized for a keyword (str), number (float), boolean (bool) or date (epoch) field."""
    if ftype == "keyword":
        if not isinstance(value, str):
            raise error(f"keyword field {fname!r} takes strings, got {value!r}")
        if len(value.encode()) > MAX_KEYWORD_BYTES:
            raise error(f"keyword field {fname!r} takes at most {MAX_KEYWORD_BYTES} bytes")
        return value
    if ftype == "number":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise error(f"number field {fname!r} cannot take {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise error(f"number field {fname!r} takes finite numbers, got {value!r}")
        return float(value)
    if ftype == "boolean":
        if value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise error(f"boolean field {fname!r} takes true or false, got {value!r}")
        return value
    if ftype == "date":
        try:
            return to_epoch(value)
        except (ValueError, TypeError, OverflowError):
            raise error(
                f"date field {fname!r} takes ISO 8601 text, a date/datetime or epoch milliseconds, got {value!r}"
            ) from None
    raise error(f"field {fname!r} of type {ftype} takes no exact values")


def _items(what: str, mapping: dict[str, Any] | None) -> list[tuple[str, Any]]:
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        raise ValidationError(f"{what} must be a dict of field to value, got {type(mapping).__name__}")
    return list(mapping.items())


def _list(what: str, items: list[str] | None) -> list[Any]:
    if items is None:
        return []
    if isinstance(items, str) or not isinstance(items, list | tuple):
        raise ValidationError(f"{what} must be a list of field names, got {items!r}")
    return list(items)


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, default=repr, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _make_cursor(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": fingerprint}).encode()).decode().rstrip("=")


def _read_cursor(cursor: object, fingerprint: str) -> int:
    try:
        assert isinstance(cursor, str)
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, owner = data["o"], data["q"]
        assert isinstance(offset, int) and offset >= 0
    except Exception:
        raise ValidationError(f"cursor {cursor!r} is not a cursor this index returned") from None
    if owner != fingerprint:
        raise ValidationError("cursor belongs to a different search; repeat the same query, filters and sort")
    return offset


# The change-stream feed lives in its own module; re-exported here for ``from stratus.resources.search import ...``.
from stratus.resources.search_feed import apply_stream_record, decode_image  # noqa: E402

__all__ = [
    "DocumentMappingError",
    "FieldType",
    "SearchBackend",
    "SearchHit",
    "SearchIndex",
    "SearchResult",
    "apply_stream_record",
    "decode_image",
]
