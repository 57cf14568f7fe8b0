"""The local function runtime: Lambda's invocation semantics in one process.

- Synchronous invocations run the handler in the caller's thread (cheapest possible), with
  the timeout enforced by the :mod:`watchdog <stratus.local.watchdog>`.
- Reserved concurrency caps in-flight invocations; excess ones are throttled
  (:class:`~stratus.resources.function.TooManyRequests`), and each source retries them as
  AWS does for that source.
- Execution environments are counted per function: the first invocation on a new
  environment is a cold start that runs the function's ``init`` once and reports its
  duration; finished environments are reused.
- Asynchronous invocations are stored durably and delivered by a pump: up to ``retries``
  retries (1 then 2 minutes apart, as Lambda), ``max_event_age``, then the on-failure
  destination with Lambda's invocation record; successes go to the on-success destination.
- Every invocation writes one JSON log line and notifies listeners (metrics, traces). Each runs
  as a span of an X-Ray trace: the incoming trace header (or a new trace) is kept in a context
  variable while the handler runs, so what it sends carries the trace on, and
  ``context.trace_id`` holds the header (Lambda's ``_X_AMZN_TRACE_ID``).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stratus.clock import iso8601
from stratus.errors import ValidationError
from stratus.ids import uuid4_text
from stratus.local.logs import LogSink
from stratus.local.pumps import IDLE, PumpResult
from stratus.local.targets import deliver
from stratus.local.watchdog import HandlerTimedOut, Watchdog
from stratus.observability.context import Active, current, new_span_id, new_trace_id, parse_header
from stratus.observability.hub import attach
from stratus.observability.tracing import span as trace_span
from stratus.resources.function import Function, FunctionBackend, FunctionError, FunctionTimeout, TooManyRequests

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

#: Lambda's limit for an asynchronous invocation's payload.
MAX_ASYNC_PAYLOAD = 256 * 1024
#: Delays before the first and second retry of a failed asynchronous invocation (Lambda's).
RETRY_DELAYS = (60.0, 120.0)
#: How long a throttled asynchronous invocation waits before it is tried again.
THROTTLE_DELAY = 1.0

_MIGRATIONS = [
    """
    CREATE TABLE async_invocations (
        request_id TEXT PRIMARY KEY,
        function TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        enqueued_at REAL NOT NULL,
        due_at REAL NOT NULL,
        trace_id TEXT
    );
    CREATE INDEX async_invocations_due ON async_invocations (due_at)
    """
]


async def _in_context(context: contextvars.Context, coroutine: Any) -> Any:
    """Await ``coroutine`` as a task created in ``context`` (the invocation's trace and request ids)."""
    task = asyncio.get_running_loop().create_task(coroutine, context=context)
    return await task


class Context:
    """The Lambda context object a handler receives."""

    __slots__ = (
        "_deadline",
        "aws_request_id",
        "function_name",
        "function_version",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "trace_id",
    )

    def __init__(self, function: Function, arn: str, request_id: str, trace_id: str | None) -> None:
        self.aws_request_id = request_id
        self.function_name = function.qualified_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = function.memory
        self.log_group_name = f"/aws/lambda/{function.qualified_name}"
        self.log_stream_name = "local"
        self.trace_id = trace_id
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """The record of one invocation, for logs, metrics and traces."""

    function: str
    request_id: str
    start: float
    duration_ms: float
    outcome: str  # success | error | timeout | throttled
    cold_start: bool = False
    init_ms: float | None = None
    error_type: str | None = None
    trace_id: str | None = None
    source: str = "invoke"
    #: The invocation's span and its parent in the trace.
    span_id: str | None = None
    parent_id: str | None = None
    #: In-flight invocations of the function when this one started (ConcurrentExecutions).
    concurrent: int = 0

    def log_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "time": iso8601(self.start),
            "function": self.function,
            "request_id": self.request_id,
            "outcome": self.outcome,
            "duration_ms": round(self.duration_ms, 3),
            "source": self.source,
        }
        if self.cold_start:
            record["init_ms"] = round(self.init_ms or 0.0, 3)
        if self.error_type:
            record["error_type"] = self.error_type
        if self.trace_id:
            record["trace_id"] = self.trace_id
        return record


@dataclass
class _FunctionState:
    arn: str
    in_flight: int = 0
    idle_environments: int = 0
    environments: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class FunctionEngine:
    """Invokes every function of a cloud; one per cloud (``cloud.shared("functions")``)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("functions")
        self.db.migrate("async_invocations", _MIGRATIONS)
        self.logs = LogSink.for_folder(cloud.state_dir / "logs")
        cloud.add_pump(self.logs)
        self.watchdog = Watchdog()
        self.functions: dict[str, Function] = {}
        self._states: dict[str, _FunctionState] = {}
        self.listeners: list[Callable[[Invocation], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self.observability = attach(cloud)
        self.listeners.append(self.observability.on_invocation)
        self.pump = AsyncInvocationPump(self)
        cloud.add_pump(self.pump)

    def register(self, function: Function) -> None:
        self.functions[function.qualified_name] = function
        self._states.setdefault(function.qualified_name, _FunctionState(self.arn(function)))

    def arn(self, function: Function) -> str:
        return self.cloud.arn("lambda", f"function:{function.qualified_name}")

    def stats(self, function: Function) -> dict[str, int]:
        state = self._states[function.qualified_name]
        return {"in_flight": state.in_flight, "environments": state.environments}

    # -- synchronous ------------------------------------------------------------------
    def invoke(
        self,
        function: Function,
        event: Any,
        *,
        trace_id: str | None = None,
        source: str = "invoke",
        request_id: str | None = None,
    ) -> Any:
        """Run ``function`` on ``event`` now; its result, or FunctionError / TooManyRequests.

        ``request_id`` is given for an asynchronous invocation, which keeps the id ``invoke_async``
        returned (as Lambda does); otherwise a new one is made.
        """
        state = self._states[function.qualified_name]
        request_id = request_id or uuid4_text()
        if trace_id is None:
            outer = current.get()
            root, parent = (outer.trace_id, outer.span_id) if outer is not None else (None, None)
        else:
            root, parent = parse_header(trace_id)
        if root is None:
            root = new_trace_id(self.clock.now())
        with state.lock:
            limit = function.reserved_concurrency
            if limit is not None and state.in_flight >= limit:
                throttled = True
            else:
                throttled = False
                state.in_flight += 1
                concurrent = state.in_flight
                cold = state.idle_environments == 0
                if cold:
                    state.environments += 1
                else:
                    state.idle_environments -= 1
        if throttled:
            self._record(
                Invocation(
                    function.qualified_name,
                    request_id,
                    self.clock.now(),
                    0.0,
                    "throttled",
                    trace_id=root,
                    source=source,
                    parent_id=parent,
                )
            )
            raise TooManyRequests(function.qualified_name)
        span_id = new_span_id()
        started_at = self.clock.now()
        t0 = time.perf_counter()
        init_ms: float | None = None
        keep_environment = True
        token = current.set(Active(root, span_id, request_id, function.qualified_name, self.observability))
        try:
            if cold and function.init is not None:
                try:
                    function.init()
                finally:
                    init_ms = (time.perf_counter() - t0) * 1000
            context = Context(function, state.arn, request_id, f"Root={root};Parent={span_id};Sampled=1")
            result = self._run(function, event, context)
        except FunctionError as error:
            keep_environment = not isinstance(error, FunctionTimeout)
            outcome = "timeout" if isinstance(error, FunctionTimeout) else "error"
            self._finish(state, keep_environment)
            self._record(
                Invocation(
                    function.qualified_name,
                    request_id,
                    started_at,
                    (time.perf_counter() - t0) * 1000,
                    outcome,
                    cold,
                    init_ms,
                    error.error_type,
                    root,
                    source,
                    span_id,
                    parent,
                    concurrent,
                )
            )
            raise
        finally:
            current.reset(token)
        self._finish(state, keep_environment)
        self._record(
            Invocation(
                function.qualified_name,
                request_id,
                started_at,
                (time.perf_counter() - t0) * 1000,
                "success",
                cold,
                init_ms,
                None,
                root,
                source,
                span_id,
                parent,
                concurrent,
            )
        )
        return result

    def _run(self, function: Function, event: Any, context: Context) -> Any:
        if function.is_async:
            return self._run_coroutine(function, event, context)
        token = self.watchdog.arm(function.timeout)
        try:
            try:
                return function.handler(function.typed(event), context)
            finally:
                self.watchdog.disarm(token)
        except HandlerTimedOut:
            raise FunctionTimeout(function.timeout) from None
        except FunctionError:
            raise
        except Exception as error:
            raise _as_function_error(error) from error

    def _run_coroutine(self, function: Function, event: Any, context: Context) -> Any:
        # Coroutine handlers run on the engine's own event-loop thread, so it never matters whether
        # the caller's thread already runs a loop (an ASGI server, a test framework, a browser driver).
        loop = self._event_loop()
        coroutine = asyncio.wait_for(function.handler(function.typed(event), context), function.timeout)
        try:
            current_context = contextvars.copy_context()
            future = asyncio.run_coroutine_threadsafe(_in_context(current_context, coroutine), loop)
            return future.result()
        except TimeoutError:
            raise FunctionTimeout(function.timeout) from None
        except FunctionError:
            raise
        except Exception as error:
            raise _as_function_error(error) from error

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="stratus-async-handlers", daemon=True).start()
                self._loop = loop
            return self._loop

    def _finish(self, state: _FunctionState, keep_environment: bool) -> None:
        with state.lock:
            state.in_flight -= 1
            if keep_environment:
                state.idle_environments += 1
            else:
                state.environments -= 1

    def _record(self, invocation: Invocation) -> None:
        self.logs.write("functions", invocation.log_record())
        for listener in self.listeners:
            listener(invocation)

    # -- asynchronous -----------------------------------------------------------------
    def invoke_async(self, function: Function, event: Any, *, trace_id: str | None = None) -> str:
        """Store an Event invocation durably; the pump delivers it."""
        try:
            payload = json.dumps(event, separators=(",", ":"), default=payload_default)
        except (TypeError, ValueError) as error:
            raise ValidationError(
                f"invocation payload for {function.name!r} is not JSON-serializable: {error}"
            ) from None
        if len(payload.encode()) > MAX_ASYNC_PAYLOAD:
            raise ValidationError(
                f"invocation payload for {function.name!r} is {len(payload.encode())} bytes; "
                f"asynchronous invocations are limited to {MAX_ASYNC_PAYLOAD} bytes"
            )
        request_id = uuid4_text()
        now = self.clock.now()
        if trace_id is None:
            outer = current.get()
            trace_id = outer.header if outer is not None else None
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO async_invocations (request_id, function, payload, enqueued_at, due_at, trace_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, function.qualified_name, payload, now, now, trace_id),
            )
        self.cloud.wake(self.pump)
        return request_id

    def close(self) -> None:
        self.watchdog.stop()
        self.logs.release()
        with self._loop_lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


class AsyncInvocationPump:
    """Delivers stored asynchronous invocations, with Lambda's retries and destinations."""

    name = "async-invocations"
    BATCH = 100

    def __init__(self, engine: FunctionEngine) -> None:
        self.engine = engine

    def pump(self) -> PumpResult:
        engine = self.engine
        now = engine.clock.now()
        rows = engine.db.execute(
            "SELECT request_id, function, payload, attempts, enqueued_at, trace_id FROM async_invocations "
            "WHERE due_at <= ? ORDER BY due_at LIMIT ?",
            (now, self.BATCH),
        )
        for request_id, name, payload, attempts, enqueued_at, trace_id in rows:
            function = engine.functions.get(name)
            if function is None:
                continue  # its app is not bound in this process; leave it for one that is
            self._deliver(function, request_id, json.loads(payload), attempts, enqueued_at, trace_id)
        if rows:
            return PumpResult(True)
        nxt = engine.db.execute("SELECT MIN(due_at) FROM async_invocations")[0][0]
        return PumpResult(False, nxt) if nxt is not None else IDLE

    def _deliver(
        self, function: Function, request_id: str, event: Any, attempts: int, enqueued_at: float, trace_id: str | None
    ) -> None:
        engine = self.engine
        now = engine.clock.now()
        if now - enqueued_at > function.max_event_age:
            self._finish(function, request_id, event, attempts, "EventAgeExceeded", None)
            return
        try:
            with trace_span(
                f"Lambda {function.qualified_name}",
                "consumer",
                {"faas.invocation_id": request_id, "stratus.attempt": attempts + 1},
                parent=trace_id,
                hub=engine.observability,
            ):
                result = engine.invoke(function, event, source="async", request_id=request_id)
        except TooManyRequests:
            self._reschedule(request_id, attempts, now + THROTTLE_DELAY)
            return
        except FunctionError as error:
            attempts += 1
            if attempts > function.retries:
                self._finish(function, request_id, event, attempts, "RetriesExhausted", error)
            else:
                self._reschedule(request_id, attempts, now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1])
            return
        self._finish(function, request_id, event, attempts + 1, "Success", None, result)

    def _reschedule(self, request_id: str, attempts: int, due_at: float) -> None:
        with self.engine.db.transaction() as conn:
            conn.execute(
                "UPDATE async_invocations SET attempts = ?, due_at = ? WHERE request_id = ?",
                (attempts, due_at, request_id),
            )

    def _finish(
        self,
        function: Function,
        request_id: str,
        event: Any,
        invoke_count: int,
        condition: str,
        error: FunctionError | None,
        result: Any = None,
    ) -> None:
        engine = self.engine
        destination = function.on_success if condition == "Success" else function.on_failure
        if destination is not None:
            record = _invocation_record(engine, function, request_id, event, invoke_count, condition, error, result)
            outcome = "Success" if condition == "Success" else "Failure"
            deliver(destination, record, source="lambda", detail_type=f"Lambda Function Invocation Result - {outcome}")
        with engine.db.transaction() as conn:
            conn.execute("DELETE FROM async_invocations WHERE request_id = ?", (request_id,))


def _invocation_record(
    engine: FunctionEngine,
    function: Function,
    request_id: str,
    event: Any,
    invoke_count: int,
    condition: str,
    error: FunctionError | None,
    result: Any,
) -> dict[str, Any]:
    """The document Lambda sends to a destination."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if error is not None:
        response["functionError"] = "Unhandled"
    return {
        "version": "1.0",
        "timestamp": iso8601(engine.clock.now()),
        "requestContext": {
            "requestId": request_id,
            "functionArn": engine.arn(function) + ":$LATEST",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": event,
        "responseContext": response,
        "responsePayload": error.payload() if error is not None else result,
    }


def _as_function_error(error: BaseException) -> FunctionError:
    stack = traceback.format_tb(error.__traceback__)
    return FunctionError(type(error).__name__, str(error), [line.rstrip() for line in stack])


def payload_default(value: Any) -> Any:
    """JSON for what handlers pass around beyond JSON: Decimals (what tables hand back) as numbers, sets
    as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


class LocalFunction(FunctionBackend):
    """The function backend bound by :class:`~stratus.local.cloud.LocalCloud`."""

    def __init__(self, resource: Function, cloud: LocalCloud) -> None:
        self.function = resource
        self.engine = cloud.shared("functions", lambda: FunctionEngine(cloud))
        self.engine.register(resource)

    def invoke(self, event: Any) -> Any:
        return self.engine.invoke(self.function, event)

    def after_bind(self) -> None:
        """Start the event-source mappings of this function's triggers (every resource is bound by now)."""
        from stratus.local.dispatch import mappings

        for pump in mappings.pumps_for(self.function, self.engine, self.engine.cloud):
            self.engine.cloud.add_pump(pump)

    def invoke_async(self, event: Any) -> str:
        return self.engine.invoke_async(self.function, event)
