"""Alarms: CloudWatch's M-of-N evaluation, missing-data treatment, notifications, durable state and history."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.clock import VirtualClock
from stratus.observability import metrics
from stratus.testing import local

T0 = 1_700_000_040.0  # a minute boundary


def build(treat_missing: str = "missing", **settings: Any) -> tuple[App, Any, Any, list[dict[str, Any]]]:
    app = App("al")
    pager = app.topic("pager")
    received: list[dict[str, Any]] = []

    @app.function
    def orders(event: Any, context: Any) -> None:
        if event.get("fail"):
            raise RuntimeError("failed")

    @app.on_topic(pager)
    def page(event: Any, context: Any) -> None:
        sns = event["Records"][0]["Sns"]
        received.append({"subject": sns["Subject"], **json.loads(sns["Message"])})

    options: dict[str, Any] = {
        "function": orders,
        "metric": "Errors",
        "statistic": "Sum",
        "period": 60,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 2,
        "threshold": 1,
        "comparison": ">=",
        "treat_missing": treat_missing,
        "actions": [pager],
        "ok_actions": [pager],
    }
    options.update(settings)
    alarm = app.alarm("orders-errors", **options)
    return app, orders, alarm, received


def minute(env: Any) -> None:
    """Let one period pass and run what is due (alarm evaluation, notifications)."""
    env.clock.advance(60)
    env.settle(max_seconds=1)


def fail(fn: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017
        fn.invoke({"fail": True})


def test_m_of_n_goes_to_alarm_and_back_with_notifications() -> None:
    app, orders, alarm, received = build()
    with local(app, clock=VirtualClock(T0)) as env:
        assert alarm.state().value == "INSUFFICIENT_DATA"
        assert alarm.state().reason == "Unchecked: Initial alarm creation"
        fail(orders)
        minute(env)  # [missing, missing, 1]: one breaching datapoint of the two needed
        assert alarm.state().value == "OK"
        fail(orders)
        orders.invoke({})
        minute(env)  # [missing, 1, 1]
        state = alarm.state()
        assert state.value == "ALARM"
        assert state.timestamp == T0 + 120
        assert state.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [1.0 (")
        assert "greater than or equal to the threshold (1.0)" in state.reason
        assert "(minimum 2 datapoints for OK -> ALARM transition)" in state.reason
        orders.invoke({})
        minute(env)  # [1, 1, 0] still two breaching
        assert alarm.state().value == "ALARM"
        minute(env)  # [1, 0, missing]
        assert alarm.state().value == "OK"

        assert [(n["OldStateValue"], n["NewStateValue"]) for n in received] == [
            ("INSUFFICIENT_DATA", "OK"),
            ("OK", "ALARM"),
            ("ALARM", "OK"),
        ]
        note = received[1]
        assert note["subject"] == 'ALARM: "al-orders-errors" in US East (N. Virginia)'
        assert note["AlarmName"] == "al-orders-errors"
        assert note["AWSAccountId"] == "000000000000"
        assert note["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:al-orders-errors"
        assert note["StateChangeTime"] == "2023-11-14T22:16:00.000+0000"
        assert note["NewStateReason"] == state.reason
        assert note["AlarmActions"] == ["arn:aws:sns:us-east-1:000000000000:al-pager"]
        assert note["Trigger"] == {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": "al-orders", "name": "FunctionName"}],
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        }

        history = alarm.history()
        assert [(h.old_state, h.new_state) for h in history] == [
            ("ALARM", "OK"),
            ("OK", "ALARM"),
            ("INSUFFICIENT_DATA", "OK"),
            (None, "INSUFFICIENT_DATA"),
        ]
        env.restart()  # state and history are durable
        assert alarm.state().value == "OK"
        assert len(alarm.history()) == 4


def test_missing_data_goes_to_insufficient_data() -> None:
    app, orders, alarm, _received = build("missing", evaluation_periods=2, datapoints_to_alarm=1)
    with local(app, clock=VirtualClock(T0)) as env:
        fail(orders)
        minute(env)
        assert alarm.state().value == "ALARM"
        minute(env)  # [1, missing]
        assert alarm.state().value == "ALARM"
        minute(env)  # [missing, missing]
        state = alarm.state()
        assert state.value == "INSUFFICIENT_DATA"
        assert state.reason == "Insufficient Data: 2 datapoints were unknown."


@pytest.mark.parametrize(
    ("treat", "expected"), [("notBreaching", "OK"), ("breaching", "ALARM"), ("ignore", "INSUFFICIENT_DATA")]
)
def test_treat_missing_when_no_data_at_all(treat: str, expected: str) -> None:
    app, _orders, alarm, _received = build(treat)
    with local(app, clock=VirtualClock(T0)) as env:
        for _ in range(3):
            minute(env)
        assert alarm.state().value == expected
        if treat == "notBreaching":
            assert "treated as [NonBreaching]" in alarm.state().reason


def test_ignore_keeps_the_state_while_data_is_missing() -> None:
    app, orders, alarm, _received = build("ignore", evaluation_periods=1, datapoints_to_alarm=1)
    with local(app, clock=VirtualClock(T0)) as env:
        fail(orders)
        minute(env)
        assert alarm.state().value == "ALARM"
        for _ in range(5):
            minute(env)
        assert alarm.state().value == "ALARM"


def test_percentile_alarm_on_a_custom_metric_and_missed_periods_caught_up() -> None:
    app = App("alp")
    alarm = app.alarm(
        "slow",
        namespace="Shop",
        metric="Latency",
        dimensions={"Route": "GET /"},
        statistic="p99",
        period=120,
        threshold=500,
        comparison=">",
        treat_missing="notBreaching",
    )
    with local(app, clock=VirtualClock(T0)) as env:
        for value in [10.0] * 50 + [900.0] * 5:
            metrics.put("Latency", value, unit="Milliseconds", dimensions={"Route": "GET /"}, namespace="Shop")
        env.clock.advance(120)
        env.settle(max_seconds=1)
        assert alarm.state().value == "ALARM"
        assert "greater than the threshold (500.0)" in alarm.state().reason
        env.clock.advance(600)  # five periods at once: each boundary is evaluated in order
        env.settle(max_seconds=1)
        assert alarm.state().value == "OK"
        assert alarm.state().timestamp == T0 + 240


def test_set_state_notifies_and_evaluation_sets_it_back() -> None:
    app, _orders, alarm, received = build("notBreaching")
    with local(app, clock=VirtualClock(T0)) as env:
        alarm.set_state("ALARM", "testing the pager")
        env.settle(max_seconds=1)
        assert alarm.state().value == "ALARM"
        assert received[-1]["NewStateReason"] == "testing the pager"
        minute(env)
        assert alarm.state().value == "OK"
        with pytest.raises(ValidationError):
            alarm.set_state("BROKEN", "x")


def test_declaration_is_validated() -> None:
    app = App("alv")
    topic = app.topic("t")
    queue = app.queue("q")

    @app.function
    def fn(event: Any, context: Any) -> None:
        return None

    good: dict[str, Any] = {"namespace": "Shop", "metric": "Orders", "threshold": 1}
    alarm = app.alarm("ok-alarm", function=fn, metric="Duration", statistic="p90", comparison="LessThanThreshold")
    assert alarm.namespace == "AWS/Lambda" and alarm.dimensions == {"FunctionName": "alv-fn"}
    assert alarm.comparison == "LessThanThreshold" and alarm.datapoints_to_alarm == 1
    for bad in (
        {"metric": None},
        {"period": 30},
        {"period": 90},
        {"evaluation_periods": 0},
        {"evaluation_periods": 3, "datapoints_to_alarm": 4},
        {"evaluation_periods": 1441},
        {"comparison": "=="},
        {"treat_missing": "sometimes"},
        {"statistic": "Median"},
        {"threshold": float("inf")},
        {"actions": [queue]},
        {"namespace": None},
    ):
        with pytest.raises(ValidationError):
            app.alarm("bad", **{**good, **bad})
    assert app.alarm("fine", actions=[topic], **good).settings()["actions"] == ["t"]
