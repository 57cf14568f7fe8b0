"""AwsSearch without an OpenSearch server: the requests it sends and how it reads OpenSearch's answers.

A fake connection class (opensearch-py's requests connection with ``session.send`` replaced)
records every signed request and answers with bodies shaped like OpenSearch's documented
responses. What a real server would rank or match is not checked here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.credentials import Credentials
from opensearchpy import RequestsHttpConnection

from stratus import App
from stratus.aws.adapters.search import (
    DERIVED,
    ID_FIELD,
    AwsSearch,
    SearchUnavailable,
    build_query,
    endpoint_parts,
)
from stratus.errors import AccessDenied, Throttled, ValidationError
from stratus.resources.search import DocumentMappingError, Query, SearchIndex, SortKey
from stratus.resources.search_query import parse_query

AOSS = "https://abc123xyz.us-west-2.aoss.amazonaws.com"
DOMAIN = "https://search-shop-xyz.eu-west-1.es.amazonaws.com"
FIELDS: dict[str, Any] = {
    "name": "text",
    "description": "text",
    "category": "keyword",
    "price": "number",
    "in_stock": "boolean",
    "created": "date",
    "author.name": "keyword",
}


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode().splitlines()]


Handler = Callable[[Sent], tuple[int, Any]]


@dataclass
class FakeServer:
    """Routes recorded requests to handlers by (method, path suffix); unknown ones are a 500."""

    routes: dict[tuple[str, str], Handler | list[tuple[int, Any]]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, suffix: str, *replies: tuple[int, Any], handler: Handler | None = None) -> None:
        self.routes[(method, suffix)] = handler if handler is not None else list(replies)

    def answer(self, sent: Sent) -> tuple[int, Any]:
        for (method, suffix), route in self.routes.items():
            if sent.method == method and sent.path.endswith(suffix):
                if callable(route):
                    return route(sent)
                return route.pop(0) if len(route) > 1 else route[0]
        return 500, {"error": {"type": "unexpected", "reason": f"{sent.method} {sent.path}"}}

    def connection_class(self) -> type[RequestsHttpConnection]:
        server = self

        class FakeConnection(RequestsHttpConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.session.send = self._send  # type: ignore[method-assign,assignment]

            def _send(self, prepared: Any, **_: Any) -> requests.Response:
                url = urlsplit(prepared.url)
                body = prepared.body or b""
                sent = Sent(
                    prepared.method,
                    url.path,
                    parse_qs(url.query),
                    dict(prepared.headers),
                    body.encode() if isinstance(body, str) else body,
                )
                server.sent.append(sent)
                status, payload = server.answer(sent)
                response = requests.Response()
                response.status_code = status
                response._content = b"" if payload is None else json.dumps(payload).encode()
                response.headers["Content-Type"] = "application/json"
                response.request = prepared
                response.url = prepared.url
                return response

        return FakeConnection

    def of(self, method: str, suffix: str) -> list[Sent]:
        return [s for s in self.sent if s.method == method and s.path.endswith(suffix)]


class Cloud:
    region = "us-east-1"

    def __init__(self, endpoint: str, index: str = "shop-products") -> None:
        self.ids = {"": endpoint, "INDEX": index}

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        return self.ids[suffix]


@pytest.fixture
def server() -> FakeServer:
    s = FakeServer()
    s.on("HEAD", "/shop-products", (200, None))
    s.on("GET", "/shop-products/_mapping", (200, {"shop-products": {"mappings": _existing_mapping()}}))
    return s


def _existing_mapping(**overrides: str) -> dict[str, Any]:
    types = {"text": "text", "keyword": "keyword", "number": "double", "date": "double", "boolean": "boolean"}
    props = {f.replace(".", "-"): {"type": types[t]} for f, t in FIELDS.items()}
    props.update({k: {"type": v} for k, v in overrides.items()})
    return {"dynamic": "false", "properties": {ID_FIELD: {"type": "keyword"}, DERIVED: {"properties": props}}}


def bind(server: FakeServer, endpoint: str = AOSS, fields: dict[str, Any] | None = None) -> SearchIndex:
    index = App("shop").search_index("products", fields=fields or FIELDS)
    backend = AwsSearch(
        index,
        Cloud(endpoint),
        connection_class=server.connection_class(),
        credentials=Credentials("AKIDEXAMPLE", "not-a-real-secret"),
    )
    index.bind(backend)
    return index


@pytest.fixture
def products(server: FakeServer) -> Iterator[SearchIndex]:
    index = bind(server)
    yield index
    index.unbind()


# -- connection and index ------------------------------------------------------------------------


def test_requests_are_signed_with_the_clouds_credentials() -> None:
    """Without credentials given, the adapter signs with the cloud's (``cloud.credentials()``)."""
    server = FakeServer()
    server.on("HEAD", "/shop-products", (200, None))
    server.on("GET", "/shop-products/_mapping", (200, {"shop-products": {"mappings": _existing_mapping()}}))
    server.on("GET", "/shop-products/_doc/p1", (404, {"_id": "p1", "found": False}))

    class SigningCloud(Cloud):
        def credentials(self) -> Credentials:
            return Credentials("AKIDFROMCLOUD", "not-a-real-secret")

    index = App("shop").search_index("products", fields=FIELDS)
    index.bind(AwsSearch(index, SigningCloud(AOSS), connection_class=server.connection_class()))
    assert index.get("p1") is None
    assert server.sent and all(
        s.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFROMCLOUD/") for s in server.sent
    )


def test_endpoint_names_region_and_service() -> None:
    assert endpoint_parts(AOSS) == ("abc123xyz.us-west-2.aoss.amazonaws.com", 443, True, "us-west-2", "aoss")
    assert endpoint_parts(DOMAIN)[3:] == ("eu-west-1", "es")
    assert endpoint_parts("http://localhost:9200") == ("localhost", 9200, False, None, None)


def test_a_missing_index_is_created_with_the_derived_mapping_in_a_signed_request() -> None:
    server = FakeServer()
    server.on("HEAD", "/shop-products", (404, None))
    server.on("PUT", "/shop-products", (200, {"acknowledged": True, "index": "shop-products"}))
    server.on("GET", "/shop-products/_doc/p1", (404, {"_id": "p1", "found": False}))
    products = bind(server)
    assert products.get("p1") is None
    assert products.get("p1") is None  # the index is checked once per adapter
    assert len(server.of("HEAD", "/shop-products")) == 1
    (create,) = server.of("PUT", "/shop-products")
    body = create.json()
    assert body["settings"]["analysis"]["analyzer"]["stratus_folding"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["lowercase", "asciifolding"],
    }
    mappings = body["mappings"]
    assert mappings["dynamic"] is False
    assert mappings["_source"] == {"excludes": ["stratus__*"]}
    assert mappings["properties"][ID_FIELD] == {"type": "keyword"}
    assert mappings["properties"][DERIVED]["properties"] == {
        "name": {"type": "text", "analyzer": "stratus_folding"},
        "description": {"type": "text", "analyzer": "stratus_folding"},
        "category": {"type": "keyword"},
        "price": {"type": "double"},
        "in_stock": {"type": "boolean"},
        "created": {"type": "double"},
        "author-name": {"type": "keyword"},
    }
    # SigV4 for OpenSearch Serverless, in the collection's region (not the cloud's).
    auth = create.headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-west-2/aoss/aws4_request" in auth
    assert "x-amz-content-sha256" in auth.split("SignedHeaders=")[1].split(",")[0]
    assert "not-a-real-secret" not in json.dumps(create.headers)


def test_an_existing_index_gains_the_declared_fields_it_lacks(server: FakeServer) -> None:
    mapping = _existing_mapping()
    del mapping["properties"][DERIVED]["properties"]["in_stock"]
    server.on("GET", "/shop-products/_mapping", (200, {"shop-products": {"mappings": mapping}}))
    server.on("PUT", "/shop-products/_mapping", (200, {"acknowledged": True}))
    server.on("GET", "/shop-products/_doc/p1", (404, {"found": False}))
    bind(server).get("p1")
    (put,) = server.of("PUT", "/shop-products/_mapping")
    assert put.json() == {"properties": {DERIVED: {"properties": {"in_stock": {"type": "boolean"}}}}}
    assert not server.of("PUT", "/shop-products")


def test_a_changed_field_type_is_refused_naming_the_field(server: FakeServer) -> None:
    server.on(
        "GET", "/shop-products/_mapping", (200, {"shop-products": {"mappings": _existing_mapping(price="keyword")}})
    )
    products = bind(server)
    with pytest.raises(ValidationError, match=r"field 'price' is declared number.*maps it as keyword"):
        products.get("p1")
    assert not server.of("PUT", "/shop-products/_mapping")


# -- writes ---------------------------------------------------------------------------------------


def _bulk_ok(sent: Sent) -> tuple[int, Any]:
    lines = sent.lines()
    items = []
    for action in lines[0::2] if "index" in lines[0] else lines:
        op, meta = next(iter(action.items()))
        items.append({op: {"_index": meta["_index"], "_id": meta["_id"], "status": 201, "result": "created"}})
    return 200, {"took": 3, "errors": False, "items": items}


def test_index_many_is_one_bulk_request_carrying_the_ports_prepared_values(
    server: FakeServer, products: SearchIndex
) -> None:
    server.on("POST", "/_mget", (200, {"docs": [{"_id": "p1", "found": False}, {"_id": "p2", "found": False}]}))
    server.on("POST", "/_bulk", handler=_bulk_ok)
    docs: dict[str, dict[str, Any]] = {
        "p1": {
            "name": "Café Mug",
            "description": ["Ceramic", "for coffee"],
            "category": ["kitchen", "gifts"],
            "price": "12.5",
            "in_stock": "true",
            "created": "2024-01-10",
            "author": {"name": "Zoë"},
            "extra": {"not": "indexed"},
        },
        "p2": {"name": "Empty"},
    }
    assert products.index_many(docs) == 2
    (bulk,) = server.of("POST", "/_bulk")
    assert bulk.params == {}  # Serverless collections refuse refresh=
    lines = bulk.lines()
    assert lines[0] == {"index": {"_index": "shop-products", "_id": "p1"}}
    first = lines[1]
    assert first[DERIVED] == {
        "name": "Café Mug",
        "description": "Ceramic\nfor coffee",
        "category": ["kitchen", "gifts"],
        "price": [12.5],
        "in_stock": [True],
        "created": [1704844800.0],
        "author-name": ["Zoë"],
    }
    assert first[ID_FIELD] == "p1"
    assert {k: v for k, v in first.items() if k not in (DERIVED, ID_FIELD)} == docs["p1"]  # stored as given
    assert lines[2:] == [
        {"index": {"_index": "shop-products", "_id": "p2"}},
        {"name": "Empty", DERIVED: {"name": "Empty"}, ID_FIELD: "p2"},
    ]
    # The batch's current versions were read first, to put them back should an item fail.
    assert server.of("POST", "/_mget")[0].json() == {"ids": ["p1", "p2"]}


def test_a_managed_domain_waits_for_the_refresh_and_a_single_document_needs_no_mget() -> None:
    server = FakeServer()
    server.on("HEAD", "/shop-products", (200, None))
    server.on("GET", "/shop-products/_mapping", (200, {"shop-products": {"mappings": _existing_mapping()}}))
    server.on("POST", "/_bulk", handler=_bulk_ok)
    products = bind(server, DOMAIN)
    products.index("p1", {"name": "Lamp"})
    (bulk,) = server.of("POST", "/_bulk")
    assert bulk.params == {"refresh": ["wait_for"]}
    assert "/eu-west-1/es/aws4_request" in bulk.headers["Authorization"]
    assert not server.of("POST", "/_mget")


def test_a_failed_item_puts_the_rest_of_the_batch_back(server: FakeServer, products: SearchIndex) -> None:
    old_p1 = {"name": "Old name", "price": 3}
    server.on(
        "POST",
        "/_mget",
        (200, {"docs": [{"_id": "p1", "found": True, "_source": old_p1}, {"_id": "p2", "found": False}]}),
    )
    server.on(
        "POST",
        "/_bulk",
        (
            200,
            {
                "errors": True,
                "items": [
                    {"index": {"_id": "p1", "status": 200, "result": "updated"}},
                    {"index": {"_id": "p2", "status": 201, "result": "created"}},
                    {
                        "index": {
                            "_id": "p3",
                            "status": 400,
                            "error": {"type": "mapper_parsing_exception", "reason": "failed to parse field"},
                        }
                    },
                ],
            },
        ),
        (200, {"errors": False, "items": [{"delete": {"_id": "p2", "status": 200}}, {"index": {"_id": "p1"}}]}),
    )
    with pytest.raises(DocumentMappingError, match=r"document 'p3': mapper_parsing_exception: failed to parse field"):
        products.index_many({"p1": {"name": "New"}, "p2": {"name": "Two"}, "p3": {"name": "Three"}})
    first, undo = server.of("POST", "/_bulk")
    assert len(first.lines()) == 6
    assert undo.lines() == [
        {"delete": {"_index": "shop-products", "_id": "p2"}},
        {"index": {"_index": "shop-products", "_id": "p1"}},
        {**old_p1, DERIVED: {"name": "Old name", "price": [3.0]}, ID_FIELD: "p1"},
    ]


def test_reserved_fields_are_refused_before_anything_is_sent(server: FakeServer, products: SearchIndex) -> None:
    server.on("POST", "/_bulk", handler=_bulk_ok)
    with pytest.raises(DocumentMappingError, match="reserved"):
        products.index_many({"ok": {"name": "fine"}, "bad": {"name": "x", "stratus__id": "other"}})
    assert not server.of("POST", "/_bulk")
    # Only the top level is reserved: a nested key of that name is ordinary data.
    products.index("nested", {"name": "y", "meta": {"stratus__": 1}})
    assert len(server.of("POST", "/_bulk")) == 1


def test_get_and_delete_read_found_and_not_found(server: FakeServer, products: SearchIndex) -> None:
    stored = {"name": "Lamp", DERIVED: {"name": "Lamp"}, ID_FIELD: "p1"}  # an index made without the exclude
    server.on("GET", "/_doc/p1", (200, {"_index": "shop-products", "_id": "p1", "found": True, "_source": stored}))
    server.on("GET", "/_doc/p2", (404, {"_index": "shop-products", "_id": "p2", "found": False}))
    server.on("DELETE", "/_doc/p1", (200, {"_id": "p1", "result": "deleted"}))
    server.on("DELETE", "/_doc/p2", (404, {"_id": "p2", "result": "not_found"}))
    assert products.get("p1") == {"name": "Lamp"}
    assert products.get("p2") is None
    assert products.delete("p1") is True
    assert products.delete("p2") is False
    assert server.of("DELETE", "/_doc/p1")[0].params == {}


# -- queries --------------------------------------------------------------------------------------


def _query(**overrides: Any) -> Query:
    values: dict[str, Any] = {
        "clauses": (),
        "operator": "or",
        "filters": (),
        "ranges": (),
        "facets": (),
        "sort": (),
        "size": 10,
        "offset": 0,
    }
    values.update(overrides)
    return Query(**values)


def _empty_search(sent: Sent) -> tuple[int, Any]:
    return 200, {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}


def test_full_text_filters_ranges_facets_and_sort_become_structured_dsl(
    server: FakeServer, products: SearchIndex
) -> None:
    server.on("POST", "/shop-products/_search", handler=_empty_search)
    products.search(
        'laptop -gaming "standing des"* AND(',
        filters={"category": ["computers", "furniture"], "in_stock": True},
        ranges={"price": (10, None), "created": ("2024-01-01", "2024-12-31T00:00:00Z")},
        facets=["category", "in_stock"],
        sort=["-price", "_score"],
        size=5,
        from_=20,
    )
    body = server.of("POST", "/shop-products/_search")[0].json()

    def on_text(kind: str, text: str) -> dict[str, Any]:
        return {
            "bool": {
                "should": [
                    {kind: {"stratus__.name": {"query": text, "boost": 2.0}}},
                    {kind: {"stratus__.description": {"query": text, "boost": 1.0}}},
                ]
            }
        }

    assert body["query"] == {
        "bool": {
            "should": [
                on_text("match_phrase", "laptop"),
                on_text("match_phrase_prefix", "standing des"),
                on_text("match_phrase", "AND("),  # user text stays text: never query syntax
            ],
            "minimum_should_match": 1,
            "must_not": [on_text("match_phrase", "gaming")],
            "filter": [
                {"terms": {"stratus__.category": ["computers", "furniture"]}},
                {"terms": {"stratus__.in_stock": [True]}},
                {"range": {"stratus__.price": {"gte": 10.0}}},
                {"range": {"stratus__.created": {"gte": 1704067200.0, "lte": 1735603200.0}}},
            ],
        }
    }
    assert body["sort"] == [
        {"stratus__.price": {"order": "desc", "mode": "max", "missing": "_last", "unmapped_type": "double"}},
        {"_score": {"order": "desc"}},
        {ID_FIELD: {"order": "asc"}},
    ]
    assert (body["from"], body["size"], body["track_total_hits"], body["track_scores"]) == (20, 5, True, True)
    assert body["aggs"] == {
        "category": {
            "terms": {
                "field": "stratus__.category",
                "size": 10_000,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        },
        "in_stock": {
            "terms": {"field": "stratus__.in_stock", "size": 10_000, "order": [{"_count": "desc"}, {"_key": "asc"}]}
        },
    }


def test_and_operator_requires_every_clause_and_an_empty_filter_matches_nothing() -> None:
    weights = {"name": 1.0}
    query = build_query(
        _query(clauses=tuple(parse_query("gaming monitor")), operator="and", filters=(("category", "keyword", ()),)),
        weights,
    )
    assert query == {
        "bool": {
            "must": [
                {"match_phrase": {"stratus__.name": {"query": "gaming", "boost": 1.0}}},
                {"match_phrase": {"stratus__.name": {"query": "monitor", "boost": 1.0}}},
            ],
            "filter": [{"match_none": {}}],
        }
    }
    assert build_query(_query(ranges=(("price", "number", None, None),)), weights) == {
        "bool": {"filter": [{"exists": {"field": "stratus__.price"}}]}
    }
    assert build_query(_query(), weights) == {"match_all": {}}


def test_a_browse_without_text_sorts_by_id_and_scores_zero(server: FakeServer, products: SearchIndex) -> None:
    server.on(
        "POST",
        "/_search",
        (
            200,
            {
                "hits": {
                    "total": {"value": 2, "relation": "eq"},
                    "max_score": 1.0,
                    "hits": [
                        {"_id": "a", "_score": 1.0, "_source": {"name": "A"}, "sort": ["a"]},
                        {"_id": "b", "_score": 1.0, "_source": {"name": "B"}, "sort": ["b"]},
                    ],
                }
            },
        ),
    )
    result = products.search()
    body = server.sent[-1].json()
    assert body["sort"] == [{ID_FIELD: {"order": "asc"}}]
    assert "track_scores" not in body and "aggs" not in body
    assert [(h.id, h.score) for h in result.hits] == [("a", 0.0), ("b", 0.0)]


def test_hits_totals_and_facets_are_read_from_the_response(server: FakeServer, products: SearchIndex) -> None:
    server.on(
        "POST",
        "/_search",
        (
            200,
            {
                "took": 4,
                "timed_out": False,
                "hits": {
                    "total": {"value": 4, "relation": "eq"},
                    "max_score": 3.2,
                    "hits": [
                        {
                            "_index": "shop-products",
                            "_id": "p01",
                            "_score": 3.2,
                            "_source": {"name": "Gaming Laptop"},
                            "sort": [3.2, "p01"],
                        },
                        {
                            "_index": "shop-products",
                            "_id": "p02",
                            "_score": 1.5,
                            "_source": {"name": "Laptop Sleeve"},
                            "sort": [1.5, "p02"],
                        },
                    ],
                },
                "aggregations": {
                    "category": {
                        "doc_count_error_upper_bound": 0,
                        "sum_other_doc_count": 0,
                        "buckets": [{"key": "computers", "doc_count": 3}, {"key": "accessories", "doc_count": 1}],
                    },
                    "in_stock": {
                        "buckets": [
                            {"key": 1, "key_as_string": "true", "doc_count": 3},
                            {"key": 0, "key_as_string": "false", "doc_count": 1},
                        ]
                    },
                },
            },
        ),
    )
    result = products.search("laptop", facets=["category", "in_stock"], size=2)
    assert [(h.id, h.score, h.document) for h in result.hits] == [
        ("p01", 3.2, {"name": "Gaming Laptop"}),
        ("p02", 1.5, {"name": "Laptop Sleeve"}),
    ]
    assert result.total == 4
    assert result.facets == {"category": {"computers": 3, "accessories": 1}, "in_stock": {True: 3, False: 1}}
    assert list(result.facets["category"]) == ["computers", "accessories"]  # OpenSearch's order kept
    assert result.cursor is not None  # 2 of 4: the handle makes the next page's cursor


def test_a_page_past_the_result_window_walks_there_with_search_after(server: FakeServer, products: SearchIndex) -> None:
    def page(sent: Sent) -> tuple[int, Any]:
        body = sent.json()
        start = int(body["search_after"][0]) + 1 if "search_after" in body else 0
        ids = range(start, min(start + body["size"], 10_075))
        hits: list[dict[str, Any]] = [{"_id": f"d{i:05d}", "_score": None, "sort": [i]} for i in ids]
        if body.get("_source", True) is not False:
            for hit in hits:
                hit["_source"] = {"name": hit["_id"]}
        return 200, {"hits": {"total": {"value": 10_075, "relation": "eq"}, "hits": hits}}

    server.on("POST", "/_search", handler=page)
    hits, total, _ = products.backend.search(_query(sort=(SortKey("_id", False, "id"),), offset=10_050, size=10))
    steps = [s.json() for s in server.of("POST", "/_search")]
    assert [(s["size"], s.get("search_after"), s.get("_source")) for s in steps] == [
        (10_000, None, False),
        (50, [9_999], False),
        (10, [10_049], None),
    ]
    assert "from" not in steps[2] and steps[2]["track_total_hits"] is True
    assert [h.id for h in hits] == [f"d{i:05d}" for i in range(10_050, 10_060)]
    assert total == 10_075
    # Past the last match: no hits, but the total still comes back.
    server.sent.clear()
    hits, total, _ = products.backend.search(_query(offset=10_080, size=10))
    assert hits == [] and total == 10_075
    assert server.sent[-1].json()["size"] == 0


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (403, {"type": "security_exception", "reason": "no permissions for [indices:data/read/search]"}, AccessDenied),
        (429, {"type": "rejected_execution_exception", "reason": "queue full"}, Throttled),
        (400, {"type": "search_phase_execution_exception", "reason": "all shards failed"}, ValidationError),
    ],
)
def test_server_errors_map_to_port_errors(
    server: FakeServer, products: SearchIndex, status: int, error: dict[str, str], expected: type[Exception]
) -> None:
    server.on("POST", "/_search", (status, {"error": {**error, "root_cause": [error]}, "status": status}))
    with pytest.raises(expected, match=error["reason"].replace("[", r"\[").replace("]", r"\]")):
        products.search("laptop")


def test_an_unreachable_endpoint_is_search_unavailable(server: FakeServer, products: SearchIndex) -> None:
    def refuse(sent: Sent) -> tuple[int, Any]:
        raise requests.ConnectionError("connection refused")

    server.on("POST", "/_search", handler=refuse)
    with pytest.raises(SearchUnavailable, match="cannot reach OpenSearch"):
        products.search("laptop")
