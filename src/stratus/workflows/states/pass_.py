"""Pass: passes its input (or its ``Result``) to its output, shaped by the data-flow fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Outcome, State

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime


class PassState(State):
    type = "Pass"
    JSONPATH_FIELDS = JSONPATH_IO | {"Parameters", "Result", "ResultPath", "Assign"}
    JSONATA_FIELDS = JSONATA_IO | {"Assign"}

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        if self.jsonata:
            return self.finish(rt, frame, frame.input, has_result=False)
        effective = self.effective_input(rt, frame)
        result = self.raw.get("Result", effective)
        return self.finish(rt, frame, result)
