"""The nightly batch job: yesterday's sales per product as a CSV in the reports bucket."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from stratus.resources.table import Key
from systems.ecommerce import shop_time
from systems.ecommerce.infra import products, reports, sales_daily
from systems.ecommerce.web import plain


def report_day(event: Any) -> str:
    """The day to report: ``event["day"]`` if given, else the day before the event's (or now's) date."""
    raw = getattr(event, "raw_event", event) or {}
    if isinstance(raw, dict) and isinstance(raw.get("day"), str):
        return str(datetime.strptime(raw["day"], "%Y-%m-%d").date())
    when = shop_time.now()
    if isinstance(raw, dict) and isinstance(raw.get("time"), str):
        when = datetime.fromisoformat(raw["time"].replace("Z", "+00:00")).timestamp()
    return (datetime.fromtimestamp(when, tz=UTC) - timedelta(days=1)).strftime("%Y-%m-%d")


def sales_csv(day: str) -> tuple[str, int]:
    found = (plain(i) for i in sales_daily.query_all(Key("day").eq(day), index="by_day"))
    rows = [r for r in found if int(r.get("units", 0)) > 0]  # every sale of the day cancelled: nothing sold
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "product_id", "name", "units", "orders", "revenue_minor_units", "currency"])
    for row in sorted(rows, key=lambda r: (-int(r.get("revenue", 0)), r["product_id"])):
        product = products.get({"id": row["product_id"]}, projection="#n", names={"#n": "name"}) or {}
        writer.writerow(
            [
                day,
                row["product_id"],
                product.get("name", "(deleted)"),
                row.get("units", 0),
                row.get("orders", 0),
                row.get("revenue", 0),
                row.get("currency", ""),
            ]
        )
    return out.getvalue(), len(rows)


def nightly_sales_report(event: Any, context: Any) -> dict[str, Any]:
    day = report_day(event)
    text, count = sales_csv(day)
    key = f"sales/{day}.csv"
    reports.put(key, text.encode(), content_type="text/csv", metadata={"rows": str(count)})
    return {"key": key, "rows": count}
