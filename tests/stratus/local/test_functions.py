"""The local function runtime: Lambda's invocation semantics."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.resources.function import FunctionError, FunctionTimeout, TooManyRequests
from stratus.testing import local


def make_app() -> App:
    return App("fn-test")


def test_sync_invoke_returns_result_and_context() -> None:
    app = make_app()
    seen: dict[str, Any] = {}

    @app.function(timeout=5, memory=256)
    def echo(event: Any, context: Any) -> Any:
        seen["name"] = context.function_name
        seen["arn"] = context.invoked_function_arn
        seen["memory"] = context.memory_limit_in_mb
        seen["remaining"] = context.get_remaining_time_in_millis()
        return {"got": event}

    with local(app) as env:
        assert echo.invoke({"x": 1}) == {"got": {"x": 1}}
        assert seen["name"] == "fn-test-echo"
        assert seen["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn-test-echo"
        assert seen["memory"] == 256
        assert 0 < seen["remaining"] <= 5000
        logs = env.cloud.shared("functions", lambda: None).logs.read("functions")
        assert [r["outcome"] for r in logs] == ["success"]


def test_direct_call_runs_plain_handler_without_runtime() -> None:
    app = make_app()

    @app.function
    def double(event: Any, context: Any) -> int:
        return int(event) * 2

    assert double(21) == 42


def test_handler_error_becomes_function_error_with_payload() -> None:
    app = make_app()

    @app.function
    def boom(event: Any, context: Any) -> None:
        raise KeyError("missing-thing")

    with local(app):
        with pytest.raises(FunctionError) as info:
            boom.invoke({})
        assert info.value.error_type == "KeyError"
        assert "missing-thing" in info.value.error_message
        assert info.value.payload()["stackTrace"]


def test_timeout_interrupts_a_busy_handler() -> None:
    app = make_app()

    @app.function(timeout=1)
    def spin(event: Any, context: Any) -> None:
        while True:
            pass

    with local(app) as env:
        with pytest.raises(FunctionTimeout, match=r"Task timed out after 1\.00 seconds"):
            spin.invoke({})
        engine = env.cloud.shared("functions", lambda: None)
        assert engine.logs.read("functions")[-1]["outcome"] == "timeout"
        assert engine.stats(spin)["in_flight"] == 0


def test_timeout_of_async_handler() -> None:
    app = make_app()

    @app.function(timeout=1)
    async def slow(event: Any, context: Any) -> None:
        await asyncio.sleep(30)

    @app.function
    async def quick(event: Any, context: Any) -> str:
        await asyncio.sleep(0)
        return "done"

    with local(app):
        assert quick.invoke(None) == "done"
        with pytest.raises(FunctionTimeout):
            slow.invoke(None)


def test_reserved_concurrency_throttles_excess_invocations() -> None:
    app = make_app()
    entered = threading.Event()
    release = threading.Event()

    @app.function(reserved_concurrency=1, timeout=10)
    def hold(event: Any, context: Any) -> str:
        entered.set()
        release.wait(5)
        return "ok"

    with local(app):
        results: list[Any] = []
        worker = threading.Thread(target=lambda: results.append(hold.invoke({})))
        worker.start()
        assert entered.wait(5)
        with pytest.raises(TooManyRequests):
            hold.invoke({})
        release.set()
        worker.join(5)
        assert results == ["ok"]
        assert hold.invoke({}) == "ok"  # capacity is back


def test_init_runs_once_per_environment_and_is_reported() -> None:
    app = make_app()
    inits: list[int] = []

    @app.function(init=lambda: inits.append(1))
    def warm(event: Any, context: Any) -> int:
        return len(inits)

    with local(app) as env:
        assert warm.invoke(None) == 1
        assert warm.invoke(None) == 1
        logs = env.cloud.shared("functions", lambda: None).logs.read("functions")
        assert "init_ms" in logs[0]
        assert "init_ms" not in logs[1]


def test_async_invocation_is_delivered_by_settle() -> None:
    app = make_app()
    got: list[Any] = []

    @app.function
    def sink(event: Any, context: Any) -> None:
        got.append(event)

    with local(app) as env:
        request_id = sink.invoke_async({"n": 1})
        assert isinstance(request_id, str)
        assert got == []  # queued, not run inline
        env.settle()
        assert got == [{"n": 1}]


def test_async_failures_retry_twice_then_reach_the_failure_destination() -> None:
    app = make_app()
    attempts: list[float] = []
    failures: list[dict[str, Any]] = []

    @app.function
    def dead_letters(event: Any, context: Any) -> None:
        failures.append(event)

    @app.function(on_failure=dead_letters)
    def flaky(event: Any, context: Any) -> None:
        attempts.append(env.clock.now())
        raise RuntimeError("downstream unavailable")

    with local(app) as env:
        start = env.clock.now()
        flaky.invoke_async({"order": "o-1"})
        env.settle()
        assert [round(t - start) for t in attempts] == [0, 60, 180]
        assert len(failures) == 1
        record = failures[0]
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"] == {"order": "o-1"}
        assert record["responsePayload"]["errorType"] == "RuntimeError"
        assert record["responseContext"]["functionError"] == "Unhandled"


def test_event_older_than_max_age_goes_to_failure_destination() -> None:
    app = make_app()
    failures: list[dict[str, Any]] = []
    calls: list[int] = []

    @app.function
    def dlq(event: Any, context: Any) -> None:
        failures.append(event)

    @app.function(on_failure=dlq, max_event_age=100)
    def failing(event: Any, context: Any) -> None:
        calls.append(1)
        raise ValueError("nope")

    with local(app) as env:
        failing.invoke_async({})
        env.settle()
        assert len(calls) == 2  # at t=0 and t=60; at t=180 the event is older than 100 s
        assert failures[0]["requestContext"]["condition"] == "EventAgeExceeded"


def test_success_destination_receives_the_result() -> None:
    app = make_app()
    successes: list[dict[str, Any]] = []

    @app.function
    def audit(event: Any, context: Any) -> None:
        successes.append(event)

    @app.function(on_success=audit)
    def compute(event: Any, context: Any) -> int:
        return 7

    with local(app) as env:
        compute.invoke_async({"a": 1})
        env.settle()
        assert successes[0]["responsePayload"] == 7
        assert successes[0]["requestContext"]["condition"] == "Success"


def test_queued_async_invocation_survives_restart() -> None:
    app = make_app()
    got: list[Any] = []

    @app.function
    def later(event: Any, context: Any) -> None:
        got.append(event)

    with local(app) as env:
        later.invoke_async({"keep": True})
        env.restart()
        env.settle()
        assert got == [{"keep": True}]


def test_async_payload_is_validated() -> None:
    app = make_app()

    @app.function
    def target(event: Any, context: Any) -> None:
        return None

    with local(app) as env:
        with pytest.raises(ValidationError, match="not JSON-serializable"):
            target.invoke_async({"x": object()})
        with pytest.raises(ValidationError, match="limited to 262144 bytes"):
            target.invoke_async({"x": "a" * 300_000})
        engine = env.cloud.shared("functions", lambda: None)
        assert engine.db.execute("SELECT COUNT(*) FROM async_invocations") == [(0,)]


def test_declarations_are_validated() -> None:
    app = make_app()

    def handler(event: Any, context: Any) -> None:
        return None

    with pytest.raises(ValidationError, match="timeout must be a number from 1 to 900"):
        app.function(timeout=901)(handler)
    with pytest.raises(ValidationError, match="memory"):
        app.function(name="h2", memory=64)(handler)
    with pytest.raises(ValidationError, match="invalid characters"):
        app.function(name="bad name")(handler)
    with pytest.raises(ValidationError, match="on_failure must be"):
        app.function(name="h3", on_failure="queue")(handler)  # type: ignore[arg-type]


def test_failure_destination_can_be_a_queue_or_an_event_bus() -> None:
    app = make_app()
    failed_q = app.queue("failed")
    bus = app.event_bus("ops")
    seen_on_bus: list[Any] = []

    @app.on_event(bus, pattern={"detail-type": ["Lambda Function Invocation Result - Failure"]})
    def alert(event: Any, context: Any) -> None:
        seen_on_bus.append(event["detail"])

    @app.function(on_failure=failed_q, retries=0)
    def to_queue(event: Any, context: Any) -> None:
        raise ValueError("queue me")

    @app.function(on_failure=bus, retries=0)
    def to_bus(event: Any, context: Any) -> None:
        raise ValueError("bus me")

    with local(app) as env:
        to_queue.invoke_async({"a": 1})
        to_bus.invoke_async({"b": 2})
        env.settle()
        import json

        body = json.loads(failed_q.receive(1)[0].body)
        assert body["requestPayload"] == {"a": 1}
        assert body["responsePayload"]["errorMessage"] == "queue me"
        assert seen_on_bus[0]["requestPayload"] == {"b": 2}
        assert seen_on_bus[0]["requestContext"]["condition"] == "RetriesExhausted"


def test_async_invocation_keeps_its_request_id() -> None:
    app = make_app()
    seen: list[str] = []

    @app.function
    def remember(event: Any, context: Any) -> None:
        seen.append(context.aws_request_id)

    with local(app) as env:
        request_id = remember.invoke_async({})
        env.settle()
        assert seen == [request_id]


def test_deployment_and_uses_settings_are_validated() -> None:
    app = make_app()
    table = app.queue("side")

    def handler(event: Any, context: Any) -> None:
        return None

    fn = app.function(name="rel", deployment="canary", uses=[table])(handler)
    assert fn.settings()["deployment"] == "canary" and fn.settings()["uses"] == ["queue:side"]
    with pytest.raises(ValidationError, match="deployment must be one of"):
        app.function(name="rel2", deployment="blue-green")(handler)
    other = App("other-app").queue("theirs")
    with pytest.raises(ValidationError, match="uses= takes resources of this app"):
        app.function(name="rel3", uses=[other])(handler)


def test_async_handler_invoked_from_a_thread_that_runs_a_loop() -> None:
    app = make_app()

    @app.function
    async def hello(event: Any, context: Any) -> str:
        await asyncio.sleep(0)
        return f"hi {event}"

    async def caller() -> str:
        return hello.invoke("there")  # a synchronous invoke from inside a running loop

    with local(app):
        results: list[str] = []
        # A thread of its own runs the loop, whatever the test runner's main thread is doing.
        thread = threading.Thread(target=lambda: results.append(asyncio.run(caller())))
        thread.start()
        thread.join(10)
        assert results == ["hi there"]
