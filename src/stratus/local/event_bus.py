"""The local event bus: EventBridge's PutEvents, rule matching, targets, archives and replay.

PutEvents matches each event against the bus's enabled rules (one compiled
:class:`~stratus.matching.RuleSet`), applies each target's input transformation, and writes
one delivery row per (rule, target) plus the archive copies, all in the transaction that
acknowledges the put. The pump delivers rows with EventBridge's retry policy (exponential
backoff up to the target's ``retry_attempts`` and ``max_event_age``) and sends what fails
for good to the target's dead-letter queue, with EventBridge's error attributes.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stratus.clock import iso8601
from stratus.errors import ValidationError
from stratus.local.pumps import IDLE, PumpResult
from stratus.local.targets import deliver
from stratus.matching import RuleSet
from stratus.observability.context import current_header
from stratus.observability.hub import attach
from stratus.observability.tracing import span
from stratus.resources.event_bus import (
    MAX_PUT_BYTES,
    EventBus,
    EventBusBackend,
    PutEventsResult,
    PutEventsResultEntry,
    Target,
)

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.events")

MAX_BACKOFF = 60.0

_MIGRATIONS = [
    """
    CREATE TABLE bus_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        bus TEXT NOT NULL,
        rule TEXT NOT NULL,
        target INTEGER NOT NULL,
        payload TEXT NOT NULL,
        event_time REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at REAL NOT NULL
    );
    CREATE INDEX bus_deliveries_due ON bus_deliveries (due_at);
    CREATE TABLE bus_archive (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        bus TEXT NOT NULL,
        archive TEXT NOT NULL,
        event TEXT NOT NULL,
        event_time REAL NOT NULL,
        archived_at REAL NOT NULL
    );
    CREATE INDEX bus_archive_time ON bus_archive (bus, archive, event_time);
    CREATE TABLE bus_rule_state (bus TEXT NOT NULL, rule TEXT NOT NULL, enabled INTEGER NOT NULL,
                                 PRIMARY KEY (bus, rule))
    """,
    # The X-Ray trace header of the put that made each delivery (its target continues the trace).
    "ALTER TABLE bus_deliveries ADD COLUMN trace TEXT",
]

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def _fill_template(template: str, variables: dict[str, Any]) -> str:
    """Replace ``<var>`` as EventBridge does: inside a JSON string the value's text, elsewhere its JSON."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        char = template[i]
        if char == "\\" and in_string:
            out.append(template[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, i)
            if match and match.group(1) in variables:
                value = variables[match.group(1)]
                if in_string:
                    text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(json.dumps(value))
                i = match.end()
                continue
        out.append(char)
        i += 1
    return "".join(out)


def resolve_path(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a simple JSONPath (``$.a.b[0]``); returns (found, value)."""
    value = document
    for name, index in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", path[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return False, None
            value = value[name]
        else:
            i = int(index)
            if not isinstance(value, list) or i >= len(value):
                return False, None
            value = value[i]
    return True, value


def transform(target: Target, event: dict[str, Any], rule_name: str, rule_arn: str) -> Any:
    """The payload ``target`` receives for ``event``: the event, a constant, a path, or a template."""
    if target.input is not None:
        return target.input
    if target.input_path is not None:
        return resolve_path(event, target.input_path)[1]
    transformer = target.input_transformer
    if transformer is None:
        return event
    variables: dict[str, Any] = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": event["time"],
        "aws.events.event": event,
        "aws.events.event.json": event,
    }
    for name, path in transformer.paths.items():
        found, value = resolve_path(event, path)
        variables[name] = value if found else None

    text = _fill_template(transformer.template, variables)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _entry_size(entry: dict[str, Any]) -> int:
    size = 14 if entry.get("time") is not None else 0
    for key in ("source", "detail_type"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode())
    detail = entry.get("detail")
    if isinstance(detail, str):
        size += len(detail.encode())
    elif detail is not None:
        size += len(json.dumps(detail, default=str).encode())
    for resource in entry.get("resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


class BusEngine:
    """Deliveries of every bus of a cloud (``cloud.shared("event-buses")``)."""

    name = "event-bus-deliveries"

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("events")
        self.db.migrate("event_buses", _MIGRATIONS)
        self.buses: dict[str, LocalEventBus] = {}
        self.observability = attach(cloud)
        cloud.add_pump(self)

    def pump(self) -> PumpResult:
        now = self.clock.now()
        rows = self.db.execute(
            "SELECT id, bus, rule, target, payload, event_time, attempts, trace FROM bus_deliveries "
            "WHERE due_at <= ? ORDER BY id LIMIT 200",
            (now,),
        )
        worked = False
        for delivery_id, bus_name, rule_name, index, payload, event_time, attempts, trace in rows:
            bus = self.buses.get(bus_name)
            if bus is None:
                continue
            worked = True
            rule = bus.resource.rules.get(rule_name)
            if rule is None or index >= len(rule.targets):
                self._done(delivery_id)  # the rule or target no longer exists
                continue
            target = rule.targets[index]
            with span(
                f"EventBridge {bus_name}/{rule_name}",
                "consumer",
                {"stratus.target": target.label, "stratus.attempt": attempts + 1},
                parent=trace,
                hub=self.observability,
            ):
                self._attempt(bus, rule_name, target, delivery_id, json.loads(payload), event_time, attempts, now)
        if worked:
            return PumpResult(True)
        nxt = self.db.execute("SELECT MIN(due_at) FROM bus_deliveries")[0][0]
        return PumpResult(False, nxt) if nxt is not None else IDLE

    def _attempt(
        self,
        bus: LocalEventBus,
        rule: str,
        target: Target,
        delivery_id: int,
        payload: Any,
        event_time: float,
        attempts: int,
        now: float,
    ) -> None:
        try:
            if target.resource.kind == "event_bus":
                target.resource.backend.forward(payload)
            elif target.resource.kind == "queue" and target.group_id:
                body = payload if isinstance(payload, str) else json.dumps(payload)
                target.resource.send(  # type: ignore[attr-defined]
                    body,
                    group_id=target.group_id,
                    deduplication_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"{delivery_id}")),
                )
            else:
                deliver(target.resource, payload, source="aws.events", detail_type="EventBridge Delivery")
        except Exception as error:
            attempts += 1
            if attempts > target.retry_attempts or now - event_time >= target.max_event_age:
                log.warning(
                    "bus %s rule %s: giving up on %s after %d attempts: %s",
                    bus.resource.name,
                    rule,
                    target.label,
                    attempts,
                    error,
                )
                self._dead_letter(bus, rule, target, payload, error)
                self._done(delivery_id)
                return
            backoff = min(MAX_BACKOFF, 2.0 ** (attempts - 1))
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE bus_deliveries SET attempts = ?, due_at = ? WHERE id = ?",
                    (attempts, now + backoff, delivery_id),
                )
            return
        self._done(delivery_id)

    def _dead_letter(self, bus: LocalEventBus, rule: str, target: Target, payload: Any, error: Exception) -> None:
        if target.dead_letter is None:
            return
        target.dead_letter.send(  # type: ignore[attr-defined]
            payload if isinstance(payload, str) else json.dumps(payload),
            attributes={
                "RULE_ARN": bus.rule_arn(rule),
                "TARGET_ARN": target.label,
                "ERROR_CODE": type(error).__name__,
                "ERROR_MESSAGE": str(error)[:256] or type(error).__name__,
            },
        )

    def _done(self, delivery_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM bus_deliveries WHERE id = ?", (delivery_id,))


class LocalEventBus(EventBusBackend):
    def __init__(self, resource: EventBus, cloud: LocalCloud) -> None:
        self.resource = resource
        self.cloud = cloud
        self.engine = cloud.shared("event-buses", lambda: BusEngine(cloud))
        self.engine.buses[resource.qualified_name] = self
        self.arn = cloud.arn("events", f"event-bus/{resource.qualified_name}")
        disabled = {
            rule
            for (rule,) in self.engine.db.execute(
                "SELECT rule FROM bus_rule_state WHERE bus = ? AND enabled = 0", (resource.qualified_name,)
            )
        }
        for name in disabled & set(resource.rules):
            resource.rules[name].enabled = False
        self._build()

    def _build(self) -> None:
        rules = RuleSet()
        for rule in self.resource.rules.values():
            if rule.enabled:
                rules.add(rule.name, rule.pattern)
        self.rules = rules

    def rule_arn(self, rule: str) -> str:
        return self.cloud.arn("events", f"rule/{self.resource.qualified_name}/{rule}")

    def set_rule_enabled(self, rule: str, enabled: bool) -> None:
        with self.engine.db.transaction() as conn:
            conn.execute(
                "INSERT INTO bus_rule_state (bus, rule, enabled) VALUES (?, ?, ?) "
                "ON CONFLICT(bus, rule) DO UPDATE SET enabled = excluded.enabled",
                (self.resource.qualified_name, rule, int(enabled)),
            )
        self.resource.rules[rule].enabled = enabled
        self._build()

    # -- putting ---------------------------------------------------------------------------
    def put_events(self, entries: list[dict[str, Any]]) -> PutEventsResult:
        total = sum(_entry_size(e) if isinstance(e, dict) else 0 for e in entries)
        if total > MAX_PUT_BYTES:
            raise ValidationError(f"Total size of the entries in the request is over the limit ({total} bytes).")
        now = self.cloud.clock.now()
        results: list[PutEventsResultEntry] = []
        events: list[dict[str, Any]] = []
        for entry in entries:
            event, failure = self._envelope(entry, now)
            if failure is not None:
                results.append(failure)
            else:
                assert event is not None
                events.append(event)
                results.append(PutEventsResultEntry(event_id=event["id"]))
        if events:
            with self.engine.db.transaction() as conn:
                for event in events:
                    self._route(conn, event, now, only_rules=None, archive=True)
            self.cloud.wake(self.engine)
        failed = sum(1 for r in results if r.error_code)
        return PutEventsResult(failed, results)

    def forward(self, event: dict[str, Any]) -> None:
        """Receive an event from another bus's rule (cross-bus delivery keeps the envelope)."""
        now = self.cloud.clock.now()
        with self.engine.db.transaction() as conn:
            self._route(conn, event, now, only_rules=None, archive=True)
        self.cloud.wake(self.engine)

    def _envelope(self, entry: Any, now: float) -> tuple[dict[str, Any] | None, PutEventsResultEntry | None]:
        def fail(code: str, message: str) -> tuple[None, PutEventsResultEntry]:
            return None, PutEventsResultEntry(error_code=code, error_message=message)

        if not isinstance(entry, dict):
            return fail("InvalidArgument", "Entry must be a dict.")
        unknown = set(entry) - {"source", "detail_type", "detail", "resources", "time"}
        if unknown:
            return fail("InvalidArgument", f"Unknown entry fields: {', '.join(sorted(unknown))}.")
        source, detail_type, detail = entry.get("source"), entry.get("detail_type"), entry.get("detail")
        if not isinstance(source, str) or not source:
            return fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
        if source.startswith("aws."):
            return fail("NotAuthorizedForSourceException", "Not authorized for the source.")
        if not isinstance(detail_type, str) or not detail_type:
            return fail(
                "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
            )
        if detail is None:
            return fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                return fail("MalformedDetail", "Detail is malformed.")
        if not isinstance(detail, dict):
            return fail("MalformedDetail", "Detail is malformed.")
        resources = entry.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            return fail("InvalidArgument", "Parameter Resources is not valid. Reason: Resources must be strings.")
        when = entry.get("time")
        if when is None:
            moment = now
        elif isinstance(when, datetime) and when.tzinfo is not None:
            moment = when.timestamp()
        else:
            return fail(
                "InvalidArgument", "Parameter Time is not valid. Reason: Time must be a timezone-aware datetime."
            )
        try:
            detail = json.loads(json.dumps(detail, default=str))
        except (TypeError, ValueError):
            return fail("MalformedDetail", "Detail is malformed.")
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.cloud.account_id,
            "time": iso8601(moment),
            "region": self.cloud.region,
            "resources": resources,
            "detail": detail,
        }, None

    def _route(
        self, conn: Any, event: dict[str, Any], now: float, *, only_rules: set[str] | None, archive: bool
    ) -> None:
        bus = self.resource.qualified_name
        trace = current_header()
        for rule_name in self.rules.matching(event):
            if only_rules is not None and rule_name not in only_rules:
                continue
            rule = self.resource.rules[rule_name]
            for index, target in enumerate(rule.targets):
                payload = transform(target, event, rule_name, self.rule_arn(rule_name))
                conn.execute(
                    "INSERT INTO bus_deliveries (bus, rule, target, payload, event_time, due_at, trace) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (bus, rule_name, index, json.dumps(payload), now, now, trace),
                )
        if archive and "replay-name" not in event:
            for archive_def in self.resource.archives.values():
                if archive_def.pattern is None or archive_def.pattern.matches(event):
                    conn.execute(
                        "INSERT INTO bus_archive (bus, archive, event, event_time, archived_at) VALUES (?, ?, ?, ?, ?)",
                        (bus, archive_def.name, json.dumps(event), now, now),
                    )

    # -- archives --------------------------------------------------------------------------
    def _expire_archives(self) -> None:
        now = self.cloud.clock.now()
        with self.engine.db.transaction() as conn:
            for archive in self.resource.archives.values():
                if archive.retention_days:
                    conn.execute(
                        "DELETE FROM bus_archive WHERE bus = ? AND archive = ? AND archived_at < ?",
                        (self.resource.qualified_name, archive.name, now - archive.retention_days * 86400),
                    )

    def archived(self, archive: str) -> list[dict[str, Any]]:
        self._expire_archives()
        rows = self.engine.db.execute(
            "SELECT event FROM bus_archive WHERE bus = ? AND archive = ? ORDER BY id",
            (self.resource.qualified_name, archive),
        )
        return [json.loads(r[0]) for r in rows]

    def replay(self, archive: str, start: float, end: float, rules: list[str] | None, name: str | None) -> str:
        self._expire_archives()
        replay_name = name or f"replay-{uuid.uuid4().hex[:12]}"
        rows = self.engine.db.execute(
            "SELECT event FROM bus_archive WHERE bus = ? AND archive = ? AND event_time >= ? AND event_time < ? "
            "ORDER BY id",
            (self.resource.qualified_name, archive, start, end),
        )
        now = self.cloud.clock.now()
        with self.engine.db.transaction() as conn:
            for (text,) in rows:
                event = json.loads(text)
                event["replay-name"] = replay_name
                self._route(conn, event, now, only_rules=set(rules) if rules else None, archive=False)
        self.cloud.wake(self.engine)
        return replay_name
