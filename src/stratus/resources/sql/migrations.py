"""Schema migrations: declared once, applied once each, in order, never edited afterwards.

A database records what it has applied in ``_stratus_migrations`` (version, name,
checksum). :func:`plan` compares that record with the declared list and returns what is
left to run, refusing — with a :class:`MigrationError` naming the migration — a
migration that was changed or removed after it was applied, or a new one slotted
before the latest applied (migrations are append-only, as in Flyway or Alembic's
linear history). Adapters run each pending migration and its record row in one
transaction, so a failing migration leaves nothing of itself behind.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stratus.errors import ValidationError
from stratus.resources.sql.errors import MigrationError

_FILE = re.compile(r"^(\d+)_([A-Za-z0-9_\-]+)\.sql$")

#: DDL both adapters run to keep the record (portable SQL: SQLite and PostgreSQL).
RECORD_TABLE = (
    "CREATE TABLE IF NOT EXISTS _stratus_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.strip().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    version: int
    name: str
    checksum: str


def from_list(steps: Sequence[object]) -> list[Migration]:
    """Migrations given inline: step *i* (from 1) is version *i*, named ``001``, ``002``..."""
    migrations = []
    for version, step in enumerate(steps, start=1):
        if not isinstance(step, str) or not step.strip():
            raise ValidationError(f"migrations[{version - 1}] must be a non-empty SQL string, got {step!r}")
        migrations.append(Migration(version, f"{version:03d}", step))
    return migrations


def from_folder(folder: Path) -> list[Migration]:
    """Migrations in ``NNN_name.sql`` files, ordered by NNN; other files are ignored."""
    if not folder.is_dir():
        raise ValidationError(f"migrations folder {str(folder)!r} does not exist")
    by_version: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE.match(path.name)
        if match is None:
            raise ValidationError(
                f"migration file {path.name!r} must be named NNN_name.sql (e.g. 001_create_accounts.sql)"
            )
        version = int(match.group(1))
        if version in by_version:
            raise ValidationError(
                f"migration files {by_version[version].name}.sql and {path.name} have the same number {version}"
            )
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise ValidationError(f"migration file {path.name!r} is empty")
        by_version[version] = Migration(version, path.stem, text)
    return [by_version[v] for v in sorted(by_version)]


def plan(applied: Iterable[Applied], declared: Sequence[Migration]) -> list[Migration]:
    """The declared migrations still to run, after checking the applied ones are unchanged."""
    declared_by_version = {m.version: m for m in declared}
    latest = 0
    done: set[int] = set()
    for row in applied:
        migration = declared_by_version.get(row.version)
        if migration is None:
            raise MigrationError(
                f"migration {row.name} (version {row.version}) was applied to this database but is no longer declared"
            )
        if migration.checksum != row.checksum:
            raise MigrationError(
                f"migration {migration.name} was changed after it was applied "
                f"(checksum {migration.checksum[:12]} != applied {row.checksum[:12]}); add a new migration instead"
            )
        done.add(row.version)
        latest = max(latest, row.version)
    pending = [m for m in declared if m.version not in done]
    for migration in pending:
        if migration.version < latest:
            raise MigrationError(
                f"migration {migration.name} comes before the latest applied migration (version {latest}); "
                "migrations are append-only: give it a higher number"
            )
    return pending
