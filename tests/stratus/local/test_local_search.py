"""The embedded search engine: durable in search.db, rebuilt when the declared mapping changes."""

from __future__ import annotations

from typing import Any

import pytest

import stratus.testing
from stratus import App, ValidationError
from stratus.local.search import fts_phrase
from stratus.resources.search_query import Clause, parse_query


def _declare(fields: dict, **settings: Any) -> tuple[App, Any]:
    app = App("shop")
    return app, app.search_index("products", fields=fields, **settings)


def test_mapping_change_rebuilds_from_stored_documents(tmp_path) -> None:
    app, index = _declare({"name": "text"})
    with stratus.testing.local(app, state_dir=tmp_path):
        index.index("1", {"name": "Red Chair", "colour": "red", "notes": "wooden"})
        index.index("2", {"name": "Blue Chair", "colour": "blue"})
        assert index.search("wooden").total == 0  # notes is not mapped yet
        assert (tmp_path / "search.db").exists()
    # The next version of the app maps two more fields: old documents become searchable by them.
    app, index = _declare({"name": "text", "notes": "text", "colour": "keyword"})
    with stratus.testing.local(app, state_dir=tmp_path):
        assert [h.id for h in index.search("wooden").hits] == ["1"]
        assert [h.id for h in index.search(filters={"colour": "blue"}).hits] == ["2"]
        assert index.search("chair", facets=["colour"]).facets == {"colour": {"blue": 1, "red": 1}}
    # And back: a field removed from the mapping is no longer searchable, the documents remain.
    app, index = _declare({"name": "text"})
    with stratus.testing.local(app, state_dir=tmp_path):
        assert index.search("wooden").total == 0
        assert index.get("1") == {"name": "Red Chair", "colour": "red", "notes": "wooden"}
        assert index.search("chair").total == 2


def test_incompatible_mapping_change_is_refused_and_nothing_changes(tmp_path) -> None:
    app, index = _declare({"name": "text", "size": "keyword"})
    with stratus.testing.local(app, state_dir=tmp_path):
        index.index("1", {"name": "Shirt", "size": "XL"})
    app, index = _declare({"name": "text", "size": "number"})
    with pytest.raises(ValidationError, match="changed field mapping"), stratus.testing.local(app, state_dir=tmp_path):
        pass
    app, index = _declare({"name": "text", "size": "keyword"})
    with stratus.testing.local(app, state_dir=tmp_path):
        assert [h.id for h in index.search("shirt", filters={"size": "XL"}).hits] == ["1"]


def test_reordering_text_fields_keeps_each_field_in_its_place(tmp_path) -> None:
    app, index = _declare({"title": "text", "body": "text"})
    with stratus.testing.local(app, state_dir=tmp_path):
        index.index("1", {"title": "alpha", "body": "beta"})
    app, index = _declare({"body": "text", "title": "text"}, weights={"title": 1, "body": 50})
    with stratus.testing.local(app, state_dir=tmp_path):
        index.index("2", {"title": "beta", "body": "alpha"})
        for i in range(6):
            index.index(f"f{i}", {"title": "filler", "body": "filler"})
        hits = index.search("beta").hits
        assert [h.id for h in hits] == ["1", "2"]  # "1" has beta in its body, which weighs most
        assert hits[0].score > 10 * hits[1].score


def test_clauses_are_always_quoted_for_fts5() -> None:
    assert fts_phrase(Clause('say "hi"')) == '"say ""hi"""'
    assert fts_phrase(Clause("lapt", prefix=True)) == '"lapt"*'
    assert parse_query('-"a b"* c* "d') == [
        Clause("a b", phrase=True, prefix=True, negated=True),
        Clause("c", prefix=True),
        Clause("d", phrase=True),
    ]
    assert parse_query("( ) * - --") == []
