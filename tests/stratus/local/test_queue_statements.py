"""The local queue's one-statement writes: they join a caller's transaction, and large fan-outs still commit whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus import App
from stratus.local.queue import _MAX_VALUES, LocalQueue, send_many
from stratus.resources.queue import SendEntry
from stratus.testing import local


class _Undo(Exception):
    pass


def _backend(queue: object) -> LocalQueue:
    backend = queue.backend  # type: ignore[attr-defined]
    assert isinstance(backend, LocalQueue)
    return backend


def test_a_send_inside_a_rolled_back_transaction_leaves_nothing() -> None:
    app = App("qs")
    q = app.queue("work")
    with local(app):
        db = _backend(q).db
        with pytest.raises(_Undo), db.transaction():
            q.send("kept only if the outer transaction commits")
            raise _Undo
        assert q.receive() == []
        q.send("committed")
        [m] = q.receive()
        q.delete(m.receipt_handle)
        assert q.peek() == []


def test_a_fan_out_larger_than_one_insert_commits_every_message_in_order() -> None:
    app = App("qs")
    a, b = app.queue("a"), app.queue("b")
    with local(app):
        messages = [a._outgoing(f"m{i}", None, None, None, None) for i in range(_MAX_VALUES)]
        outcomes = send_many([(_backend(a), messages), (_backend(b), messages[:1])])
        assert all(isinstance(o, list) for o in outcomes)
        assert [m.body for m in a.peek(limit=1000)] == [f"m{i}" for i in range(_MAX_VALUES)]
        assert [m.body for m in b.peek()] == ["m0"]


def test_a_fifo_duplicate_in_a_batch_reports_the_first_and_later_sequence_numbers_grow() -> None:
    app = App("qs")
    q = app.queue("jobs.fifo", fifo=True)
    with local(app):
        entries = [
            SendEntry(str(i), body, group_id="g", deduplication_id="d") for i, body in enumerate(["first", "again"])
        ]
        result = q.send_batch(entries)
        first, again = (s.result for s in result.successful)
        assert first is not None and again is not None
        assert again.message_id == first.message_id and again.sequence_number == first.sequence_number
        later = q.send("later", group_id="g", deduplication_id="e")
        assert int(later.sequence_number or 0) > int(first.sequence_number or 0)
        assert [m.body for m in q.peek()] == ["first", "later"]


def test_a_state_folder_written_before_the_deduplication_trigger_keeps_its_claims_and_messages(tmp_path: Path) -> None:
    from stratus.local.cloud import LocalCloud
    from stratus.local.queue import _SCHEMA
    from stratus.local.storage import Database

    # The schema and rows of a FIFO send before the trigger (step 4): a message, then its claim by a statement.
    old = Database(tmp_path / "queues.db")
    old.migrate("queue", _SCHEMA[:3])
    with old.transaction() as conn:
        seq = conn.execute(
            "INSERT INTO messages (queue, message_id, body, md5_body, group_id, dedup_id, sent_at, enqueued_at, "
            "arrived_at, expires_at, visible_at) VALUES ('old-jobs.fifo', 'm-1', 'first', "
            "'8b04d5e3775d298e78455efc5ca404d5', 'g', 'd', 0, 0, 0, 1e12, 0)"
        ).lastrowid
        conn.execute(
            "INSERT INTO dedup (queue, dedup_id, message_id, seq, expires_at) VALUES ('old-jobs.fifo', 'd', 'm-1', ?, "
            "1e12)",
            (seq,),
        )
    old.close()
    app = App("old")
    q = app.queue("jobs.fifo", fifo=True)
    cloud = LocalCloud(tmp_path)
    try:
        cloud.bind(app)
        again = q.send("again", group_id="g", deduplication_id="d")
        assert again.message_id == "m-1"
        later = q.send("later", group_id="g", deduplication_id="e")
        assert int(later.sequence_number or 0) > int(again.sequence_number or 0)
        assert q.send("later, again", group_id="g", deduplication_id="e").message_id == later.message_id
        [m] = q.receive()
        assert (m.message_id, m.body) == ("m-1", "first")
        q.delete(m.receipt_handle)
        assert [m.body for m in q.receive()] == ["later"]
    finally:
        cloud.close()
