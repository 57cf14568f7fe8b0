"""The embedded search engine: SQLite FTS5 with BM25 ranking, in ``search.db``.

Each index has three tables, named by a small integer id kept in ``search_indexes``:

- ``docs_<id>``  the stored documents (JSON), one row per id; the row id links the others
- ``fts_<id>_<n>``  one FTS5 table per text field, tokenizer ``unicode61 remove_diacritics 2``
  (case folding, diacritics removed), prefix indexes for 2 and 3 characters. One table per
  field because FTS5's ``bm25()`` normalizes by the length of the whole row: a long
  description would drown a title match. Per field, the score is OpenSearch's: the sum
  over fields of weight x BM25 of the field
- ``vals_<id>``  one row per exact value (keyword, number, boolean, date): filters, ranges,
  facets and sorting

Why FTS5 and not a search library: it is in every Python's SQLite, it is durable with the
rest of the state folder, and BM25 with per-column weights is what OpenSearch ranks with.

When the declared mapping changes between runs, the FTS and value tables are rebuilt
from the stored documents in one transaction.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.resources.search import PreparedDocument, Query, SearchBackend, SearchHit, SearchIndex, SortKey
from stratus.resources.search_query import Clause

if TYPE_CHECKING:
    import sqlite3

    from stratus.local.cloud import LocalCloud

_REGISTRY = [
    """
    CREATE TABLE search_indexes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        mapping TEXT NOT NULL
    )
    """
]


def fts_phrase(clause: Clause) -> str:
    """One clause as an FTS5 string: always quoted, so no user text is read as an operator."""
    return '"' + clause.text.replace('"', '""') + '"' + ("*" if clause.prefix else "")


class LocalSearchIndex(SearchBackend):
    """One declared search index on the local cloud."""

    def __init__(self, resource: SearchIndex, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.db = cloud.storage.database("search")
        self.db.migrate("search", _REGISTRY)
        mapping = json.dumps(list(resource.fields.items()))  # order matters: text field n is table n
        self.id = 0
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, mapping FROM search_indexes WHERE name = ?", (resource.qualified_name,)
            ).fetchone()
            if row is None:
                cur = conn.execute(
                    "INSERT INTO search_indexes (name, mapping) VALUES (?, ?)", (resource.qualified_name, mapping)
                )
                self._name_tables(int(cur.lastrowid or 0))
                self._create(conn)
            else:
                self._name_tables(int(row[0]))
                if row[1] != mapping:
                    self._rebuild(conn)
                    conn.execute("UPDATE search_indexes SET mapping = ? WHERE id = ?", (mapping, self.id))

    def _name_tables(self, index_id: int) -> None:
        self.id = index_id
        self.docs, self.vals = f"docs_{index_id}", f"vals_{index_id}"
        #: One FTS table per text field, so BM25's field length is that field's, as in OpenSearch.
        self.fts = [f"fts_{index_id}_{n}" for n in range(len(self.resource.text_fields))]

    # Schema.

    def _create(self, conn: sqlite3.Connection, *, docs: bool = True) -> None:
        i = self.id
        if docs:
            conn.execute(
                f"CREATE TABLE docs_{i} (rid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL)"
            )
        for n in range(len(self.resource.text_fields)):
            conn.execute(
                f"CREATE VIRTUAL TABLE fts_{i}_{n} USING fts5(body, "
                "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
            )
        conn.execute(f"CREATE TABLE vals_{i} (rid INTEGER NOT NULL, field TEXT NOT NULL, num REAL, str TEXT)")
        conn.execute(f"CREATE INDEX vals_{i}_rid ON vals_{i} (rid)")
        conn.execute(f"CREATE INDEX vals_{i}_str ON vals_{i} (field, str)")
        conn.execute(f"CREATE INDEX vals_{i}_num ON vals_{i} (field, num)")

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        """Re-derive the FTS and value tables from the stored documents under the new mapping."""
        i = self.id
        old = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ? AND sql LIKE 'CREATE VIRTUAL TABLE%'",
            (f"fts_{i}_[0-9]*",),
        ).fetchall()
        for (name,) in old:
            conn.execute(f'DROP TABLE "{name}"')
        conn.execute(f"DROP TABLE IF EXISTS vals_{i}")
        self._create(conn, docs=False)
        rows = conn.execute(f"SELECT rid, doc_id, source FROM docs_{i}").fetchall()
        for rid, doc_id, source in rows:
            try:
                prepared = self.resource.prepare(doc_id, json.loads(source))
            except ValidationError as exc:
                raise ValidationError(
                    f"search index {self.resource.name!r}: the changed field mapping does not fit a stored "
                    f"document ({exc.message}); delete or fix the document first, or keep the old mapping"
                ) from None
            self._write_derived(conn, rid, prepared)

    # Writes.

    def _write_derived(self, conn: sqlite3.Connection, rid: int, doc: PreparedDocument) -> None:
        for table, text in zip(self.fts, doc.texts, strict=True):
            if text is not None:
                conn.execute(f"INSERT INTO {table} (rowid, body) VALUES (?, ?)", (rid, text))
        conn.executemany(
            f"INSERT INTO {self.vals} (rid, field, num, str) VALUES (?, ?, ?, ?)",
            [(rid, f, num, text) for f, num, text in doc.values],
        )

    def _remove_derived(self, conn: sqlite3.Connection, rid: int) -> None:
        for table in self.fts:
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (rid,))
        conn.execute(f"DELETE FROM {self.vals} WHERE rid = ?", (rid,))

    def index_many(self, documents: list[PreparedDocument]) -> None:
        with self.db.transaction() as conn:
            for doc in documents:
                row = conn.execute(f"SELECT rid FROM {self.docs} WHERE doc_id = ?", (doc.doc_id,)).fetchone()
                if row is None:
                    cur = conn.execute(
                        f"INSERT INTO {self.docs} (doc_id, source) VALUES (?, ?)", (doc.doc_id, doc.source)
                    )
                    rid = int(cur.lastrowid or 0)
                else:
                    rid = row[0]
                    self._remove_derived(conn, rid)
                    conn.execute(f"UPDATE {self.docs} SET source = ? WHERE rid = ?", (doc.source, rid))
                self._write_derived(conn, rid, doc)

    def delete(self, doc_id: str) -> bool:
        with self.db.transaction() as conn:
            row = conn.execute(f"SELECT rid FROM {self.docs} WHERE doc_id = ?", (doc_id,)).fetchone()
            if row is None:
                return False
            self._remove_derived(conn, row[0])
            conn.execute(f"DELETE FROM {self.docs} WHERE rid = ?", (row[0],))
            return True

    def get(self, doc_id: str) -> dict[str, Any] | None:
        rows = self.db.execute(f"SELECT source FROM {self.docs} WHERE doc_id = ?", (doc_id,))
        return json.loads(rows[0][0]) if rows else None

    # Search.

    def _matches(self, query: Query, params: dict[str, Any]) -> str:
        """SQL selecting (rid, score) of every matching document."""

        def param(value: Any) -> str:
            name = f"p{len(params)}"
            params[name] = value
            return f":{name}"

        def anywhere(fts_query: str) -> str:
            """Rows whose text matches ``fts_query`` in any text field."""
            p = param(fts_query)
            return " UNION ".join(f"SELECT rowid FROM {t} WHERE {t} MATCH {p}" for t in self.fts)

        positive = [c for c in query.clauses if not c.negated]
        negative = [c for c in query.clauses if c.negated]
        if positive:
            # Score: the sum over fields of weight x BM25 of any query term in that field (OpenSearch's
            # multi_match most_fields); matching: any term (or) or every term, each in some field (and).
            any_term = param(" OR ".join(fts_phrase(c) for c in positive))
            scored = " UNION ALL ".join(
                f"SELECT rowid AS rid, -bm25({t}) * {weight!r} AS s FROM {t} WHERE {t} MATCH {any_term}"
                for t, weight in zip(self.fts, self.resource.weights.values(), strict=True)
            )
            if len(self.fts) == 1:  # no sum; and SQLite must not fold bm25() into an aggregate
                sql = f"SELECT rid, s AS score FROM ({scored}) WHERE 1"
            else:
                sql = f"SELECT rid, score FROM (SELECT rid, SUM(s) AS score FROM ({scored}) GROUP BY rid) WHERE 1"
            if query.operator == "and" and len(positive) > 1:
                for clause in positive:
                    sql += f" AND rid IN ({anywhere(fts_phrase(clause))})"
        else:
            sql = f"SELECT rid, 0.0 AS score FROM {self.docs} WHERE 1"
        if negative:
            sql += f" AND rid NOT IN ({anywhere(' OR '.join(fts_phrase(c) for c in negative))})"
        for fname, ftype, values in query.filters:
            if not values:
                sql += " AND 0"
                continue
            column = "str" if ftype == "keyword" else "num"
            marks = ", ".join(param(float(v) if ftype == "boolean" else v) for v in values)
            sql += f" AND rid IN (SELECT rid FROM {self.vals} WHERE field = {param(fname)} AND {column} IN ({marks}))"
        for fname, ftype, lo, hi in query.ranges:
            column = "str" if ftype == "keyword" else "num"
            cond = f"field = {param(fname)} AND {column} IS NOT NULL"
            if lo is not None:
                cond += f" AND {column} >= {param(lo)}"
            if hi is not None:
                cond += f" AND {column} <= {param(hi)}"
            sql += f" AND rid IN (SELECT rid FROM {self.vals} WHERE {cond})"
        return sql

    def _order(self, keys: tuple[SortKey, ...], params: dict[str, Any]) -> str:
        terms = []
        for n, key in enumerate(keys):
            direction = "DESC" if key.descending else "ASC"
            if key.type == "score":
                terms.append("m.score DESC")
            elif key.type == "id":
                terms.append(f"d.doc_id {direction}")
            else:
                name = f"s{n}"
                params[name] = key.field
                column = "str" if key.type == "keyword" else "num"
                # Multi-valued fields sort by their smallest value ascending, largest descending (OpenSearch).
                agg = "MAX" if key.descending else "MIN"
                expr = f"(SELECT {agg}({column}) FROM {self.vals} v WHERE v.rid = m.rid AND v.field = :{name})"
                terms.append(f"{expr} IS NULL, {expr} {direction}")  # missing values last, as OpenSearch
        terms.append("d.doc_id ASC")
        return ", ".join(terms)

    def search(self, query: Query) -> tuple[list[SearchHit], int, dict[str, dict[Any, int]]]:
        params: dict[str, Any] = {}
        matches = self._matches(query, params)
        order = self._order(query.sort, params)
        with self.db.read() as conn:
            (total,) = conn.execute(f"WITH m AS ({matches}) SELECT COUNT(*) FROM m", params).fetchone()
            rows = []
            if query.size:
                rows = conn.execute(
                    f"WITH m AS ({matches}) SELECT d.doc_id, m.score, d.source FROM m "
                    f"JOIN {self.docs} d ON d.rid = m.rid ORDER BY {order} LIMIT :limit OFFSET :offset",
                    {**params, "limit": query.size, "offset": query.offset},
                ).fetchall()
            facets: dict[str, dict[Any, int]] = {}
            for fname, ftype in query.facets:
                counts = conn.execute(
                    f"WITH m AS ({matches}) SELECT v.str, COUNT(DISTINCT v.rid) AS n FROM {self.vals} v "
                    f"JOIN m ON m.rid = v.rid WHERE v.field = :facet GROUP BY v.str ORDER BY n DESC, v.str",
                    {**params, "facet": fname},
                ).fetchall()
                facets[fname] = {(value == "true" if ftype == "boolean" else value): n for value, n in counts}
        hits = [SearchHit(id=doc_id, score=float(score), document=json.loads(source)) for doc_id, score, source in rows]
        return hits, int(total), facets

    def __repr__(self) -> str:
        return f"<LocalSearchIndex {self.resource.qualified_name}>"
