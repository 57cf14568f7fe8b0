"""Logs: the handler logger (request id and trace id on each line), query_logs filters, tail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.clock import VirtualClock
from stratus.observability import get_logger, logger, query_logs, tail
from stratus.observability.context import parse_header
from stratus.testing import local

T0 = 1_700_000_040.0


def make_app() -> tuple[App, Any, Any]:
    app = App("lg")

    @app.function
    def place(event: Any, context: Any) -> dict[str, Any]:
        logger.info("order placed", order_id=event["id"])
        logger.debug("not written at INFO")
        if event.get("fail"):
            try:
                raise KeyError("secret-value")
            except KeyError:
                logger.exception("lookup failed")
        return {"request_id": context.aws_request_id, "trace": context.trace_id}

    @app.function
    def other(event: Any, context: Any) -> None:
        logger.warning("other thing")

    return app, place, other


def test_handler_lines_carry_request_and_trace_ids_and_queries_filter() -> None:
    app, place, other = make_app()
    with local(app, clock=VirtualClock(T0)) as env:
        first = place.invoke({"id": "o-1"})
        env.clock.advance(120)
        second = place.invoke({"id": "o-2", "fail": True})
        other.invoke({})
        state = env.state_dir

        app_lines = query_logs(state, stream="app")
        assert [(r["level"], r["message"]) for r in app_lines] == [
            ("INFO", "order placed"),
            ("INFO", "order placed"),
            ("ERROR", "lookup failed"),
            ("WARNING", "other thing"),
        ]
        line = app_lines[0]
        assert line["function"] == "lg-place"
        assert line["request_id"] == first["request_id"]
        assert line["trace_id"] == parse_header(first["trace"])[0]
        assert line["order_id"] == "o-1"
        assert app_lines[2]["error_type"] == "KeyError"
        assert "secret-value" not in json.dumps(app_lines)  # exception() logs the type, not the message

        # one request: its invocation line and its handler lines, across streams, oldest first
        mine = query_logs(state, request_id=second["request_id"])
        assert [r["stream"] for r in mine] == ["app", "app", "functions"]
        assert mine[-1]["outcome"] == "success"
        by_trace = query_logs(state, trace_id=parse_header(first["trace"])[0])
        assert {r["stream"] for r in by_trace} == {"app", "functions"}
        assert len(query_logs(state, function="other")) == 2  # declared name matches lg-other
        assert len(query_logs(state, function="lg-other", stream="functions")) == 1
        assert [r["order_id"] for r in query_logs(state, text="O-2")] == ["o-2"]
        assert len(query_logs(state, since=T0 + 60)) == 5
        assert len(query_logs(state, until=T0 + 60)) == 2
        assert len(query_logs(state, since="1m", now=T0 + 150)) == 5
        newest = query_logs(state, function="place", limit=2)
        assert [r["stream"] for r in newest] == ["app", "functions"]  # the newest two, oldest first
        assert newest[0]["message"] == "lookup failed"
        assert query_logs(state, stream="nothing") == []
        for bad in ({"limit": 0}, {"stream": "../x"}, {"since": "yesterday"}):
            with pytest.raises(ValidationError):
                query_logs(state, **bad)


def test_tail_prints_recent_then_follows_new_lines() -> None:
    app, place, _other = make_app()
    with local(app, clock=VirtualClock(T0)) as env:
        place.invoke({"id": "o-1"})
        polls: list[int] = []

        def fake_sleep(seconds: float) -> None:
            polls.append(1)
            if len(polls) == 1:
                place.invoke({"id": "o-2"})

        seen = list(tail(env.state_dir, stream="app", sleep=fake_sleep, stop=lambda: len(polls) >= 2, limit=10))
        assert [r["order_id"] for r in seen] == ["o-1", "o-2"]


def test_logger_without_a_cloud_prints_json(capsys: Any) -> None:
    capsys.readouterr()
    logger.info("hello", n=1)
    record = json.loads(capsys.readouterr().out)
    assert record["message"] == "hello" and record["n"] == 1 and record["level"] == "INFO"
    quiet = get_logger("audit", level="WARNING")
    quiet.info("dropped")
    assert capsys.readouterr().out == ""
    with pytest.raises(ValidationError):
        get_logger("functions")
    with pytest.raises(ValidationError):
        get_logger("x", level="LOUD")


def test_stdlib_logging_during_an_invocation_goes_to_the_app_stream() -> None:
    import logging

    from stratus.observability import AppLogHandler

    app = App("lgstd")
    log = logging.getLogger("lgstd.handlers")

    @app.function
    def handler(event: Any, context: Any) -> str:
        log.info("processing %s", "item-1")
        log.debug("too detailed")
        return context.aws_request_id

    handler_obj = AppLogHandler()
    log.addHandler(handler_obj)
    log.setLevel(logging.DEBUG)
    try:
        with local(app, clock=VirtualClock(T0)) as env:
            request_id = handler.invoke({})
            log.info("outside any invocation")  # not an invocation's line
            [line] = query_logs(env.state_dir, stream="app")
            assert line["message"] == "processing item-1"
            assert line["logger"] == "lgstd.handlers"
            assert line["request_id"] == request_id and line["function"] == "lgstd-handler"
    finally:
        log.removeHandler(handler_obj)
