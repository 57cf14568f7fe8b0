"""A running execution held in memory, and the Task invoker that commits it before effects.

:class:`DurableTasks` is where the engine's durability rule is enforced (see
:mod:`stratus.local.workflow.engine`): the outcome of every external effect is committed
before the next one starts; pure transitions are coalesced into that commit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from stratus.workflows import ExecutionState, Resources, Runtime, TaskContext

if TYPE_CHECKING:
    from stratus.local.workflow.adapter import LocalWorkflow

#: inside an inline Map the execution is committed once this many Task effects are unsaved; the
#: batch doubles after each such commit, up to MAP_COMMIT_MAX, so a large Map commits O(log n) times
MAP_COMMIT_EVERY, MAP_COMMIT_MAX = 100, 1600


@dataclass(eq=False)
class Live:
    """A running execution held in memory."""

    workflow: LocalWorkflow
    runtime: Runtime
    input_text: str
    durable: bool
    persisted: int = 0  # history events already committed
    unsaved_effects: int = 0  # Task effects whose outcome is not committed yet
    map_batch: int = MAP_COMMIT_EVERY  # inside a Map: commit before the next effect once this many are unsaved
    due: float | None = None
    parent: dict[str, Any] | None = None  # the .sync Task waiting for this execution: {"token", "mode"}
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: The X-Ray header of whoever started the execution: its steps (and their Tasks) join that trace.
    trace_header: str | None = None

    @property
    def execution(self) -> ExecutionState:
        return self.runtime.execution

    @property
    def arn(self) -> str:
        return self.runtime.execution.execution_arn


class DurableTasks:
    """A Task invoker that commits the execution before an external effect when an earlier one is unsaved.

    What must survive a crash is what the outside world has seen: the outcome of every
    effect (a Task's result or error) is committed before the next effect starts. Pure
    transitions since the last commit need not be: after a crash they are computed again
    from the committed state, and nothing outside saw them. Inside an inline Map the
    commits are batched (see :mod:`stratus.local.workflow.engine`).
    """

    __slots__ = ("engine", "inner", "live")

    def __init__(self, engine: Committer, live: Live, inner: Resources) -> None:
        self.engine, self.live, self.inner = engine, live, inner

    def invoke(self, resource: str, payload: Any, context: TaskContext) -> Any:
        live = self.live
        if live.unsaved_effects:
            if "Map" not in context.context_object:
                self.engine.commit(live)
                live.map_batch = MAP_COMMIT_EVERY
            elif live.unsaved_effects >= live.map_batch:
                self.engine.commit(live)
                live.map_batch = min(live.map_batch * 2, MAP_COMMIT_MAX)
        try:
            return self.inner.invoke(resource, payload, context)
        finally:
            live.unsaved_effects += 1


class Committer(Protocol):
    def commit(self, live: Live) -> None: ...
