"""What happens after the HTTP response: read models, notifications, inventory alerts, DLQs, batch."""

from __future__ import annotations

import json

from tests.systems.ecommerce.conftest import DECLINED, Shop


def outbox(shop: Shop, channel: str = "email") -> list[dict]:
    path = shop.env.state_dir / "outbox" / f"{channel}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def place_some_orders(shop: Shop) -> tuple[str, list[str]]:
    mug, pot = shop.product(stock=20), shop.product(name="Teapot", price=3000, stock=20)
    alice, bob = shop.sign_up(), shop.sign_up()
    good, bad = shop.card(alice), shop.card(bob, DECLINED)
    requests = [
        (alice, [{"product_id": mug["id"], "quantity": 2}, {"product_id": pot["id"], "quantity": 1}], good),
        (alice, [{"product_id": pot["id"], "quantity": 3}], good),
        (bob, [{"product_id": mug["id"], "quantity": 1}], bad),
    ]
    ids = []
    for token, lines, card in requests:
        ids.append(shop.order(token, lines, card))
        shop.env.advance(1)  # a second apart, so "newest first" is well defined
    shop.settle()
    return alice, [r.json()["order_id"] for r in ids]


def test_read_models_rebuilt_from_events_equal_the_live_ones(shop: Shop) -> None:
    from systems.ecommerce.app import rebuild_read_models

    from systems.ecommerce import projections

    alice, ids = place_some_orders(shop)
    live = projections.snapshot()
    assert len(live["order_history"]) == 3
    assert {r["status"] for r in live["order_history"]} == {"SHIPPED", "FAILED"}
    units = {(r["product_id"], r["units"]) for r in live["sales_daily"]}
    assert sorted(u for _, u in units) == [2, 4]  # the declined order sold nothing
    history = shop.call("GET", "/orders", alice).json()["items"]
    assert [o["order_id"] for o in history] == [ids[1], ids[0]]  # newest first
    assert rebuild_read_models.invoke({})["events"] == 6 + 6 + 3
    assert projections.snapshot() == live
    # And from nothing at all, through the admin route.
    from systems.ecommerce.infra import order_history

    for row in live["order_history"]:
        order_history.delete({"customer_id": row["customer_id"], "sort_key": row["sort_key"]})
    assert shop.call("POST", "/admin/read-models/rebuild", shop.admin_token).status_code == 200
    assert projections.snapshot() == live


def test_customers_are_notified_by_email_sms_and_in_their_inbox(shop: Shop) -> None:
    texter = {"email": "t@example.com", "phone": "+15550001111"}
    token = shop.sign_up(**texter)
    mug = shop.product()
    shop.order(token, [{"product_id": mug["id"], "quantity": 1}], shop.card(token))
    alice, _ = place_some_orders(shop)
    texts = outbox(shop, "sms")
    assert {t["to"] for t in texts} == {"+15550001111"} and any("is confirmed" in t["body"] for t in texts)
    inbox = shop.call("GET", "/me/notifications", alice).json()["items"]
    assert sorted(n["type"] for n in inbox) == ["OrderPlaced", "OrderPlaced", "OrderShipped", "OrderShipped"]
    mails = [m for m in outbox(shop) if m["to"] != texter["email"]]
    subjects = sorted(m["subject"] for m in mails)
    assert subjects.count("We could not place your order") == 1
    assert subjects.count("Your order is confirmed") == 2
    declined = next(m for m in mails if m["subject"] == "We could not place your order")
    assert "payment declined" in declined["body"] and "not charged" in declined["body"]


def test_also_bought_is_served_on_the_product_page(shop: Shop) -> None:
    alice, ids = place_some_orders(shop)
    mug_id = shop.call("GET", f"/orders/{ids[0]}", alice).json()["lines"]
    first, second = mug_id[0]["product_id"], mug_id[1]["product_id"]
    page = shop.call("GET", f"/products/{first}").json()
    assert [p["id"] for p in page["also_bought"]] == [second]


def test_low_stock_alerts_operations(shop: Shop) -> None:
    from systems.ecommerce.infra import OPS_EMAIL

    lamp = shop.product(name="Lamp", stock=8)
    shop.call("PUT", f"/products/{lamp['id']}/stock", shop.admin_token, json={"adjust": -4})
    shop.settle()
    alerts = [m for m in outbox(shop) if m["to"] == OPS_EMAIL]
    assert len(alerts) == 1 and '"LowStock"' in alerts[0]["body"]
    negative = shop.call("PUT", f"/products/{lamp['id']}/stock", shop.admin_token, json={"adjust": -5})
    assert negative.status_code == 400
    assert shop.call("GET", f"/products/{lamp['id']}").json()["stock"] == 4


def test_failed_captures_go_to_the_dead_letter_queue_and_are_redriven(shop: Shop) -> None:
    from systems.ecommerce.infra import failed_payments, provider_secret

    from systems.ecommerce import ledger, provider_client

    mug = shop.product()
    alice = shop.sign_up()
    order_id = shop.order(alice, [{"product_id": mug["id"], "quantity": 1}], shop.card(alice)).json()["order_id"]
    healthy = provider_secret.get().json()
    real_call = provider_client.call

    def down(method: str, path: str, body: object = None, *, key: str | None = None) -> object:
        if path.endswith("/capture"):
            raise provider_client.ProviderUnavailable("provider down for captures")
        return real_call(method, path, body, key=key)  # type: ignore[arg-type]

    provider_client.call = down  # type: ignore[assignment]
    try:
        shop.env.settle(max_seconds=600)  # three receives, a 60 s visibility timeout apart
    finally:
        provider_client.call = real_call
    assert shop.call("GET", f"/orders/{order_id}", alice).json()["status"] == "CONFIRMED"
    assert failed_payments.attributes()["ApproximateNumberOfMessages"] == 1
    assert ledger.payment_of(order_id)["status"] == "AUTHORIZED"  # type: ignore[index]
    assert provider_secret.get().json() == healthy
    answer = shop.call("POST", "/admin/failed-payments/redrive", shop.admin_token)
    assert answer.status_code == 202
    shop.settle()
    assert ledger.payment_of(order_id)["status"] == "CAPTURED"  # type: ignore[index]
    assert shop.call("GET", f"/orders/{order_id}", alice).json()["status"] == "SHIPPED"


def test_the_nightly_report_writes_yesterdays_sales_as_csv(shop: Shop) -> None:
    from systems.ecommerce.infra import reports

    from systems.ecommerce import shop_time

    place_some_orders(shop)
    today = shop_time.day()
    shop.env.advance(86400)
    shop.settle()
    text = reports.get(f"sales/{today}.csv").body.decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("day,product_id,name,units")
    assert len(lines) == 3 and {line.split(",")[2] for line in lines[1:]} == {"Blue mug", "Teapot"}
