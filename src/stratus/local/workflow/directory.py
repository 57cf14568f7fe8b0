"""Finding a cloud's resources by the identifiers a definition uses for them.

Task Parameters name resources as AWS does — a Lambda function by name or ARN, a queue by
URL, a topic by ARN, a table or an event bus by name (or ARN), a state machine by ARN —
which are exactly the values :func:`~stratus.resources.workflow.substitution_value` puts
into definitions. The index is rebuilt when the set of bound resources changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.resources.workflow import substitution_value

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.resources.base import Resource


class Directory:
    """``find(kind, identifier)`` over every resource bound to a cloud."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._size = -1
        self._index: dict[tuple[str, str], Resource[Any]] = {}

    def _refresh(self) -> None:
        apps = self.cloud.apps
        size = sum(len(app.resources) for app in apps)
        if size == self._size:
            return
        index: dict[tuple[str, str], Resource[Any]] = {}
        region, account = self.cloud.region, self.cloud.account_id
        for app in apps:
            for resource in app.resources:
                kind = resource.kind
                if kind not in ("function", "queue", "topic", "table", "event_bus", "workflow", "bucket"):
                    continue
                index[(kind, resource.qualified_name)] = resource
                index[(kind, substitution_value(resource, region, account))] = resource
                if kind == "event_bus":
                    index[(kind, f"arn:aws:events:{region}:{account}:event-bus/{resource.qualified_name}")] = resource
                if kind == "table":
                    index[(kind, f"arn:aws:dynamodb:{region}:{account}:table/{resource.qualified_name}")] = resource
                if kind == "queue":
                    index[(kind, f"arn:aws:sqs:{region}:{account}:{resource.qualified_name}")] = resource
        self._index, self._size = index, size

    def find(self, kind: str, identifier: Any) -> Any:
        if not isinstance(identifier, str):
            return None
        self._refresh()
        found = self._index.get((kind, identifier))
        if found is None and kind == "function":
            found = self._index.get((kind, _function_name(identifier)))
        return found


def _function_name(identifier: str) -> str:
    """A function's name from a name, a partial or full ARN, with or without a qualifier."""
    parts = identifier.split(":")
    if "function" in parts:
        i = parts.index("function")
        return parts[i + 1] if i + 1 < len(parts) else identifier
    return parts[0]
