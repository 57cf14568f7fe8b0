"""Queries and scans: key conditions, order, indexes, projections, filters, pages and segments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stratus.errors import ResourceNotFound, ValidationError
from stratus.resources.table.expressions import Attr, Key

NUMBERS = [Decimal(x) for x in ["-1000", "-2.5", "-2", "-0.001", "0", "0.001", "0.5", "1", "1.5", "10", "100", "1e20"]]


def load_orders(env, n: int = 10) -> None:
    for i in range(n):
        env.orders.put(
            {
                "customer": "c1",
                "at": i,
                "status": "open" if i % 2 else "done",
                "total": 100 - i,
                "region": "eu" if i < 5 else "us",
                "sku": f"s{i % 3}",
                "note": f"n{i}",
            }
        )
    env.orders.put({"customer": "c2", "at": 1, "status": "open", "total": 1})


def test_number_sort_keys_come_back_in_numeric_order(env) -> None:
    for i, n in enumerate(reversed(NUMBERS)):
        env.orders.put({"customer": "num", "at": n, "seq": i})
    got = [i["at"] for i in env.orders.query(Key("customer").eq("num")).items]
    assert got == NUMBERS
    back = [i["at"] for i in env.orders.query(Key("customer").eq("num"), forward=False).items]
    assert back == list(reversed(NUMBERS))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Key("at").eq(Decimal("0.5")), ["0.5"]),
        (Key("at").lt(0), ["-1000", "-2.5", "-2", "-0.001"]),
        (Key("at").lte(0), ["-1000", "-2.5", "-2", "-0.001", "0"]),
        (Key("at").gt(10), ["100", "1E+20"]),
        (Key("at").gte(10), ["10", "100", "1E+20"]),
        (Key("at").between(-2, 1), ["-2", "-0.001", "0", "0.001", "0.5", "1"]),
    ],
)
def test_sort_conditions_on_numbers(env, condition, expected) -> None:
    for n in NUMBERS:
        env.orders.put({"customer": "num", "at": n})
    page = env.orders.query(Key("customer").eq("num") & condition)
    assert [i["at"] for i in page.items] == [Decimal(x) for x in expected]


def test_string_sort_conditions_and_begins_with(env) -> None:
    for ident in ["a", "ab", "abc", "abd", "b", "\u00e9", "\U0001f600", "Z"]:
        env.events.put({"topic": "t", "id": ident})
    ids = lambda page: [i["id"] for i in page.items]  # noqa: E731
    # UTF-8 byte order: "Z" < "a" < ... < "é" (0xC3) < emoji (0xF0)
    assert ids(env.events.query(Key("topic").eq("t"))) == ["Z", "a", "ab", "abc", "abd", "b", "\u00e9", "\U0001f600"]
    assert ids(env.events.query("topic = :t AND begins_with(id, :p)", values={":t": "t", ":p": "ab"})) == [
        "ab",
        "abc",
        "abd",
    ]
    assert ids(env.events.query(Key("topic").eq("t") & Key("id").between("ab", "abd"))) == ["ab", "abc", "abd"]
    assert ids(env.events.query(Key("topic").eq("t") & Key("id").gt("b"))) == ["\u00e9", "\U0001f600"]


def test_binary_keys_order_by_bytes(env) -> None:
    for r in [b"\xff", b"\x00", b"\x00\x01", b"a"]:
        env.blobs.put({"h": b"h", "r": r})
    assert [i["r"] for i in env.blobs.query(Key("h").eq(b"h")).items] == [b"\x00", b"\x00\x01", b"a", b"\xff"]
    assert [i["r"] for i in env.blobs.query(Key("h").eq(b"h") & Key("r").begins_with(b"\x00")).items] == [
        b"\x00",
        b"\x00\x01",
    ]


def test_query_key_condition_errors(env) -> None:
    with pytest.raises(ValidationError, match="Query condition missed key schema element"):
        env.orders.query(Key("status").eq("open"))
    with pytest.raises(ValidationError, match="Condition parameter type does not match schema type"):
        env.orders.query(Key("customer").eq(1))
    with pytest.raises(ValidationError, match="Condition parameter type does not match schema type"):
        env.orders.query(Key("customer").eq("c") & Key("at").eq("x"))
    with pytest.raises(ValidationError):
        env.orders.query("customer > :c", values={":c": "c"})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        env.orders.query(Key("customer").eq("c"), limit=0)
    with pytest.raises(ResourceNotFound):
        env.orders.query(Key("status").eq("open"), index="nope")
    with pytest.raises(ValidationError, match="Consistent reads are not supported on global secondary indexes"):
        env.orders.query(Key("status").eq("open"), index="by_status", consistent=True)


def test_pages_follow_cursors_without_gaps_or_repeats(env) -> None:
    load_orders(env, 25)
    seen = []
    cursor = None
    pages = 0
    while True:
        page = env.orders.query(Key("customer").eq("c1"), limit=7, cursor=cursor)
        pages += 1
        seen += [i["at"] for i in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == list(range(25))
    assert pages >= 4
    assert [i["at"] for i in env.orders.query_all(Key("customer").eq("c1"), forward=False)] == list(range(24, -1, -1))


def test_bad_cursor_is_rejected(env) -> None:
    with pytest.raises(ValidationError, match="starting key"):
        env.orders.query(Key("customer").eq("c1"), cursor="not-a-cursor")
    load_orders(env, 5)
    env.products.put({"id": "a"})
    env.products.put({"id": "b"})
    cursor = env.products.scan(limit=1).cursor
    assert cursor is not None
    with pytest.raises(ValidationError, match="starting key"):
        env.orders.query(Key("customer").eq("c1"), cursor=cursor)


def test_filter_counts_scanned_and_matched(env) -> None:
    load_orders(env, 10)
    page = env.orders.query(Key("customer").eq("c1"), filter=Attr("status").eq("open"))
    assert page.count == 5 and page.scanned_count == 10
    assert all(i["status"] == "open" for i in page.items)
    page = env.orders.query(
        Key("customer").eq("c1"), filter="#s = :s", names={"#s": "status"}, values={":s": "open"}, limit=4
    )
    assert page.scanned_count == 4 and page.count == 2 and page.cursor is not None
    counted = env.orders.query(Key("customer").eq("c1"), select="COUNT")
    assert counted.items == [] and counted.count == 10


def test_query_projection(env) -> None:
    load_orders(env, 3)
    page = env.orders.query(Key("customer").eq("c1"), projection=["note"])
    assert page.items == [{"note": "n0"}, {"note": "n1"}, {"note": "n2"}]
    with pytest.raises(ValidationError):
        env.orders.query(Key("customer").eq("c1"), projection=["note"], select="COUNT")


def test_global_index_query_is_sparse_and_ordered(env) -> None:
    load_orders(env, 10)
    env.orders.put({"customer": "c3", "at": 5})  # no status: not in by_status
    page = env.orders.query(Key("status").eq("open"), index="by_status")
    ats = [i["at"] for i in page.items]
    assert ats == sorted(ats)  # index sort key order
    assert sorted((i["at"], i["customer"]) for i in page.items) == [
        (1, "c1"),
        (1, "c2"),
        (3, "c1"),
        (5, "c1"),
        (7, "c1"),
        (9, "c1"),
    ]
    assert {i["note"] for i in page.items if i["customer"] == "c1"} == {"n1", "n3", "n5", "n7", "n9"}  # ALL
    assert env.orders.scan(index="by_status").count == 11
    # index follows updates and deletes
    env.orders.update({"customer": "c1", "at": 1}, set={"status": "done"})
    env.orders.delete({"customer": "c1", "at": 3})
    env.orders.update({"customer": "c1", "at": 5}, remove=["status"])
    page = env.orders.query(Key("status").eq("open") & Key("at").gte(1), index="by_status")
    assert [(i["customer"], i["at"]) for i in page.items] == [("c2", 1), ("c1", 7), ("c1", 9)]


def test_index_projections(env) -> None:
    load_orders(env, 6)
    keys_only = env.orders.query(Key("sku").eq("s1"), index="by_sku").items
    assert sorted(keys_only, key=lambda i: i["at"]) == [
        {"customer": "c1", "at": 1, "sku": "s1"},
        {"customer": "c1", "at": 4, "sku": "s1"},
    ]
    include = env.orders.query(Key("region").eq("us"), index="by_region").items
    assert sorted(include, key=lambda i: i["at"]) == [{"customer": "c1", "at": 5, "region": "us", "total": 95}]
    filtered = env.orders.query(Key("region").eq("eu"), index="by_region", filter=Attr("total").gt(97))
    assert sorted(i["at"] for i in filtered.items) == [0, 1, 2]


def test_local_index_orders_by_its_sort_key(env) -> None:
    load_orders(env, 5)
    page = env.orders.query(Key("customer").eq("c1") & Key("total").lt(99), index="by_total")
    assert [i["total"] for i in page.items] == [96, 97, 98]
    assert page.items[0]["note"] == "n4"
    page = env.orders.query(Key("customer").eq("c1"), index="by_total", forward=False, limit=2)
    assert [i["total"] for i in page.items] == [100, 99]
    rest = env.orders.query(Key("customer").eq("c1"), index="by_total", forward=False, cursor=page.cursor)
    assert [i["total"] for i in rest.items] == [98, 97, 96]


def test_index_pages_continue_across_equal_index_keys(env) -> None:
    for i in range(9):
        env.orders.put({"customer": f"c{i}", "at": 1, "status": "same"})
    seen = []
    cursor = None
    while True:
        page = env.orders.query(Key("status").eq("same"), index="by_status", limit=2, cursor=cursor)
        seen += [i["customer"] for i in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(seen) == [f"c{i}" for i in range(9)]


def test_pages_stop_at_one_megabyte(env) -> None:
    for i in range(5):
        env.events.put({"topic": "big", "id": f"{i}", "blob": "x" * 300_000})
    page = env.events.query(Key("topic").eq("big"))
    assert page.scanned_count == 3 and page.cursor is not None
    rest = env.events.query(Key("topic").eq("big"), cursor=page.cursor)
    assert [i["id"] for i in rest.items] == ["3", "4"]
    assert rest.cursor is None
    scanned = env.events.scan()
    assert scanned.count == 3 and scanned.cursor is not None


def test_scan_returns_everything_once_across_pages(env) -> None:
    for i in range(30):
        env.products.put({"id": f"p{i:02d}", "n": i})
    got = list(env.products.scan_all(limit=4))
    assert sorted(i["id"] for i in got) == [f"p{i:02d}" for i in range(30)]
    filtered = env.products.scan(filter=Attr("n").lt(5))
    assert filtered.count == 5 and filtered.scanned_count == 30


def test_parallel_scan_segments_cover_every_item_exactly_once(env) -> None:
    for i in range(60):
        env.products.put({"id": f"p{i}"})
    seen: list[str] = []
    for segment in range(4):
        part = list(env.products.scan_all(segment=segment, total_segments=4, limit=5))
        seen += [i["id"] for i in part]
    assert sorted(seen) == sorted(f"p{i}" for i in range(60))
    assert len(seen) == 60
    again = [i["id"] for i in env.products.scan(segment=2, total_segments=4).items]
    assert again == [i["id"] for i in env.products.scan(segment=2, total_segments=4).items]


@pytest.mark.parametrize(
    "kwargs",
    [{"segment": 0}, {"total_segments": 2}, {"segment": 2, "total_segments": 2}, {"segment": 0, "total_segments": 0}],
)
def test_parallel_scan_arguments_are_checked(env, kwargs) -> None:
    with pytest.raises(ValidationError):
        env.products.scan(**kwargs)


def test_query_filters_cannot_name_the_queried_keys(env) -> None:
    load_orders(env, 3)
    with pytest.raises(ValidationError, match="Primary key attribute: at"):
        env.orders.query(Key("customer").eq("c1"), filter=Attr("at").gt(1))
    with pytest.raises(ValidationError, match="Primary key attribute: status"):
        env.orders.query(
            Key("status").eq("open"), index="by_status", filter="#s <> :x", names={"#s": "status"}, values={":x": "y"}
        )
    # other attributes, and the table's keys when querying an index, are fine
    assert env.orders.query(Key("customer").eq("c1"), filter=Attr("status").eq("open") & Attr("total").gt(0)).count == 1
    assert env.orders.query(Key("status").eq("open"), index="by_status", filter=Attr("customer").eq("c1")).count == 1
    assert env.orders.scan(filter=Attr("at").gt(0)).count == 3  # c1 at 1 and 2, c2 at 1


def test_local_index_fetches_unprojected_attributes_when_asked(env) -> None:
    load_orders(env, 4)
    keys_only = env.orders.query(Key("customer").eq("c1") & Key("note").begins_with("n"), index="by_note").items
    assert keys_only[0] == {"customer": "c1", "at": 0, "note": "n0"}
    fetched = env.orders.query(Key("customer").eq("c1"), index="by_note", projection=["note", "total"]).items
    assert fetched[1] == {"note": "n1", "total": 99}
    filtered = env.orders.query(Key("customer").eq("c1"), index="by_note", filter=Attr("total").lt(99))
    assert [i["note"] for i in filtered.items] == ["n2", "n3"]
    assert set(filtered.items[0]) == {"customer", "at", "note"}
    # a global index has only what it projects
    only = env.orders.query(Key("sku").eq("s1"), index="by_sku", filter=Attr("total").lt(1000))
    assert only.count == 0 and only.scanned_count == 1


def test_index_scans_page_through_every_entry(env) -> None:
    for i in range(12):
        env.orders.put({"customer": f"c{i % 4}", "at": i, "status": "open" if i % 3 else "done", "total": i})
    env.orders.put({"customer": "c9", "at": 99})  # in no index but the table
    by_status = list(env.orders.scan_all(index="by_status", limit=5))
    assert sorted((i["customer"], i["at"]) for i in by_status) == sorted((f"c{i % 4}", i) for i in range(12))
    by_total = list(env.orders.scan_all(index="by_total", limit=5))
    assert len(by_total) == 12
    halves = [list(env.orders.scan_all(index="by_status", segment=s, total_segments=2, limit=3)) for s in (0, 1)]
    assert sorted(i["at"] for half in halves for i in half) == list(range(12))
