"""Transactions across tables: TransactWriteItems and TransactGetItems.

Actions are made by the handles (``orders.tx_put(...)``, ``stock.tx_update(...)``,
``accounts.tx_check(...)``) and run together by :func:`transact_write`: all of them or
none, with DynamoDB's rules — at most 100 actions and 4 MB, no two actions on one
item, a cancellation that reports one reason per action, and a client token that
makes a retried request a no-op for 10 minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError

if TYPE_CHECKING:
    from stratus.resources.table.port import Table, Write

MAX_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_TOKEN_LENGTH = 36


@dataclass(frozen=True)
class TxAction:
    """One write of a transaction: a put, update, delete or condition check on one item."""

    table: Table
    write: Write
    #: What the caller passed, for recognising a retried request (client tokens).
    request: tuple[Any, ...]

    @property
    def kind(self) -> str:
        return self.write.kind


@dataclass(frozen=True)
class TxGet:
    """One read of a TransactGetItems."""

    table: Table
    key: dict[str, Any]
    projection: Any = None


def _item_marker(table: Table, key: dict[str, Any]) -> tuple[Any, ...]:
    return (table.qualified_name, *((type(key[n]).__name__, key[n]) for n in table.key_names))


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(_canonical(v)) for v in value)))
    if isinstance(value, Decimal):
        return ("N", str(value.normalize()) if value else "0")
    if value is None or isinstance(value, str | bytes | bool | int):
        return value
    return repr(value)


def fingerprint_of(actions: Sequence[TxAction]) -> str:
    import hashlib

    parts = [
        (a.table.qualified_name, a.write.kind, _canonical(a.write.key), _canonical(a.write.item), _canonical(a.request))
        for a in actions
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _check_count(n: int, what: str) -> None:
    if n == 0:
        raise ValidationError(
            f"1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
            f"constraint: Member must have length greater than or equal to 1 ({what})"
        )
    if n > MAX_ACTIONS:
        raise ValidationError(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have "
            f"length less than or equal to {MAX_ACTIONS} ({what} has {n} actions)"
        )


def transact_write(actions: Sequence[TxAction], client_token: str | None = None) -> None:
    """Run the actions as one all-or-nothing transaction (raises TransactionCanceled)."""
    actions = list(actions)
    _check_count(len(actions), "TransactWriteItems")
    for action in actions:
        if not isinstance(action, TxAction):
            raise ValidationError(
                f"transact_write takes actions made by table.tx_put/tx_update/tx_delete/tx_check, got {action!r}"
            )
    if client_token is not None and (
        not isinstance(client_token, str) or not 1 <= len(client_token) <= MAX_TOKEN_LENGTH
    ):
        raise ValidationError(f"client_token must be 1-{MAX_TOKEN_LENGTH} characters, got {client_token!r}")
    seen: set[tuple[Any, ...]] = set()
    size = 0
    for action in actions:
        marker = _item_marker(action.table, action.write.key)
        if marker in seen:
            raise ValidationError("Transaction request cannot include multiple operations on one item")
        seen.add(marker)
        size += action.write.size
    if size > MAX_TRANSACTION_BYTES:
        raise ValidationError("Transaction request size exceeds the maximum allowed size of 4 MB")
    fingerprint = fingerprint_of(actions) if client_token is not None else ""
    actions[0].table.backend.transact_write(actions, client_token, fingerprint)


def transact_get(gets: Sequence[TxGet]) -> list[dict[str, Any] | None]:
    """Read up to 100 items from one consistent snapshot; None for items that do not exist."""
    gets = list(gets)
    _check_count(len(gets), "TransactGetItems")
    seen: set[tuple[Any, ...]] = set()
    for get in gets:
        if not isinstance(get, TxGet):
            raise ValidationError(f"transact_get takes reads made by table.tx_get, got {get!r}")
        marker = _item_marker(get.table, get.key)
        if marker in seen:
            raise ValidationError("Transaction request cannot include multiple operations on one item")
        seen.add(marker)
    return gets[0].table.backend.transact_get(gets)
