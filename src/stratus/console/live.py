"""Live numbers for the map and the lists: invocations and errors per function over the last minute.

A :class:`Pulse` listens to the function runtime (one per cloud, ``cloud.shared("console-pulse")``):
each invocation appends ``(time, failed)`` to a small per-function deque, so the map's counters
come from memory, not from SQLite, and cost the invoke path one append. Queue depths are read
from the queues when an update is sent.

Why by hand: a sliding one-minute window over a deque is shorter than any dependency.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

WINDOW = 60.0
#: At most this many invocations are remembered per function (a busy function's rate tops out here).
MAX_REMEMBERED = 10_000


class Pulse:
    """Recent invocations per function (qualified name), from the runtime's listener."""

    def __init__(self, cloud: LocalCloud) -> None:
        from stratus.local.functions import FunctionEngine

        self.cloud = cloud
        self._recent: dict[str, deque[tuple[float, bool, bool]]] = {}
        self._lock = threading.Lock()
        engine: FunctionEngine = cloud.shared("functions", lambda: FunctionEngine(cloud))
        self.engine = engine
        if self.on_invocation not in engine.listeners:
            engine.listeners.append(self.on_invocation)

    def on_invocation(self, invocation: Any) -> None:
        recent = self._recent.get(invocation.function)
        if recent is None:
            with self._lock:
                recent = self._recent.setdefault(invocation.function, deque(maxlen=MAX_REMEMBERED))
        recent.append((time.monotonic(), invocation.outcome in ("error", "timeout"), invocation.outcome == "throttled"))

    def counts(self, qualified_name: str) -> dict[str, int]:
        """Invocations, errors and throttles in the last minute."""
        recent = self._recent.get(qualified_name)
        if not recent:
            return {"invocations": 0, "errors": 0, "throttles": 0}
        cutoff = time.monotonic() - WINDOW
        while recent and recent[0][0] < cutoff:
            try:
                recent.popleft()
            except IndexError:
                break
        snapshot = list(recent)
        return {
            "invocations": sum(1 for _, _, throttled in snapshot if not throttled),
            "errors": sum(1 for _, failed, _ in snapshot if failed),
            "throttles": sum(1 for _, _, throttled in snapshot if throttled),
        }

    def close(self) -> None:
        if self.on_invocation in self.engine.listeners:
            self.engine.listeners.remove(self.on_invocation)


def pulse_of(cloud: LocalCloud) -> Pulse:
    return cloud.shared("console-pulse", lambda: Pulse(cloud))


def snapshot(cloud: LocalCloud) -> dict[str, Any]:
    """Counters of every node that has one: ``{"<system>/<kind>:<name>": {...}}``."""
    pulse = pulse_of(cloud)
    out: dict[str, Any] = {}
    for app in cloud.apps:
        for function in app.functions():
            if function.is_bound:
                counts = pulse.counts(function.qualified_name)
                counts["in_flight"] = (
                    pulse.engine.stats(function)["in_flight"]
                    if function.qualified_name in (pulse.engine.functions)
                    else 0
                )
                out[f"{app.name}/function:{function.name}"] = counts
        for queue in app.resources_of("queue"):
            if queue.is_bound:
                try:
                    attributes = queue.attributes()  # type: ignore[attr-defined]
                except Exception:
                    continue
                out[f"{app.name}/queue:{queue.name}"] = {
                    "depth": attributes.get("ApproximateNumberOfMessages", 0),
                    "in_flight": attributes.get("ApproximateNumberOfMessagesNotVisible", 0),
                    "oldest_age": attributes.get("ApproximateAgeOfOldestMessage", 0),
                }
    return out
