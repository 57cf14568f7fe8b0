"""Parallel: runs every branch on the same input; the output is the list of branch outputs.

The first failing branch fails the state with that branch's error (the others are not
run further); Retry re-runs every branch, Catch catches the branch's error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Failed, Outcome, Problems, Spawn, State

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime


class ParallelState(State):
    type = "Parallel"
    _SHARED = {"Branches", "Retry", "Catch", "Assign"}
    JSONPATH_FIELDS = JSONPATH_IO | _SHARED | {"Parameters", "ResultPath", "ResultSelector"}
    JSONATA_FIELDS = JSONATA_IO | _SHARED | {"Arguments"}

    def compile(self, problems: Problems) -> None:
        branches = self.raw.get("Branches")
        self.branch_defs: list[Any] = []
        self.programs: list[str] = []
        if not isinstance(branches, list) or not branches:
            problems.add(self.where, "a Parallel state needs a non-empty 'Branches' array")
            return
        self.branch_defs = branches

    def sub_programs(self) -> list[tuple[str, Any, str]]:
        return [(f"#{i}", b, f"{self.where}/Branches[{i}]") for i, b in enumerate(self.branch_defs)]

    def attach_program(self, suffix: str, key: str) -> None:
        self.programs.append(key)

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        frame.data["payload"] = self.effective_input(rt, frame)
        return self.act(rt, frame)

    def act(self, rt: Runtime, frame: Frame) -> Outcome:
        rt.emit(frame, "ParallelStateStarted")
        payload = frame.data["payload"]
        return Spawn([rt.child_frame(key, payload, frame) for key in self.programs])

    def child_finished(self, rt: Runtime, frame: Frame, child: Frame) -> Outcome | None:
        frame.last_event = max(frame.last_event, child.last_event)
        if child.status == "FAILED":
            rt.emit(frame, "ParallelStateFailed", _details(child.error, child.cause))
            return Failed(child.error, child.cause)
        return None

    def children_done(self, rt: Runtime, frame: Frame) -> Outcome:
        rt.emit(frame, "ParallelStateSucceeded")
        return self.finish(rt, frame, [c.output for c in frame.children])


def _details(error: str | None, cause: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if error is not None:
        out["error"] = error
    if cause is not None:
        out["cause"] = cause
    return out
