"""Queries and scans of the embedded table: SQL range scans over the key encodings.

A query is one range scan of the item B-tree (or of an index B-tree joined to the
items): the partition key is an equality, the sort-key condition a byte range
(``begins_with`` the range ``[prefix, successor)``), and a cursor continues strictly
after the last key examined. Rows stream from SQLite one at a time; a page stops at
``limit`` items examined or 1 MB of item data read, as DynamoDB pages do, and only
then are filters and projections applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.local.table.codec import unpack
from stratus.local.table.engine import ITEM
from stratus.local.table.keys import successor
from stratus.resources.table.backend import MAX_PAGE_BYTES, Read, ReadResult

if TYPE_CHECKING:
    from stratus.local.table.adapter import Encoder, LocalTable


def _sort_range(condition: Any, column: str, enc: Encoder) -> tuple[list[str], list[Any]]:
    if condition is None:
        return [], []
    op = condition.op
    if op == "BETWEEN":
        low, high = condition.operands
        return [f"{column} >= ?", f"{column} <= ?"], [enc(low), enc(high)]
    value = enc(condition.operands[0])
    if op == "begins_with":
        upper = successor(value)
        if upper is None:
            return [f"{column} >= ?"], [value]
        return [f"{column} >= ?", f"{column} < ?"], [value, upper]
    return [f"{column} {op} ?"], [value]


def _query_sql(table: LocalTable, request: Read) -> tuple[str, list[Any]]:
    kc = request.key_condition
    index = request.index
    desc = "" if request.forward else " DESC"
    after = ">" if request.forward else "<"
    if index is None:
        where = ["t.tid = ?", "t.pk = ?"]
        params: list[Any] = [table.tid, table.pk_enc(kc.partition[1])]
        if table.sk_enc is not None:
            clauses, values = _sort_range(kc.sort, "t.sk", table.sk_enc)
            where += clauses
            params += values
        if request.start_key is not None:
            _, sk = table.encode_key(request.start_key)
            where.append(f"t.sk {after} ?")
            params.append(sk)
        sql = f"SELECT {ITEM}, t.size FROM tbl_items t WHERE {' AND '.join(where)} ORDER BY t.sk{desc}"
        return sql, params
    plan = table.plans[index.name]
    where = ["i.tid = ?", "i.iid = ?", "i.ipk = ?"]
    params = [table.tid, plan.iid, plan.pk_enc(kc.partition[1])]
    if plan.sk_enc is not None:
        clauses, values = _sort_range(kc.sort, "i.isk", plan.sk_enc)
        where += clauses
        params += values
    if request.start_key is not None:
        start = request.start_key
        pk, sk = table.encode_key(start)
        isk = plan.sk_enc(start[plan.sk_name]) if plan.sk_enc is not None and plan.sk_name else b""
        where.append(f"(i.isk, i.pk, i.sk) {after} (?, ?, ?)")
        params += [isk, pk, sk]
    sql = (
        f"SELECT {ITEM}, t.size FROM tbl_index i JOIN tbl_items t ON t.tid = i.tid AND t.pk = i.pk AND t.sk = i.sk "
        f"WHERE {' AND '.join(where)} ORDER BY i.isk{desc}, i.pk{desc}, i.sk{desc}"
    )
    return sql, params


def _scan_sql(table: LocalTable, request: Read) -> tuple[str, list[Any]]:
    index = request.index
    segmented = request.total_segments is not None
    if index is None:
        where = ["t.tid = ?"]
        params: list[Any] = [table.tid]
        if request.start_key is not None:
            where.append("(t.pk, t.sk) > (?, ?)")
            params += list(table.encode_key(request.start_key))
        if segmented:
            where.append("stratus_segment(t.pk, ?) = ?")
            params += [request.total_segments, request.segment]
        return f"SELECT {ITEM}, t.size FROM tbl_items t WHERE {' AND '.join(where)} ORDER BY t.pk, t.sk", params
    plan = table.plans[index.name]
    where = ["i.tid = ?", "i.iid = ?"]
    params = [table.tid, plan.iid]
    if request.start_key is not None:
        start = request.start_key
        pk, sk = table.encode_key(start)
        isk = plan.sk_enc(start[plan.sk_name]) if plan.sk_enc is not None and plan.sk_name else b""
        where.append("(i.ipk, i.isk, i.pk, i.sk) > (?, ?, ?, ?)")
        params += [plan.pk_enc(start[plan.pk_name]), isk, pk, sk]
    if segmented:
        where.append("stratus_segment(i.ipk, ?) = ?")
        params += [request.total_segments, request.segment]
    sql = (
        f"SELECT {ITEM}, t.size FROM tbl_index i JOIN tbl_items t ON t.tid = i.tid AND t.pk = i.pk AND t.sk = i.sk "
        f"WHERE {' AND '.join(where)} ORDER BY i.ipk, i.isk, i.pk, i.sk"
    )
    return sql, params


def read(table: LocalTable, request: Read) -> ReadResult:
    """One page of a query or scan."""
    sql, params = _query_sql(table, request) if request.key_condition is not None else _scan_sql(table, request)
    index = request.index
    filt = request.filter
    proj = request.projection
    narrow = index is not None and index.projection_type != "ALL"
    # A local index fetches attributes it does not project from the table when a filter or
    # a projection names them; a global index has only what it projects.
    fetches = narrow and index is not None and not index.is_global
    narrow_result = narrow and proj is None
    count_only = request.count_only
    limit = request.limit
    items: list[dict[str, Any]] = []
    count = scanned = total = 0
    last_blob: bytes | None = None
    more = False
    with table.lock:
        cursor = table.conn.execute(sql, params)
        try:
            for blob, size in cursor:
                if scanned and total + size > MAX_PAGE_BYTES:
                    more = True
                    break
                scanned += 1
                total += size
                last_blob = blob
                if filt is None and count_only:
                    count += 1
                else:
                    item = unpack(blob)
                    if narrow and not fetches:
                        assert index is not None
                        item = index.project(item)
                    if filt is None or filt.evaluate(item):
                        count += 1
                        if not count_only:
                            if proj is not None:
                                items.append(proj.apply(item))
                            elif narrow_result and fetches:
                                assert index is not None
                                items.append(index.project(item))
                            else:
                                items.append(item)
                if limit is not None and scanned >= limit:
                    more = True
                    break
        finally:
            cursor.close()
    last_key = None
    if more and last_blob is not None:
        last = unpack(last_blob)
        names = index.key_names if index is not None else table.schema.key_names
        last_key = {n: last[n] for n in names}
    return ReadResult(items, last_key, count, scanned)
