"""Errors of the SQL database port, one class per way a statement can fail.

Both adapters raise these, so code written against SQLite behaves the same on
PostgreSQL (Aurora). Each error keeps the database's own message and, where it is
known, the PostgreSQL SQLSTATE (``sqlstate``): the SQLite adapter maps its errors onto
the same codes for the common cases (unique, foreign key, check and not-null
violations, missing table or column, syntax errors).
"""

from __future__ import annotations

from stratus.errors import StratusError


class SqlError(StratusError):
    """A statement the database rejected; ``message`` is the database's own text."""

    code = "DatabaseErrorException"  # the Aurora Data API's name for a failed statement

    def __init__(self, message: str, *, sqlstate: str | None = None, constraint: str | None = None) -> None:
        super().__init__(message)
        #: PostgreSQL's five-character error code (``23505``...), when known.
        self.sqlstate = sqlstate
        #: The violated constraint's name, when the database reports it.
        self.constraint = constraint


class IntegrityError(SqlError):
    """A unique, foreign key, check or not-null constraint was violated (SQLSTATE class 23)."""

    code = "IntegrityConstraintViolation"


class SerializationFailure(SqlError):
    """The transaction lost a race (serialization failure or deadlock) and was rolled back: retry it.

    :meth:`SqlDatabase.run_transaction` retries these for you.
    """

    code = "SerializationFailure"


class MigrationError(SqlError):
    """A migration failed, or one already applied was changed or removed; it names the migration."""

    code = "MigrationError"
