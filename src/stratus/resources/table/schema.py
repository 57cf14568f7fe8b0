"""A table's key schema and secondary indexes: declared once, checked like DynamoDB checks them.

The declaration (``partition_key="id"``, ``sort_key=("at", "N")``, ``GlobalIndex(...)``)
is validated when the App is imported, with CreateTable's rules. The resulting
:class:`Schema` then checks every key and every written item with the messages
DynamoDB returns (missing key, type mismatch, empty key value, key too long, index
key of the wrong type), so the local adapter and AWS reject the same requests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from stratus.errors import ValidationError

KeyType = Literal["S", "N", "B"]
Projection = Literal["ALL", "KEYS_ONLY"] | Sequence[str]
KeySpec = str | tuple[str, str]

#: Longest partition key value (bytes) and sort key value.
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_GLOBAL_INDEXES = 20
MAX_LOCAL_INDEXES = 5
#: Non-key attributes projected into all of a table's secondary indexes together.
MAX_PROJECTED_ATTRIBUTES = 100

_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {"S": (str,), "N": (Decimal, int), "B": (bytes, bytearray)}


@dataclass(frozen=True)
class KeyAttribute:
    """One key attribute: its name and scalar type (S, N or B)."""

    name: str
    type: str

    @staticmethod
    def parse(spec: object, what: str) -> KeyAttribute:
        if isinstance(spec, KeyAttribute):
            return spec
        if isinstance(spec, str):
            name, kind = spec, "S"
        elif isinstance(spec, tuple) and len(spec) == 2:
            name, kind = spec
        else:
            raise ValidationError(f"{what} must be an attribute name or a (name, type) pair, got {spec!r}")
        if not isinstance(name, str) or not 1 <= len(name.encode()) <= 255:
            raise ValidationError(f"{what} name must be 1-255 bytes of text, got {name!r}")
        if kind not in ("S", "N", "B"):
            raise ValidationError(f"{what} {name!r} has type {kind!r}; key attributes are of type 'S', 'N' or 'B'")
        return KeyAttribute(name, kind)


def validate_index_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"index name {name!r} must be 3-255 characters of letters, digits, '_', '-' and '.'")
    return name


def _projection(value: object, index: str) -> tuple[str, tuple[str, ...]]:
    if value in ("ALL", "KEYS_ONLY"):
        return str(value), ()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        names = tuple(value)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValidationError(f"index {index!r}: an INCLUDE projection is a non-empty list of attribute names")
        if len(set(names)) != len(names):
            raise ValidationError(f"index {index!r}: the projection names an attribute twice")
        return "INCLUDE", names
    raise ValidationError(
        f"index {index!r}: projection must be 'ALL', 'KEYS_ONLY' or a list of attribute names, got {value!r}"
    )


@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index: its own partition key (and sort key) over the table's items."""

    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None
    projection: Projection = "ALL"


@dataclass(frozen=True)
class LocalIndex:
    """A local secondary index: the table's partition key with another sort key."""

    name: str
    sort_key: KeySpec
    projection: Projection = "ALL"


@dataclass(frozen=True)
class IndexSchema:
    """A validated secondary index."""

    name: str
    is_global: bool
    partition: KeyAttribute
    sort: KeyAttribute | None
    projection_type: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()
    #: Every key attribute an index entry carries: the index keys, then the table keys.
    key_names: tuple[str, ...] = field(default=())

    def project(self, item: dict[str, Any]) -> dict[str, Any]:
        """The part of ``item`` this index holds."""
        if self.projection_type == "ALL":
            return item
        keep = self.key_names + self.include
        return {k: item[k] for k in keep if k in item}

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": "global" if self.is_global else "local",
            "partition_key": (self.partition.name, self.partition.type),
            "sort_key": (self.sort.name, self.sort.type) if self.sort else None,
            "projection": list(self.include) if self.projection_type == "INCLUDE" else self.projection_type,
        }
        return out


def _check_type(attribute: KeyAttribute, value: Any) -> bool:
    kinds = _PYTHON_TYPES[attribute.type]
    return isinstance(value, kinds) and not isinstance(value, bool)


def _value_bytes(attribute: KeyAttribute, value: Any) -> int:
    if attribute.type == "S":
        return len(value.encode())
    if attribute.type == "B":
        return len(value)
    return 21  # numbers are at most 21 bytes; never over a key limit


class Schema:
    """The key schema of one table and its indexes, with DynamoDB's checks."""

    def __init__(
        self,
        partition_key: KeySpec,
        sort_key: KeySpec | None,
        indexes: Sequence[GlobalIndex | LocalIndex],
    ) -> None:
        self.partition = KeyAttribute.parse(partition_key, "partition_key")
        self.sort = KeyAttribute.parse(sort_key, "sort_key") if sort_key is not None else None
        self.key_names: tuple[str, ...] = (self.partition.name,) + ((self.sort.name,) if self.sort else ())
        if self.sort and self.sort.name == self.partition.name:
            raise ValidationError(f"partition_key and sort_key are both {self.partition.name!r}")
        types: dict[str, str] = {a.name: a.type for a in (self.partition, self.sort) if a}
        if not isinstance(indexes, Sequence) or isinstance(indexes, str):
            raise ValidationError("indexes must be a list of GlobalIndex and LocalIndex")
        self.indexes: dict[str, IndexSchema] = {}
        n_global = n_local = 0
        projected: set[str] = set()
        for declared in indexes:
            if isinstance(declared, GlobalIndex):
                n_global += 1
                index = self._global(declared)
            elif isinstance(declared, LocalIndex):
                n_local += 1
                index = self._local(declared)
            else:
                raise ValidationError(f"indexes must hold GlobalIndex or LocalIndex, got {declared!r}")
            if index.name in self.indexes:
                raise ValidationError(f"two indexes are named {index.name!r}")
            for attribute in (index.partition, index.sort):
                if attribute is None:
                    continue
                known = types.setdefault(attribute.name, attribute.type)
                if known != attribute.type:
                    raise ValidationError(
                        f"attribute {attribute.name!r} is declared as {known} and as {attribute.type} "
                        f"(index {index.name!r}); an attribute has one type"
                    )
            projected.update(index.include)
            self.indexes[index.name] = index
        if n_global > MAX_GLOBAL_INDEXES:
            raise ValidationError(f"a table has at most {MAX_GLOBAL_INDEXES} global secondary indexes, got {n_global}")
        if n_local > MAX_LOCAL_INDEXES:
            raise ValidationError(f"a table has at most {MAX_LOCAL_INDEXES} local secondary indexes, got {n_local}")
        if len(projected) > MAX_PROJECTED_ATTRIBUTES:
            raise ValidationError(
                f"the indexes project {len(projected)} non-key attributes; at most {MAX_PROJECTED_ATTRIBUTES} "
                "across all secondary indexes of a table"
            )
        self.attribute_types = types
        self.index_attributes: dict[str, list[tuple[KeyAttribute, IndexSchema]]] = {}
        for index in self.indexes.values():
            for attribute in (index.partition, index.sort):
                if attribute is not None and attribute.name not in self.key_names:
                    self.index_attributes.setdefault(attribute.name, []).append((attribute, index))
        self.check_item = self._compile_item_check()
        self.check_key = self._compile_key_check()

    def _keys_of_index(self, partition: KeyAttribute, sort: KeyAttribute | None) -> tuple[str, ...]:
        names = [partition.name] + ([sort.name] if sort else []) + list(self.key_names)
        return tuple(dict.fromkeys(names))

    def _global(self, declared: GlobalIndex) -> IndexSchema:
        name = validate_index_name(declared.name)
        partition = KeyAttribute.parse(declared.partition_key, f"index {name!r} partition_key")
        sort = KeyAttribute.parse(declared.sort_key, f"index {name!r} sort_key") if declared.sort_key else None
        if sort and sort.name == partition.name:
            raise ValidationError(f"index {name!r}: partition_key and sort_key are both {partition.name!r}")
        kind, include = _projection(declared.projection, name)
        return IndexSchema(name, True, partition, sort, kind, include, self._keys_of_index(partition, sort))

    def _local(self, declared: LocalIndex) -> IndexSchema:
        name = validate_index_name(declared.name)
        if self.sort is None:
            raise ValidationError(
                f"local index {name!r} needs a table sort key: a table without a sort key cannot have local "
                "secondary indexes"
            )
        sort = KeyAttribute.parse(declared.sort_key, f"index {name!r} sort_key")
        if sort.name == self.partition.name:
            raise ValidationError(f"local index {name!r}: its sort key cannot be the table's partition key")
        kind, include = _projection(declared.projection, name)
        return IndexSchema(name, False, self.partition, sort, kind, include, self._keys_of_index(self.partition, sort))

    # -- checks ---------------------------------------------------------------------------------

    def index(self, name: str) -> IndexSchema:
        try:
            return self.indexes[name]
        except KeyError:
            raise_unknown_index(name)
            raise

    def _compile_key_check(self) -> Any:
        """A fast check for well-formed keys that falls back to :meth:`check_key_fully`."""
        slow = self.check_key_fully
        attributes = [a for a in (self.partition, self.sort) if a is not None]
        limits = (MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES)
        checks = [
            (a.name, a.type, limit // 4 if a.type == "S" else limit)
            for a, limit in zip(attributes, limits, strict=False)
        ]
        count = len(checks)
        missing = _MISSING
        int_limit = 10**38

        def check_key(key: object) -> dict[str, Any]:
            if type(key) is not dict or len(key) != count:
                return slow(key)
            out: dict[str, Any] = {}
            value: Any
            for name, kind, limit in checks:
                value = key.get(name, missing)
                if kind == "S":
                    if type(value) is not str or not 0 < len(value) <= limit:
                        return slow(key)
                elif kind == "B":
                    if type(value) is not bytes or not 0 < len(value) <= limit:
                        return slow(key)
                elif type(value) is int and -int_limit < value < int_limit:
                    value = Decimal(value)
                elif type(value) is Decimal:
                    _, digits, exponent = value.as_tuple()
                    if not (
                        digits
                        and digits[-1] != 0
                        and isinstance(exponent, int)
                        and exponent <= 0
                        and len(digits) <= 38
                        and -130 <= value.adjusted() <= 125
                    ):
                        return slow(key)
                else:
                    return slow(key)
                out[name] = value
            return out

        return check_key

    def check_key_fully(self, key: object) -> dict[str, Any]:
        """A key for get/delete/update: exactly the key attributes, of the right types."""
        if not isinstance(key, Mapping):
            raise ValidationError(f"a key must be a mapping of attribute names to values, got {type(key).__name__}")
        if len(key) != len(self.key_names):
            raise ValidationError("The provided key element does not match the schema")
        out: dict[str, Any] = {}
        for attribute in (self.partition, self.sort):
            if attribute is None:
                continue
            value = key.get(attribute.name, _MISSING)
            if value is _MISSING or not _check_type(attribute, value):
                raise ValidationError("The provided key element does not match the schema")
            out[attribute.name] = self._key_value(attribute, value, True)
        return out

    def _compile_item_check(self) -> Any:
        """A fast check for well-formed items that falls back to :meth:`check_item_fully`.

        Items reach it normalized (numbers are Decimal, binary is bytes), so exact type
        tests suffice; short strings and binaries cannot exceed a key size limit.
        """
        exact = {"S": str, "N": Decimal, "B": bytes}
        keys = []
        for attribute, limit in ((self.partition, MAX_PARTITION_KEY_BYTES), (self.sort, MAX_SORT_KEY_BYTES)):
            if attribute is not None:
                keys.append((attribute.name, exact[attribute.type], limit // 4 if attribute.type == "S" else limit))
        others = []
        for name, uses in self.index_attributes.items():
            kinds = {a.type for a, _ in uses}
            if len(kinds) == 1:
                others.append((name, exact[kinds.pop()]))
            else:  # pragma: no cover - declarations forbid two types for one attribute
                others.append((name, object))
        slow = self.check_item_fully
        missing = _MISSING

        def check_item(item: dict[str, Any]) -> None:
            value: Any
            for name, kind, limit in keys:
                value = item.get(name, missing)
                if type(value) is not kind or (kind is not Decimal and not 0 < len(value) <= limit):  # type: ignore[arg-type]
                    return slow(item)
            for name, kind in others:
                value = item.get(name, missing)
                if value is not missing and (type(value) is not kind or (kind is not Decimal and not value)):
                    return slow(item)
            return None

        return check_item

    def check_item_fully(self, item: dict[str, Any]) -> None:
        """Check a (validated, normalized) item's key attributes and index keys."""
        for attribute in (self.partition, self.sort):
            if attribute is None:
                continue
            value = item.get(attribute.name, _MISSING)
            if value is _MISSING:
                raise ValidationError(
                    f"One or more parameter values were invalid: Missing the key {attribute.name} in the item"
                )
            if not _check_type(attribute, value):
                raise ValidationError(
                    f"One or more parameter values were invalid: Type mismatch for key {attribute.name} "
                    f"expected: {attribute.type} actual: {_type_name(value)}"
                )
            self._key_value(attribute, value, attribute is self.partition)
        for name, uses in self.index_attributes.items():
            value = item.get(name, _MISSING)
            if value is _MISSING:
                continue
            for attribute, index in uses:
                if not _check_type(attribute, value):
                    raise ValidationError(
                        f"One or more parameter values were invalid: Type mismatch for Index Key {name} "
                        f"Expected: {attribute.type} Actual: {_type_name(value)} IndexName: {index.name}"
                    )
                if attribute.type in ("S", "B") and len(value) == 0:
                    raise ValidationError(
                        "One or more parameter values are not valid. A value specified for a secondary index key "
                        "is not supported. The AttributeValue for a key attribute cannot contain an empty "
                        f"{'string' if attribute.type == 'S' else 'binary'} value. IndexName: {index.name}, "
                        f"IndexKey: {name}"
                    )

    def _key_value(self, attribute: KeyAttribute, value: Any, is_partition: bool) -> Any:
        if attribute.type == "N":
            from stratus.resources.table.values import validate_number

            return validate_number(value, path=attribute.name)
        if attribute.type == "B":
            value = bytes(value)
        if len(value) == 0:
            raise ValidationError(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain "
                f"an empty {'string' if attribute.type == 'S' else 'binary'} value. Key: {attribute.name}"
            )
        size = _value_bytes(attribute, value)
        if is_partition and size > MAX_PARTITION_KEY_BYTES:
            raise ValidationError(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit "
                f"of {MAX_PARTITION_KEY_BYTES} bytes"
            )
        if not is_partition and size > MAX_SORT_KEY_BYTES:
            raise ValidationError(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size "
                f"limit of {MAX_SORT_KEY_BYTES} bytes"
            )
        return value

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {n: item[n] for n in self.key_names}

    def settings(self) -> dict[str, Any]:
        return {
            "partition_key": (self.partition.name, self.partition.type),
            "sort_key": (self.sort.name, self.sort.type) if self.sort else None,
            "indexes": [i.settings() for i in self.indexes.values()],
        }


_MISSING: Any = object()


def _type_name(value: Any) -> str:
    from stratus.resources.table.values import type_of

    try:
        return type_of(value)
    except ValidationError:
        return type(value).__name__


def raise_unknown_index(name: str) -> None:
    from stratus.errors import ResourceNotFound

    raise ResourceNotFound(f"The table does not have the specified index: {name}")
