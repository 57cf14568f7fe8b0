"""The console in a real browser, against the small sample system."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import Server, serve, shot

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    import console_sample

    from stratus.local import userpool as local_userpool

    saved = local_userpool.HASHING
    local_userpool.HASHING = local_userpool.PasswordHashing(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield from serve(console_sample.app)
    finally:
        local_userpool.HASHING = saved


@pytest.fixture(scope="module")
def placed(server: Server) -> Server:
    answer = server.post("/sample/orders", json={"id": "o-1", "note": "<img src=x onerror=alert(1)>"})
    assert answer.status_code == 201, answer.text
    answer = server.post("/sample/orders", json={"id": "o-2", "note": "please fail"})
    assert answer.status_code == 201, answer.text
    return server


def open_page(page: Any, server: Server, hash_: str) -> None:
    page.goto(f"{server.url}/_console/{hash_}")
    page.wait_for_selector("main h1")


def test_map_draws_the_system_with_live_counters(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/map")
    expect(page.locator("h2", has_text="System sample")).to_be_visible()
    node = page.locator("svg.graph g.node[data-id='function:place_order']")
    expect(node).to_be_visible()
    expect(node.locator("text.counter")).to_contain_text("/min", timeout=15000)
    expect(page.locator("#live-status")).to_have_text("live")
    assert page.locator("svg.graph path.edge").count() >= 10
    shot(page, "map")
    node.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("place_order")


def test_functions_list_detail_and_invoke(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/functions")
    row = page.locator("tr", has=page.locator("a", has_text="sample / place_order"))
    expect(row).to_contain_text("route POST /orders")
    shot(page, "functions")
    row.locator("a").click()
    expect(page.locator("h1")).to_have_text("place_order")
    expect(page.locator("section", has_text="Recent invocations")).to_contain_text("order placed")
    page.goto(f"{placed.url}/_console/#/functions?system=sample&name=ship")
    page.get_by_label("Event (JSON)").fill('{"id": "x-1"}')
    page.get_by_role("button", name="Invoke").click()
    expect(page.locator("form.panel pre.code")).to_contain_text('"shipped": true')


def test_workflow_execution_graph_and_callbacks(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/workflows?system=sample&name=fulfil")
    page.get_by_role("link", name="order-o-1").click()
    expect(page.locator("h1")).to_have_text("Execution order-o-1")
    expect(page.locator("g.node[data-id='Ship']")).to_have_class("node state st-succeeded")
    expect(page.locator("g.node[data-id='Done']")).to_have_class("node state st-succeeded")
    assert page.locator("path.edge.taken").count() == 3
    shot(page, "execution")
    # A callback workflow: start it from the console, then send the task success.
    open_page(page, placed, "#/workflows?system=sample&name=approve")
    page.get_by_label("Execution name (optional)").fill("approval-1")
    page.get_by_role("button", name="Start execution").click()
    expect(page.locator("h1")).to_have_text("Execution approval-1")
    button = page.get_by_role("button", name="Send task success")
    for _ in range(50):  # the execution reaches its callback task in the background
        if button.count():
            break
        page.wait_for_timeout(100)
        page.reload()
        page.wait_for_selector("main h1")
    page.get_by_label("Output (JSON)").fill('{"approved": true}')
    button.click()
    expect(page.get_by_test_id("execution-status")).to_contain_text("succeeded", timeout=15000)


def test_trace_waterfall_follows_the_request(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/traces")
    page.get_by_role("link", name="POST /orders").first.click()
    expect(page.locator("h1")).to_contain_text("Trace ")
    waterfall = page.locator("ol.waterfall")
    expect(waterfall).to_contain_text("sample-place_order")
    expect(waterfall).to_contain_text("sample-on_placed")
    shot(page, "trace")


def test_queue_dlq_redrive_and_test_message(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/queues?system=sample&name=work-dlq")
    for _ in range(100):  # the failing message reaches the DLQ after its visibility timeout
        if page.locator("[data-testid=visible]").inner_text() != "0":
            break
        page.wait_for_timeout(200)
        page.reload()
        page.wait_for_selector("main h1")
    expect(page.locator("main table")).to_contain_text("please fail")
    shot(page, "queue-dlq")
    page.get_by_role("button", name="Redrive to work").click()
    expect(page.locator("#toast")).to_contain_text("1 of 1 moved")
    open_page(page, placed, "#/queues")
    expect(page.locator("main")).to_contain_text("DLQ of work")
    expect(page.locator("main")).to_contain_text("function:on_alert")
    open_page(page, placed, "#/queues?system=sample&name=work")
    page.get_by_role("textbox", name="Message body").fill('{"hello": 1}')
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator("#toast")).to_contain_text("sent ")


def test_bus_rules_match_a_pasted_event(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/buses")
    page.get_by_label("Event (JSON", exact=False).fill(
        '{"source": "sample.orders", "detail-type": "OrderPlaced", "detail": {"id": "z"}}'
    )
    page.get_by_role("button", name="Test against the rules").click()
    expect(page.locator("main")).to_contain_text("1 of 1 rules match.")
    shot(page, "buses")


def test_table_items_are_text_not_html(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/tables?system=sample&name=orders")
    expect(page.locator("main table").first).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("main img").count() == 0
    page.locator("tr", has_text="o-1").get_by_role("button", name="history").click()
    expect(page.locator("main")).to_contain_text('Change history of {"id":"o-1"}')
    expect(page.locator("main")).to_contain_text("INSERT")
    shot(page, "table")


def test_api_page_and_request_tester(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/api")
    expect(page.get_by_role("link", name="OpenAPI docs")).to_have_attribute("href", "/sample/docs")
    page.locator("tr", has_text="GET /orders/{id}").get_by_role("button", name="try").click()
    page.get_by_label("Path").fill("/sample/orders/o-1")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("main")).to_contain_text("200 OK")
    expect(page.locator("main")).to_contain_text('"id": "o-1"')
    shot(page, "api")


def test_metrics_alarms_and_logs(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/metrics")
    expect(page.locator("svg.chart circle.point").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("sample / worker-errors")
    shot(page, "metrics")
    open_page(page, placed, "#/logs")
    expect(page.locator("ol.logs")).to_contain_text("order placed")
    placed.post("/sample/orders", json={"id": "o-live"})
    expect(page.locator("ol.logs")).to_contain_text("o-live", timeout=15000)
    shot(page, "logs")


def test_keyboard_navigation_and_visible_focus(page: Any, placed: Server) -> None:
    from playwright.sync_api import expect

    open_page(page, placed, "#/map")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the brand link, then the admin-token button
    page.keyboard.press("Tab")
    first_nav = page.locator("#nav a").first
    expect(first_nav).to_be_focused()
    outline = first_nav.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the second link: Functions
    expect(page.locator("h1")).to_have_text("Functions")
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Functions")
