"""Handler timeouts (raised into the handler's thread) and the shared SQLite connections.

The regression: a Task handler waiting for the tables database's lock timed out; the
timeout surfaced just after ``BEGIN IMMEDIATE`` and before the code that rolls back, so the
shared connection stayed inside a transaction nobody owned and every later write on it
failed with "cannot start a transaction within a transaction".
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from stratus.local.storage import Database
from stratus.local.watchdog import HandlerTimedOut, Watchdog

BOUND = 5.0  # seconds: a wait that ends earlier in every correct run


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.001)


def _looked_at(dog: Watchdog, token: int, deadline: float) -> bool:
    """Whether the watchdog has dealt with ``token`` after its deadline (raised it or put it off)."""
    with dog._lock:
        return token in dog._fired or (token in dog._armed and dog._armed[token][0] > deadline)


def _in_function(thread: threading.Thread, name: str) -> bool:
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


def test_a_timeout_while_waiting_for_a_transaction_leaves_the_connection_usable(tmp_path: Path) -> None:
    db = Database(tmp_path / "t.db")
    db.execute("CREATE TABLE t (v INTEGER)")
    dog = Watchdog()
    armed: list[int] = []
    outcome: list[str] = []

    def handler() -> None:
        token = dog.arm(3600)
        armed.append(token)
        try:
            try:
                with db.transaction() as conn:
                    conn.execute("INSERT INTO t VALUES (1)")
                outcome.append("committed")
                deadline = time.monotonic() + BOUND
                while time.monotonic() < deadline:  # the put-off timeout arrives here
                    pass
            finally:
                dog.disarm(token)
        except HandlerTimedOut:
            outcome.append("timed out")

    try:
        with db.lock:  # another thread's transaction: the handler waits for the lock
            thread = threading.Thread(target=handler)
            thread.start()
            _wait_until(
                lambda: armed and _in_function(thread, "transaction") and not _in_function(thread, "uninterrupted"),
                "the handler to wait for the lock",
            )
            # Its deadline passes now, while it waits.
            token, deadline = armed[0], time.monotonic()
            with dog._lock:
                dog._armed[token] = (deadline, dog._armed[token][1])
                dog._wake.notify()
            _wait_until(lambda: _looked_at(dog, token, deadline), "the watchdog to see the deadline")
        thread.join(BOUND * 2)
        assert not thread.is_alive()

        assert outcome == ["committed", "timed out"]  # the timeout came, after the transaction
        assert not db.connection.in_transaction
        with db.transaction() as conn:  # the next write works (it failed on every call before)
            conn.execute("INSERT INTO t VALUES (2)")
        assert db.execute("SELECT v FROM t ORDER BY v") == [(1,), (2,)]
    finally:
        dog.stop()
        db.close()


def test_timeouts_under_contention_never_leave_a_transaction_open(tmp_path: Path) -> None:
    """Many short-deadline handlers racing for one database: every timeout lands outside a transaction."""
    db = Database(tmp_path / "stress.db")
    db.execute("CREATE TABLE t (v INTEGER)")
    dog = Watchdog()
    committed: list[int] = []
    errors: list[BaseException] = []

    def handler(n: int) -> None:
        for i in range(40):
            try:
                token = dog.arm(0.001 * (i % 5))
                try:
                    with db.transaction() as conn:
                        conn.execute("INSERT INTO t VALUES (?)", (n * 1000 + i,))
                    committed.append(n * 1000 + i)
                finally:
                    dog.disarm(token)
            except HandlerTimedOut:
                pass
            except BaseException as error:  # an OperationalError here is the bug
                errors.append(error)

    threads = [threading.Thread(target=handler, args=(n,)) for n in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
    finally:
        dog.stop()
    assert errors == []
    assert not db.connection.in_transaction
    stored = {v for (v,) in db.execute("SELECT v FROM t")}
    assert set(committed) <= stored  # a timeout may land after COMMIT, before the append
    db.close()
