"""The embedded table adapter: DynamoDB tables on SQLite (see :mod:`.engine` for the layout)."""

from stratus.local.table.adapter import LocalTable

__all__ = ["LocalTable"]
