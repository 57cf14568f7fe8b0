"""The table port (DynamoDB): declare with ``app.table(...)``, use the returned :class:`Table`.

from stratus.resources.table import Attr, GlobalIndex, Key, transact_write

orders = app.table("orders", partition_key="customer", sort_key=("at", "N"),
                   indexes=[GlobalIndex("by_status", partition_key="status")])
orders.put({"customer": "c1", "at": 1, "status": "open"}, condition=Attr("customer").not_exists())
page = orders.query(Key("customer").eq("c1") & Key("at").gt(0), limit=20)
"""

from stratus.errors import ConditionalCheckFailed, ResourceNotFound, ValidationError
from stratus.resources.table.errors import (
    CancellationReason,
    IdempotentParameterMismatch,
    TransactionCanceled,
)
from stratus.resources.table.expressions import (
    Attr,
    Condition,
    Key,
    KeyCondition,
    Projection,
    Update,
    if_not_exists,
    list_append,
)
from stratus.resources.table.port import Page, Table, TableBackend
from stratus.resources.table.schema import GlobalIndex, LocalIndex
from stratus.resources.table.transactions import TxAction, TxGet, transact_get, transact_write

__all__ = [
    "Attr",
    "CancellationReason",
    "Condition",
    "ConditionalCheckFailed",
    "GlobalIndex",
    "IdempotentParameterMismatch",
    "Key",
    "KeyCondition",
    "LocalIndex",
    "Page",
    "Projection",
    "ResourceNotFound",
    "Table",
    "TableBackend",
    "TransactionCanceled",
    "TxAction",
    "TxGet",
    "Update",
    "ValidationError",
    "if_not_exists",
    "list_append",
    "transact_get",
    "transact_write",
]
