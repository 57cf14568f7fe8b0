"""The search port (OpenSearch role): the behaviour every adapter must have."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratus import App, ValidationError
from stratus.resources.search import DocumentMappingError, apply_stream_record


def ids(result) -> list[str]:
    return [h.id for h in result.hits]


# Full text.


def test_ranking_puts_the_name_match_with_most_occurrences_first(products, products_catalogue) -> None:
    result = products.search("laptop")
    assert set(ids(result)) == {"p01", "p02", "p03", "p11"}
    assert result.total == 4
    assert ids(result)[0] == "p01"
    # A name match outranks description-only matches.
    assert ids(result).index("p02") < ids(result).index("p03")
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert result.hits[0].document == products_catalogue["p01"]


def test_more_matching_terms_rank_higher(products) -> None:
    result = products.search("gaming monitor")
    assert ids(result)[0] == "p07"  # the only one with both terms
    assert set(ids(result)) == {"p01", "p07"}
    assert ids(products.search("gaming monitor", operator="and")) == ["p07"]


def test_and_operator_finds_terms_across_fields(products) -> None:
    # "gaming" is in p01's name, "champions" only in its description.
    assert ids(products.search("gaming champions", operator="and")) == ["p01"]
    assert ids(products.search("gaming sleeve", operator="and")) == []


def test_field_weights_change_the_ranking() -> None:
    import stratus.testing

    app = App("shop")
    default = app.search_index("default", fields={"title": "text", "body": "text"})
    body_first = app.search_index("body-first", fields={"title": "text", "body": "text"}, weights={"body": 10})
    docs = {
        "t": {"title": "solar panel", "body": "installation guide for roofs"},
        "b": {"title": "roof guide", "body": "solar energy and solar power"},
        **{f"x{i}": {"title": f"filler {i}", "body": "unrelated text"} for i in range(8)},
    }
    with stratus.testing.local(app):
        default.index_many(docs)
        body_first.index_many(docs)
        assert default.settings()["weights"] == {"title": 2.0, "body": 1.0}
        assert ids(default.search("solar")) == ["t", "b"]
        assert ids(body_first.search("solar")) == ["b", "t"]


def test_case_and_diacritics_are_folded(products) -> None:
    assert set(ids(products.search("CAFE"))) == {"p04", "p10"}
    assert set(ids(products.search("café"))) == {"p04", "p10"}
    assert ids(products.search("CRÈME")) == ["p10"]


def test_prefix_and_phrase_queries(products) -> None:
    assert set(ids(products.search("lapt*"))) == {"p01", "p02", "p03", "p11"}
    assert set(ids(products.search("espr*"))) == {"p10"}
    assert ids(products.search('"gaming laptop"')) == ["p01"]
    assert ids(products.search('"laptop gaming"')) == []
    assert set(ids(products.search('"standing des"*'))) == {"p05"}


def test_excluded_terms(products, products_catalogue) -> None:
    assert set(ids(products.search("laptop -gaming"))) == {"p02", "p03", "p11"}
    assert "p05" not in ids(products.search("-desk", size=100))
    assert products.search("-desk", size=100).total == len(products_catalogue) - 3


HOSTILE = [
    '"foo AND (',
    "foo AND (",
    "NEAR(laptop gaming",
    "name:laptop",
    "laptop OR",
    "NOT",
    "AND OR NOT",
    "*",
    "**lap",
    '"',
    '""',
    '"unterminated phrase',
    "(((",
    ")",
    "^laptop",
    "laptop\x00",
    "-",
    "- -",
    "--laptop",
    "{name}: laptop",
    "💻 laptop",
    "'; DROP TABLE docs_1; --",
    "c0 : laptop",
    "laptop + desk",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_query_text_never_breaks(products, text) -> None:
    result = products.search(text)
    assert result.total >= 0
    assert products.search("desk").total == 3  # and nothing was harmed


def test_operator_words_are_literal_terms(products) -> None:
    products.index("w1", {"name": "Rock AND Roll", "description": "NEAR the sea, OR not"})
    assert ids(products.search("and"))[0] == "w1"  # "and" is just a word (also in other descriptions)
    assert ids(products.search("and", operator="and", filters={"category": []})) == []
    assert ids(products.search("OR")) == ["w1"]
    assert ids(products.search("NEAR")) == ["w1"]
    assert ids(products.search('"foo AND (')) == []
    assert ids(products.search('"rock and')) == ["w1"]  # unclosed quote: a phrase to the end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_text_is_a_valid_query(products, text) -> None:
    products.search(text, size=1)


def test_empty_query_matches_everything_by_id(products, products_catalogue) -> None:
    result = products.search(size=100)
    assert result.total == len(products_catalogue)
    assert ids(result) == sorted(products_catalogue)
    assert products.search("  !!! ").total == len(products_catalogue)  # no terms: no text condition


# Filters, ranges, facets, sorting.


def test_filters(products) -> None:
    assert set(ids(products.search(filters={"category": "furniture"}))) == {"p03", "p05", "p09"}
    assert set(ids(products.search(filters={"category": ["kitchen", "audio"]}))) == {"p04", "p10", "p12"}
    assert set(ids(products.search(filters={"category": "furniture", "in_stock": True}))) == {"p05"}
    assert set(ids(products.search("laptop", filters={"category": "accessories"}))) == {"p02", "p11"}
    assert ids(products.search(filters={"category": []})) == []
    assert ids(products.search(filters={"price": 25})) == ["p02"]
    with pytest.raises(ValidationError, match="text field"):
        products.search(filters={"name": "Laptop"})
    with pytest.raises(ValidationError, match="not a field"):
        products.search(filters={"colour": "red"})
    with pytest.raises(ValidationError, match="keyword field 'category'"):
        products.search(filters={"category": 3})


def test_ranges(products) -> None:
    assert set(ids(products.search(ranges={"price": (20, 90)}))) == {"p02", "p09", "p11", "p08"}
    assert set(ids(products.search(ranges={"price": (None, 12.5)}))) == {"p04", "p06"}
    assert set(ids(products.search(ranges={"price": (600, None)}))) == {"p01", "p05"}
    in_2023 = products.search(ranges={"created": ("2023-01-01", "2023-12-31T23:59:59Z")})
    assert set(ids(in_2023)) == {"p03", "p07", "p10"}  # p12 has no date: never in a range
    combined = products.search("desk", ranges={"price": (0, 400)}, filters={"in_stock": False})
    assert set(ids(combined)) == {"p03", "p09"}
    with pytest.raises(ValidationError, match="ranges"):
        products.search(ranges={"in_stock": (False, True)})
    with pytest.raises(ValidationError, match="date field"):
        products.search(ranges={"created": ("yesterday", None)})
    with pytest.raises(ValidationError, match="pair"):
        products.search(ranges={"price": 5})  # type: ignore[dict-item]


def test_facets_count_all_matches_not_just_the_page(products) -> None:
    result = products.search(facets=["category", "in_stock"], size=1)
    assert len(result.hits) == 1
    assert result.facets["category"] == {
        "computers": 3,
        "furniture": 3,
        "accessories": 3,
        "kitchen": 2,
        "audio": 1,
    }
    assert list(result.facets["category"])[:3] == ["accessories", "computers", "furniture"]  # count, then value
    assert result.facets["in_stock"] == {True: 9, False: 3}
    laptops = products.search("laptop", facets=["category"])
    assert laptops.facets["category"] == {"accessories": 2, "computers": 1, "furniture": 1}
    assert products.search(facets=["category"], size=0).hits == []
    with pytest.raises(ValidationError, match="facets"):
        products.search(facets=["price"])


def test_sorting(products) -> None:
    by_price = ids(products.search(sort=["price"], size=100))
    assert by_price[:3] == ["p06", "p04", "p02"]
    assert by_price[-1] == "p01"
    assert ids(products.search(sort=["-price"], size=3)) == ["p01", "p05", "p10"]
    newest = ids(products.search(sort=["-created"], size=100))
    assert newest[0] == "p11" and newest[-1] == "p12"  # missing dates sort last
    assert ids(products.search(sort=["created"], size=100))[-1] == "p12"
    grouped = ids(products.search(sort=["category", "-price"], size=4))
    assert grouped == ["p11", "p02", "p06", "p12"]
    # Relevance first, then the requested field.
    assert ids(products.search("laptop", sort=["_score"]))[0] == "p01"
    assert ids(products.search(sort=["-_id"], size=2)) == ["p12", "p11"]
    with pytest.raises(ValidationError, match="text field"):
        products.search(sort=["name"])
    with pytest.raises(ValidationError, match="not a field"):
        products.search(sort=["-stock"])


def test_pagination_covers_each_hit_once(products, products_catalogue) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = products.search(sort=["price"], size=5, cursor=cursor)
        assert page.total == len(products_catalogue)
        seen += ids(page)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == len(products_catalogue)
    assert seen == ids(products.search(sort=["price"], size=100))
    # from_ paging gives the same pages.
    assert ids(products.search(sort=["price"], size=5, from_=5)) == seen[5:10]
    first = products.search("laptop", size=2)
    assert first.cursor is not None
    second = products.search("laptop", size=2, cursor=first.cursor)
    assert set(ids(first)) | set(ids(second)) == {"p01", "p02", "p03", "p11"}
    assert second.cursor is None
    with pytest.raises(ValidationError, match="different search"):
        products.search("desk", size=2, cursor=first.cursor)
    with pytest.raises(ValidationError, match="cursor"):
        products.search(cursor="garbage")
    with pytest.raises(ValidationError, match="size"):
        products.search(size=101)
    with pytest.raises(ValidationError, match="Result window"):
        products.search(size=100, from_=9901)


# Writes.


def test_upsert_get_and_delete(products) -> None:
    products.index("p02", {"name": "Tablet Sleeve", "category": "accessories", "price": 30})
    assert products.get("p02") == {"name": "Tablet Sleeve", "category": "accessories", "price": 30}
    assert "p02" not in ids(products.search("laptop"))
    assert ids(products.search("tablet")) == ["p02"]
    assert products.search(filters={"category": "accessories"}, ranges={"price": (30, 30)}).total == 1
    assert products.delete("p02") is True
    assert products.delete("p02") is False
    assert products.get("p02") is None
    assert ids(products.search("tablet")) == []
    assert products.search(facets=["category"]).facets["category"]["accessories"] == 2


def test_bad_documents_are_refused_and_nothing_is_written(products, products_catalogue) -> None:
    with pytest.raises(DocumentMappingError, match="price"):
        products.index("x1", {"name": "Thing", "price": "cheap"})
    with pytest.raises(DocumentMappingError, match="in_stock"):
        products.index("x1", {"name": "Thing", "in_stock": "yes"})
    with pytest.raises(DocumentMappingError, match="name"):
        products.index("x1", {"name": 42})
    with pytest.raises(DocumentMappingError, match="JSON"):
        products.index("x1", {"name": "Thing", "extra": {1, 2}})
    with pytest.raises(DocumentMappingError, match="created"):
        products.index("x1", {"created": "next tuesday"})
    with pytest.raises(ValidationError, match="document id"):
        products.index("", {"name": "x"})
    with pytest.raises(ValidationError, match="512"):
        products.index("i" * 513, {"name": "x"})
    # A batch with one bad document writes none of them.
    with pytest.raises(DocumentMappingError):
        products.index_many([("x2", {"name": "Good"}), ("x3", {"price": float("nan")})])
    assert products.get("x1") is None and products.get("x2") is None
    assert products.search(size=100).total == len(products_catalogue)


def test_values_are_coerced_like_opensearch(products) -> None:
    from datetime import UTC, datetime

    products.index(
        "c1",
        {
            "name": ["Multi", "Valued"],
            "category": ["a", "b"],
            "price": "15.5",
            "in_stock": "true",
            "created": datetime(2030, 1, 1, tzinfo=UTC),
        },
    )
    assert products.get("c1")["created"] == "2030-01-01T00:00:00+00:00"
    assert ids(products.search("valued")) == ["c1"]
    assert ids(products.search(filters={"category": "b", "in_stock": True}, ranges={"price": (15.5, 15.5)})) == ["c1"]
    assert ids(products.search(ranges={"created": (1893456000000, None)})) == ["c1"]  # epoch millis


def test_nested_fields() -> None:
    import stratus.testing

    app = App("blog")
    posts = app.search_index("posts", fields={"title": "text", "author.name": "keyword"})
    with stratus.testing.local(app):
        posts.index("1", {"title": "Hello", "author": {"name": "ada"}})
        posts.index("2", {"title": "Hello again", "author": {"name": "bob"}})
        assert ids(posts.search("hello", filters={"author.name": "ada"})) == ["1"]


def test_declaration_is_validated() -> None:
    app = App("bad")
    with pytest.raises(ValidationError, match="type 'string'"):
        app.search_index("a", fields={"x": "string"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="search index name"):
        app.search_index("Products", fields={"x": "text"})
    with pytest.raises(ValidationError, match="weights"):
        app.search_index("b", fields={"x": "text", "k": "keyword"}, weights={"k": 2})
    with pytest.raises(ValidationError, match="non-empty"):
        app.search_index("c", fields={})


def test_restart_keeps_documents(search_env, products_catalogue) -> None:
    search_env.products.index("new", {"name": "Durable Laptop", "price": 1})
    search_env.products.delete("p12")
    search_env.restart()
    products = search_env.products
    assert products.get("new") == {"name": "Durable Laptop", "price": 1}
    assert products.get("p12") is None
    assert ids(products.search("durable")) == ["new"]
    assert products.search(size=100).total == len(products_catalogue)


# Feeding from a table's change stream.


def _record(event: str, image: dict, keys: dict | None = None) -> dict:
    data: dict = {"Keys": {"sku": image["sku"]} if keys is None else keys, "NewImage": image}
    return {"eventName": event, "eventSource": "aws:dynamodb", "dynamodb": data}


def test_stream_records_keep_the_index_in_step(products) -> None:
    image = {
        "sku": {"S": "s1"},
        "name": {"S": "Stream Laptop"},
        "price": {"N": "999.5"},
        "in_stock": {"BOOL": True},
        "category": {"S": "computers"},
        "tags": {"SS": ["b", "a"]},
        "specs": {"M": {"ram": {"N": "16"}, "ports": {"L": [{"S": "usb"}, {"NULL": True}]}}},
    }
    assert apply_stream_record(products, _record("INSERT", image), id_attribute="sku") == "indexed"
    doc = products.get("s1")
    assert doc == {
        "sku": "s1",
        "name": "Stream Laptop",
        "price": 999.5,
        "in_stock": True,
        "category": "computers",
        "tags": ["a", "b"],
        "specs": {"ram": 16, "ports": ["usb", None]},
    }
    assert ids(products.search("stream")) == ["s1"]
    modified = {**image, "name": {"S": "Stream Desktop"}}
    assert apply_stream_record(products, _record("MODIFY", modified), id_attribute="sku") == "indexed"
    assert ids(products.search("stream"))[0] == "s1" and products.get("s1")["name"] == "Stream Desktop"
    assert ids(products.search("desktop")) == ["s1"]
    removed = {"eventName": "REMOVE", "dynamodb": {"Keys": {"sku": {"S": "s1"}}}}
    assert apply_stream_record(products, removed, id_attribute="sku") == "deleted"
    assert products.get("s1") is None
    assert apply_stream_record(products, removed, id_attribute="sku") == "skipped"


def test_stream_records_with_a_document_mapper(products) -> None:
    def to_document(item: dict) -> dict | None:
        if item.get("status") == "draft":
            return None  # drafts are not searchable
        return {"name": item["title"], "price": item["price"]}

    image = {"id": {"N": "7"}, "title": {"S": "Mapped Lamp"}, "price": {"N": "30"}, "status": {"S": "live"}}
    apply_stream_record(
        products, _record("INSERT", image, {"id": {"N": "7"}}), id_attribute="id", to_document=to_document
    )
    assert products.get("7") == {"name": "Mapped Lamp", "price": 30}
    draft = {**image, "status": {"S": "draft"}}
    result = apply_stream_record(
        products, _record("MODIFY", draft, {"id": {"N": "7"}}), id_attribute="id", to_document=to_document
    )
    assert result == "deleted" and products.get("7") is None


def test_bad_stream_records_are_refused(products) -> None:
    with pytest.raises(ValidationError, match="eventName"):
        apply_stream_record(products, {"eventName": "UPSERT", "dynamodb": {}}, id_attribute="sku")
    with pytest.raises(ValidationError, match="NewImage"):
        apply_stream_record(products, {"eventName": "INSERT", "dynamodb": {"Keys": {}}}, id_attribute="sku")
    with pytest.raises(ValidationError, match="'sku'"):
        apply_stream_record(products, _record("INSERT", {"name": {"S": "x"}}, {}), id_attribute="sku")
    with pytest.raises(ValidationError, match="attribute type"):
        apply_stream_record(products, _record("INSERT", {"sku": {"X": "1"}}), id_attribute="sku")
    with pytest.raises(ValidationError, match="not a DynamoDB number"):
        apply_stream_record(products, _record("INSERT", {"sku": {"S": "1"}, "n": {"N": "abc"}}), id_attribute="sku")
