"""The local API Gateway: HTTP throughput and latency over loopback, and the in-process invoke cost.

- ``GET /products/{id}`` reads one table item and ``POST /products`` writes one, served by
  uvicorn in this process on 127.0.0.1; the load comes from a separate Python process (a
  small asyncio HTTP/1.1 keep-alive client on uvloop, so the client is not the bottleneck) at a
  fixed concurrency, bounded in requests and seconds. Then the read route again, paced at
  half the measured rate, for the p99 under a moderate load.
- ``engine.invoke`` of a no-op function: the runtime's own overhead, gateway excluded.
- The read route's handler behind a payload 2.0 event, invoked in process, against the same
  handler logic reading through boto3 from moto in process (for the ratio).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from typing import Any

from bench.common import Figures, Row, measure
from stratus import App
from stratus.local.affinity import allowed_cpus, pinned_to_one_cpu
from stratus.local.cloud import LocalCloud
from stratus.local.gateway import build_gateway
from stratus.resources.api import Request, Response

CONCURRENCY = 32
REQUESTS, MAX_SECONDS = 20_000, 8.0
ITEMS = 1000

# The load generator, run in its own interpreter.
# argv: port method path-template count seconds concurrency rate cpus (comma-separated; empty: any)
CLIENT = r"""
import os, sys
if sys.argv[8] and hasattr(os, "sched_setaffinity"):  # first thing: a child inherits the server's one CPU
    os.sched_setaffinity(0, {int(c) for c in sys.argv[8].split(",")})
import asyncio, json, time
port, method, template = sys.argv[1], sys.argv[2], sys.argv[3]
count, seconds, conc, rate = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
lat = []
async def worker(w, state):
    reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
    interval = conc / rate if rate else 0.0
    nxt = time.perf_counter() + interval * w / conc  # staggered, so the paced workers do not send in bursts
    while state["left"] > 0 and time.perf_counter() < state["deadline"]:
        state["left"] -= 1
        i = state["left"]
        path = template.replace("{i}", str(i % 1000))
        if method == "POST":
            body = json.dumps({"id": f"n{w}-{i}", "name": "x", "price": i}).encode()
            head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(body)}\r\n\r\n").encode()
            req = head + body
        else:
            req = f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode()
        if interval:
            nxt += interval
            delay = nxt - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        t0 = time.perf_counter()
        writer.write(req)
        status = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        lat.append(time.perf_counter() - t0)
        if not status.startswith(b"HTTP/1.1 2"):
            state["errors"] += 1
    writer.close()
async def main():
    state = {"left": count, "deadline": time.perf_counter() + seconds, "errors": 0}
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w, state) for w in range(conc)))
    total = time.perf_counter() - t0
    lat.sort()
    n = len(lat)
    p50 = lat[n // 2] if n else 0
    p99 = lat[min(n - 1, int(n * 0.99))] if n else 0
    print(json.dumps({"ops": n, "seconds": total, "p50": p50, "p99": p99, "errors": state["errors"]}))
try:
    import uvloop  # a faster loop: the client should cost the shared machine as little as it can
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


def _app() -> tuple[App, Any]:
    app = App("benchgw")
    products = app.table("products", partition_key="id")
    api = app.http_api("public")

    @api.get("/products/{id}")
    def get_product(request: Request, context: Any) -> Any:
        item = products.get({"id": request.path_params["id"]})
        return item if item is not None else Response(404, {"message": "not found"})

    @api.post("/products", status=201)
    def put_product(request: Request, context: Any) -> Any:
        item = request.json()
        products.put(item)
        return {"id": item["id"]}

    @app.function
    def noop(event: Any, context: Any) -> None:
        return None

    return app, products


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client_cpus() -> str:
    """The CPUs the load generator runs on: those the server (pinned to one, as `stratus up`) leaves free,
    so client and server never take turns on one core; any CPU when the server is not pinned."""
    free = set(range(os.cpu_count() or 1)) - allowed_cpus()
    return ",".join(str(c) for c in sorted(free))


def _load(port: int, method: str, path: str, rate: float = 0.0) -> tuple[Figures, int]:
    args = [sys.executable, "-c", CLIENT, str(port), method, path, str(REQUESTS), str(MAX_SECONDS), str(CONCURRENCY)]
    args += [str(rate), _client_cpus()]
    out = subprocess.run(args, capture_output=True, text=True, timeout=MAX_SECONDS + 60, check=True)
    data = json.loads(out.stdout)
    return Figures(data["ops"], data["seconds"], data["p50"] * 1e6, data["p99"] * 1e6), int(data["errors"])


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The cheapest possible ASGI app: what uvicorn and this machine allow at best."""
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class _Server:
    """uvicorn on 127.0.0.1 in a thread of this process, on one CPU as under `stratus up` (for the block)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self._stack = ExitStack()

    def __enter__(self) -> int:
        from stratus.local.gateway import settle_garbage_collector

        settle_garbage_collector()  # as `stratus up` does before serving
        self._stack.enter_context(pinned_to_one_cpu())
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.port

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self._stack.close()


def _http(cloud: LocalCloud) -> list[Row]:
    with _Server(_hello) as port:
        baseline, _ = _load(port, "GET", "/")
    with _Server(build_gateway(cloud)) as port:
        read, read_errors = _load(port, "GET", "/benchgw/products/p{i}")
        write, write_errors = _load(port, "POST", "/benchgw/products")
        paced, paced_errors = _load(port, "GET", "/benchgw/products/p{i}", rate=read.ops_per_s / 2)
    note = (
        f" ({read_errors + write_errors + paced_errors} non-2xx)" if read_errors + write_errors + paced_errors else ""
    )
    return [
        Row("gateway", f"HTTP hello-world ASGI on uvicorn (machine baseline), c={CONCURRENCY}", baseline),
        Row("gateway", f"HTTP GET item route, c={CONCURRENCY}{note}", read, target=">= 5,000 req/s"),
        Row("gateway", f"HTTP POST item route, c={CONCURRENCY}", write),
        Row(
            "gateway",
            f"HTTP GET item route at half that rate (~{read.ops_per_s / 2:,.0f}/s)",
            paced,
            target="p99 < 10 ms",
        ),
    ]


def _event(path_id: str) -> dict[str, Any]:
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "GET /products/{id}",
        "rawPath": f"/products/{path_id}",
        "rawQueryString": "",
        "headers": {"host": "127.0.0.1"},
        "pathParameters": {"id": path_id},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bench",
            "http": {"method": "GET", "path": f"/products/{path_id}", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "r",
            "routeKey": "GET /products/{id}",
            "stage": "$default",
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }


def _moto_route() -> Figures:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="products",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(ITEMS):
            client.put_item(
                TableName="products", Item={"id": {"S": f"p{i}"}, "name": {"S": "x"}, "price": {"N": str(i)}}
            )

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            request = Request(event)
            found = client.get_item(TableName="products", Key={"id": {"S": request.path_params["id"]}}).get("Item")
            item = {k: next(iter(v.values())) for k, v in found.items()} if found else None
            return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(item)}

        return measure(lambda i: handler(_event(f"p{i % ITEMS}"), None), 1000, warmup=20, max_seconds=5.0)


def run() -> list[Row]:
    folder = tempfile.mkdtemp(prefix="bench-gateway-")
    app, products = _app()
    cloud = LocalCloud(folder)
    cloud.bind(app)
    try:
        for i in range(ITEMS):
            products.put({"id": f"p{i}", "name": "x", "price": i})
        engine = cloud.shared("functions", lambda: None)
        noop = next(f for f in app.functions() if f.name == "noop")
        route = next(f for f in app.functions() if f.name == "get_product")
        invoke = measure(lambda i: engine.invoke(noop, None), 50_000, max_seconds=3.0)  # type: ignore[attr-defined]
        in_process = measure(lambda i: engine.invoke(route, _event(f"p{i % ITEMS}")), 20_000, max_seconds=3.0)  # type: ignore[attr-defined]
        rows = [
            Row("gateway", "engine.invoke no-op (gateway excluded)", invoke, target="< 20 µs"),
            Row("gateway", "GET item route, v2 event in process", in_process, _moto_route(), other_name="boto3+moto"),
        ]
        cloud.start()  # as `stratus up`: logs, metrics and spans are flushed by background pumps
        rows.extend(_http(cloud))
        return rows
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from bench.common import format_rows

    print(format_rows(run()))
