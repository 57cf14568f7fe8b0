"""Metrics: the store's statistics, built-in Lambda/SQS/API Gateway metrics, custom metrics and EMF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.clock import VirtualClock
from stratus.observability import metrics
from stratus.observability.hub import attach
from stratus.observability.metric_store import Aggregate, MetricStore, dimensions_key
from stratus.testing import local

T0 = 1_700_000_040.0  # a minute boundary


def test_aggregate_percentiles_are_close_and_bounded() -> None:
    agg = Aggregate()
    for v in range(1, 1001):
        agg.add(float(v))
    assert agg.statistic("SampleCount") == 1000
    assert agg.statistic("Sum") == sum(range(1, 1001))
    assert agg.statistic("Minimum") == 1 and agg.statistic("Maximum") == 1000
    for p, true in (("p50", 500), ("p90", 900), ("p99", 990)):
        value = agg.statistic(p)
        assert value is not None and abs(value - true) / true < 0.05, (p, value)
    single = Aggregate()
    single.add(7.5)
    assert single.statistic("p99") == 7.5  # clamped to min/max
    zero = Aggregate()
    zero.add(0.0)
    zero.add(-3.0)
    assert zero.statistic("p50") == -3.0 or zero.statistic("p50") == 0.0
    with pytest.raises(ValidationError):
        agg.statistic("p101")
    with pytest.raises(ValidationError):
        agg.statistic("Median")


def test_store_flushes_merges_and_queries_periods(tmp_path: Any, clock: Any) -> None:
    from stratus.local.storage import Database

    clock.set(T0)
    store = MetricStore(Database(tmp_path / "metrics.db"), clock)
    dims = dimensions_key({"Channel": "web"})
    store.add("Shop", "Orders", 1, dimensions=dims, unit="Count")
    store.add("Shop", "Orders", 3, dimensions=dims, unit="Count")
    assert store.flush() == 1
    store.add("Shop", "Orders", 5, dimensions=dims, unit="Count")  # same minute, second flush: merged
    clock.advance(60)
    store.add("Shop", "Orders", 10, dimensions=dims, unit="Count")
    store.flush()
    points = store.get_statistics(
        "Shop", "Orders", {"Channel": "web"}, T0, T0 + 120, 60, ["Sum", "SampleCount", "Maximum"]
    )
    assert [(p["Timestamp"], p["Sum"], p["SampleCount"], p["Maximum"]) for p in points] == [
        (T0, 9.0, 3.0, 5.0),
        (T0 + 60, 10.0, 1.0, 10.0),
    ]
    assert points[0]["Unit"] == "Count"
    [whole] = store.get_statistics("Shop", "Orders", {"Channel": "web"}, T0, T0 + 120, 120, ["Average"])
    assert whole["Average"] == pytest.approx(19 / 4)
    # dimensions match exactly, as in CloudWatch
    assert store.get_statistics("Shop", "Orders", None, T0, T0 + 120, 60) == []
    with pytest.raises(ValidationError):
        store.get_statistics("Shop", "Orders", None, T0, T0 + 120, 45)
    # retention: 15 days on the clock
    clock.advance(16 * 86400)
    store._last_purge = float("-inf")
    store.flush()
    assert store.get_statistics("Shop", "Orders", {"Channel": "web"}, T0, T0 + 120, 60) == []
    store.db.close()


def test_counted_and_listed_values_give_the_statistics_of_adding_each(tmp_path: Any, clock: Any) -> None:
    from stratus.local.storage import Database

    clock.set(T0)
    values = [1.0, 0.0, 1.0, 1.0, 12.5, 0.25, 12.5, 3.0]
    one_by_one = MetricStore(Database(tmp_path / "a.db"), clock)
    grouped = MetricStore(Database(tmp_path / "b.db"), clock)
    for value in values:
        one_by_one.add("Shop", "Orders", value, dimensions="{}", unit="Count", timestamp=T0 + 1.5)
        one_by_one.add("Shop", "Sizes", value, dimensions="{}", unit="Count", timestamp=T0 + 61.5)
    counts: dict[float, float] = {}
    for value in values:
        counts[value] = counts.get(value, 0.0) + 1.0
    grouped.add_counts("Shop", "Orders", {**counts, 99.0: 0.0}, dimensions="{}", unit="Count", minute=int(T0))
    grouped.add_values("Shop", "Sizes", values, dimensions="{}", unit="Count", minute=int(T0 + 60))
    one_by_one.flush()
    grouped.flush()
    statistics = ["Sum", "SampleCount", "Minimum", "Maximum", "p50", "p99"]
    for name in ("Orders", "Sizes"):
        expected = one_by_one.get_statistics("Shop", name, None, T0, T0 + 120, 60, statistics)
        assert len(expected) == 1
        assert grouped.get_statistics("Shop", name, None, T0, T0 + 120, 60, statistics) == expected
    one_by_one.db.close()
    grouped.db.close()


def test_lambda_metrics_from_invocations() -> None:
    app = App("mx")

    @app.function(init=lambda: None)
    def work(event: Any, context: Any) -> None:
        if event.get("fail"):
            raise RuntimeError("boom")

    @app.function(reserved_concurrency=0)
    def never(event: Any, context: Any) -> None:
        return None

    with local(app, clock=VirtualClock(T0)) as env:
        work.invoke({})
        work.invoke({})
        with pytest.raises(Exception):  # noqa: B017
            work.invoke({"fail": True})
        with pytest.raises(Exception):  # noqa: B017
            never.invoke({})
        hub = attach(env.cloud)
        dims = {"FunctionName": "mx-work"}

        def stat(name: str, statistic: str, d: dict[str, str] = dims) -> Any:
            [point] = hub.metrics.get_statistics("AWS/Lambda", name, d, T0, T0 + 60, 60, [statistic])
            return point[statistic]

        assert stat("Invocations", "Sum") == 3
        assert stat("Errors", "Sum") == 1
        assert stat("Errors", "Average") == pytest.approx(1 / 3)
        assert stat("ColdStarts", "Sum") == 1
        assert stat("ConcurrentExecutions", "Maximum") == 1
        assert stat("Duration", "SampleCount") == 3
        assert stat("Duration", "p99") >= 0
        assert stat("Throttles", "Sum", {"FunctionName": "mx-never"}) == 1
        assert hub.metrics.get_statistics("AWS/Lambda", "Invocations", {"FunctionName": "mx-never"}, T0, T0 + 60) == []
        names = {s.name for s in hub.metrics.list_metrics("AWS/Lambda", dimensions={"FunctionName": "mx-work"})}
        assert {"Invocations", "Errors", "Duration", "ConcurrentExecutions", "ColdStarts"} <= names


def test_custom_metrics_inside_and_outside_invocations(capsys: Any) -> None:
    app = App("mxc")

    @app.function
    def place(event: Any, context: Any) -> None:
        metrics.put("OrdersPlaced", 2, unit="Count", dimensions={"Channel": "web"}, namespace="Shop")

    with local(app, clock=VirtualClock(T0)) as env:
        place.invoke({})
        metrics.put("OrdersPlaced", 1, unit="Count", dimensions={"Channel": "web"}, namespace="Shop")
        [point] = metrics.get_statistics("Shop", "OrdersPlaced", {"Channel": "web"}, T0, T0 + 60, 60, ["Sum"])
        assert point["Sum"] == 3
        env.restart()  # durable
        [point] = metrics.get_statistics("Shop", "OrdersPlaced", {"Channel": "web"}, T0, T0 + 60, 60, ["Sum"])
        assert point["Sum"] == 3
        for bad in (
            {"name": "", "value": 1},
            {"name": "X", "value": float("nan")},
            {"name": "X", "value": 1, "unit": "Parsecs"},
            {"name": "X", "value": 1, "namespace": "AWS/Lambda"},
            {"name": "X", "value": True},
        ):
            with pytest.raises(ValidationError):
                metrics.put(**bad)  # type: ignore[arg-type]

    # no local cloud: an EMF line on stdout (what Lambda turns into the metric on AWS)
    capsys.readouterr()
    metrics.put("OrdersPlaced", 4, unit="Count", dimensions={"Channel": "app"}, namespace="Shop", timestamp=T0)
    line = json.loads(capsys.readouterr().out.strip())
    assert line == {
        "_aws": {
            "Timestamp": int(T0 * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "Shop",
                    "Dimensions": [["Channel"]],
                    "Metrics": [{"Name": "OrdersPlaced", "Unit": "Count"}],
                }
            ],
        },
        "Channel": "app",
        "OrdersPlaced": 4.0,
    }


def test_gateway_request_listener_metrics() -> None:
    app = App("mxg")
    with local(app, clock=VirtualClock(T0)) as env:
        hub = attach(env.cloud)
        for status, ms in ((200, 10.0), (404, 2.0), (502, 30.0), (200, 20.0)):
            hub.on_request(
                {
                    "time": T0 + 1,
                    "api": "mxg-api",
                    "method": "GET",
                    "route": "GET /items",
                    "status": status,
                    "duration_ms": ms,
                }
            )
        dims = {"ApiId": "mxg-api", "Route": "GET /items"}

        def total(name: str) -> Any:
            [p] = hub.metrics.get_statistics("AWS/ApiGateway", name, dims, T0, T0 + 60, 60, ["Sum", "Maximum"])
            return p

        assert total("Count")["Sum"] == 4
        assert total("4XXError")["Sum"] == 1
        assert total("5XXError")["Sum"] == 1
        assert total("Latency")["Maximum"] == 30.0
        [p] = hub.metrics.get_statistics("AWS/ApiGateway", "Count", {"ApiId": "mxg-api"}, T0, T0 + 60, 60, ["Sum"])
        assert p["Sum"] == 4


def test_queue_metrics_sampled_each_minute() -> None:
    app = App("mxq")
    jobs = app.queue("jobs")
    with local(app, clock=VirtualClock(T0)) as env:
        hub = attach(env.cloud)  # an app with no function: attach the plane (LocalCloud will do it)
        jobs.send("a")
        jobs.send("b")
        env.clock.advance(60)
        env.settle(max_seconds=0)
        dims = {"QueueName": "mxq-jobs"}
        [p] = hub.metrics.get_statistics(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", dims, T0 + 60, T0 + 120, 60, ["Maximum"]
        )
        assert p["Maximum"] == 2
        [age] = hub.metrics.get_statistics(
            "AWS/SQS", "ApproximateAgeOfOldestMessage", dims, T0 + 60, T0 + 120, 60, ["Maximum"]
        )
        assert age["Maximum"] == 60


def test_iterator_age_from_stream_mapping() -> None:
    app = App("mxs")
    clicks = app.stream("clicks", shards=1)

    @app.on_stream(clicks, starting_position="TRIM_HORIZON")
    def consume(event: Any, context: Any) -> None:
        return None

    with local(app, clock=VirtualClock(T0)) as env:
        clicks.put(b"n1", partition_key="k")
        env.clock.advance(5)
        env.settle(max_seconds=0)
        hub = attach(env.cloud)
        points = hub.metrics.get_statistics(
            "AWS/Lambda", "IteratorAge", {"FunctionName": "mxs-consume"}, T0, T0 + 60, 60, ["Maximum"]
        )
        assert points and points[0]["Maximum"] == pytest.approx(5000, abs=1)
        assert any(t.root == "Kinesis mxs-clicks" for t in hub.traces.recent_traces(10))


def test_backlog_is_flushed_inline_when_no_pump_runs(monkeypatch: Any) -> None:
    from stratus.observability import hub as hub_module

    monkeypatch.setattr(hub_module, "MAX_BACKLOG", 5)
    app = App("mxb")

    @app.function
    def f(event: Any, context: Any) -> None:
        return None

    with local(app, clock=VirtualClock(T0)) as env:
        hub = attach(env.cloud)
        for _ in range(6):
            f.invoke({})
        assert len(hub._invocations) == 0  # flushed on the sixth
        rows = hub.metrics.db.execute("SELECT SUM(count) FROM metric_data")
        assert rows[0][0] >= 6


def test_real_time_flushes_write_spans_often_and_metrics_once_their_interval_passes(tmp_path: Any) -> None:
    from stratus.local.cloud import LocalCloud
    from stratus.observability.hub import FlushPump

    app = App("mxf")

    @app.function
    def work(event: Any, context: Any) -> None:
        return None

    cloud = LocalCloud(tmp_path)  # the system clock, as under `stratus up`
    cloud.bind(app)
    try:
        hub = attach(cloud)
        pump = FlushPump(hub, interval=0.0, metrics_interval=3600.0)
        work.invoke({})
        pump.pump()  # the first flush writes everything
        assert not hub.metrics.pending
        work.invoke({})
        pump.pump()
        assert len(hub.traces.recent_traces(10)) == 2  # the second invocation's span is written at once
        assert hub.metrics.pending  # folded, waiting for the metrics interval
        pump.metrics_interval = 0.0
        pump.pump()
        assert not hub.metrics.pending
        now = cloud.clock.now()
        [point] = hub.metrics.get_statistics(
            "AWS/Lambda", "Invocations", {"FunctionName": "mxf-work"}, now - 120, now + 60, 60, ["Sum"]
        )
        assert point["Sum"] == 2
    finally:
        cloud.close()
