"""What an adapter of the SQL database port implements.

An adapter opens *sessions*: a transaction at an isolation level, or (isolation
``None``) an autocommit session for one statement. A session runs already-scanned
:class:`~stratus.resources.sql.params.Statement` objects with checked values and raises
the port's errors (:mod:`stratus.resources.sql.errors`). The adapter runs the declared
migrations when it is constructed (that is, when the database is bound).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from typing import Any, Literal

from stratus.resources.sql.params import Statement

Isolation = Literal["serializable", "repeatable_read", "read_committed"]
ISOLATION_LEVELS: tuple[Isolation, ...] = ("serializable", "repeatable_read", "read_committed")


class SqlSession(ABC):
    """Statements inside one transaction (or one autocommit statement)."""

    @abstractmethod
    def execute(self, statement: Statement, values: dict[str, Any]) -> int:
        """Run a statement; the number of rows it changed (0 when that is not a count)."""

    @abstractmethod
    def query(self, statement: Statement, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a statement and return its rows as dicts keyed by column name."""


class SqlBackend(ABC):
    @abstractmethod
    def session(self, isolation: Isolation | None) -> AbstractContextManager[SqlSession]:
        """A transaction (committed on normal exit, rolled back on an exception), or autocommit if ``None``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""
