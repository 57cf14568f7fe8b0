"""Event buses (EventBridge): PutEvents, rules with event patterns, targets, archives and replay.

    bus = app.event_bus("shop")
    bus.rule("order-placed", pattern={"detail-type": ["OrderPlaced"]},
             targets=[send_receipt, Target(analytics, input_path="$.detail")])

    @app.on_event(bus, pattern={"source": ["shop.orders"]})
    def on_order(event, context): ...

    bus.put(source="shop.orders", detail_type="OrderPlaced", detail={"id": "o-1"})

Patterns are EventBridge's own language (:mod:`stratus.matching`), validated when the rule
is declared. Targets receive the event (or its transformation) with EventBridge's
retry policy: up to ``retry_attempts`` tries over ``max_event_age`` seconds, then the
target's dead-letter queue.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.errors import ValidationError
from stratus.matching import EventPattern, compile_pattern
from stratus.resources.base import Resource

if TYPE_CHECKING:
    from stratus.app import App

MAX_ENTRIES = 10
MAX_PUT_BYTES = 256 * 1024
MAX_TARGETS = 5
TARGET_KINDS = ("function", "queue", "topic", "event_bus", "workflow")
_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_PATH = re.compile(r"^\$(\.[A-Za-z0-9_\-]+|\[\d+\])*$")
_VAR = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class InputTransformer:
    """EventBridge's input transformer: variables from JSONPaths, then a template using ``<var>``."""

    template: str
    paths: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.template, str) or not self.template:
            raise ValidationError("InputTemplate must be a non-empty string")
        if len(self.paths) > 100:
            raise ValidationError("InputPathsMap can have at most 100 entries")
        for name, path in self.paths.items():
            if not _VAR.match(name) or name.startswith("aws."):
                raise ValidationError(f"InputPathsMap key {name!r} is not a valid variable name")
            check_path(path, f"InputPathsMap[{name!r}]")


def check_path(path: str, label: str) -> str:
    if not isinstance(path, str) or not _PATH.match(path):
        raise ValidationError(f"{label}: {path!r} is not a valid JSONPath (e.g. $.detail.id or $.resources[0])")
    return path


@dataclass(frozen=True)
class Target:
    """Where a rule sends matching events, and how."""

    resource: Resource[Any]
    input: Any = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    retry_attempts: int = 185
    max_event_age: int = 86400
    dead_letter: Resource[Any] | None = None
    group_id: str | None = None  # MessageGroupId for a FIFO queue target

    def __post_init__(self) -> None:
        if not isinstance(self.resource, Resource) or self.resource.kind not in TARGET_KINDS:
            raise ValidationError(
                f"a rule target must be a function, queue, topic, event bus or workflow, got {self.resource!r}"
            )
        given = [x for x in (self.input, self.input_path, self.input_transformer) if x is not None]
        if len(given) > 1:
            raise ValidationError("a target takes at most one of input, input_path and input_transformer")
        if self.input_path is not None:
            check_path(self.input_path, "InputPath")
        if not 0 <= self.retry_attempts <= 185:
            raise ValidationError("retry_attempts must be 0-185")
        if not 60 <= self.max_event_age <= 86400:
            raise ValidationError("max_event_age must be 60-86400 seconds")
        if self.dead_letter is not None and getattr(self.dead_letter, "kind", None) != "queue":
            raise ValidationError("a target's dead_letter must be a queue")
        if getattr(self.resource, "fifo", False) and not self.group_id:
            raise ValidationError(f"target {self.resource.name!r} is a FIFO queue: give it a group_id")

    @property
    def label(self) -> str:
        return f"{self.resource.kind}:{self.resource.name}"


@dataclass
class Rule:
    name: str
    pattern: EventPattern
    targets: list[Target]
    description: str = ""
    enabled: bool = True

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pattern": self.pattern.source,
            "targets": [t.label for t in self.targets],
            "enabled": self.enabled,
            "description": self.description,
        }


@dataclass(frozen=True)
class Archive:
    name: str
    pattern: EventPattern | None
    retention_days: int


@dataclass(frozen=True)
class PutEventsResultEntry:
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class PutEventsResult:
    failed_entry_count: int
    entries: list[PutEventsResultEntry]


class EventBusBackend(ABC):
    @abstractmethod
    def put_events(self, entries: list[dict[str, Any]]) -> PutEventsResult: ...

    @abstractmethod
    def replay(self, archive: str, start: float, end: float, rules: list[str] | None, name: str | None) -> str: ...

    @abstractmethod
    def set_rule_enabled(self, rule: str, enabled: bool) -> None: ...

    @abstractmethod
    def archived(self, archive: str) -> list[dict[str, Any]]: ...


def _epoch(value: datetime | float, label: str) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(f"{label} must be timezone-aware")
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValidationError(f"{label} must be a datetime or epoch seconds")


class EventBus(Resource[EventBusBackend]):
    """An event bus with its rules and archives."""

    kind = "event_bus"
    max_name_length = 256

    def __init__(self, app: App, name: str, *, description: str = "") -> None:
        super().__init__(app, name)
        if not _BUS_NAME.match(name) or name == "default":
            raise ValidationError(f"event bus name {name!r} is invalid (and 'default' is reserved)")
        self.description = description
        self.rules: dict[str, Rule] = {}
        self.archives: dict[str, Archive] = {}

    # -- declarations ---------------------------------------------------------------------
    def rule(
        self,
        name: str,
        *,
        pattern: dict[str, Any] | str,
        targets: list[Resource[Any] | Target],
        description: str = "",
        enabled: bool = True,
    ) -> Rule:
        """Declare a rule: events matching ``pattern`` go to each of ``targets`` (≤ 5)."""
        if not isinstance(name, str) or not _RULE_NAME.match(name):
            raise ValidationError(f"rule name {name!r} must be 1-64 characters of [.-_A-Za-z0-9]")
        if name in self.rules:
            raise ValidationError(f"event bus {self.name!r} already has a rule named {name!r}")
        compiled = compile_pattern(pattern)
        if not isinstance(targets, list) or not targets:
            raise ValidationError(f"rule {name!r} needs at least one target")
        if len(targets) > MAX_TARGETS:
            raise ValidationError(f"rule {name!r} has {len(targets)} targets; a rule can have at most {MAX_TARGETS}")
        normalized = [t if isinstance(t, Target) else Target(t) for t in targets]
        for target in normalized:
            if target.resource.app is not self.app:
                raise ValidationError(f"rule {name!r}: target {target.resource!r} belongs to another app")
            if target.resource is self:
                raise ValidationError(f"rule {name!r}: a bus cannot target itself")
        rule = Rule(name, compiled, normalized, description, enabled)
        self.rules[name] = rule
        return rule

    def archive(self, name: str, *, pattern: dict[str, Any] | str | None = None, retention_days: int = 0) -> Archive:
        """Keep (matching) events of this bus for replay; retention 0 = forever."""
        if not isinstance(name, str) or not _RULE_NAME.match(name):
            raise ValidationError(f"archive name {name!r} must be 1-64 characters of [.-_A-Za-z0-9]")
        if not isinstance(retention_days, int) or retention_days < 0:
            raise ValidationError("retention_days must be a whole number >= 0")
        archive = Archive(name, compile_pattern(pattern) if pattern is not None else None, retention_days)
        self.archives[name] = archive
        return archive

    # -- run time -------------------------------------------------------------------------
    def put(
        self,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any] | str,
        resources: list[str] | None = None,
        time: datetime | None = None,
    ) -> str:
        """Put one event; returns its id (raises ValidationError if EventBridge would reject it)."""
        result = self.put_events(
            [{"source": source, "detail_type": detail_type, "detail": detail, "resources": resources, "time": time}]
        )
        entry = result.entries[0]
        if entry.error_code:
            raise ValidationError(f"{entry.error_code}: {entry.error_message}")
        assert entry.event_id is not None
        return entry.event_id

    def put_events(self, entries: list[dict[str, Any]]) -> PutEventsResult:
        """PutEvents: up to 10 entries (``source``, ``detail_type``, ``detail``, optional ``resources``,
        ``time``); each entry succeeds or fails on its own, as AWS reports."""
        if not isinstance(entries, list) or not entries:
            raise ValidationError("PutEvents needs a non-empty list of entries")
        if len(entries) > MAX_ENTRIES:
            raise ValidationError(
                f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ENTRIES}"
            )
        return self.backend.put_events(entries)

    def replay(
        self,
        archive: str,
        *,
        start: datetime | float,
        end: datetime | float,
        rules: list[str] | None = None,
        name: str | None = None,
    ) -> str:
        """Send the archived events with ``start <= time < end`` through the rules again; returns the replay name."""
        if archive not in self.archives:
            raise ValidationError(f"event bus {self.name!r} has no archive named {archive!r}")
        t0, t1 = _epoch(start, "start"), _epoch(end, "end")
        if t1 <= t0:
            raise ValidationError("replay end must be after start")
        for rule in rules or []:
            if rule not in self.rules:
                raise ValidationError(f"event bus {self.name!r} has no rule named {rule!r}")
        return self.backend.replay(archive, t0, t1, rules, name)

    def archived(self, archive: str) -> list[dict[str, Any]]:
        if archive not in self.archives:
            raise ValidationError(f"event bus {self.name!r} has no archive named {archive!r}")
        return self.backend.archived(archive)

    def enable_rule(self, name: str) -> None:
        self._rule(name)
        self.backend.set_rule_enabled(name, True)

    def disable_rule(self, name: str) -> None:
        self._rule(name)
        self.backend.set_rule_enabled(name, False)

    def _rule(self, name: str) -> Rule:
        try:
            return self.rules[name]
        except KeyError:
            raise ValidationError(f"event bus {self.name!r} has no rule named {name!r}") from None

    def settings(self) -> dict[str, Any]:
        return {
            "rules": [r.describe() for r in self.rules.values()],
            "archives": [{"name": a.name, "retention_days": a.retention_days} for a in self.archives.values()],
        }
