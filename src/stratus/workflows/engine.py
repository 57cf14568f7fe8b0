"""The interpreter: explicit, JSON-serializable execution state advanced one transition at a time.

An execution is an :class:`ExecutionState`: the execution's identity and input, its
history (AWS's GetExecutionHistory events), and a tree of :class:`Frame` objects, one
per running state list (the machine, a Parallel branch, a Map iteration). A frame says
which state it is in and in which *phase* (``enter``, ``wait`` until a time, ``retry``
at a time, ``children`` running). Nothing lives on the Python stack between steps, so a
durable executor can persist ``ExecutionState.to_dict()`` after each step and resume
with :meth:`ExecutionState.from_dict` after a crash.

:meth:`Runtime.step` does all the work that is due now and returns the clock time at
which the execution next needs attention (a Wait state or a retry interval), or
``None`` once it has finished. Parallel branches and Map iterations run one after
another, in order, which keeps runs deterministic while keeping AWS's results and
failure rules; with ``Runtime.concurrent_children`` a child that waits lets the next
ones start (up to Map's MaxConcurrency), still deterministically on the clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.clock import Clock
from stratus.ids import uuid4_text
from stratus.workflows.errors import (
    INTRINSIC_FAILURE,
    QUERY_EVALUATION,
    RESULT_PATH_MATCH,
    RUNTIME,
    TIMEOUT,
    StatesError,
    TaskFailed,
)
from stratus.workflows.jsonpath import PathNotFound
from stratus.workflows.retry import error_matches
from stratus.workflows.states.base import Done, Failed, Outcome, Sleep, Spawn, State
from stratus.workflows.templates import Env, compact

if TYPE_CHECKING:
    from stratus.workflows.definition import StateMachine
    from stratus.workflows.tasks import TaskInvoker

RUNNING, SUCCEEDED, FAILED, TIMED_OUT = "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT"

_LOCATED = (RUNTIME, QUERY_EVALUATION, INTRINSIC_FAILURE)


#: the last few context-object times formatted: states entered at the same clock reading (always, on a
#: virtual clock) share one text
_TIMESTAMPS: dict[float, str] = {}
_TIMESTAMPS_MAX = 64


def timestamp_text(epoch: float) -> str:
    """AWS's context-object time: ``2024-01-02T03:04:05.678Z``."""
    text = _TIMESTAMPS.get(epoch)
    if text is None:
        moment = datetime.fromtimestamp(epoch, tz=UTC)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if len(_TIMESTAMPS) >= _TIMESTAMPS_MAX:
            _TIMESTAMPS.clear()
        _TIMESTAMPS[epoch] = text
    return text


def to_text(value: Any) -> str:
    return compact(value)


#: an event type's details key, worked out once per type
_DETAILS_KEYS: dict[str, str] = {}


def _details_key(type_: str) -> str:
    """The key of an event's details: ``stateEnteredEventDetails`` for every ``*StateEntered``, and so on."""
    key = _DETAILS_KEYS.get(type_)
    if key is None:
        if type_.endswith("StateEntered"):
            key = "stateEnteredEventDetails"
        elif type_.endswith("StateExited"):
            key = "stateExitedEventDetails"
        else:
            key = type_[0].lower() + type_[1:] + "EventDetails"
        _DETAILS_KEYS[type_] = key
    return key


@dataclass(eq=False)
class Frame:
    """One running list of states: the machine itself, a Parallel branch or a Map iteration."""

    program: str
    state: str
    input: Any
    variables: dict[str, Any] = field(default_factory=dict)
    phase: str = "enter"
    resume_at: float | None = None
    entered_event: int = 0
    entered_time: float = 0.0
    retry_count: int = 0
    retries: list[int] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    children: list[Frame] = field(default_factory=list)
    map_item: dict[str, Any] | None = None
    status: str = RUNNING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    last_event: int = 0
    started: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        values = dict(data)
        values["children"] = [cls.from_dict(c) for c in data.get("children", [])]
        return cls(**values)


@dataclass
class ExecutionState:
    """Everything about one execution, as plain JSON-able data."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    machine_type: str
    input: Any
    start_time: float
    root: Frame
    status: str = RUNNING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_time: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    #: RedriveExecution: how many times the execution was redriven, and when it last was
    #: (the machine's TimeoutSeconds counts from then)
    redrive_count: int = 0
    redrive_time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecutionState:
        values = dict(data)
        values["root"] = Frame.from_dict(data["root"])
        values["events"] = list(data.get("events", []))
        return cls(**values)


def start_execution(
    machine: StateMachine,
    input: Any,
    *,
    clock: Clock,
    name: str | None = None,
    region: str = "us-east-1",
    account: str = "000000000000",
    role_arn: str | None = None,
    machine_type: str = "STANDARD",
) -> ExecutionState:
    """A new execution of ``machine`` (nothing has run yet; the first :meth:`Runtime.step` starts it)."""
    name = name or uuid4_text()
    machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{machine.name}"
    if machine_type == "EXPRESS":
        arn = f"arn:aws:states:{region}:{account}:express:{machine.name}:{name}:{uuid4_text()}"
    else:
        arn = f"arn:aws:states:{region}:{account}:execution:{machine.name}:{name}"
    execution = ExecutionState(
        execution_arn=arn,
        machine_type=machine_type,
        name=name,
        state_machine_arn=machine_arn,
        state_machine_name=machine.name,
        role_arn=role_arn or f"arn:aws:iam::{account}:role/stratus-workflow",
        input=input,
        start_time=clock.now(),
        root=Frame("", machine.programs[""].start_at, input),
    )
    return execution


class Runtime:
    """Advances one :class:`ExecutionState` of one machine, reading ``clock`` and calling ``tasks``."""

    def __init__(
        self,
        machine: StateMachine,
        execution: ExecutionState,
        clock: Clock,
        tasks: TaskInvoker,
        *,
        on_transition: Callable[[ExecutionState], None] | None = None,
    ) -> None:
        self.machine = machine
        self.execution = execution
        self.clock = clock
        self.tasks = tasks
        #: called after every recorded transition (state entered, finished, waiting, failed...):
        #: where a durable executor commits ``execution.to_dict()``
        self.on_transition = on_transition
        #: let Map iterations and Parallel branches overlap while some wait (as on AWS); off by default,
        #: which runs each child to its end before the next starts
        self.concurrent_children = False
        #: makes the task token of a callback or ``.sync`` Task attempt; a durable executor sets its own
        self.token_factory: Callable[[ExecutionState, Frame], str] | None = None
        self._start_text: str | None = None

    def new_token(self, frame: Frame) -> str:
        """A fresh task token for one attempt of a callback (``.waitForTaskToken``) or ``.sync`` Task."""
        if self.token_factory is not None:
            return self.token_factory(self.execution, frame)
        return uuid.uuid4().hex

    # -- history ---------------------------------------------------------------------------------

    def emit(self, frame: Frame | None, type_: str, details: dict[str, Any] | None = None) -> int:
        events = self.execution.events
        event_id = len(events) + 1
        if frame is None:
            previous = event_id - 1
        else:
            previous = frame.last_event or event_id - 1
            frame.last_event = event_id
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": previous,
            "timestamp": self.clock.now(),
            "type": type_,
        }
        if details is not None:
            event[_details_key(type_)] = details
        events.append(event)
        return event_id

    # -- the context object ----------------------------------------------------------------------

    def context(self, frame: Frame) -> dict[str, Any]:
        ex = self.execution
        if self._start_text is None:
            self._start_text = timestamp_text(ex.start_time)
        ctx: dict[str, Any] = {
            "Execution": {
                "Id": ex.execution_arn,
                "Input": ex.input,
                "StartTime": self._start_text,
                "Name": ex.name,
                "RoleArn": ex.role_arn,
            },
            "State": {"EnteredTime": timestamp_text(frame.entered_time), "Name": frame.state},
            "StateMachine": {"Id": ex.state_machine_arn, "Name": ex.state_machine_name},
        }
        if ex.machine_type != "EXPRESS":
            ctx["Execution"]["RedriveCount"] = ex.redrive_count
        if self.state_of(frame).type == "Task":
            ctx["State"]["RetryCount"] = frame.retry_count
            token = frame.data.get("token")
            if token is not None:
                ctx["Task"] = {"Token": token}
        if frame.map_item is not None:
            ctx["Map"] = {"Item": frame.map_item}
        return ctx

    # -- stepping --------------------------------------------------------------------------------

    def step(self) -> float | None:
        """Do everything due now; the clock time to call again, or None when the execution is over."""
        ex = self.execution
        if ex.status != RUNNING:
            return None
        if not ex.events:
            self.emit(
                ex.root,
                "ExecutionStarted",
                {"input": to_text(ex.input), "inputDetails": {"truncated": False}, "roleArn": ex.role_arn},
            )
        deadline = None
        if self.machine.timeout_seconds is not None:
            deadline = (ex.redrive_time or ex.start_time) + self.machine.timeout_seconds
            if self.clock.now() >= deadline:
                self._time_out()
                return None
        wake = self.advance(ex.root)
        if wake is not None:
            if deadline is not None and self.clock.now() >= deadline:
                self._time_out()
                return None
            return min(wake, deadline) if deadline is not None else wake
        ex.stop_time = self.clock.now()
        if ex.root.status == SUCCEEDED:
            ex.status, ex.output = SUCCEEDED, ex.root.output
            self.emit(
                ex.root,
                "ExecutionSucceeded",
                {"output": to_text(ex.output), "outputDetails": {"truncated": False}},
            )
        else:
            ex.status, ex.error, ex.cause = FAILED, ex.root.error, ex.root.cause
            details = {}
            if ex.error is not None:
                details["error"] = ex.error
            if ex.cause is not None:
                details["cause"] = ex.cause
            self.emit(ex.root, "ExecutionFailed", details)
        self._transition()
        return None

    def _time_out(self) -> None:
        """The machine's TimeoutSeconds passed: the execution ends TIMED_OUT."""
        ex = self.execution
        ex.stop_time = self.clock.now()
        ex.status, ex.error, ex.cause = TIMED_OUT, TIMEOUT, None
        self.emit(ex.root, "ExecutionTimedOut", {"error": TIMEOUT})
        self._transition()

    def state_of(self, frame: Frame) -> State:
        return self.machine.programs[frame.program].states[frame.state]

    def advance(self, frame: Frame) -> float | None:
        """Run ``frame`` until it finishes (None) or must wait until a clock time (returned)."""
        while frame.status == RUNNING:
            state = self.state_of(frame)
            try:
                if frame.phase == "enter":
                    self._enter(frame, state)
                    self._transition()
                    outcome: Outcome = state.enter(self, frame)
                elif frame.phase == "running":
                    # Persisted after the state was entered but before its outcome was recorded
                    # (a crash mid-state): run the state again, at least once, as AWS does.
                    outcome = state.enter(self, frame)
                elif frame.phase in ("wait", "retry"):
                    assert frame.resume_at is not None
                    if self.clock.now() < frame.resume_at:
                        return frame.resume_at
                    phase, frame.resume_at = frame.phase, None
                    frame.phase = "running"
                    outcome = state.resume(self, frame) if phase == "wait" else state.act(self, frame)
                elif frame.phase == "callback":
                    # A callback or .sync Task waiting for its token: the result, a timeout, or a wake-up time.
                    polled = state.poll(self, frame)
                    if isinstance(polled, float):
                        return polled
                    outcome = polled
                elif frame.phase == "children":
                    # Children run in order. With ``concurrent_children``, one that must wait (a Wait, a
                    # retry, a callback) lets the next ones start, up to the state's concurrency (Map's
                    # MaxConcurrency); otherwise each waits for the one before it.
                    finished: Outcome | None = None
                    earliest: float | None = None
                    limit = state.concurrency(frame) if self.concurrent_children else 1
                    active = 0
                    for child in frame.children:
                        if child.status != RUNNING:
                            continue
                        if not child.started:
                            if limit is not None and active >= limit:
                                break
                            child.started = True
                            state.child_started(self, frame, child)
                        wake = self.advance(child)
                        if wake is not None:
                            active += 1
                            earliest = wake if earliest is None else min(earliest, wake)
                            continue
                        finished = state.child_finished(self, frame, child)
                        if finished is not None:
                            break
                    if finished is None and earliest is not None:
                        return earliest
                    outcome = finished if finished is not None else state.children_done(self, frame)
                else:
                    raise AssertionError(f"frame in unknown phase {frame.phase!r}")
            except StatesError as exc:
                outcome = self._failure(frame, state, exc)
            self._apply(frame, state, outcome)
            self._transition()
        return None

    def _transition(self) -> None:
        if self.on_transition is not None:
            self.on_transition(self.execution)

    def _failure(self, frame: Frame, state: State, exc: StatesError) -> Failed:
        cause = exc.cause
        if exc.error in _LOCATED and not isinstance(exc, TaskFailed):
            cause = (
                f"An error occurred while executing the state '{state.name}' (entered at the event id "
                f"#{frame.entered_event}). {cause}"
            )
        return Failed(exc.error, cause)

    def _enter(self, frame: Frame, state: State) -> None:
        frame.entered_time = self.clock.now()
        frame.retry_count = 0
        frame.retries = [0] * len(state.retriers)
        frame.data = {}
        frame.children = []
        frame.entered_event = self.emit(
            frame,
            f"{state.type}StateEntered",
            {"name": state.name, "input": to_text(frame.input), "inputDetails": {"truncated": False}},
        )
        frame.phase = "running"

    def _apply(self, frame: Frame, state: State, outcome: Outcome) -> None:
        if isinstance(outcome, Done):
            self._complete(frame, state, outcome)
        elif isinstance(outcome, Sleep):
            frame.phase, frame.resume_at = outcome.phase, outcome.until
        elif isinstance(outcome, Spawn):
            frame.children = outcome.children
            frame.phase = "children"
        else:
            self._fail(frame, state, outcome)

    def _complete(self, frame: Frame, state: State, done: Done) -> None:
        if done.assigned:
            frame.variables = {**frame.variables, **done.assigned}
        if state.type not in ("Fail",):
            details: dict[str, Any] = {
                "name": state.name,
                "output": to_text(done.output),
                "outputDetails": {"truncated": False},
            }
            if done.assigned:
                details["assignedVariables"] = {k: to_text(v) for k, v in done.assigned.items()}
                details["assignedVariablesDetails"] = {"truncated": False}
            self.emit(frame, f"{state.type}StateExited", details)
        target = done.next or state.next
        frame.children = []
        frame.data = {}
        if target is None:
            frame.status, frame.output = SUCCEEDED, done.output
            return
        frame.state, frame.input, frame.phase = target, done.output, "enter"

    def _fail(self, frame: Frame, state: State, failed: Failed) -> None:
        frame.children = []
        if failed.error != RUNTIME:
            for i, retrier in enumerate(state.retriers):
                if not error_matches(retrier.error_equals, failed.error):
                    continue
                if frame.retries[i] < retrier.max_attempts:
                    delay = retrier.delay(frame.retries[i])
                    frame.retries[i] += 1
                    frame.retry_count += 1
                    frame.phase, frame.resume_at = "retry", self.clock.now() + delay
                    return
                break
            for catcher in state.catchers:
                if not error_matches(catcher.error_equals, failed.error):
                    continue
                try:
                    done = self._caught(frame, state, catcher, failed)
                except StatesError as exc:
                    failed = self._failure(frame, state, exc)
                    break
                self._complete(frame, state, done)
                return
        frame.status, frame.error, frame.cause = FAILED, failed.error, failed.cause

    def _caught(self, frame: Frame, state: State, catcher: Any, failed: Failed) -> Done:
        error_output: dict[str, Any] = {}
        if failed.error is not None:
            error_output["Error"] = failed.error
        if failed.cause is not None:
            error_output["Cause"] = failed.cause
        ctx = self.context(frame)
        if state.jsonata:
            env = Env(frame.input, ctx, frame.variables, {"errorOutput": error_output}, now=self.clock.now())
            output = catcher.output.evaluate(env) if catcher.output is not None else error_output
            assigned = catcher.assign.evaluate(env) if catcher.assign is not None else None
        else:
            assigned = None
            if catcher.assign is not None:
                assigned = catcher.assign.evaluate(Env(error_output, ctx, frame.variables))
            if catcher.result_null:
                output = frame.input
            elif catcher.result_path is None:
                output = error_output
            else:
                try:
                    output = catcher.result_path.set(frame.input, error_output)
                except PathNotFound as exc:
                    raise StatesError(RESULT_PATH_MATCH, exc.message) from exc
        return Done(output, next=catcher.next, assigned=assigned)

    # -- helpers for states ------------------------------------------------------------------------

    def child_frame(
        self,
        program: str,
        input: Any,
        parent: Frame,
        *,
        map_item: dict[str, Any] | None = None,
    ) -> Frame:
        start = self.machine.programs[program].start_at
        child = Frame(program, start, input, variables=dict(parent.variables), map_item=map_item)
        child.last_event = parent.last_event
        return child
