"""The embedded engine: durability across kill -9, index backfill, schema changes, sharing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.errors import ResourceInUse
from stratus.resources.table import GlobalIndex
from stratus.resources.table.expressions import Key

WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from stratus import App
    from stratus.local.cloud import LocalCloud
    from stratus.resources.table import GlobalIndex

    app = App("crash")
    table = app.table("items", partition_key="id", indexes=[GlobalIndex("by_g", partition_key="g")],
                      stream="NEW_IMAGE")
    cloud = LocalCloud(sys.argv[1])
    cloud.bind(app)
    n = int(sys.argv[2])
    for i in range(n):
        table.put({"id": f"i{i}", "g": "all", "n": i})
    table.update({"id": "i0"}, set={"n": -1})
    print("written", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = subprocess.run([sys.executable, "-c", WRITER, str(state), "300"], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.strip() == "written"
    app = App("crash")
    table = app.table("items", partition_key="id", indexes=[GlobalIndex("by_g", partition_key="g")], stream="NEW_IMAGE")
    with stratus.testing.local(app, state_dir=state):
        assert table.scan(select="COUNT").count == 300
        assert table.query(Key("g").eq("all"), index="by_g", select="COUNT").count == 300
        assert table.get({"id": "i0"}) == {"id": "i0", "g": "all", "n": -1}
        assert len(table.backend.stream_read(None, 1000)) == 301


def test_an_index_declared_later_is_backfilled(tmp_path: Path) -> None:
    first = App("shop")
    plain = first.table("orders", partition_key="id")
    with stratus.testing.local(first, state_dir=tmp_path):
        for i in range(5):
            plain.put({"id": f"o{i}", "status": "open" if i < 3 else "done"})
    second = App("shop")
    indexed = second.table("orders", partition_key="id", indexes=[GlobalIndex("by_status", partition_key="status")])
    with stratus.testing.local(second, state_dir=tmp_path):
        assert indexed.query(Key("status").eq("open"), index="by_status").count == 3
        indexed.put({"id": "o9", "status": "open"})
        assert indexed.query(Key("status").eq("open"), index="by_status").count == 4
    third = App("shop")
    changed = third.table(
        "orders", partition_key="id", indexes=[GlobalIndex("by_status", partition_key="status", projection="KEYS_ONLY")]
    )
    with stratus.testing.local(third, state_dir=tmp_path):
        items = changed.query(Key("status").eq("open"), index="by_status").items
        assert len(items) == 4 and all(set(i) == {"id", "status"} for i in items)


def test_changing_the_key_schema_of_a_stored_table_is_refused(tmp_path: Path) -> None:
    first = App("shop")
    first.table("orders", partition_key="id")
    with stratus.testing.local(first, state_dir=tmp_path):
        pass
    second = App("shop")
    second.table("orders", partition_key=("id", "N"))
    with pytest.raises(ResourceInUse, match="another key schema"), stratus.testing.local(second, state_dir=tmp_path):
        pass


def test_tables_of_two_apps_share_one_database_and_stay_apart() -> None:
    a, b = App("one"), App("two")
    ta = a.table("things", partition_key="id")
    tb = b.table("things", partition_key="id")
    with stratus.testing.local(a, b) as env:
        ta.put({"id": "x", "owner": "one"})
        tb.put({"id": "x", "owner": "two"})
        assert ta.get({"id": "x"}) == {"id": "x", "owner": "one"}
        assert tb.get({"id": "x"}) == {"id": "x", "owner": "two"}
        assert ta.scan().count == 1
        assert (env.state_dir / "tables.db").exists()


class _QuietClock:
    """A settable clock that announces no jumps, as the system clock does."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def wait(self, condition: Any, seconds: float) -> None:
        return None

    def subscribe(self, listener: Any) -> None:
        return None


def test_expire_due_can_be_called_by_the_runtime(tmp_path: Path) -> None:
    from stratus.local.cloud import LocalCloud

    app = App("ttl")
    sessions = app.table("sessions", partition_key="id", ttl_attribute="exp")
    clock = _QuietClock()
    with LocalCloud(tmp_path, clock=clock) as cloud:
        cloud.bind(app)
        sessions.put({"id": "a", "exp": int(clock.t) + 5})
        sessions.put({"id": "b", "exp": int(clock.t) + 50})
        clock.t += 10
        assert sessions.backend.expire_due() == 1
        assert sessions.backend.expire_due() == 0
        assert [i["id"] for i in sessions.scan().items] == ["b"]
        clock.t += 100
        assert sessions.get({"id": "b"}) is None  # the cheap check on each call


def test_concurrent_conditional_updates_lose_nothing() -> None:
    import threading

    from stratus.errors import ConditionalCheckFailed
    from stratus.resources.table import Attr

    app = App("race")
    counters = app.table("counters", partition_key="id", stream="KEYS_ONLY")
    plain = app.table("plain", partition_key="id")  # writes without a transaction
    with stratus.testing.local(app):
        counters.put({"id": "c", "n": 0})
        plain.put({"id": "c", "n": 0, "big": "x" * 2000})
        claimed: list[int] = []

        def worker() -> None:
            for _ in range(100):
                counters.update({"id": "c"}, add={"n": 1})
                plain.update({"id": "c"}, add={"n": 1})
                plain.update({"id": "c"}, "SET n = n + :one", condition="n >= :zero", values={":one": 1, ":zero": 0})
                try:
                    counters.put({"id": "once"}, condition=Attr("id").not_exists())
                    claimed.append(1)
                except ConditionalCheckFailed:
                    pass

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert counters.get({"id": "c"}) == {"id": "c", "n": 400}
        assert plain.get({"id": "c"}) == {"id": "c", "n": 800, "big": "x" * 2000}
        assert claimed == [1]
        assert len(counters.backend.stream_read(None, 10_000)) == 1 + 400 + 1


def test_large_items_live_out_of_line_and_leave_nothing_behind() -> None:
    app = App("sizes")
    docs = app.table("docs", partition_key="id", stream="NEW_AND_OLD_IMAGES")
    plain = app.table("plain", partition_key="id")
    with stratus.testing.local(app) as env:
        db = env.cloud.storage.database("tables")

        def blobs() -> int:
            return int(db.execute("SELECT COUNT(*) FROM tbl_blobs")[0][0])

        for table in (docs, plain):
            table.put({"id": "a", "body": "x" * 2000})
            assert blobs() == 1
            assert table.get({"id": "a"}) == {"id": "a", "body": "x" * 2000}
            table.put({"id": "a", "body": "y" * 3000})
            assert blobs() == 1
            table.put({"id": "a", "body": "small"})
            assert blobs() == 0
            assert table.get({"id": "a"}) == {"id": "a", "body": "small"}
            table.update({"id": "a"}, set={"body": "z" * 5000})
            assert blobs() == 1
            assert table.scan().items == [{"id": "a", "body": "z" * 5000}]
            table.delete({"id": "a"})
            assert blobs() == 0
        records = docs.backend.stream_read(None, 100)
        old = [r["dynamodb"].get("OldImage", {}).get("body", {}).get("S", "")[:1] for r in records]
        assert old == ["", "x", "y", "s", "z"]


def test_expiry_follows_the_virtual_clock_without_a_table_call() -> None:
    app = App("ttlclock")
    sessions = app.table("sessions", partition_key="id", ttl_attribute="exp", stream="KEYS_ONLY")
    with stratus.testing.local(app) as env:
        heard: list[int] = []
        sessions.backend.subscribe(lambda: heard.append(1))
        sessions.put({"id": "a", "exp": int(env.clock.now()) + 30})
        env.advance(31)
        assert [r["eventName"] for r in sessions.backend.stream_read(None, 10)] == ["INSERT", "REMOVE"]
        assert len(heard) == 2
        env.restart()
        env.advance(10)  # the closed adapter's clock listener does nothing
        assert sessions.scan().count == 0


def test_batch_get_leaves_keys_past_16_mb_unprocessed() -> None:
    app = App("bulk")
    docs = app.table("docs", partition_key="id")
    with stratus.testing.local(app):
        body = "x" * 390_000
        keys = [{"id": f"d{i:02d}"} for i in range(45)]
        for start in range(0, 45, 5):
            docs.batch_write(put=[{**k, "body": body} for k in keys[start : start + 5]])
        found, unprocessed = docs.batch_get(keys)
        assert 40 <= len(found) < 45
        assert len(found) + len(unprocessed) == 45
        rest, left = docs.batch_get(unprocessed)
        assert left == [] and len(rest) == len(unprocessed)
        assert sorted(i["id"] for i in found + rest) == [k["id"] for k in keys]
