"""The e-commerce system under load, on the embedded adapters with its background work running.

- Checkout: 16 client threads each POST an order over HTTP (loopback, uvicorn in this
  process), wait until it is CONFIRMED and place the next (a closed loop); each order runs
  the whole saga (validate, reserve, authorize at the stand-in provider over HTTP, confirm,
  OrderPlaced) in the workflow engine, and the capture, fulfilment, projections, search
  and notifications that follow share the machine. Throughput is orders confirmed per
  second; latency is from the POST to the order being seen CONFIRMED.
- Catalog reads: ``GET /products/{id}`` (through the read-through cache) over HTTP from a
  separate load-generator process (bench_gateway's keep-alive asyncio client), measured
  first, on an idle system.

Setup takes shortcuts that are not measured: products are written to the table directly,
and customers' passwords are hashed with cheap argon2 parameters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx

from bench.bench_gateway import CLIENT, _client_cpus, _Server
from bench.common import Figures, Row, summarize

ORDER_SECONDS, ORDER_THREADS = 15.0, 16
CUSTOMERS, PRODUCTS = 32, 200
READS, READ_SECONDS, READ_CONCURRENCY = 20_000, 8.0, 32
WAIT_SECONDS = 120.0
ADDRESS = {"name": "B", "line1": "1 Bench St", "city": "Loop", "postal_code": "1", "country": "US"}


def _product_id(n: int) -> str:
    return f"{n:032d}"


def _setup() -> list[dict[str, str]]:
    from systems.ecommerce.infra import products, users

    from systems.ecommerce import ledger

    now = datetime.now().isoformat()
    for n in range(PRODUCTS):
        products.put(
            {
                "id": _product_id(n),
                "name": f"Bench product {n}",
                "description": "",
                "category": f"cat-{n % 10}",
                "attributes": {},
                "price": 1000 + 10 * n,  # never ending in 13: the provider declines those
                "currency": "USD",
                "stock": 1_000_000,
                "images": {},
                "created_at": now,
                "updated_at": now,
            }
        )
    people = []
    for n in range(CUSTOMERS):
        email = f"bench-{n}-{uuid.uuid4().hex[:6]}@example.com"
        signed = users.sign_up(email, "Bench-passw0rd!")
        users.admin_confirm_sign_up(email)  # the emailed code is not what is measured
        tokens = users.initiate_auth("web", email, "Bench-passw0rd!")
        card = ledger.save_card(signed.user_sub, "4242424242424242", 12, 2099, "123")
        people.append({"token": tokens.id_token, "card": card["id"]})
    return people


def _checkout(port: int, people: list[dict[str, str]]) -> tuple[Figures, int, int]:
    """Closed loop: each client places an order, waits until it is CONFIRMED (or FAILED), repeats."""
    from systems.ecommerce.provider_client import no_delay_transport

    from systems.ecommerce import event_store

    base = f"http://127.0.0.1:{port}/ecommerce"
    latencies: list[float] = []
    outcome = {"failed": 0, "unfinished": 0}
    reasons: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + ORDER_SECONDS

    def client_loop(worker: int) -> None:
        client = httpx.Client(timeout=30, transport=no_delay_transport())
        person = people[worker % len(people)]
        i = 0
        while time.monotonic() < deadline:
            i += 1
            body = {
                "payment_method_id": person["card"],
                "shipping_address": ADDRESS,
                "lines": [{"product_id": _product_id((worker * 7919 + i) % PRODUCTS), "quantity": 1}],
            }
            sent = time.perf_counter()
            answer = client.post(
                f"{base}/orders",
                json=body,
                headers={"Authorization": f"Bearer {person['token']}", "Idempotency-Key": f"bench-{worker}-{i:06d}"},
            )
            if answer.status_code != 202:
                with lock:
                    outcome["failed"] += 1
                    reasons[f"HTTP {answer.status_code}"] = reasons.get(f"HTTP {answer.status_code}", 0) + 1
                continue
            order_id = answer.json()["order_id"]
            give_up = time.monotonic() + WAIT_SECONDS
            while True:
                found = event_store.current(order_id)
                status = found[0].status if found is not None else ""
                if status in ("CONFIRMED", "FULFILLING", "SHIPPED", "FAILED") or time.monotonic() > give_up:
                    break
                time.sleep(0.05)  # polling must not steal the machine from the work it waits for
            with lock:
                if status == "FAILED":
                    outcome["failed"] += 1
                    reason = found[0].failure_reason if found is not None else None
                    reasons[str(reason)] = reasons.get(str(reason), 0) + 1
                elif status in ("CONFIRMED", "FULFILLING", "SHIPPED"):
                    latencies.append(time.perf_counter() - sent)
                else:
                    outcome["unfinished"] += 1
        client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(ORDER_THREADS) as pool:
        list(pool.map(client_loop, range(ORDER_THREADS)))
    if reasons:
        print(f"bench_ecommerce: failed orders: {reasons}", file=sys.stderr)
    return summarize(latencies, time.perf_counter() - started), outcome["failed"], outcome["unfinished"]


def _reads(port: int) -> tuple[Figures, int]:
    script = CLIENT.replace("str(i % 1000)", f"str(i % {PRODUCTS}).rjust(32, '0')")
    args = [sys.executable, "-c", script, str(port), "GET", "/ecommerce/products/{i}"]
    args += [str(READS), str(READ_SECONDS), str(READ_CONCURRENCY), "0", _client_cpus()]
    out = subprocess.run(args, capture_output=True, text=True, timeout=READ_SECONDS + 60, check=True)
    data = json.loads(out.stdout)
    return Figures(data["ops"], data["seconds"], data["p50"] * 1e6, data["p99"] * 1e6), int(data["errors"])


def run() -> list[Row]:
    from stratus.local import userpool as local_userpool
    from stratus.local.cloud import LocalCloud
    from stratus.local.gateway import build_gateway
    from stratus.systems import load

    app = load("ecommerce")
    cheap = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)
    saved, local_userpool.HASHING = local_userpool.HASHING, cheap
    folder = tempfile.mkdtemp(prefix="stratus-bench-ecommerce-")
    try:
        cloud = LocalCloud(folder)
        cloud.bind(app)
        gateway = build_gateway(cloud)
        with _Server(gateway) as port:
            cloud.base_url = f"http://127.0.0.1:{port}"
            cloud.start()
            people = _setup()
            reads, read_errors = _reads(port)
            checkout, failed, unfinished = _checkout(port, people)
        cloud.close()
    finally:
        local_userpool.HASHING = saved
        shutil.rmtree(folder, ignore_errors=True) if not os.environ.get("STRATUS_BENCH_KEEP") else print(folder)
    note = f", {failed} failed, {unfinished} unfinished" if failed or unfinished else ""
    return [
        Row(
            "ecommerce",
            f"checkout POST /orders → CONFIRMED (saga), {ORDER_THREADS} clients{note}",
            checkout,
            target=">= 500 orders/s",
        ),
        Row(
            "ecommerce",
            f"catalog GET /products/{{id}} over HTTP, c={READ_CONCURRENCY}"
            + (f" ({read_errors} non-2xx)" if read_errors else ""),
            reads,
            target=">= 3,000 req/s",
        ),
    ]


if __name__ == "__main__":
    from bench.common import format_rows

    print(format_rows(run()))
