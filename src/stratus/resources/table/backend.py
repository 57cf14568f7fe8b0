"""The table port's backend contract: what an adapter receives and returns.

The handle (:class:`~stratus.resources.table.port.Table`) checks and parses every
request, then hands the adapter one of these small request objects; an adapter
implements :class:`TableBackend`. Keeping the contract apart from the handle lets an
adapter be read (and written) without the handle's validation code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from stratus.resources.table.schema import IndexSchema
    from stratus.resources.table.transactions import TxAction, TxGet

#: Read data a query or scan examines per page before it stops (filters apply after).
MAX_PAGE_BYTES = 1024 * 1024
#: Data one BatchGetItem returns before leaving the rest unprocessed.
MAX_BATCH_GET_BYTES = 16 * 1024 * 1024


@dataclass
class Page:
    """One page of a query or scan. ``cursor`` is None on the last page; pass it back to continue."""

    items: list[dict[str, Any]]
    cursor: str | None
    count: int
    scanned_count: int

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Read:
    """A checked query or scan request, as the backend receives it."""

    index: IndexSchema | None
    key_condition: Any = None  # expressions.KeyCondition (queries)
    filter: Any = None  # expressions.Condition
    projection: Any = None  # expressions.Projection
    limit: int | None = None
    start_key: dict[str, Any] | None = None
    forward: bool = True
    count_only: bool = False
    consistent: bool = False
    segment: int | None = None
    total_segments: int | None = None


@dataclass
class ReadResult:
    """What a backend returns for a query or scan page."""

    items: list[dict[str, Any]]
    last_key: dict[str, Any] | None
    count: int
    scanned_count: int


@dataclass(slots=True)
class Write:
    """A checked single-item write (put, update or delete). For a put, ``key`` may be the item."""

    kind: Literal["put", "update", "delete", "check"]
    key: dict[str, Any]
    item: dict[str, Any] | None = None  # put
    size: int = 0  # put: the item's size
    update: Any = None  # expressions.Update
    condition: Any = None  # expressions.Condition
    returns: str = "NONE"
    return_old_on_condition_failure: bool = False


class TableBackend(ABC):
    """What an adapter implements for one table. Requests arrive checked and parsed."""

    @abstractmethod
    def write(self, request: Write) -> dict[str, Any] | None:
        """Do a put/update/delete; return the item ``request.returns`` asks for (None for NONE).

        Raises ConditionalCheckFailed (with ``item`` when asked) when the condition is false,
        and ValidationError when an update cannot apply.
        """

    @abstractmethod
    def get(self, key: dict[str, Any], projection: Any, consistent: bool) -> dict[str, Any] | None: ...

    @abstractmethod
    def read(self, request: Read) -> ReadResult:
        """One page of a query (``request.key_condition`` set) or a scan."""

    @abstractmethod
    def batch_get(self, keys: list[dict[str, Any]], projection: Any, consistent: bool) -> tuple[list, list]:
        """Items found (any order) and keys left unprocessed."""

    @abstractmethod
    def batch_write(self, puts: list[tuple[dict[str, Any], int]], deletes: list[dict[str, Any]]) -> list[Any]:
        """Write every request (no conditions); return the unprocessed ones."""

    @abstractmethod
    def transact_write(self, actions: list[TxAction], client_token: str | None, fingerprint: str) -> None:
        """All-or-nothing across the actions' tables; raises TransactionCanceled."""

    @abstractmethod
    def transact_get(self, gets: list[TxGet]) -> list[dict[str, Any] | None]: ...

    # The change stream and TTL, for the local runtime (on AWS, DynamoDB Streams and
    # DynamoDB's TTL sweeper do this). Adapters without them keep these defaults.

    def stream_read(self, after_sequence: str | None, limit: int) -> list[dict[str, Any]]:
        """Stream records (DynamoDB Streams shape) after ``after_sequence``, oldest first."""
        raise NotImplementedError(f"{type(self).__name__} has no readable change stream")

    def stream_latest_sequence(self) -> str | None:
        """The SequenceNumber of the newest record, or None."""
        raise NotImplementedError(f"{type(self).__name__} has no readable change stream")

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each commit that appends stream records."""
        raise NotImplementedError(f"{type(self).__name__} has no readable change stream")

    def expire_due(self) -> int:
        """Delete items whose TTL is due by the clock; return how many."""
        return 0
