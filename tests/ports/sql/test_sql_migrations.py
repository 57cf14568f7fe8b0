"""Migrations: run once each, in order, each all-or-nothing, and never edited after they ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.resources.sql import MigrationError, SqlError

CREATE = "CREATE TABLE accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL)"
ALTER = "ALTER TABLE accounts ADD COLUMN owner TEXT"


def applied(db: Any) -> list[tuple[int, str]]:
    return [(r["version"], r["name"]) for r in db.query("SELECT version, name FROM _stratus_migrations ORDER BY 1")]


def test_migrations_run_in_order_once_and_survive_a_restart(harness: Any) -> None:
    db = harness.declare([CREATE, ALTER])
    env = harness.bind(db)
    db.execute("INSERT INTO accounts (id, balance, owner) VALUES ('a', 5, 'ann')")
    env.restart()  # re-running either migration would fail: the table and column exist
    assert db.query("SELECT id, balance, owner FROM accounts") == [{"id": "a", "balance": 5, "owner": "ann"}]
    assert applied(db) == [(1, "001"), (2, "002")]


def test_a_new_migration_runs_alone_on_the_next_bind(harness: Any) -> None:
    first = harness.open([CREATE])
    first.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)")
    harness.close_envs()
    second = harness.open([CREATE, ALTER])
    assert second.query("SELECT id, owner FROM accounts") == [{"id": "a", "owner": None}]
    assert applied(second) == [(1, "001"), (2, "002")]


def test_a_failing_migration_leaves_nothing_of_itself(harness: Any) -> None:
    bad = "CREATE TABLE audit (id INTEGER); INSERT INTO accounts (id, balance) VALUES ('x', 1); SELECT * FROM nope"
    db = harness.declare([CREATE, bad])
    with pytest.raises(MigrationError, match="migration 002 failed") as info:
        harness.bind(db)
    assert info.value.code == "MigrationError"
    fixed = harness.open([CREATE])
    assert fixed.query("SELECT * FROM accounts") == []
    with pytest.raises(SqlError) as missing:
        fixed.query("SELECT * FROM audit")
    assert missing.value.sqlstate == "42P01"
    assert applied(fixed) == [(1, "001")]


def test_a_changed_migration_is_refused_and_nothing_runs(harness: Any) -> None:
    harness.open([CREATE])
    harness.close_envs()
    changed = harness.declare([CREATE + ", note TEXT", ALTER])
    with pytest.raises(MigrationError, match="migration 001 was changed after it was applied"):
        harness.bind(changed)
    again = harness.open([CREATE])
    assert [r["name"] for r in again.query("SELECT name FROM _stratus_migrations")] == ["001"]
    assert again.execute("INSERT INTO accounts (id, balance) VALUES ('a', 1)") == 1  # no owner column was added


def test_a_removed_migration_is_refused(harness: Any) -> None:
    harness.open([CREATE, ALTER])
    harness.close_envs()
    with pytest.raises(MigrationError, match=r"migration 002 .* no longer declared"):
        harness.bind(harness.declare([CREATE]))


def test_migrations_from_a_folder_relative_to_the_declaring_module(harness: Any) -> None:
    db = harness.open("migrations")  # tests/ports/sql/migrations, next to this module
    assert [m.name for m in db.migrations] == ["001_create_accounts", "002_add_owner"]
    db.execute("INSERT INTO accounts (id, balance, owner) VALUES ('a', 0, 'ann')")
    assert db.scalar("SELECT owner FROM accounts WHERE id = :id", {"id": "a"}) == "ann"
    assert applied(db) == [(1, "001_create_accounts"), (2, "002_add_owner")]


def test_a_migration_with_semicolons_in_literals_and_a_trigger_body(harness: Any, adapter: str) -> None:
    if adapter == "sqlite":
        trigger = (
            "CREATE TRIGGER no_negative BEFORE INSERT ON accounts WHEN NEW.balance < 0 "
            "BEGIN SELECT RAISE(ABORT, 'negative; balance'); END"
        )
    else:
        trigger = (
            "CREATE FUNCTION no_negative() RETURNS trigger AS $$ BEGIN "
            "IF NEW.balance < 0 THEN RAISE EXCEPTION 'negative; balance'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;"
            "CREATE TRIGGER no_negative BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION no_negative()"
        )
    db = harness.open([CREATE + ";\nINSERT INTO accounts (id, balance) VALUES ('semi;colon', 1);\n-- done\n", trigger])
    assert db.scalar("SELECT id FROM accounts") == "semi;colon"
    with pytest.raises(SqlError, match="negative; balance"):
        db.execute("INSERT INTO accounts (id, balance) VALUES ('b', -1)")


def test_bad_migration_declarations_fail_at_declaration(tmp_path: Path) -> None:
    app = App("decl")
    with pytest.raises(ValidationError, match=r"migrations\[1\] must be a non-empty SQL string"):
        app.sql("a", migrations=[CREATE, ""])
    with pytest.raises(ValidationError, match="does not exist"):
        app.sql("b", migrations=tmp_path / "missing")
    (tmp_path / "create.sql").write_text(CREATE)
    with pytest.raises(ValidationError, match=r"'create\.sql' must be named NNN_name\.sql"):
        app.sql("c", migrations=tmp_path)
    (tmp_path / "create.sql").unlink()
    (tmp_path / "001_a.sql").write_text(CREATE)
    (tmp_path / "01_b.sql").write_text(ALTER)
    with pytest.raises(ValidationError, match="same number 1"):
        app.sql("d", migrations=tmp_path)
    with pytest.raises(ValidationError, match="migrations must be a list"):
        app.sql("e", migrations=42)  # type: ignore[arg-type]
