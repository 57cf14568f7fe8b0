"""Delivering a payload to any resource that can be a target or a destination.

Rules, schedules, subscriptions and Lambda destinations all name a target resource; this
module is the one place that knows how each kind receives a payload, so every source
delivers the same way.
"""

from __future__ import annotations

import json
from typing import Any

from stratus.errors import ValidationError
from stratus.resources.base import Resource


def deliver(target: Resource[Any], payload: Any, *, source: str = "stratus", detail_type: str = "") -> None:
    """Send ``payload`` to ``target`` the way AWS delivers to that kind of resource."""
    kind = target.kind
    body = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    if kind == "function":
        target.invoke_async(payload)  # type: ignore[attr-defined]
    elif kind == "queue":
        target.send(body)  # type: ignore[attr-defined]
    elif kind == "topic":
        target.publish(body)  # type: ignore[attr-defined]
    elif kind == "event_bus":
        detail = payload if isinstance(payload, dict) else {"value": payload}
        target.put(source=source, detail_type=detail_type or "Stratus Delivery", detail=detail)  # type: ignore[attr-defined]
    elif kind == "workflow":
        target.start(payload)  # type: ignore[attr-defined]
    else:
        raise ValidationError(f"a {kind} cannot be a target (resource {target.name!r})")
