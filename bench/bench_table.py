"""The table port: embedded SQLite adapter against boto3 on moto (in-process DynamoDB emulation).

Each operation is measured through the public handle for Stratus and through boto3's
DynamoDB resource against ``moto.mock_aws`` for the alternative: single-item put, get,
a 10-item query, a conditional update, and a 10-item TransactWriteItems. Counts and
time are bounded per measurement. With ``STRATUS_BENCH_MEMORY=1`` a further row loads
1,000,000 items of ~1 KB and reports the process's resident memory (target ≤ ~300 MB).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from decimal import Decimal
from typing import Any

from bench.common import Figures, Row, measure, summarize

STRATUS_COUNT = 20_000
MOTO_COUNT = 600
#: moto copies every table on each transaction, so its calls can take seconds: warm up little.
MOTO_WARMUP = 3
MAX_SECONDS = 6.0
ITEMS = 2_000
CUSTOMERS = 100
PAYLOAD = "x" * 100


def _item(i: int) -> dict[str, Any]:
    return {"id": f"k{i}", "name": PAYLOAD, "n": i}


def _stratus() -> dict[str, Figures]:
    from stratus import App
    from stratus.local.cloud import LocalCloud
    from stratus.resources.table import transact_write
    from stratus.resources.table.expressions import Key

    app = App("bench")
    items = app.table("items", partition_key="id")
    orders = app.table("orders", partition_key="customer", sort_key=("at", "N"))
    folder = tempfile.mkdtemp(prefix="stratus-bench-")
    cloud = LocalCloud(folder)
    try:
        cloud.bind(app)
        figures: dict[str, Figures] = {}
        figures["put"] = measure(lambda i: items.put(_item(i)), STRATUS_COUNT, max_seconds=MAX_SECONDS)
        for i in range(ITEMS):
            items.put(_item(i))
        keys = [{"id": f"k{i}"} for i in range(ITEMS)]
        figures["get"] = measure(lambda i: items.get(keys[i % ITEMS]), STRATUS_COUNT, max_seconds=MAX_SECONDS)
        for c in range(CUSTOMERS):
            orders.batch_write(put=[{"customer": f"c{c}", "at": a, "total": a * 10} for a in range(10)])
        conditions = [Key("customer").eq(f"c{c}") for c in range(CUSTOMERS)]
        figures["query"] = measure(
            lambda i: orders.query(conditions[i % CUSTOMERS]), STRATUS_COUNT, max_seconds=MAX_SECONDS
        )
        figures["update"] = measure(
            lambda i: items.update(
                keys[i % ITEMS],
                "SET n = n + :one",
                condition="attribute_exists(id)",
                values={":one": 1},
            ),
            STRATUS_COUNT,
            max_seconds=MAX_SECONDS,
        )
        figures["tx"] = measure(
            lambda i: transact_write([items.tx_put(_item(100_000 + (i * 10 + j) % 50_000)) for j in range(10)]),
            STRATUS_COUNT // 4,
            max_seconds=MAX_SECONDS,
        )
        return figures
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def _moto() -> dict[str, Figures] | None:
    try:
        import boto3
        from boto3.dynamodb.conditions import Key
        from moto import mock_aws
    except ImportError:  # pragma: no cover - moto is a dev dependency
        return None
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    with mock_aws():
        db = boto3.resource("dynamodb", region_name="us-east-1")
        client = db.meta.client
        items = db.create_table(
            TableName="items",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        orders = db.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "customer", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        figures: dict[str, Figures] = {}
        figures["put"] = measure(
            lambda i: items.put_item(Item=_item(i)), MOTO_COUNT, max_seconds=MAX_SECONDS, warmup=MOTO_WARMUP
        )
        with items.batch_writer() as batch:
            for i in range(ITEMS):
                batch.put_item(Item=_item(i))
        figures["get"] = measure(
            lambda i: items.get_item(Key={"id": f"k{i % ITEMS}"}), MOTO_COUNT, max_seconds=MAX_SECONDS
        )
        with orders.batch_writer() as batch:
            for c in range(CUSTOMERS):
                for a in range(10):
                    batch.put_item(Item={"customer": f"c{c}", "at": a, "total": a * 10})
        figures["query"] = measure(
            lambda i: orders.query(KeyConditionExpression=Key("customer").eq(f"c{i % CUSTOMERS}")),
            MOTO_COUNT,
            max_seconds=MAX_SECONDS,
            warmup=MOTO_WARMUP,
        )
        figures["update"] = measure(
            lambda i: items.update_item(
                Key={"id": f"k{i % ITEMS}"},
                UpdateExpression="SET n = n + :one",
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeValues={":one": Decimal(1)},
            ),
            MOTO_COUNT,
            max_seconds=MAX_SECONDS,
            warmup=MOTO_WARMUP,
        )

        def tx(i: int) -> None:
            # The resource's client serializes plain Python values itself.
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "items", "Item": _item(100_000 + (i * 10 + j) % 50_000)}} for j in range(10)
                ]
            )

        figures["tx"] = measure(tx, MOTO_COUNT // 4, max_seconds=MAX_SECONDS, warmup=MOTO_WARMUP)
        return figures


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - Linux only


def _memory() -> Row:
    """Load 1M items of ~1 KB (25 per batch) and report the process's resident memory."""
    from stratus import App
    from stratus.local.cloud import LocalCloud

    total = int(os.environ.get("STRATUS_BENCH_MEMORY_ITEMS", "1000000"))
    app = App("memory")
    table = app.table("items", partition_key="id")
    folder = tempfile.mkdtemp(prefix="stratus-bench-mem-")
    cloud = LocalCloud(folder)
    payload = "y" * 1000
    latencies: list[float] = []
    try:
        cloud.bind(app)
        start = time.perf_counter()
        for base in range(0, total, 25):
            t0 = time.perf_counter()
            table.batch_write(
                put=[{"id": f"item-{i:08d}", "body": payload} for i in range(base, min(total, base + 25))]
            )
            latencies.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - start
        table.get({"id": "item-00000000"})
        rss = _rss_mb()
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)
    batches = summarize(latencies, seconds)
    figures = Figures(total, seconds, batches.p50_us, batches.p99_us)
    return Row("table", f"load {total:,} x 1 KB items (batches of 25)", figures, target=f"RSS {rss:,.0f} MB (≤ 300)")


NAMES = {
    "put": ("put (1 item)", "≥ 20,000/s, ≥ 30x moto"),
    "get": ("get (1 item)", "≥ 50,000/s, ≥ 30x moto"),
    "query": ("query (10 items)", "≥ 30x moto"),
    "update": ("conditional update", "≥ 30x moto"),
    "tx": ("TransactWrite (10 puts)", "≥ 30x moto"),
}


def run() -> list[Row]:
    ours = _stratus()
    theirs = _moto()
    rows = [
        Row("table", label, ours[key], theirs[key] if theirs else None, "moto", target)
        for key, (label, target) in NAMES.items()
    ]
    if os.environ.get("STRATUS_BENCH_MEMORY") == "1":
        rows.append(_memory())
    return rows
