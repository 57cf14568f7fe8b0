"""Succeed: ends the execution (or branch, or iteration) successfully."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Outcome, State

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime


class SucceedState(State):
    type = "Succeed"
    terminal = True
    JSONPATH_FIELDS = set(JSONPATH_IO)
    JSONATA_FIELDS = set(JSONATA_IO)

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        if self.jsonata:
            return self.finish(rt, frame, frame.input, has_result=False)
        value = self.apply_path(self.input_path, self.input_null, frame.input, rt, frame)
        return self.finish(rt, frame, value, has_result=False)
