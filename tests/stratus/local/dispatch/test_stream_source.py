"""Stream and table-stream → function: order, checkpoints, retries, bisect, destinations, resharding."""

from __future__ import annotations

import base64
import json
from typing import Any

from stratus import App
from stratus.testing import local


def kinesis_app(**options: Any) -> tuple[App, Any, list[list[str]], dict[str, Any]]:
    app = App("streams")
    locations = app.stream("locations", shards=2)
    batches: list[list[str]] = []
    control: dict[str, Any] = {"fail": set()}

    @app.on_stream(locations, starting_position="TRIM_HORIZON", **options)
    def track(event: Any, context: Any) -> Any:
        values = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        batches.append(values)
        bad = control["fail"] & set(values)
        if bad:
            raise RuntimeError(f"cannot handle {sorted(bad)}")
        return None

    return app, locations, batches, control


def test_records_arrive_in_order_per_partition_key() -> None:
    app, locations, batches, _ = kinesis_app(batch_size=3)
    with local(app) as env:
        for i in range(6):
            locations.put(f"car-1:{i}", "car-1")
            locations.put(f"car-2:{i}", "car-2")
        env.settle()
        seen = [v for b in batches for v in b]
        for car in ("car-1", "car-2"):
            assert [v for v in seen if v.startswith(car)] == [f"{car}:{i}" for i in range(6)]
        assert max(len(b) for b in batches) <= 3


def test_record_shape_is_kinesis_event() -> None:
    app = App("streams")
    s = app.stream("s")
    got: list[Any] = []

    @app.on_stream(s, starting_position="TRIM_HORIZON")
    def handler(event: Any, context: Any) -> None:
        got.extend(event["Records"])

    with local(app) as env:
        result = s.put(b"hello", "pk")
        env.settle()
        record = got[0]
        assert record["eventSource"] == "aws:kinesis"
        assert record["kinesis"]["sequenceNumber"] == result.sequence_number
        assert record["kinesis"]["partitionKey"] == "pk"
        assert record["eventID"] == f"{result.shard_id}:{result.sequence_number}"
        assert record["eventSourceARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/streams-s"


def test_latest_skips_what_was_there_before_the_mapping_existed() -> None:
    seen: list[str] = []
    app = App("streams")
    s = app.stream("s")

    @app.on_stream(s, starting_position="LATEST")
    def handler(event: Any, context: Any) -> None:
        seen.extend(base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"])

    with local(app) as env:
        env.settle()
        s.put("after", "k")
        env.settle()
        assert seen == ["after"]


def test_failing_batch_blocks_the_shard_until_retries_are_exhausted_then_goes_to_destination() -> None:
    app = App("streams")
    s = app.stream("s")
    failures = app.queue("stream-failures")
    calls: list[list[str]] = []

    @app.on_stream(
        s, starting_position="TRIM_HORIZON", batch_size=10, retry_attempts=2, on_failure=failures, bisect_on_error=True
    )
    def handler(event: Any, context: Any) -> None:
        values = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        calls.append(values)
        if "poison" in values:
            raise ValueError("poison record")

    with local(app) as env:
        for value in ["a", "b", "poison", "c"]:
            s.put(value, "same-key")
        env.settle(max_seconds=600)
        assert calls[0] == ["a", "b", "poison", "c"]
        assert calls[1] == ["a", "b"]  # bisected: the first half succeeds
        processed = [v for batch in calls for v in batch]
        assert processed[-1] == "c"  # after giving up on the poison record, the shard moves on
        message = json.loads(failures.receive(1)[0].body)
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        info = message["KinesisBatchInfo"]
        assert info["batchSize"] == 1


def test_checkpoint_survives_restart_so_nothing_is_delivered_twice() -> None:
    app, locations, batches, _ = kinesis_app()
    with local(app) as env:
        locations.put("one", "k")
        env.settle()
        env.restart()
        locations.put("two", "k")
        env.settle()
        assert [v for b in batches for v in b] == ["one", "two"]


def test_children_are_read_after_their_parent() -> None:
    app = App("streams")
    s = app.stream("s", shards=1)
    seen: list[str] = []

    @app.on_stream(s, starting_position="TRIM_HORIZON", batch_size=100)
    def handler(event: Any, context: Any) -> None:
        seen.extend(base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"])

    with local(app) as env:
        s.put("before-split", "k")
        shard = s.list_shards()[0]
        middle = (int(shard.hash_key_range.ending_hash_key) + 1) // 2
        s.split_shard(shard.shard_id, middle)
        s.put("after-split", "k")
        env.settle()
        assert seen == ["before-split", "after-split"]


def test_table_stream_changes_reach_the_function() -> None:
    app = App("streams")
    products = app.table("products", partition_key="id", stream="NEW_AND_OLD_IMAGES")
    changes: list[tuple[str, Any]] = []

    @app.on_stream(products, starting_position="TRIM_HORIZON")
    def on_change(event: Any, context: Any) -> None:
        for record in event.records:
            changes.append((record.event_name.name, record.dynamodb.keys["id"]))

    with local(app) as env:
        products.put({"id": "p1", "stock": 5})
        products.update({"id": "p1"}, add={"stock": -1})
        products.delete({"id": "p1"})
        env.settle()
        assert changes == [("INSERT", "p1"), ("MODIFY", "p1"), ("REMOVE", "p1")]


def test_tumbling_window_carries_state_and_ends_with_a_final_invoke() -> None:
    app = App("streams")
    s = app.stream("s")
    finals: list[dict[str, Any]] = []

    @app.on_stream(s, starting_position="TRIM_HORIZON", tumbling_window=60)
    def count(event: Any, context: Any) -> dict[str, Any]:
        total = event["state"].get("count", 0) + len(event["Records"])
        if event["isFinalInvokeForWindow"]:
            finals.append(event["state"])
        return {"state": {"count": total}}

    with local(app) as env:
        s.put("a", "k")
        env.settle(max_seconds=0)
        s.put("b", "k")
        env.settle(max_seconds=0)
        env.advance(61)
        env.settle(max_seconds=0)
        assert finals == [{"count": 2}]
