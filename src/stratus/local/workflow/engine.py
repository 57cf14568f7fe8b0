"""The workflow engine of a local cloud: runs every execution of every state machine.

One engine per cloud (``cloud.shared("workflows")``) keeps the executions that are running
in memory, each as an interpreter :class:`~stratus.workflows.Runtime`, and a timer heap of
when each needs a step; its pump steps those that are due (Wait states, retry backoffs,
callback timeouts resume at their time on the cloud's clock, so ``env.settle()`` skips
ahead). Task tokens name their execution, so any handle routes any token.

STANDARD executions are durable, in ``workflows.db`` (:mod:`.store`). What is guaranteed:

- ``start()`` returns after the execution is committed.
- The outcome of every external effect (a Task's result or error from a function or a
  service) is committed before the next external effect starts, and whenever the execution
  starts waiting (a Wait, a retry interval, a callback) or ends. Transitions with no
  external effect (Pass, Choice, Succeed, Fail, Map/Parallel bookkeeping) are coalesced
  into that commit: after a crash they are computed again from the last commit.
- So after ``kill -9`` every running execution resumes from its last commit: a Task whose
  result was committed is never run again; a Task that was running, or whose result was
  not committed yet, runs again (at least once, as on AWS).
- Exception: inside an inline Map the commit before a Task is made once
  ``MAP_COMMIT_EVERY`` (100) Task outcomes are unsaved, then after twice as many, and so on
  up to ``MAP_COMMIT_MAX`` (1600; see :mod:`.live`): a Map's state holds all its
  iterations, so committing it per iteration would be quadratic. After a crash up to that
  many finished iterations' Tasks run again (still at least once).
- ``send_task_success``/``failure``/``heartbeat``, ``stop`` and ``redrive`` commit before they
  return.

Map iterations and Parallel branches overlap while some wait (a Wait, a retry, a callback),
up to Map's MaxConcurrency, as on AWS (``Runtime.concurrent_children``); work that does not
wait runs one child after another, deterministically.

EXPRESS executions live in memory only (at-least-once, as AWS's asynchronous Express
workflows): nothing is written, which is what makes them fast. The last
:data:`EXPRESS_KEPT` finished ones stay describable.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.clock import VirtualClock
from stratus.ids import uuid4_text
from stratus.local.workflow.directory import Directory
from stratus.local.workflow.live import DurableTasks, Live
from stratus.local.workflow.pump import WorkflowPump
from stratus.local.workflow.store import Row, Store
from stratus.local.workflow.tokens import execution_of, new_token
from stratus.local.workflow.views import (
    PackedEvents,
    describe_output,
    dt,
    from_row,
    pack_events,
    summary_of,
    unpack_events,
)
from stratus.observability import tracing
from stratus.observability.context import current_header, new_span_id, new_trace_id
from stratus.resources.workflow import (
    Execution,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionNotRedrivable,
    InvalidToken,
    StateMachineDoesNotExist,
    SyncResult,
    TaskDoesNotExist,
    TaskTimedOut,
)
from stratus.workflows import ExecutionState, Frame, Runtime, StateMachine, start_execution

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.workflow.adapter import LocalWorkflow

log = logging.getLogger("stratus.workflows")

RUNNING = "RUNNING"
CLOSED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
#: AWS keeps an execution name reserved for 90 days; redrive is possible for 14 days.
NAME_RETENTION = 90 * 86400.0
REDRIVE_WINDOW = 14 * 86400.0
EXPRESS_KEPT = 1000


def _find_frame(frame: Frame, token: str) -> Frame | None:
    if frame.data.get("token") == token and frame.phase in ("running", "callback") and frame.status == RUNNING:
        return frame
    for child in frame.children:
        found = _find_frame(child, token)
        if found is not None:
            return found
    return None


def _token_for(ex: ExecutionState, frame: Frame) -> str:
    """A task token naming its execution (one function for every execution: no closure per execution)."""
    return new_token(ex.execution_arn)


def _new_trace_header(now: float) -> str:
    """A header for an execution started outside any trace: a new trace of its own."""
    return f"Root={new_trace_id(now)};Parent={new_span_id()};Sampled=1"


class WorkflowEngine:
    """Every state machine and execution of one cloud."""

    def __init__(self, cloud: LocalCloud) -> None:
        from stratus.local.workflow.integrations import build_resources

        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("workflows")
        self.store = Store(self.db)
        self.directory = Directory(cloud)
        self.resources = build_resources(self)
        self.machines: dict[str, LocalWorkflow] = {}
        self.live: dict[str, Live] = {}
        #: finished EXPRESS executions, newest last: (state, input text, history packed by
        #: ``pack_events``; the state's own list is emptied), summarized when read
        self.express_done: OrderedDict[str, tuple[ExecutionState, str, PackedEvents]] = OrderedDict()
        self.lock = threading.RLock()
        self._timers: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self.pump = WorkflowPump(self)
        cloud.add_pump(self.pump)

    # -- machines ----------------------------------------------------------------------------

    def register(self, workflow: LocalWorkflow) -> None:
        """Bind a state machine and resume its running executions (after a restart)."""
        with self.lock:
            self.machines[workflow.arn] = workflow
        if workflow.express:
            return
        for arn in self.store.running(workflow.arn):
            if arn in self.live:
                continue
            state, input_text, parent = self.store.load(arn)
            live = self._live(workflow, state, input_text, parent)
            live.persisted = len(state.events)
            self.schedule(live, self.clock.now())

    def machine_of(self, execution_arn: str) -> LocalWorkflow:
        parts = execution_arn.split(":")
        if len(parts) < 8 or parts[2] != "states" or parts[5] not in ("execution", "express"):
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{execution_arn}'")
        machine_arn = ":".join([*parts[:5], "stateMachine", parts[6]])
        workflow = self.machines.get(machine_arn)
        if workflow is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{execution_arn}'")
        return workflow

    def close(self) -> None:
        """Stop the pump's worker pool (the cloud calls this when it closes)."""
        self.pump.close()

    @property
    def observability(self) -> Any:
        from stratus.observability.hub import attach

        return attach(self.cloud)

    def _live(
        self, workflow: LocalWorkflow, state: ExecutionState, input_text: str, parent: dict[str, Any] | None
    ) -> Live:
        runtime = Runtime(workflow.machine, state, self.clock, self.resources)
        runtime.token_factory = _token_for
        runtime.concurrent_children = True  # iterations and branches overlap while some wait, as on AWS
        live = Live(workflow, runtime, input_text, durable=not workflow.express, parent=parent)
        live.trace_header = current_header() or _new_trace_header(self.clock.now())
        if live.durable:
            runtime.tasks = DurableTasks(self, live, self.resources)
        with self.lock:
            self.live[live.arn] = live
        return live

    # -- starting ----------------------------------------------------------------------------

    def start(
        self, workflow: LocalWorkflow, input_text: str, name: str | None, parent: dict[str, Any] | None = None
    ) -> Execution:
        machine: StateMachine = workflow.machine
        state = start_execution(
            machine,
            json.loads(input_text),
            clock=self.clock,
            name=name or uuid4_text(),
            region=self.cloud.region,
            account=self.cloud.account_id,
            machine_type=workflow.type,
        )
        if workflow.express:
            live = self._live(workflow, state, input_text, parent)
            self.schedule(live, self.clock.now())
            self.cloud.wake(self.pump)
            return self._summary(live)
        with self.lock:
            existing = self.live.get(state.execution_arn)
            if existing is not None:
                if existing.input_text == input_text:
                    return self._summary(existing)
                raise ExecutionAlreadyExists(f"Execution Already Exists: '{state.execution_arn}'")
            with self.db.transaction() as conn:
                row = self.store.row(state.execution_arn)
                if row is not None:
                    expired = row.stop is not None and self.clock.now() - row.stop > NAME_RETENTION
                    if not expired:
                        raise ExecutionAlreadyExists(f"Execution Already Exists: '{state.execution_arn}'")
                    self.store.delete(conn, row.arn)
                self.store.insert(conn, state, input_text, parent)
            live = self._live(workflow, state, input_text, parent)
            self.schedule(live, self.clock.now())
        self.cloud.wake(self.pump)
        return self._summary(live)

    def start_sync(self, workflow: LocalWorkflow, input_text: str, name: str | None) -> SyncResult:
        """Run an EXPRESS execution to its end in the caller's thread."""
        state = start_execution(
            workflow.machine,
            json.loads(input_text),
            clock=self.clock,
            name=name or uuid4_text(),
            region=self.cloud.region,
            account=self.cloud.account_id,
            machine_type=workflow.type,
        )
        runtime = Runtime(workflow.machine, state, self.clock, self.resources)
        runtime.concurrent_children = True
        while True:
            wake = runtime.step()
            if wake is None:
                break
            delay = wake - self.clock.now()
            if delay > 0:
                if isinstance(self.clock, VirtualClock):
                    self.clock.set(wake)  # as the synchronous runner does: the caller waits, time passes
                else:
                    self.clock.sleep(delay)
        ex = runtime.execution
        self._keep_express(ex, input_text)
        return SyncResult(
            arn=ex.execution_arn,
            name=ex.name,
            status=ex.status,
            start_date=dt(ex.start_time) or datetime.now(UTC),
            stop_date=dt(ex.stop_time) or datetime.now(UTC),
            input=json.loads(input_text),
            output=ex.output if ex.status == "SUCCEEDED" else None,
            error=ex.error,
            cause=ex.cause,
        )

    # -- stepping ----------------------------------------------------------------------------

    def schedule(self, live: Live, when: float | None) -> None:
        with self.lock:
            live.due = when
            if when is not None and math.isfinite(when):
                heapq.heappush(self._timers, (when, next(self._seq), live.arn))

    def due(self, now: float) -> list[Live]:
        batch = []
        with self.lock:
            timers = self._timers
            while timers and timers[0][0] <= now:
                when, _, arn = heapq.heappop(timers)
                live = self.live.get(arn)
                if live is not None and live.due == when:
                    live.due = None
                    batch.append(live)
        return batch

    def next_due(self) -> float | None:
        with self.lock:
            timers = self._timers
            while timers:
                when, _, arn = timers[0]
                live = self.live.get(arn)
                if live is not None and live.due == when:
                    return when
                heapq.heappop(timers)
        return None

    def step(self, live: Live) -> None:
        with live.lock:
            ex = live.execution
            wake = None
            if ex.status == RUNNING:
                try:
                    with tracing.span(
                        f"Workflow {live.workflow.resource.qualified_name}",
                        "internal",
                        {"workflow.execution": ex.name},
                        parent=live.trace_header,
                        hub=self.observability,
                    ):
                        wake = live.runtime.step()
                except Exception as exc:  # a bug in an integration must not kill the pump: the execution fails
                    log.exception("workflow execution %s failed unexpectedly", ex.execution_arn)
                    self._end(live, "FAILED", "States.Runtime", f"{type(exc).__name__}: {exc}", "ExecutionFailed")
            if live.durable:
                try:
                    self.commit(live)
                except Exception:
                    self.schedule(live, self.clock.now() + 1.0)  # the disk refused: commit again later
                    raise
            if wake is None:
                self._finished(live)
            else:
                self.schedule(live, wake)

    def commit(self, live: Live) -> None:
        """Commit the execution's state and new history events (STANDARD only)."""
        if not live.durable:
            return
        with self.db.transaction() as conn:
            live.persisted = self.store.save(conn, live.execution, live.persisted)
        live.unsaved_effects = 0

    def _finished(self, live: Live) -> None:
        with self.lock:
            self.live.pop(live.arn, None)
        ex = live.execution
        if not live.durable:
            self._keep_express(ex, live.input_text)
        if live.parent is not None:
            self._answer_parent(live)

    def _keep_express(self, ex: ExecutionState, input_text: str) -> None:
        packed = pack_events(ex.events)
        ex.events = []
        with self.lock:
            self.express_done[ex.execution_arn] = (ex, input_text, packed)
            while len(self.express_done) > EXPRESS_KEPT:
                self.express_done.popitem(last=False)

    def _end(self, live: Live, status: str, error: str | None, cause: str | None, event: str) -> None:
        ex = live.execution
        ex.status, ex.error, ex.cause, ex.stop_time = status, error, cause, self.clock.now()
        details: dict[str, Any] = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        live.runtime.emit(ex.root, event, details)

    # -- .sync children ----------------------------------------------------------------------

    def _answer_parent(self, child: Live) -> None:
        assert child.parent is not None
        token, mode = child.parent["token"], child.parent.get("mode", ".sync")
        ex = child.execution
        described = describe_output(self._summary(child), child.input_text, parsed=mode == ".sync:2")
        if ex.status == "SUCCEEDED":
            result: dict[str, Any] = {"output": described}
        else:
            result = {"error": "States.TaskFailed", "cause": json.dumps(described)}
        with contextlib.suppress(TaskTimedOut, TaskDoesNotExist):  # the parent stopped waiting
            self.resolve(token, result)

    # -- tokens ------------------------------------------------------------------------------

    def _waiting(self, token: str) -> tuple[Live, Frame]:
        arn = execution_of(token)
        live = self.live.get(arn)
        if live is None:
            row = self.store.row(arn)
            if row is None and arn not in self.express_done:
                raise TaskDoesNotExist("Task Does Not Exist: the task token's execution does not exist")
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        frame = _find_frame(live.execution.root, token)
        if frame is None or "callback" in frame.data or live.execution.status != RUNNING:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        return live, frame

    def resolve(self, token: str, result: dict[str, Any]) -> None:
        """Record a waiting task's result (``{"output"}`` or ``{"error", "cause"}``) and let it continue."""
        live, _ = self._waiting(token)
        with live.lock:
            _, frame = self._waiting(token)  # again, under the execution's lock
            frame.data["callback"] = result
            self.commit(live)
            self.schedule(live, self.clock.now())
        self.cloud.wake(self.pump)

    def heartbeat(self, token: str) -> None:
        live, _ = self._waiting(token)
        with live.lock:
            _, frame = self._waiting(token)
            frame.data["beat"] = self.clock.now()
            self.commit(live)
            self.schedule(live, self.clock.now())
        self.cloud.wake(self.pump)

    def apply_inbox(self) -> int:
        """Apply task-token calls posted by other processes (see :mod:`.inbox`); how many were applied."""
        applied = 0
        for seq, token, kind, body in self.store.inbox():
            try:
                arn = execution_of(token)
                if self.machines.get(":".join([*arn.split(":")[:5], "stateMachine", arn.split(":")[6]])) is None:
                    continue  # not bound in this process: leave it for one that is
                if kind == "heartbeat":
                    self.heartbeat(token)
                else:
                    self.resolve(token, body)
                applied += 1
            except (TaskTimedOut, TaskDoesNotExist, InvalidToken, IndexError):
                pass  # the task stopped waiting meanwhile: the call is dropped, as AWS would refuse it
            self.store.take(seq)
        return applied

    # -- control -----------------------------------------------------------------------------

    def stop(self, arn: str, error: str | None, cause: str | None) -> Execution:
        live = self.live.get(arn)
        if live is None:
            return self.describe(arn)  # closed: stopping changes nothing
        with live.lock:
            if live.execution.status == RUNNING:
                self._end(live, "ABORTED", error, cause, "ExecutionAborted")
                self.commit(live)
                self._finished(live)
        # As on AWS, stopping a parent stops the executions its .sync Tasks are waiting for.
        for child in self.running():
            if child.parent is not None and execution_of(child.parent["token"]) == arn:
                self.stop(child.arn, error, cause)
        return self.describe(arn)

    def redrive(self, arn: str) -> Execution:
        workflow = self.machine_of(arn)
        if workflow.express:
            raise ExecutionNotRedrivable(f"Execution is not redrivable: '{arn}' is an EXPRESS execution")
        with self.lock:
            if arn in self.live:
                raise ExecutionNotRedrivable(f"Execution is RUNNING and cannot be redriven: '{arn}'")
            row = self.store.row(arn)
            if row is None:
                raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
            if row.status not in REDRIVABLE:
                raise ExecutionNotRedrivable(f"Execution is {row.status} and cannot be redriven: '{arn}'")
            if row.stop is not None and self.clock.now() - row.stop > REDRIVE_WINDOW:
                raise ExecutionNotRedrivable(f"Execution stopped more than 14 days ago: '{arn}'")
            state, input_text, parent = self.store.load(arn)
            now = self.clock.now()
            state.status, state.error, state.cause, state.output, state.stop_time = RUNNING, None, None, None, None
            state.redrive_count += 1
            state.redrive_time = now
            _rewind(state.root)
            live = self._live(workflow, state, input_text, parent)
            live.persisted = len(state.events)
            live.runtime.emit(state.root, "ExecutionRedriven", {"redriveCount": state.redrive_count})
            self.commit(live)
            self.schedule(live, now)
        self.cloud.wake(self.pump)
        return self._summary(live)

    # -- reading -----------------------------------------------------------------------------

    def _summary_of(self, ex: ExecutionState, input_text: str) -> Execution:
        return summary_of(ex, input_text)

    def _summary(self, live: Live) -> Execution:
        return self._summary_of(live.execution, live.input_text)

    @staticmethod
    def _from_row(row: Row) -> Execution:
        return from_row(row)

    def describe(self, arn: str) -> Execution:
        live = self.live.get(arn)
        if live is not None:
            with live.lock:
                return self._summary(live)
        kept = self.express_done.get(arn)
        if kept is not None:
            return self._summary_of(kept[0], kept[1])
        row = self.store.row(arn)
        if row is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return self._from_row(row)

    def history(self, arn: str) -> list[dict[str, Any]]:
        live = self.live.get(arn)
        if live is not None:
            with live.lock:
                events = [dict(e) for e in live.execution.events]
        elif arn in self.express_done:
            events = unpack_events(self.express_done[arn][2])
        elif self.store.row(arn) is not None:
            events = self.store.events(arn)
        else:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        for event in events:
            event["timestamp"] = dt(event["timestamp"])
        return events

    def executions(self, workflow: LocalWorkflow, status: str | None) -> list[Execution]:
        if workflow.express:
            with self.lock:
                running = [self._summary(v) for v in self.live.values() if v.workflow is workflow]
                done = [
                    self._summary_of(ex, text)
                    for ex, text, _ in self.express_done.values()
                    if ex.state_machine_arn == workflow.arn
                ]
            found = sorted([*running, *done], key=lambda e: e.start_date, reverse=True)
            return [e for e in found if status is None or e.status == status]
        return [self._from_row(r) for r in self.store.rows(workflow.arn, status)]

    def running(self) -> Iterator[Live]:
        with self.lock:
            return iter(list(self.live.values()))

    def find_machine(self, arn: Any) -> LocalWorkflow:
        workflow = self.machines.get(arn) if isinstance(arn, str) else None
        if workflow is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return workflow


def _rewind(frame: Frame) -> None:
    """Set the frames on the failed path back to re-enter the state they stopped in (RedriveExecution)."""
    frame.status, frame.error, frame.cause, frame.output = RUNNING, None, None, None
    frame.phase, frame.resume_at = "enter", None
    frame.children, frame.data = [], {}
