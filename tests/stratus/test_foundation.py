"""The App model, the clock, storage and binding: the contracts every port relies on."""

from __future__ import annotations

import threading

import pytest

from stratus import App, NotBound, ValidationError, VirtualClock
from stratus.local.storage import Database


def test_app_name_is_validated() -> None:
    with pytest.raises(ValidationError, match="app name"):
        App("Bad Name")
    assert App("shop").name == "shop"


def test_virtual_clock_moves_only_when_advanced() -> None:
    clock = VirtualClock(start=1000)
    assert clock.now() == 1000
    clock.advance(3600)
    assert clock.now() == 4600
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_virtual_sleep_returns_when_time_is_advanced() -> None:
    clock = VirtualClock(start=0)
    woke = threading.Event()

    def sleeper() -> None:
        clock.sleep(60)
        woke.set()

    t = threading.Thread(target=sleeper)
    t.start()
    assert not woke.wait(0.1)
    clock.advance(61)
    assert woke.wait(2)
    t.join()


def test_nested_transactions_roll_back_only_the_inner_part(tmp_path) -> None:
    db = Database(tmp_path / "t.db")
    db.execute("CREATE TABLE t (v INTEGER)")
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), db.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("inner fails")
    assert db.execute("SELECT v FROM t") == [(1,)]


def test_migrations_run_once_in_order(tmp_path) -> None:
    db = Database(tmp_path / "m.db")
    steps = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y INTEGER"]
    db.migrate("demo", steps)
    db.migrate("demo", steps)  # idempotent
    db.close()
    db = Database(tmp_path / "m.db")
    db.migrate("demo", [*steps, "CREATE INDEX a_y ON a(y)"])
    cols = [r[1] for r in db.execute("PRAGMA table_info(a)")]
    assert cols == ["x", "y"]
    assert db.execute("SELECT version FROM _schema WHERE component='demo'") == [(3,)]


def test_unbound_resource_names_itself() -> None:
    from stratus.resources.base import Resource

    class Thing(Resource[object]):
        kind = "thing"

    app = App("demo")
    thing = Thing(app, "widgets")
    with pytest.raises(NotBound, match="thing 'widgets' of app 'demo'"):
        _ = thing.backend
    with pytest.raises(ValidationError, match="already declares"):
        Thing(app, "widgets")


def test_a_failed_declaration_leaves_nothing_on_the_app() -> None:
    from stratus.resources.base import Resource

    class Picky(Resource[object]):
        kind = "picky"

        def __init__(self, app: App, name: str, *, size: int) -> None:
            super().__init__(app, name)
            if size < 0:
                raise ValidationError("size must be >= 0")

    app = App("demo")
    with pytest.raises(ValidationError):
        Picky(app, "p", size=-1)
    assert app.resources == []
    assert Picky(app, "p", size=1).name == "p"


def test_startup_and_shutdown_hooks_run_once_in_order() -> None:
    from stratus.testing import local

    app = App("hooks")
    calls: list[str] = []
    app.on_startup(lambda cloud: calls.append("start-a"))
    app.on_startup(lambda cloud: calls.append("start-b"))
    app.on_shutdown(lambda cloud: calls.append("stop-a"))
    app.on_shutdown(lambda cloud: calls.append("stop-b"))
    with local(app) as env:
        assert calls == []  # binding alone starts nothing
        env.startup()
        env.startup()
    assert calls == ["start-a", "start-b", "stop-b", "stop-a"]


def test_migrations_may_contain_triggers_and_literal_semicolons(tmp_path) -> None:
    db = Database(tmp_path / "t.db")
    db.migrate(
        "demo",
        [
            """
            CREATE TABLE t (v TEXT);
            CREATE TABLE log (v TEXT);
            CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('a;b'); END;
            INSERT INTO t VALUES ('x;y')
            """
        ],
    )
    assert db.execute("SELECT v FROM t") == [("x;y",)]
    assert db.execute("SELECT v FROM log") == [("a;b",)]


def test_a_failed_commit_leaves_no_transaction_open(tmp_path) -> None:
    db = Database(tmp_path / "c.db")
    db.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(Exception, match="FOREIGN KEY"), db.transaction() as conn:
        conn.execute("INSERT INTO c VALUES (42)")  # fails only at COMMIT (deferred constraint)
    assert not db.connection.in_transaction
    with db.transaction() as conn:  # the connection is usable again
        conn.execute("INSERT INTO p VALUES (1)")
    assert db.execute("SELECT id FROM p") == [(1,)]
