"""The demo's traffic, in process on the virtual clock: every checkout finishes and inventory adds up."""

from __future__ import annotations

import pytest
from tests.systems.ecommerce.conftest import Shop

from systems.ecommerce import demo


def test_the_demo_places_orders_absorbs_duplicates_and_keeps_inventory_consistent(shop: Shop) -> None:
    summary = demo.run(
        "http://testserver",
        5,
        14,
        None,
        **demo.prepare(shop.env.cloud),
        http=shop.http,
        idle=shop.settle,
        workers=1,
        wait_seconds=600,
    )
    assert summary["orders_unfinished"] == 0
    assert summary["inventory_consistent"] is True
    assert summary["customers"] == 5  # each signed up and confirmed the code from the outbox
    assert summary["orders_placed"] + summary["orders_failed"] + summary["orders_cancelled"] == 14
    assert summary["partial_refunds"] >= 1
    assert summary["orders_failed"] >= 1 and summary["failure_reasons"].get("payment declined", 0) >= 1
    assert summary["orders_compensated"] >= 1
    assert summary["duplicates_sent"] >= 1 and summary["duplicates_absorbed"] == summary["duplicates_sent"]
    assert {"POST /orders", "GET /search", "PUT /cart"} <= set(summary["latency_ms"])


def test_the_demo_against_a_running_system_says_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from stratus.cli import app as cli

    monkeypatch.delenv("ECOMMERCE_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ECOMMERCE_ADMIN_PASSWORD", raising=False)
    answer = CliRunner().invoke(cli, ["demo", "ecommerce", "--base-url", "http://127.0.0.1:9"])
    assert answer.exit_code == 2
    assert "ECOMMERCE_ADMIN_EMAIL" in answer.output
    assert "Traceback" not in answer.output
