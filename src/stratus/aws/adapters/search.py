"""AwsSearch: the search port on Amazon OpenSearch (a Serverless collection or a managed domain), with opensearch-py.

Not yet run against a real OpenSearch: no server is available where Stratus is tested
and moto does not implement OpenSearch's data plane. The tests check the requests this
adapter sends (index creation, bulk lines, query DSL, paging) through a fake connection
class, and the mapping of responses shaped like OpenSearch's documented ones.

Connection: the physical identity ``STRATUS_SEARCH_<NAME>`` is the collection (or domain)
endpoint, ``STRATUS_SEARCH_<NAME>_INDEX`` the index name. Requests are signed with AWS
SigV4 (opensearch-py's ``RequestsAWSV4SignerAuth``; ``AWSV4SignerAuth`` is its deprecated
alias) for service ``aoss`` when the host is ``*.aoss.amazonaws.com``, else ``es``, in the
region named by the host (else the cloud's), with the cloud's credentials
(``cloud.credentials()``, else the default boto3 session's).

Index layout. The index is created on first use, with ``dynamic: false`` (fields outside
the mapping are stored and returned, not searchable, as the port says). What is indexed
are the values the port itself prepared (:class:`~stratus.resources.search.PreparedDocument`),
under the object ``stratus__``, one property per declared field (dots as ``-``):

- text: the field's text, analysed by ``stratus_folding`` (standard tokenizer, lower case,
  ASCII folding: case and diacritics folded, as the local FTS5 tokenizer does);
- keyword: ``keyword``; boolean: ``boolean``; number and date: ``double`` (dates as epoch
  seconds, which is what the port's filters and ranges carry);

plus the document id as the keyword ``stratus__id`` (the sort tiebreaker: sorting on the
``_id`` metadata field is deprecated). So filters, ranges, facets and sorting see exactly
the values the local engine sees — numeric strings coerced, any ISO 8601 date Python
reads, lists, dotted paths — and the mapping has nothing to reject in a document the
handle accepted. ``stratus__*`` is excluded from the stored ``_source``
(and stripped from any that carries it), so ``get`` and hits return the document as given.
A field added to the declaration is added to the mapping; documents indexed before do not
have it until they are indexed again. A changed field type cannot be applied to an
existing index (OpenSearch cannot change a mapping): it raises ValidationError.

Queries (:mod:`stratus.resources.search_query` clauses) become structured DSL, never
query-string syntax, so no user text is read as an operator. (The bodies are plain dicts,
not opensearch-py's ``Search``/``Q`` helpers: their shape is fixed and small, and the tests
compare them as sent.) Each clause is ``match_phrase`` (``match_phrase_prefix`` for
``word*``) on every text field, boosted by the field's weight, in a ``bool.should``, so a
document's score is the sum over fields of
weight x BM25 as locally; ``operator="or"`` puts the clauses in ``should`` (at least one),
``"and"`` in ``must``, negated ones in ``must_not``. Filters are ``terms`` (an empty list
matches nothing), ranges ``range`` (``exists`` when both bounds are open), facets ``terms``
aggregations ordered by count then value, sorting ``mode: min``/``max`` with missing values
last and ``stratus__id`` as the final key. Scores are 0 without query text, as locally.
Totals are exact (``track_total_hits``). Pages within OpenSearch's 10,000-hit window use
``from``/``size``; a cursor further on walks there with ``search_after``.

Writes: ``index_many`` is one ``_bulk`` request. OpenSearch's bulk is not atomic, so
before a batch of several documents the adapter reads their current versions (``_mget``)
and, if any item fails, puts the others back (deletes the new ones, re-indexes the old
ones) before raising: all or nothing except against a concurrent writer. On a managed
domain writes use ``refresh=wait_for`` (searchable when the call returns); Serverless
collections reject the ``refresh`` parameter, so there a write is readable at once by
``get`` but reaches ``search`` after the collection's periodic refresh (seconds).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stratus.aws.adapters import _context
from stratus.errors import AccessDenied, ResourceNotFound, StratusError, Throttled, ValidationError
from stratus.resources.search import (
    MAX_RESULT_WINDOW,
    DocumentMappingError,
    PreparedDocument,
    Query,
    SearchBackend,
    SearchHit,
    SortKey,
)

if TYPE_CHECKING:
    from stratus.resources.search import SearchIndex
    from stratus.resources.search_query import Clause

log = logging.getLogger("stratus.aws.search")

DERIVED = "stratus__"
ID_FIELD = "stratus__id"
ANALYZER = "stratus_folding"
#: Distinct values a facet reports (the local engine reports all of them).
FACET_SIZE = 10_000
#: Hits per request while walking past the result window with search_after.
SKIP_PAGE = MAX_RESULT_WINDOW

_TYPES = {"text": "text", "keyword": "keyword", "boolean": "boolean", "number": "double", "date": "double"}
_HOST = re.compile(r"\.([a-z0-9-]+)\.(aoss|es)\.amazonaws\.com(?:\.cn)?$")
_MAPPING_ERRORS = ("mapper_parsing_exception", "document_parsing_exception", "strict_dynamic_mapping_exception")

INDEX_SETTINGS: dict[str, Any] = {
    "analysis": {
        "analyzer": {ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}}
    }
}


class SearchUnavailable(StratusError):
    """OpenSearch could not be reached; the call may or may not have taken effect."""

    code = "ServiceUnavailable"


# -- the translation: pure functions of the declaration and the port's values ----------------


def derived_name(field: str) -> str:
    """The property under ``stratus__`` holding a declared field's values (dots as ``-``)."""
    return field.replace(".", "-")


def derived_path(field: str) -> str:
    return f"{DERIVED}.{derived_name(field)}"


def field_mapping(ftype: str) -> dict[str, Any]:
    if ftype == "text":
        return {"type": "text", "analyzer": ANALYZER}
    return {"type": _TYPES[ftype]}


def index_body(fields: dict[str, str]) -> dict[str, Any]:
    """The ``PUT <index>`` body for a declaration: analysis settings and the derived mapping."""
    return {"settings": INDEX_SETTINGS, "mappings": mappings(fields)}


def mappings(fields: dict[str, str]) -> dict[str, Any]:
    return {
        "dynamic": False,
        "_source": {"excludes": [f"{DERIVED}*"]},
        "properties": {
            ID_FIELD: {"type": "keyword"},
            DERIVED: {"properties": {derived_name(f): field_mapping(t) for f, t in fields.items()}},
        },
    }


def derived_values(resource: SearchIndex, doc: PreparedDocument) -> dict[str, Any]:
    """The ``stratus__`` object of a prepared document: its text per text field, its exact values per field."""
    out: dict[str, Any] = {}
    for fname, text in zip(resource.text_fields, doc.texts, strict=True):
        if text is not None:
            out[derived_name(fname)] = text
    for fname, number, string in doc.values:
        ftype = resource.fields[fname]
        if ftype == "keyword":
            value: Any = string
        elif ftype == "boolean":
            value = string == "true"
        else:
            value = number
        out.setdefault(derived_name(fname), []).append(value)
    return out


def source_line(resource: SearchIndex, doc: PreparedDocument) -> str:
    """The document as sent: its stored JSON with ``stratus__`` and ``stratus__id`` added (no re-parsing)."""
    extra = json.dumps(
        {DERIVED: derived_values(resource, doc), ID_FIELD: doc.doc_id}, ensure_ascii=False, allow_nan=False
    )[1:-1]
    body = doc.source.strip()
    if f'"{DERIVED}' in body and set(json.loads(body)) & {DERIVED, ID_FIELD}:
        raise DocumentMappingError(
            f"document {doc.doc_id!r}: the fields {DERIVED!r} and {ID_FIELD!r} are reserved by the OpenSearch adapter"
        )
    return "{" + extra + "}" if body == "{}" else body[:-1] + ", " + extra + "}"


def _clause_query(clause: Clause, weights: dict[str, float]) -> dict[str, Any]:
    """One clause on every text field: a phrase (or phrase prefix), the field's weight as boost."""
    kind = "match_phrase_prefix" if clause.prefix else "match_phrase"
    per_field = [{kind: {derived_path(f): {"query": clause.text, "boost": w}}} for f, w in weights.items()]
    return per_field[0] if len(per_field) == 1 else {"bool": {"should": per_field}}


def _exact(ftype: str, value: Any) -> Any:
    return value if ftype != "boolean" else bool(value)


def build_query(query: Query, weights: dict[str, float]) -> dict[str, Any]:
    """The ``query`` part of a search body."""
    positive = [c for c in query.clauses if not c.negated]
    negative = [c for c in query.clauses if c.negated]
    bool_query: dict[str, Any] = {}
    if positive:
        clauses = [_clause_query(c, weights) for c in positive]
        if query.operator == "and":
            bool_query["must"] = clauses
        else:
            bool_query["should"] = clauses
            bool_query["minimum_should_match"] = 1
    if negative:
        bool_query["must_not"] = [_clause_query(c, weights) for c in negative]
    filters: list[dict[str, Any]] = []
    for fname, ftype, values in query.filters:
        if not values:
            filters.append({"match_none": {}})
        else:
            filters.append({"terms": {derived_path(fname): [_exact(ftype, v) for v in values]}})
    for fname, _ftype, lo, hi in query.ranges:
        bounds = {k: v for k, v in (("gte", lo), ("lte", hi)) if v is not None}
        if bounds:
            filters.append({"range": {derived_path(fname): bounds}})
        else:
            filters.append({"exists": {"field": derived_path(fname)}})
    if filters:
        bool_query["filter"] = filters
    return {"bool": bool_query} if bool_query else {"match_all": {}}


def build_sort(keys: tuple[SortKey, ...]) -> list[dict[str, Any]]:
    sort: list[dict[str, Any]] = []
    for key in keys:
        order = "desc" if key.descending else "asc"
        if key.type == "score":
            sort.append({"_score": {"order": "desc"}})
        elif key.type == "id":
            sort.append({ID_FIELD: {"order": order}})
        else:
            # Multi-valued fields sort by their smallest value ascending, largest descending; missing last.
            sort.append(
                {
                    derived_path(key.field): {
                        "order": order,
                        "mode": "max" if key.descending else "min",
                        "missing": "_last",
                        "unmapped_type": _TYPES[key.type],
                    }
                }
            )
    sort.append({ID_FIELD: {"order": "asc"}})
    return sort


def build_aggs(facets: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {
        derived_name(fname): {
            "terms": {"field": derived_path(fname), "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}
        }
        for fname, _ftype in facets
    }


def search_body(query: Query, weights: dict[str, float]) -> dict[str, Any]:
    """The full search body for a page within the result window (``from``/``size``)."""
    body: dict[str, Any] = {
        "query": build_query(query, weights),
        "sort": build_sort(query.sort),
        "from": query.offset if query.size else 0,  # no hits asked: the window must not refuse the offset
        "size": query.size,
        "track_total_hits": True,
    }
    if any(not c.negated for c in query.clauses):
        body["track_scores"] = True  # scores even when sorting by a field, as the local engine reports them
    if query.facets:
        body["aggs"] = build_aggs(query.facets)
    return body


def strip_source(source: Any) -> dict[str, Any]:
    document = dict(source or {})
    document.pop(DERIVED, None)
    document.pop(ID_FIELD, None)
    return document


def read_hits(response: dict[str, Any], query: Query) -> tuple[list[SearchHit], int, dict[str, dict[Any, int]]]:
    """Hits, exact total and facet counts from a search response."""
    scored = any(not c.negated for c in query.clauses)
    found = response.get("hits") or {}
    hits = [
        SearchHit(
            id=str(h["_id"]),
            score=float(h.get("_score") or 0.0) if scored else 0.0,
            document=strip_source(h.get("_source")),
        )
        for h in found.get("hits") or []
    ]
    total_raw = found.get("total", 0)
    total = int(total_raw["value"] if isinstance(total_raw, dict) else total_raw)
    facets: dict[str, dict[Any, int]] = {}
    aggregations = response.get("aggregations") or {}
    for fname, ftype in query.facets:
        buckets = (aggregations.get(derived_name(fname)) or {}).get("buckets") or []
        counts: dict[Any, int] = {}
        for bucket in buckets:
            if ftype == "boolean":
                key: Any = bucket.get("key_as_string", bucket.get("key")) in ("true", 1, True)
            else:
                key = str(bucket["key"])
            counts[key] = int(bucket["doc_count"])
        facets[fname] = counts
    return hits, total, facets


def translate(error: Exception) -> StratusError:
    """The port's error for an opensearch-py exception."""
    from opensearchpy import exceptions as os_errors

    if isinstance(error, os_errors.ConnectionError):
        return SearchUnavailable(f"cannot reach OpenSearch: {error.info.__class__.__name__}: {error.info}")
    if not isinstance(error, os_errors.TransportError):
        return StratusError(str(error))
    status = error.status_code
    kind, reason = _error_detail(error.info, str(error.error))
    message = f"{kind}: {reason}" if reason else kind
    if kind in _MAPPING_ERRORS:
        return DocumentMappingError(message)
    if status == 429:
        return Throttled(message)
    if status in (401, 403):
        return AccessDenied(message)
    if status == 404:
        return ResourceNotFound(message)
    if status == 400:
        failure: StratusError = ValidationError(message)
    else:
        failure = StratusError(message)
    failure.code = kind or failure.code
    return failure


def _error_detail(info: Any, fallback: str) -> tuple[str, str]:
    """(type, reason) of an OpenSearch error body (``{"error": {"type", "reason", "root_cause"}}``)."""
    error = info.get("error") if isinstance(info, dict) else None
    if isinstance(error, dict):
        root = (error.get("root_cause") or [None])[0]
        detail = root if isinstance(root, dict) and root.get("type") == error.get("type") else error
        return str(error.get("type") or fallback), str(detail.get("reason") or error.get("reason") or "")
    if isinstance(error, str):
        return fallback, error
    return fallback, ""


def _item_error(item: dict[str, Any]) -> StratusError:
    error = item.get("error") or {}
    kind = str(error.get("type") or "bulk_item_failed") if isinstance(error, dict) else "bulk_item_failed"
    reason = str(error.get("reason") or "") if isinstance(error, dict) else str(error)
    message = f"document {item.get('_id')!r}: {kind}: {reason}"
    if kind in _MAPPING_ERRORS:
        return DocumentMappingError(message)
    if item.get("status") == 429:
        return Throttled(message)
    failure = StratusError(message)
    failure.code = kind
    return failure


def endpoint_parts(endpoint: str) -> tuple[str, int, bool, str | None, str | None]:
    """(host, port, TLS, region, service) of a collection or domain endpoint URL."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if not parts.hostname:
        raise ValidationError(f"search endpoint {endpoint!r} is not a URL")
    tls = parts.scheme != "http"
    port = parts.port or (443 if tls else 80)
    found = _HOST.search(parts.hostname)
    return parts.hostname, port, tls, found.group(1) if found else None, found.group(2) if found else None


# -- the adapter -------------------------------------------------------------------------------


class AwsSearch(SearchBackend):
    """One search index in an OpenSearch collection: endpoint ``STRATUS_SEARCH_<NAME>``, index ``..._INDEX``."""

    def __init__(
        self,
        resource: SearchIndex,
        cloud: Any,
        *,
        connection_class: type[Any] | None = None,
        credentials: Any = None,
    ) -> None:
        self.resource = resource
        self.cloud = cloud
        self.endpoint = _context.physical_id(resource, cloud)
        self.index = _context.physical_id(resource, cloud, "INDEX")
        host, port, tls, region, service = endpoint_parts(self.endpoint)
        self.region = (
            region
            or getattr(cloud, "region", None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )
        self.service = service or "es"
        #: Serverless collections refuse ``refresh``; a managed domain makes writes searchable before returning.
        self._refresh: dict[str, str] = {} if self.service == "aoss" else {"refresh": "wait_for"}
        self.client = self._make_client(host, port, tls, connection_class, credentials)
        self._lock = threading.Lock()
        self._ready = False

    def _make_client(self, host: str, port: int, tls: bool, connection_class: Any, credentials: Any) -> Any:
        from opensearchpy import OpenSearch, RequestsAWSV4SignerAuth, RequestsHttpConnection

        if credentials is None:
            # opensearch-py sends the requests (boto3 has no client for OpenSearch's data plane): only
            # the cloud's credentials are needed, for its SigV4 signer.
            credentials = _context.credentials(self.cloud)
        return OpenSearch(
            hosts=[{"host": host, "port": port}],
            http_auth=RequestsAWSV4SignerAuth(credentials, self.region, self.service),
            use_ssl=tls,
            verify_certs=tls,
            connection_class=connection_class or RequestsHttpConnection,
            timeout=30,
            pool_maxsize=10,
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from opensearchpy import exceptions as os_errors

        try:
            return fn(*args, **kwargs)
        except os_errors.OpenSearchException as error:
            raise translate(error) from None

    # -- the index ---------------------------------------------------------------------------

    def ensure_index(self) -> None:
        """Create the index with its mapping, or add declared fields it lacks (once per adapter)."""
        if self._ready:
            return
        from opensearchpy import exceptions as os_errors

        with self._lock:
            if self._ready:
                return
            if not self._call(self.client.indices.exists, index=self.index):
                try:
                    self.client.indices.create(index=self.index, body=index_body(self.resource.fields))
                    log.info("created OpenSearch index %s", self.index)
                    self._ready = True
                    return
                except os_errors.RequestError as error:
                    if "resource_already_exists_exception" not in str(error.error):
                        raise translate(error) from None
                except os_errors.OpenSearchException as error:
                    raise translate(error) from None
            self._reconcile()
            self._ready = True

    def _reconcile(self) -> None:
        response: dict[str, Any] = self._call(self.client.indices.get_mapping, index=self.index) or {}
        first: dict[str, Any] = next(iter(response.values()), {}) or {}
        mapping: dict[str, Any] = first.get("mappings") or {}
        existing = mapping.get("properties", {}).get(DERIVED, {}).get("properties", {})
        missing: dict[str, Any] = {}
        for fname, ftype in self.resource.fields.items():
            want = field_mapping(ftype)
            have = existing.get(derived_name(fname))
            if have is None:
                missing[derived_name(fname)] = want
            elif have.get("type") != want["type"]:
                raise ValidationError(
                    f"search index {self.resource.name!r}: field {fname!r} is declared {ftype}, but OpenSearch index "
                    f"{self.index} maps it as {have.get('type')}; a field's type cannot change in place: "
                    "create a new index (a new name) and index the documents again"
                )
        if ID_FIELD not in mapping.get("properties", {}):
            missing_top: dict[str, Any] = {ID_FIELD: {"type": "keyword"}}
        else:
            missing_top = {}
        if missing or missing_top:
            properties = {**missing_top, DERIVED: {"properties": missing}} if missing else missing_top
            self._call(self.client.indices.put_mapping, index=self.index, body={"properties": properties})
            log.info("added fields %s to OpenSearch index %s", sorted(missing), self.index)

    # -- writes ------------------------------------------------------------------------------

    def index_many(self, documents: list[PreparedDocument]) -> None:
        if not documents:
            return
        self.ensure_index()
        lines = [source_line(self.resource, d) for d in documents]  # all checked before anything is sent
        previous = self._current([d.doc_id for d in documents]) if len(documents) > 1 else {}
        response = self._bulk(documents, lines)
        if not response.get("errors"):
            return
        items = [next(iter(i.values())) for i in response.get("items", [])]
        failed = [i for i in items if not 200 <= int(i.get("status", 500)) < 300]
        done = [d for d, i in zip(documents, items, strict=False) if 200 <= int(i.get("status", 500)) < 300]
        first = _item_error(failed[0]) if failed else StratusError("bulk request failed")
        try:
            self._undo(done, previous)
        except StratusError as undo_error:
            raise StratusError(
                f"{first.message}; and putting back the {len(done)} documents written before it failed "
                f"({undo_error.message}): the batch is partly applied"
            ) from None
        raise first

    def _bulk(self, documents: list[PreparedDocument], lines: list[str]) -> dict[str, Any]:
        parts = []
        for doc, line in zip(documents, lines, strict=True):
            parts.append(json.dumps({"index": {"_index": self.index, "_id": doc.doc_id}}, ensure_ascii=False))
            parts.append(line)
        body = "\n".join(parts) + "\n"
        return dict(self._call(self.client.bulk, body=body, params=dict(self._refresh)))

    def _current(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """The stored version of each id (None when absent), for putting a failed batch back."""
        response = self._call(self.client.mget, index=self.index, body={"ids": ids})
        return {
            str(d["_id"]): strip_source(d.get("_source")) if d.get("found") else None for d in response.get("docs", [])
        }

    def _undo(self, done: list[PreparedDocument], previous: dict[str, dict[str, Any] | None]) -> None:
        restore: list[PreparedDocument] = []
        remove: list[str] = []
        for doc in done:
            old = previous.get(doc.doc_id)
            if old is None:
                remove.append(doc.doc_id)
            else:
                restore.append(self.resource.prepare(doc.doc_id, old))
        parts = [json.dumps({"delete": {"_index": self.index, "_id": i}}, ensure_ascii=False) for i in remove]
        for doc in restore:
            parts.append(json.dumps({"index": {"_index": self.index, "_id": doc.doc_id}}, ensure_ascii=False))
            parts.append(source_line(self.resource, doc))
        if not parts:
            return
        response = self._call(self.client.bulk, body="\n".join(parts) + "\n", params=dict(self._refresh))
        if response.get("errors"):
            items = [next(iter(i.values())) for i in response.get("items", [])]
            bad = [i for i in items if int(i.get("status", 500)) >= 300 and int(i.get("status", 500)) != 404]
            if bad:
                raise _item_error(bad[0])

    def delete(self, doc_id: str) -> bool:
        from opensearchpy import NotFoundError, OpenSearchException

        self.ensure_index()
        try:
            response = self.client.delete(index=self.index, id=doc_id, params=dict(self._refresh))
        except NotFoundError as error:
            if _error_detail(error.info, "")[0] == "index_not_found_exception":
                raise translate(error) from None
            return False
        except OpenSearchException as error:
            raise translate(error) from None
        return bool(response.get("result") == "deleted")

    def get(self, doc_id: str) -> dict[str, Any] | None:
        from opensearchpy import NotFoundError, OpenSearchException

        self.ensure_index()
        try:
            response = self.client.get(index=self.index, id=doc_id)
        except NotFoundError as error:
            if _error_detail(error.info, "")[0] == "index_not_found_exception":
                raise translate(error) from None
            return None
        except OpenSearchException as error:
            raise translate(error) from None
        return strip_source(response.get("_source")) if response.get("found") else None

    # -- search ------------------------------------------------------------------------------

    def search(self, query: Query) -> tuple[list[SearchHit], int, dict[str, dict[Any, int]]]:
        self.ensure_index()
        body = search_body(query, self.resource.weights)
        if query.size and query.offset + query.size > MAX_RESULT_WINDOW:
            after = self._walk_to(query, body)
            body.pop("from")
            if after is not None:
                body["search_after"] = after
            else:
                body["size"] = 0  # fewer matches than the offset: no hits, but the total and facets
        response = self._call(self.client.search, index=self.index, body=body)
        return read_hits(response, query)

    def _walk_to(self, query: Query, body: dict[str, Any]) -> list[Any] | None:
        """The sort values of the hit just before ``query.offset``, walking with search_after (None: too few)."""
        skipped, after = 0, None
        while skipped < query.offset:
            page = min(SKIP_PAGE, query.offset - skipped)
            step: dict[str, Any] = {
                "query": body["query"],
                "sort": body["sort"],
                "size": page,
                "_source": False,
                "track_total_hits": False,
            }
            if after is not None:
                step["search_after"] = after
            hits = (self._call(self.client.search, index=self.index, body=step).get("hits") or {}).get("hits") or []
            if not hits:
                return None
            after = hits[-1]["sort"]
            skipped += len(hits)
            if len(hits) < page:
                return None if skipped < query.offset else after
        return after

    def __repr__(self) -> str:
        return f"<AwsSearch {self.index} at {self.endpoint}>"
