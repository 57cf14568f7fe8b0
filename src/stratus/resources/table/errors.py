"""The table port's own errors, beyond those every port shares (stratus.errors).

``TransactionCanceled`` stands for DynamoDB's TransactionCanceledException: one
reason per action of the transaction, in order, so a caller can tell which
condition failed. ``IdempotentParameterMismatch`` is raised when a client token is
reused within its 10-minute window for a different request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus.errors import ConditionalCheckFailed, ResourceNotFound, StratusError, ValidationError

__all__ = [
    "CancellationReason",
    "ConditionalCheckFailed",
    "IdempotentParameterMismatch",
    "ResourceNotFound",
    "TransactionCanceled",
    "ValidationError",
]


@dataclass(frozen=True)
class CancellationReason:
    """Why one action of a cancelled transaction failed (``code`` None: it did not)."""

    code: str | None = None
    message: str | None = None
    #: The item as it was, when the action asked for it (return_old_on_condition_failure).
    item: dict[str, Any] | None = None


class TransactionCanceled(StratusError):
    """A transaction was cancelled: nothing of it was written. ``reasons`` has one entry per action."""

    code = "TransactionCanceledException"

    def __init__(self, reasons: list[CancellationReason]) -> None:
        codes = ", ".join(r.code or "None" for r in reasons)
        super().__init__(f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]")
        self.reasons = reasons


class IdempotentParameterMismatch(StratusError):
    """A client token was reused with a different request within its window."""

    code = "IdempotentParameterMismatchException"


class TransactionConflict(StratusError):
    """Another transaction is in progress on one of the items (never locally: writes are serialized)."""

    code = "TransactionConflictException"
