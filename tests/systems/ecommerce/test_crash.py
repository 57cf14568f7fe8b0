"""Killed mid-checkout (SIGKILL), restarted on the same state folder: the order completes, once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from systems.ecommerce.app import app
from tests.systems.ecommerce.conftest import open_shop

from stratus.testing import local

CHILD = Path(__file__).with_name("crash_child.py")


def test_a_checkout_killed_after_authorizing_finishes_after_restart_without_double_charging(tmp_path: Path) -> None:
    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        placed = json.loads(child.stdout.readline() or "{}")
        assert "order_id" in placed, child.stderr.read() if child.stderr else ""
        assert child.stdout.readline().strip() == "AUTHORIZED"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    from systems.ecommerce.infra import products, reservations

    from systems.ecommerce import event_store, ledger

    order_id = placed["order_id"]
    with local(app, state_dir=state) as env:
        open_shop(env)
        before = event_store.current(order_id)
        assert before is not None and before[0].status == "RESERVED"
        assert ledger.payment_of(order_id) is None  # the authorization's result was never committed
        env.settle(max_seconds=600)
        order, events = event_store.current(order_id)  # type: ignore[misc]
        assert order.status == "SHIPPED", (order.failure_reason, [e["type"] for e in events])
        assert [e["type"] for e in events].count("InventoryReserved") == 1
        payment = ledger.payment_of(order_id)
        assert payment is not None and payment["status"] == "CAPTURED"
        assert [e["kind"] for e in ledger.entries_of(payment["id"])] == ["authorization", "capture"]
        assert int(products.get({"id": placed["product_id"]})["stock"]) == 3  # type: ignore[index]
        assert reservations.get({"order_id": order_id})["status"] == "CONFIRMED"  # type: ignore[index]
        assert len(ledger.ledger.query("SELECT id FROM payments WHERE order_id = :o", {"o": order_id})) == 1
    # The provider (restarted too) answered the retried authorization from its Idempotency-Key record.
    with sqlite3.connect(state / "third-party" / "payment-provider.db") as provider_db:
        charged = provider_db.execute("SELECT COUNT(*) FROM kv WHERE kind = 'payment'").fetchone()[0]
    assert charged == 1
