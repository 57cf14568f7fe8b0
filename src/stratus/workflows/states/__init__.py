"""One module per state type; ``STATE_TYPES`` maps an ASL ``Type`` to its class."""

from __future__ import annotations

from stratus.workflows.states.base import State
from stratus.workflows.states.choice import ChoiceState
from stratus.workflows.states.fail import FailState
from stratus.workflows.states.map import MapState
from stratus.workflows.states.parallel import ParallelState
from stratus.workflows.states.pass_ import PassState
from stratus.workflows.states.succeed import SucceedState
from stratus.workflows.states.task import TaskState
from stratus.workflows.states.wait import WaitState

STATE_TYPES: dict[str, type[State]] = {
    "Pass": PassState,
    "Task": TaskState,
    "Choice": ChoiceState,
    "Wait": WaitState,
    "Succeed": SucceedState,
    "Fail": FailState,
    "Parallel": ParallelState,
    "Map": MapState,
}

__all__ = ["STATE_TYPES", "State"]
