"""The table port: a DynamoDB table as a typed Python handle.

``app.table("products", partition_key="id")`` declares a table; its methods (put, get,
update, delete, query, scan, batches, transaction actions) validate their input the
way DynamoDB does — key schema, types, sizes, expressions — and hand the adapter a
checked request: items normalized, expressions parsed into objects. The adapter
(:class:`TableBackend`) only stores and evaluates, so the embedded SQLite adapter and
the boto3 adapter reject exactly the same requests with the same messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from stratus.errors import ValidationError
from stratus.resources.base import Resource
from stratus.resources.table import _compile as compile
from stratus.resources.table.backend import (
    MAX_BATCH_GET_BYTES,
    MAX_PAGE_BYTES,
    Page,
    Read,
    ReadResult,
    TableBackend,
    Write,
)
from stratus.resources.table.cursor import decode_cursor, encode_cursor
from stratus.resources.table.fastpath import check_size, prepare_item
from stratus.resources.table.schema import GlobalIndex, IndexSchema, KeySpec, LocalIndex, Schema
from stratus.resources.table.values import MAX_ITEM_BYTES

if TYPE_CHECKING:
    from stratus.app import App
    from stratus.resources.table.transactions import TxAction, TxGet

__all__ = ["MAX_BATCH_GET_BYTES", "MAX_PAGE_BYTES", "Page", "Read", "ReadResult", "Table", "TableBackend", "Write"]

StreamView = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
Returns = Literal["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
Select = Literal["ALL", "COUNT"]

STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
RETURNS = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_BATCH_WRITE_BYTES = 16 * 1024 * 1024
MAX_SEGMENTS = 1_000_000


def _condition(condition: Any, names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> Any:
    """The compiled condition of a write, or None when the caller gave none (the common, free case)."""
    if condition is None and not names and not values:
        return None
    return compile.condition_only(condition, names, values)


class Table(Resource[TableBackend]):
    """A DynamoDB table: items addressed by a partition key (and a sort key)."""

    kind: ClassVar[str] = "table"
    max_name_length: ClassVar[int] = 255

    def __init__(
        self,
        app: App,
        name: str,
        *,
        partition_key: KeySpec,
        sort_key: KeySpec | None = None,
        indexes: Sequence[GlobalIndex | LocalIndex] = (),
        stream: StreamView | None = None,
        ttl_attribute: str | None = None,
    ) -> None:
        if isinstance(name, str) and len(name) < 3:
            raise ValidationError(f"table name {name!r} must be at least 3 characters long")
        schema = Schema(partition_key, sort_key, list(indexes))
        if stream is not None and stream not in STREAM_VIEWS:
            raise ValidationError(f"stream must be None or one of {', '.join(STREAM_VIEWS)}, got {stream!r}")
        if ttl_attribute is not None and (not isinstance(ttl_attribute, str) or not 1 <= len(ttl_attribute) <= 255):
            raise ValidationError(f"ttl_attribute must be an attribute name (1-255 characters), got {ttl_attribute!r}")
        super().__init__(app, name)
        self.schema = schema
        self.stream_view: StreamView | None = stream
        self.ttl_attribute = ttl_attribute
        self._check_key = schema.check_key
        self._check_item = schema.check_item

    def settings(self) -> dict[str, Any]:
        return {**self.schema.settings(), "stream": self.stream_view, "ttl_attribute": self.ttl_attribute}

    @property
    def key_names(self) -> tuple[str, ...]:
        return self.schema.key_names

    # -- checks shared with the adapters ----------------------------------------------------

    def prepare(self, item: object) -> tuple[dict[str, Any], int]:
        """An item checked for writing: normalized, key and index keys checked, size within limit."""
        clean, size = prepare_item(item)
        self._check_item(clean)
        check_size(size)
        return clean, size

    def check_updated(self, item: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Check an item an update produced; return it normalized, and its size."""
        clean, size = prepare_item(item)
        self._check_item(clean)
        check_size(size, "Item size to update has exceeded the maximum allowed size")
        return clean, size

    # -- single items -----------------------------------------------------------------------

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old: bool = False,
        return_old_on_condition_failure: bool = False,
    ) -> dict[str, Any] | None:
        """Create or replace an item; return the old one when ``return_old``."""
        clean, size = prepare_item(item)
        self._check_item(clean)
        if size > MAX_ITEM_BYTES:
            check_size(size)
        cond = _condition(condition, names, values)
        request = Write(
            "put",
            clean,
            clean,
            size,
            None,
            cond,
            "ALL_OLD" if return_old else "NONE",
            return_old_on_condition_failure,
        )
        return self.backend.write(request)

    def get(
        self,
        key: Mapping[str, Any],
        *,
        projection: Any = None,
        names: Mapping[str, str] | None = None,
        consistent: bool = False,
    ) -> dict[str, Any] | None:
        """The item with ``key``, or None."""
        checked = self._check_key(key)
        proj = compile.projection_only(projection, names) if (projection is not None or names) else None
        return self.backend.get(checked, proj, bool(consistent))

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old: bool = False,
        return_old_on_condition_failure: bool = False,
    ) -> dict[str, Any] | None:
        """Delete an item (no error when absent); return the old one when ``return_old``."""
        checked = self._check_key(key)
        cond = _condition(condition, names, values)
        request = Write(
            "delete",
            checked,
            None,
            0,
            None,
            cond,
            "ALL_OLD" if return_old else "NONE",
            return_old_on_condition_failure,
        )
        return self.backend.write(request)

    def update(
        self,
        key: Mapping[str, Any],
        update: Any = None,
        *,
        set: Mapping[str, Any] | None = None,
        remove: Sequence[str] | None = None,
        add: Mapping[str, Any] | None = None,
        delete: Mapping[str, Any] | None = None,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        returns: Returns = "NONE",
        return_old_on_condition_failure: bool = False,
    ) -> dict[str, Any] | None:
        """Change some attributes of an item, creating it when absent (as UpdateItem does)."""
        checked = self._check_key(key)
        if returns not in RETURNS:
            raise ValidationError(f"returns must be one of {', '.join(RETURNS)}, got {returns!r}")
        parsed, cond = compile.update_and_condition(
            update, set, remove, add, delete, condition, names, values, self.schema.key_names
        )
        request = Write("update", checked, None, 0, parsed, cond, returns, return_old_on_condition_failure)
        return self.backend.write(request)

    # -- queries and scans ------------------------------------------------------------------

    def _index(self, index: str | None) -> IndexSchema | None:
        if index is None:
            return None
        return self.schema.index(index)

    def _limit(self, limit: int | None) -> int | None:
        if limit is None:
            return None
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1"
            )
        return limit

    def _start(self, cursor: str | None, index: IndexSchema | None) -> dict[str, Any] | None:
        if cursor is None:
            return None
        return decode_cursor(cursor, self.schema, index)

    def query(
        self,
        key_condition: Any,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        index: str | None = None,
        forward: bool = True,
        limit: int | None = None,
        filter: Any = None,
        projection: Any = None,
        cursor: str | None = None,
        select: Select = "ALL",
        consistent: bool = False,
    ) -> Page:
        """Items of one partition, in sort-key order (``forward=False``: descending)."""
        idx = self._index(index)
        if select not in ("ALL", "COUNT"):
            raise ValidationError(f"select must be 'ALL' or 'COUNT', got {select!r}")
        if consistent and idx is not None and idx.is_global:
            raise ValidationError("Consistent reads are not supported on global secondary indexes")
        partition = idx.partition if idx else self.schema.partition
        sort = idx.sort if idx else self.schema.sort
        kc, filt, proj = compile.query_parts(key_condition, filter, projection, names, values, partition, sort, select)
        request = Read(
            idx,
            key_condition=kc,
            filter=filt,
            projection=proj,
            limit=self._limit(limit),
            start_key=self._start(cursor, idx),
            forward=bool(forward),
            count_only=select == "COUNT",
            consistent=bool(consistent),
        )
        return self._page(self.backend.read(request), idx)

    def query_all(self, key_condition: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every matching item, following cursors across pages."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = self.query(key_condition, cursor=cursor, **kwargs)
            yield from page.items
            cursor = page.cursor
            if cursor is None:
                return

    def scan(
        self,
        *,
        filter: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        index: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        segment: int | None = None,
        total_segments: int | None = None,
        projection: Any = None,
        select: Select = "ALL",
        consistent: bool = False,
    ) -> Page:
        """Every item (of the table or an index), in no promised order, a page at a time."""
        idx = self._index(index)
        if select not in ("ALL", "COUNT"):
            raise ValidationError(f"select must be 'ALL' or 'COUNT', got {select!r}")
        if consistent and idx is not None and idx.is_global:
            raise ValidationError("Consistent reads are not supported on global secondary indexes")
        if (segment is None) != (total_segments is None):
            raise ValidationError(
                "The Segment parameter is required but was not present in the request when parameter "
                "TotalSegments is present"
                if segment is None
                else "The TotalSegments parameter is required but was not present in the request when Segment "
                "parameter is present"
            )
        if total_segments is not None and segment is not None:
            if not isinstance(total_segments, int) or not 1 <= total_segments <= MAX_SEGMENTS:
                raise ValidationError(
                    f"1 validation error detected: Value '{total_segments}' at 'totalSegments' failed to satisfy "
                    f"constraint: Member must have value between 1 and {MAX_SEGMENTS}"
                )
            if not isinstance(segment, int) or not 0 <= segment < total_segments:
                raise ValidationError(
                    f"The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                    f"Segment: {segment} is not less than TotalSegments: {total_segments}"
                )
        filt, proj = compile.scan_parts(filter, projection, names, values, select)
        request = Read(
            idx,
            filter=filt,
            projection=proj,
            limit=self._limit(limit),
            start_key=self._start(cursor, idx),
            count_only=select == "COUNT",
            consistent=bool(consistent),
            segment=segment,
            total_segments=total_segments,
        )
        return self._page(self.backend.read(request), idx)

    def scan_all(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item, following cursors across pages."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = self.scan(cursor=cursor, **kwargs)
            yield from page.items
            cursor = page.cursor
            if cursor is None:
                return

    def _page(self, result: ReadResult, index: IndexSchema | None) -> Page:
        cursor = encode_cursor(result.last_key) if result.last_key is not None else None
        return Page(result.items, cursor, result.count, result.scanned_count)

    # -- batches ----------------------------------------------------------------------------

    def batch_get(
        self,
        keys: Sequence[Mapping[str, Any]],
        *,
        projection: Any = None,
        names: Mapping[str, str] | None = None,
        consistent: bool = False,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Up to 100 items by key: (items found, in no promised order; keys left unprocessed)."""
        keys = list(keys)
        if not keys:
            raise ValidationError("The list of keys to get must not be empty")
        if len(keys) > MAX_BATCH_GET:
            raise ValidationError(
                f"Too many items requested for the BatchGetItem call: {len(keys)} keys, at most {MAX_BATCH_GET}"
            )
        checked = [self._check_key(k) for k in keys]
        _no_duplicates(checked, self.schema.key_names)
        proj = compile.projection_only(projection, names) if (projection is not None or names) else None
        return self.backend.batch_get(checked, proj, bool(consistent))

    def batch_write(
        self,
        put: Sequence[Mapping[str, Any]] = (),
        delete: Sequence[Mapping[str, Any]] = (),
    ) -> list[Any]:
        """Up to 25 puts and deletes, each atomic on its own; returns the requests left unprocessed."""
        puts = [self.prepare(item) for item in put]
        deletes = [self._check_key(k) for k in delete]
        total = len(puts) + len(deletes)
        if total == 0:
            raise ValidationError("A batch write needs at least one put or delete request")
        if total > MAX_BATCH_WRITE:
            raise ValidationError(
                f"Too many items requested for the BatchWriteItem call: {total} requests, at most {MAX_BATCH_WRITE}"
            )
        if sum(size for _, size in puts) > MAX_BATCH_WRITE_BYTES:
            raise ValidationError("Item collection size of the BatchWriteItem request exceeds 16 MB")
        _no_duplicates([{n: i[n] for n in self.schema.key_names} for i, _ in puts] + deletes, self.schema.key_names)
        return self.backend.batch_write(puts, deletes)

    # -- transaction actions ----------------------------------------------------------------

    def tx_put(
        self,
        item: Mapping[str, Any],
        *,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old_on_condition_failure: bool = False,
    ) -> TxAction:
        from stratus.resources.table.transactions import TxAction

        clean, size = self.prepare(item)
        cond = _condition(condition, names, values)
        write = Write(
            "put",
            {n: clean[n] for n in self.schema.key_names},
            clean,
            size,
            None,
            cond,
            "NONE",
            return_old_on_condition_failure,
        )
        return TxAction(self, write, (condition, names, values))

    def tx_update(
        self,
        key: Mapping[str, Any],
        update: Any = None,
        *,
        set: Mapping[str, Any] | None = None,
        remove: Sequence[str] | None = None,
        add: Mapping[str, Any] | None = None,
        delete: Mapping[str, Any] | None = None,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old_on_condition_failure: bool = False,
    ) -> TxAction:
        from stratus.resources.table.transactions import TxAction

        checked = self._check_key(key)
        parsed, cond = compile.update_and_condition(
            update, set, remove, add, delete, condition, names, values, self.schema.key_names
        )
        write = Write("update", checked, None, 0, parsed, cond, "NONE", return_old_on_condition_failure)
        return TxAction(self, write, (update, set, remove, add, delete, condition, names, values))

    def tx_delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: Any = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old_on_condition_failure: bool = False,
    ) -> TxAction:
        from stratus.resources.table.transactions import TxAction

        checked = self._check_key(key)
        cond = _condition(condition, names, values)
        write = Write("delete", checked, None, 0, None, cond, "NONE", return_old_on_condition_failure)
        return TxAction(self, write, (condition, names, values))

    def tx_check(
        self,
        key: Mapping[str, Any],
        condition: Any,
        *,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_old_on_condition_failure: bool = False,
    ) -> TxAction:
        from stratus.resources.table.transactions import TxAction

        checked = self._check_key(key)
        if condition is None:
            raise ValidationError("A ConditionCheck action needs a condition")
        cond = compile.condition_only(condition, names, values)
        write = Write("check", checked, None, 0, None, cond, "NONE", return_old_on_condition_failure)
        return TxAction(self, write, (condition, names, values))

    def tx_get(
        self, key: Mapping[str, Any], *, projection: Any = None, names: Mapping[str, str] | None = None
    ) -> TxGet:
        from stratus.resources.table.transactions import TxGet

        checked = self._check_key(key)
        proj = compile.projection_only(projection, names) if (projection is not None or names) else None
        return TxGet(self, checked, proj)


def _no_duplicates(keys: list[dict[str, Any]], names: tuple[str, ...]) -> None:
    seen: set[tuple[Any, ...]] = set()
    for key in keys:
        marker = tuple((type(key[n]).__name__, key[n]) for n in names)
        if marker in seen:
            raise ValidationError("Provided list of item keys contains duplicates")
        seen.add(marker)
