"""Task-token calls from another process (``stratus workflow send-task-success`` ...).

The process running the workflows keeps running executions in memory, so another process
must not edit their stored state. It posts the call to the ``inbox`` table of the state
folder's ``workflows.db`` instead, after checking the token as SendTaskSuccess does
(InvalidToken, TaskDoesNotExist, TaskTimedOut); the engine's pump applies posted calls on
its next round (or on the next start, when nothing is running now).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratus.local.storage import Database
from stratus.local.workflow.store import Store
from stratus.local.workflow.tokens import execution_of
from stratus.resources.workflow import TaskDoesNotExist, TaskTimedOut

KINDS = ("success", "failure", "heartbeat")


def open_store(state_dir: Path) -> Store:
    return Store(Database(Path(state_dir) / "workflows.db"))


def post(state_dir: Path, token: str, kind: str, body: Any) -> str:
    """Check ``token`` against the stored executions and post the call; the execution ARN."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    store = open_store(state_dir)
    try:
        arn = execution_of(token)
        row = store.row(arn)
        if row is None:
            raise TaskDoesNotExist("Task Does Not Exist: the task token's execution does not exist")
        if row.status != "RUNNING" or not store.waiting_for(arn, token):
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        store.post(token, kind, body)
        return arn
    finally:
        store.db.close()
