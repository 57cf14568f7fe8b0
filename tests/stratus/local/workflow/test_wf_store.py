"""The STANDARD execution store: state round trips, history appended in chunks, the inbox."""

from __future__ import annotations

from pathlib import Path

from stratus.clock import VirtualClock
from stratus.local.storage import Database
from stratus.local.workflow.store import Store
from stratus.workflows import Runtime, parse, start_execution
from stratus.workflows.tasks import as_invoker

MACHINE = parse(
    {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 10, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    },
    name="app-flow",
)


def test_state_and_history_round_trip_across_commits(tmp_path: Path) -> None:
    clock = VirtualClock()
    store = Store(Database(tmp_path / "workflows.db"))
    ex = start_execution(MACHINE, {"a": 1}, clock=clock, name="run")
    with store.db.transaction() as conn:
        store.insert(conn, ex, '{"a":1}', {"token": "t", "mode": ".sync"})
    runtime = Runtime(MACHINE, ex, clock, as_invoker(None))
    assert runtime.step() == clock.now() + 10
    with store.db.transaction() as conn:
        persisted = store.save(conn, ex, 0)
    assert persisted == len(ex.events) == 2  # ExecutionStarted, WaitStateEntered

    loaded, input_text, parent = store.load(ex.execution_arn)
    assert (input_text, parent) == ('{"a":1}', {"token": "t", "mode": ".sync"})
    assert loaded.root.phase == "wait" and loaded.events == ex.events
    assert store.running(ex.state_machine_arn) == [ex.execution_arn]

    clock.advance(10)
    resumed = Runtime(MACHINE, loaded, clock, as_invoker(None))
    assert resumed.step() is None
    with store.db.transaction() as conn:
        store.save(conn, loaded, persisted)
    row = store.row(ex.execution_arn)
    assert row is not None and (row.status, row.output) == ("SUCCEEDED", '{"a":1}')
    assert [e["id"] for e in store.events(ex.execution_arn)] == list(range(1, 7))
    assert store.running(ex.state_machine_arn) == []


def test_the_inbox_keeps_posted_calls_in_order(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "workflows.db"))
    store.post("t1", "success", {"output": 1})
    store.post("t2", "heartbeat", {})
    posted = store.inbox()
    assert [(token, kind, body) for _, token, kind, body in posted] == [
        ("t1", "success", {"output": 1}),
        ("t2", "heartbeat", {}),
    ]
    store.take(posted[0][0])
    assert [token for _, token, _, _ in store.inbox()] == ["t2"]
