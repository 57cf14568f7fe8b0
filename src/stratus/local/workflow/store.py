"""Where STANDARD executions live: one row per execution and its history, in ``workflows.db``.

A row holds the execution's summary (status, input, output...) and its interpreter state
(``ExecutionState`` without the events, as JSON); the history is appended in chunks, one
row per commit, so a commit writes only what happened since the last one. Everything an
execution needs to resume after ``kill -9`` is in these two tables.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from stratus.local.storage import Database
from stratus.workflows import ExecutionState, Frame
from stratus.workflows.templates import compact

_MIGRATIONS = [
    """
    CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        machine TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        start REAL NOT NULL,
        stop REAL,
        output TEXT,
        error TEXT,
        cause TEXT,
        state TEXT NOT NULL,
        events INTEGER NOT NULL DEFAULT 0,
        redrive_count INTEGER NOT NULL DEFAULT 0,
        redrive_time REAL,
        parent TEXT
    );
    CREATE INDEX executions_machine ON executions (machine, start);
    CREATE TABLE history (
        arn TEXT NOT NULL,
        first INTEGER NOT NULL,
        events TEXT NOT NULL,
        PRIMARY KEY (arn, first)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        token TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL
    )
    """,
]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class Row:
    """An execution's summary as stored."""

    arn: str
    machine: str
    name: str
    status: str
    input: str
    start: float
    stop: float | None
    output: str | None
    error: str | None
    cause: str | None
    redrive_count: int
    redrive_time: float | None


_SUMMARY = "arn, machine, name, status, input, start, stop, output, error, cause, redrive_count, redrive_time"


_FINISHED_FIELDS = (
    "program",
    "state",
    "input",
    "status",
    "output",
    "error",
    "cause",
    "map_item",
    "last_event",
    "started",
)


def frame_dict(frame: Frame) -> dict[str, Any]:
    """A frame as plain data (faster than ``dataclasses.asdict``, which deep-copies).

    A finished child (a Map iteration or Parallel branch that ended) keeps only what its
    parent reads: its input, outcome and position.
    """
    if frame.status != "RUNNING" and frame.started:
        return {name: getattr(frame, name) for name in _FINISHED_FIELDS}
    data = dict(frame.__dict__)
    if frame.children:
        data["children"] = [frame_dict(c) for c in frame.children]
    return data


def state_text(ex: ExecutionState) -> str:
    """The interpreter state to resume from (a SUCCEEDED execution never resumes: only its summary is kept)."""
    if ex.status == "SUCCEEDED":
        return "{}"
    data = dict(ex.__dict__)
    del data["events"]
    data["root"] = frame_dict(ex.root)
    return _dumps(data)


class Store:
    """The executions and history tables."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("workflow_executions", _MIGRATIONS)

    # -- writes (inside the caller's transaction) ------------------------------------------

    def insert(
        self, conn: sqlite3.Connection, ex: ExecutionState, input_text: str, parent: dict[str, Any] | None
    ) -> None:
        conn.execute(
            "INSERT INTO executions (arn, machine, name, status, input, start, state, parent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ex.execution_arn,
                ex.state_machine_arn,
                ex.name,
                ex.status,
                input_text,
                ex.start_time,
                state_text(ex),
                _dumps(parent) if parent else None,
            ),
        )

    def save(self, conn: sqlite3.Connection, ex: ExecutionState, persisted_events: int) -> int:
        """Write the execution's state and the events after ``persisted_events``; the new count."""
        count = len(ex.events)
        output = compact(ex.output) if ex.status == "SUCCEEDED" else None  # already encoded for its event
        conn.execute(
            "UPDATE executions SET status = ?, stop = ?, output = ?, error = ?, cause = ?, state = ?, events = ?, "
            "redrive_count = ?, redrive_time = ? WHERE arn = ?",
            (
                ex.status,
                ex.stop_time,
                output,
                ex.error,
                ex.cause,
                state_text(ex),
                count,
                ex.redrive_count,
                ex.redrive_time,
                ex.execution_arn,
            ),
        )
        if count > persisted_events:
            conn.execute(
                "INSERT OR REPLACE INTO history (arn, first, events) VALUES (?, ?, ?)",
                (ex.execution_arn, persisted_events + 1, _dumps(ex.events[persisted_events:])),
            )
        return count

    def delete(self, conn: sqlite3.Connection, arn: str) -> None:
        conn.execute("DELETE FROM executions WHERE arn = ?", (arn,))
        conn.execute("DELETE FROM history WHERE arn = ?", (arn,))

    # -- reads -------------------------------------------------------------------------------

    def row(self, arn: str) -> Row | None:
        rows = self.db.execute(f"SELECT {_SUMMARY} FROM executions WHERE arn = ?", (arn,))
        return Row(*rows[0]) if rows else None

    def rows(self, machine: str, status: str | None) -> list[Row]:
        if status is None:
            found = self.db.execute(
                f"SELECT {_SUMMARY} FROM executions WHERE machine = ? ORDER BY start DESC, rowid DESC", (machine,)
            )
        else:
            found = self.db.execute(
                f"SELECT {_SUMMARY} FROM executions WHERE machine = ? AND status = ? ORDER BY start DESC, rowid DESC",
                (machine, status),
            )
        return [Row(*r) for r in found]

    def events(self, arn: str, upto: int | None = None) -> list[dict[str, Any]]:
        """The history (only the first ``upto`` events: later chunks may be from a commit that was overwritten)."""
        out: list[dict[str, Any]] = []
        for (chunk,) in self.db.execute("SELECT events FROM history WHERE arn = ? ORDER BY first", (arn,)):
            out.extend(json.loads(chunk))
        if upto is None:
            upto = self.db.execute("SELECT events FROM executions WHERE arn = ?", (arn,))[0][0]
        # A chunk rewritten after a crash replaces events by id: keep the last version of each id.
        by_id: dict[int, dict[str, Any]] = {}
        for event in out:
            by_id[event["id"]] = event
        return [by_id[i] for i in range(1, upto + 1) if i in by_id]

    def load(self, arn: str) -> tuple[ExecutionState, str, dict[str, Any] | None]:
        """(state with its history, input text, parent link) of a stored execution."""
        state, input_text, parent, count = self.db.execute(
            "SELECT state, input, parent, events FROM executions WHERE arn = ?", (arn,)
        )[0]
        data = json.loads(state)
        data["events"] = self.events(arn, count)
        return ExecutionState.from_dict(data), input_text, json.loads(parent) if parent else None

    # -- the inbox: task-token calls from other processes (the CLI) ---------------------------

    def post(self, token: str, kind: str, body: Any) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO inbox (token, kind, body) VALUES (?, ?, ?)", (token, kind, _dumps(body)))

    def inbox(self, limit: int = 100) -> list[tuple[int, str, str, Any]]:
        rows = self.db.execute("SELECT seq, token, kind, body FROM inbox ORDER BY seq LIMIT ?", (limit,))
        return [(seq, token, kind, json.loads(body)) for seq, token, kind, body in rows]

    def take(self, seq: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM inbox WHERE seq = ?", (seq,))

    def waiting_for(self, arn: str, token: str) -> bool:
        """Whether the stored state of ``arn`` still holds ``token`` (a task waiting for it)."""
        rows = self.db.execute("SELECT instr(state, ?) FROM executions WHERE arn = ?", (token, arn))
        return bool(rows and rows[0][0])

    def running(self, machine: str) -> list[str]:
        return [
            r[0]
            for r in self.db.execute("SELECT arn FROM executions WHERE machine = ? AND status = 'RUNNING'", (machine,))
        ]
