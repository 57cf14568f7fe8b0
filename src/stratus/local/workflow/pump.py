"""The engine's pump: steps every execution that is due on the cloud's clock (and applies posted calls)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from stratus.local.pumps import IDLE, PumpResult

if TYPE_CHECKING:
    from stratus.local.workflow.engine import WorkflowEngine

log = logging.getLogger("stratus.workflows")


class WorkflowPump:
    """Steps every execution that is due."""

    name = "workflows"

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine

    def pump(self) -> PumpResult:
        engine = self.engine
        posted = engine.apply_inbox()
        batch = engine.due(engine.clock.now())
        started = time.perf_counter()
        for live in batch:
            engine.step(live)
        if batch or posted:
            log.debug("stepped %d executions in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)
            return PumpResult(True, engine.next_due())
        nxt = engine.next_due()
        return PumpResult(False, nxt) if nxt is not None else IDLE
