"""The table port's conformance fixture: bound tables, parametrized by adapter.

Tests use only the public handle API plus the few environment hooks below
(``restart``, ``advance``, ``stream``), so the same suite runs against every
adapter. ``local`` is the embedded SQLite adapter; an ``aws`` adapter on moto joins
the parameter list when it exists (capabilities it lacks are skipped through
``env.supports``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.table import GlobalIndex, LocalIndex, Table

ADAPTERS = ["local", "aws"]


class TableEnv:
    """Bound tables and the hooks a conformance test may use."""

    def __init__(self, adapter: str, app: App, tables: dict[str, Table], local: Any) -> None:
        self.adapter = adapter
        self.app = app
        self.tables = tables
        self._local = local

    def __getattr__(self, name: str) -> Table:
        try:
            return self.__dict__["tables"][name]
        except KeyError:
            raise AttributeError(name) from None

    def supports(self, capability: str) -> bool:
        """virtual_clock (TTL, windows), restart, stream."""
        if self.adapter == "aws":
            # DynamoDB Streams are readable on moto; time and restarts belong to the local runtime.
            return capability in AWS_CAPABILITIES
        return self.adapter == "local"

    def need(self, capability: str) -> None:
        if not self.supports(capability):
            pytest.skip(f"adapter {self.adapter} lacks {capability}")

    def restart(self) -> None:
        self._local.restart()

    def advance(self, seconds: float) -> None:
        self._local.advance(seconds)

    def now(self) -> float:
        return float(self._local.clock.now())

    def stream(self, table: Table, after: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The table's change-stream records (DynamoDB Streams shape), oldest first."""
        return table.backend.stream_read(after, limit)


#: What the aws adapter (on moto) offers of the hooks above.
AWS_CAPABILITIES = frozenset({"stream"})

#: Tests the aws adapter cannot pass on moto, and why (DynamoDB itself behaves as the test says).
AWS_SKIPS = {
    "test_update_that_cannot_apply_cancels_with_a_validation_reason": (
        "moto gap: an update that cannot apply inside TransactWriteItems raises ValidationException "
        "instead of TransactionCanceledException with a ValidationError reason"
    ),
    "test_transact_get_reads_a_snapshot": "moto gap: TransactGetItems ignores ProjectionExpression",
    "test_index_key_of_the_wrong_type_is_rejected": (
        "moto gap: UpdateItem does not check the type of a global index key it sets"
    ),
    "test_local_index_fetches_unprojected_attributes_when_asked": (
        "moto gap: a query on a local index does not fetch attributes outside its projection"
    ),
    "test_records_have_the_dynamodb_streams_shape": "moto gap: stream records carry eventVersion 1.0 (DynamoDB: 1.1)",
    "test_writes_that_change_nothing_or_fail_emit_nothing": (
        "moto gap: writes that change nothing still append MODIFY stream records"
    ),
    "test_listeners_hear_of_new_records": (
        "local-only hook: on AWS, stream records reach functions through event-source mappings"
    ),
}


def declare() -> tuple[App, dict[str, Table]]:
    app = App("conf")
    tables = {
        "products": app.table("products", partition_key="id"),
        "orders": app.table(
            "orders",
            partition_key="customer",
            sort_key=("at", "N"),
            indexes=[
                GlobalIndex("by_status", partition_key="status", sort_key=("at", "N")),
                GlobalIndex("by_sku", partition_key="sku", projection="KEYS_ONLY"),
                GlobalIndex("by_region", partition_key="region", projection=["total"]),
                LocalIndex("by_total", sort_key=("total", "N")),
                LocalIndex("by_note", sort_key="note", projection="KEYS_ONLY"),
            ],
            stream="NEW_AND_OLD_IMAGES",
        ),
        "events": app.table("events", partition_key="topic", sort_key="id", stream="KEYS_ONLY"),
        "news": app.table("news", partition_key="id", stream="NEW_IMAGE"),
        "olds": app.table("olds", partition_key="id", stream="OLD_IMAGE"),
        "sessions": app.table("sessions", partition_key="id", ttl_attribute="expires", stream="NEW_AND_OLD_IMAGES"),
        "blobs": app.table("blobs", partition_key=("h", "B"), sort_key=("r", "B")),
        "numbers": app.table("numbers", partition_key=("n", "N")),
    }
    return app, tables


@pytest.fixture(params=ADAPTERS)
def env(request: pytest.FixtureRequest) -> Iterator[TableEnv]:
    app, tables = declare()
    if request.param == "local":
        with stratus.testing.local(app) as local:
            yield TableEnv("local", app, tables, local)
    elif request.param == "aws":
        reason = AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
        from tests.stratus.aws.adapters.moto_cloud import create_table, moto_cloud

        from stratus.aws.adapters.table import AwsTable

        with moto_cloud() as cloud:
            for table in tables.values():
                create_table(cloud, table)
                cloud.bind(table, AwsTable)
            yield TableEnv("aws", app, tables, None)
    else:  # pragma: no cover - adapters added later
        pytest.skip(f"adapter {request.param} not available")
