"""Realistic traffic for the shop, over HTTP: ``stratus demo ecommerce --customers 20 --orders 50``.

An administrator stocks the catalog; customers sign up (and confirm the emailed code),
save cards (some that the provider declines), browse, search, fill carts and place orders,
some submitted twice with the same Idempotency-Key, as a flaky mobile network does, and
some cancelled straight away (while their checkout runs). The demo then waits for every
checkout to finish, has the administrator refund part of a few shipped orders, and checks
that inventory adds up: for each product, the stock left plus the units of the orders that
were placed and not cancelled equals the stock it started with.

Sign-up codes are read from the user pool's outbox (``<state>/outbox/cognito.jsonl``): the
demo's own copy of the shop when it starts one, otherwise ``ECOMMERCE_CODE_OUTBOX`` (by
default ``.stratus/outbox/cognito.jsonl``, where `stratus up` keeps it).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from systems.ecommerce.models import MAX_STOCK
from systems.ecommerce.provider_client import no_delay_transport

PASSWORD = "Demo-passw0rd!"
GOOD_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "number": "4000000000000002"}
ADDRESS = {"name": "Demo Customer", "line1": "1 Cloud Way", "city": "Localhost", "postal_code": "127", "country": "US"}
CATALOG = [
    ("Espresso cup", "kitchen", 1200),
    ("Steel kettle", "kitchen", 4500),
    ("Chef knife", "kitchen", 8900),
    ("Garden hose", "garden", 2900),
    ("Pruning shears", "garden", 1900),
    ("Desk lamp", "home", 3900),
    ("Wool blanket", "home", 6900),
    ("Running shoes", "sports", 11900),
    ("Yoga mat", "sports", 2500),
    ("Travel mug", "kitchen", 1500),
    ("Bird feeder", "garden", 2200),
    ("Reading chair", "home", 24900),
]
TERMINAL = ("CONFIRMED", "FULFILLING", "SHIPPED", "FAILED", "CANCELLED", "REFUNDED")
Progress = Callable[[str, int, int], None]
CodeReader = Callable[[str], str]
CANCEL_SHARE = 0.1  # orders the customer cancels right after placing them
REFUNDS = 3  # shipped orders the administrator refunds half of


class Client:
    """An HTTP client that records latency per route."""

    def __init__(self, base_url: str, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(timeout=30, transport=no_delay_transport())
        self.base = base_url.rstrip("/")
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()

    def call(self, method: str, path: str, route: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[f"{method} {route}"].append(elapsed)
        return response


def outbox_codes(path: str | Path) -> CodeReader:
    """Reads the last sign-up code the user pool "emailed" to an address from its outbox file."""
    outbox = Path(path)

    def read(email: str) -> str:
        if outbox.exists():
            for line in reversed(outbox.read_text().splitlines()):
                message = json.loads(line) if line.strip() else {}
                if message.get("to") == email and message.get("kind") == "sign_up" and "code" in message:
                    return str(message["code"])
        raise LookupError(f"no sign-up code for {email} in {outbox}")

    return read


def _sign_in(client: Client, email: str, password: str) -> str:
    answer = client.call("POST", "/auth/sign-in", "/auth/sign-in", json={"email": email, "password": password})
    answer.raise_for_status()
    return str(answer.json()["id_token"])


def run(
    base_url: str,
    customers: int = 20,
    orders: int = 50,
    progress: Progress | None = None,
    *,
    admin_email: str | None = None,
    admin_password: str | None = None,
    seed: int = 7,
    workers: int = 8,
    wait_seconds: float = 120.0,
    http: httpx.Client | None = None,
    idle: Callable[[], None] | None = None,
    read_code: CodeReader | None = None,
) -> dict[str, Any]:
    """Drive the shop served at ``base_url`` (where `stratus up` serves) and return what happened.

    The administrator who stocks the catalog is ``admin_email``/``admin_password``, or
    ``ECOMMERCE_ADMIN_EMAIL``/``ECOMMERCE_ADMIN_PASSWORD`` (``python -m systems.ecommerce.commands
    create-admin`` makes one). ``http`` replaces the HTTP client (tests pass an in-process
    one), ``idle`` what is done between polls of unfinished checkouts (a short sleep) and
    ``read_code`` where sign-up codes are read (the outbox: see the module docstring).
    """
    admin_email = admin_email or os.environ.get("ECOMMERCE_ADMIN_EMAIL")
    admin_password = admin_password or os.environ.get("ECOMMERCE_ADMIN_PASSWORD")
    if not admin_email or not admin_password:
        raise ValueError(
            "the demo needs an administrator: set ECOMMERCE_ADMIN_EMAIL and ECOMMERCE_ADMIN_PASSWORD "
            "(create one with `python -m systems.ecommerce.commands create-admin EMAIL PASSWORD`)"
        )
    from systems.ecommerce.infra import api

    root = base_url.rstrip("/")
    rng = random.Random(seed)
    report = progress or (lambda phase, done, total: None)
    client = Client(root if root.endswith(api.prefix) else root + api.prefix, http)
    pause = idle or (lambda: time.sleep(0.2))
    code_of = read_code or outbox_codes(os.environ.get("ECOMMERCE_CODE_OUTBOX", ".stratus/outbox/cognito.jsonl"))
    run_id = uuid.uuid4().hex[:6]

    # The catalog.
    admin = _sign_in(client, admin_email, admin_password)
    stock: dict[str, int] = {}
    for i, (name, category, price) in enumerate(CATALOG):
        units = min(MAX_STOCK, rng.choice([4, 10, 30, 60]) * max(1, orders // 20))
        body = {"name": name, "description": f"{name} ({run_id})", "category": category, "price": price, "stock": units}
        answer = client.call("POST", "/products", "/products", admin, json=body)
        answer.raise_for_status()
        stock[answer.json()["id"]] = units
        report("catalog", i + 1, len(CATALOG))
    product_ids = list(stock)

    # Customers: sign up, confirm the emailed code, sign in, save a card (one in five is declined).
    people: list[dict[str, str]] = []

    def join(n: int) -> dict[str, str]:
        email = f"demo-{run_id}-{n}@example.com"
        joined = client.call(
            "POST", "/auth/sign-up", "/auth/sign-up", json={"email": email, "password": PASSWORD, "name": f"C{n}"}
        )
        joined.raise_for_status()
        confirmed = client.call("POST", "/auth/confirm", "/auth/confirm", json={"email": email, "code": code_of(email)})
        confirmed.raise_for_status()
        token = _sign_in(client, email, PASSWORD)
        card = DECLINED_CARD if n % 5 == 4 else GOOD_CARD
        for _ in range(5):  # a flaky provider (ECOMMERCE_PROVIDER_FAILURE_RATE) answers 503: try again
            saved = client.call("POST", "/payment-methods", "/payment-methods", token, json=card)
            if saved.status_code != 503:
                break
        saved.raise_for_status()
        return {"token": token, "card": saved.json()["id"]}

    with ThreadPoolExecutor(workers) as pool:
        for done, person in enumerate(pool.map(join, range(customers)), start=1):
            people.append(person)
            report("customers", done, customers)

    # Orders, with browsing on the way and some duplicate submissions.
    placed: dict[str, dict[str, Any]] = {}
    duplicates = {"sent": 0, "absorbed": 0}
    cancels = {"cancelled": 0, "too_late": 0}
    lock = threading.Lock()

    def shop_once(n: int) -> None:
        person = people[n % len(people)]
        token = person["token"]
        local = random.Random(seed * 1000 + n)
        client.call("GET", "/products", "/products", params={"limit": 10})
        client.call("GET", "/search", "/search", params={"q": local.choice(["kettle", "mug", "lamp", "garden"])})
        pick = local.sample(product_ids, local.randint(1, 3))
        client.call("GET", f"/products/{pick[0]}", "/products/{id}")
        cart = client.call("GET", "/cart", "/cart", token).json()
        lines = [{"product_id": p, "quantity": local.randint(1, 2)} for p in pick]
        client.call("PUT", "/cart", "/cart", token, json={"version": cart["version"], "lines": lines})
        key = f"demo-{run_id}-{n}"
        body = {"payment_method_id": person["card"], "shipping_address": ADDRESS, "lines": lines}
        answer = client.call("POST", "/orders", "/orders", token, json=body, headers={"Idempotency-Key": key})
        if answer.status_code not in (200, 202):
            return
        order_id = answer.json()["order_id"]
        with lock:
            placed[order_id] = {"token": token, "lines": lines}
        if local.random() < 0.15:  # the network dropped the answer: the app sends it again
            again = client.call("POST", "/orders", "/orders", token, json=body, headers={"Idempotency-Key": key})
            with lock:
                duplicates["sent"] += 1
                if again.status_code == 200 and again.json()["order_id"] == order_id:
                    duplicates["absorbed"] += 1
        if local.random() < CANCEL_SHARE:  # changed their mind
            cancel = client.call(
                "POST", f"/orders/{order_id}/cancel", "/orders/{id}/cancel", token, json={"reason": "changed my mind"}
            )
            with lock:
                cancels["cancelled" if cancel.status_code in (200, 202) else "too_late"] += 1

    with ThreadPoolExecutor(workers) as pool:
        for done, _ in enumerate(pool.map(shop_once, range(orders)), start=1):
            report("orders", done, orders)

    # Wait for every checkout to finish.
    final: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + wait_seconds
    while len(final) < len(placed) and time.monotonic() < deadline:
        for order_id, info in placed.items():
            if order_id in final:
                continue
            order = client.call("GET", f"/orders/{order_id}", "/orders/{id}", info["token"]).json()
            if order.get("status") in TERMINAL:
                final[order_id] = order
        report("checkouts", len(final), len(placed))
        if len(final) < len(placed):
            pause()

    # The administrator refunds half of a few shipped orders (a damaged item, say).
    refunded = 0
    shipped = [order_id for order_id, order in final.items() if order["status"] == "SHIPPED"]
    for order_id in shipped[:REFUNDS]:
        half = int(final[order_id]["total"]) // 2
        answer = client.call(
            "POST",
            f"/orders/{order_id}/refund",
            "/orders/{id}/refund",
            admin,
            json={"amount": half, "reason": "damaged in transit"},
            headers={"Idempotency-Key": f"demo-refund-{order_id}"},
        )
        refunded += answer.status_code in (201, 202)

    # Inventory adds up: stock left + units sold == stock at the start, for every product. A
    # checkout that was cancelled while it ran may still be giving its stock back: look again.
    def cancelled(order: dict[str, Any]) -> bool:
        return any(h["type"] == "OrderCancelled" for h in order["history"])

    sold: dict[str, int] = defaultdict(int)
    for order in final.values():
        if order["status"] != "FAILED" and not cancelled(order):
            for line in order["lines"]:
                sold[line["product_id"]] += int(line["quantity"])
    consistent = False
    while True:
        left = {p: int(client.call("GET", f"/products/{p}", "/products/{id}").json()["stock"]) for p in product_ids}
        consistent = len(final) == len(placed) and all(left[p] + sold[p] == stock[p] and left[p] >= 0 for p in stock)
        if consistent or time.monotonic() >= deadline:
            break
        pause()

    failed = [o for o in final.values() if o["status"] == "FAILED"]
    compensated = [o for o in failed if any(h["type"] == "InventoryReserved" for h in o["history"])]
    reasons: dict[str, int] = defaultdict(int)
    for order in failed:
        reasons[str(order.get("failure_reason") or "").split(":")[0]] += 1
    return {
        "customers": len(people),
        "orders_submitted": orders,
        "orders_placed": sum(1 for o in final.values() if o["status"] != "FAILED" and not cancelled(o)),
        "orders_failed": len(failed),
        "orders_cancelled": sum(1 for o in final.values() if cancelled(o)),
        "cancels_too_late": cancels["too_late"],
        "partial_refunds": refunded,
        "orders_compensated": len(compensated),
        "orders_unfinished": len(placed) - len(final),
        "failure_reasons": dict(reasons),
        "duplicates_sent": duplicates["sent"],
        "duplicates_absorbed": duplicates["absorbed"],
        "inventory_consistent": consistent,
        "latency_ms": {
            route: {
                "count": len(samples),
                "p50": round(statistics.median(samples) * 1000, 1),
                "p99": round(sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 1),
            }
            for route, samples in sorted(client.latency.items())
        },
    }


def prepare(cloud: Any) -> dict[str, Any]:
    """For a demo against a cloud this process runs: an administrator, and where its sign-up codes are."""
    from systems.ecommerce.commands import create_admin

    email = f"demo-admin-{uuid.uuid4().hex[:8]}@shop.example"
    create_admin(email, PASSWORD)
    codes = outbox_codes(Path(cloud.state_dir) / "outbox" / "cognito.jsonl")
    return {"admin_email": email, "admin_password": PASSWORD, "read_code": codes}
