"""The engine's pump: steps every execution that is due on the cloud's clock (and applies posted calls)."""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from stratus.local.pumps import IDLE, PumpResult

if TYPE_CHECKING:
    from stratus.local.workflow.engine import WorkflowEngine
    from stratus.local.workflow.live import Live

log = logging.getLogger("stratus.workflows")


#: Executions stepped at once when the cloud runs in the background (Task calls that wait overlap).
WORKERS = 16
#: Step due executions on the pool when the cloud runs in the background. (Under this load a Task
#: handler could time out while waiting for a database lock; the timeout used to surface just after
#: BEGIN and leave the shared connection in a transaction: stratus.local.watchdog.uninterrupted.)
CONCURRENT = True


def _step_each(engine: WorkflowEngine, batch: list[Live]) -> None:
    """Step the batch in order, holding no reference to an execution once it is stepped.

    A finished execution is then freed at once instead of living (with its whole history) until the
    batch ends: a batch of thousands would otherwise grow the heap, and the garbage collector's work, with it.
    """
    queue = deque(batch)
    batch.clear()
    while queue:
        engine.step(queue.popleft())


class WorkflowPump:
    """Steps every execution that is due.

    Under ``stratus up`` due executions are stepped on a small worker pool, so executions whose
    Tasks wait (an HTTP call, a slow function) don't hold up the others; each execution has its own
    lock, and its commits are serialized by SQLite. Under ``settle()`` (tests) they are stepped one
    after another, deterministically.
    """

    name = "workflows"

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self._pool: ThreadPoolExecutor | None = None

    def pump(self) -> PumpResult:
        engine = self.engine
        posted = engine.apply_inbox()
        batch = engine.due(engine.clock.now())
        stepped = len(batch)
        started = time.perf_counter()
        if engine.cloud.running and CONCURRENT:
            # Hand each step to the pool and return: an execution is not due again until its own
            # step has rescheduled it, so it is never stepped twice at once.
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="stratus-workflows")
            for live in batch:
                self._pool.submit(self._step, live)
        else:
            _step_each(engine, batch)
        if stepped or posted:
            log.debug("stepped %d executions in %.1f ms", stepped, (time.perf_counter() - started) * 1000)
            return PumpResult(True, engine.next_due())
        nxt = engine.next_due()
        return PumpResult(False, nxt) if nxt is not None else IDLE

    def _step(self, live: Live) -> None:
        try:
            self.engine.step(live)
        except Exception:
            log.exception("stepping a workflow execution failed")
        finally:
            self.engine.cloud.wake(self)  # its next step may be due at once

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
