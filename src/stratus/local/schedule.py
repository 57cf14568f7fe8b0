"""The local scheduler: fires declared and run-time schedules on the one clock, durably.

Each schedule's next fire time is stored; the pump turns every due occurrence into a
delivery row (in the same transaction that moves the schedule on), then delivers due rows
to their targets. A failed delivery is retried with exponential backoff up to the
schedule's ``retry_attempts`` and ``max_event_age``, then sent to its dead-letter queue, as
EventBridge Scheduler does. Occurrences that fell due while the process was down are
delivered after a restart, unless they are older than ``max_event_age``.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from stratus.clock import iso8601
from stratus.errors import ResourceNotFound
from stratus.local.pumps import IDLE, PumpResult
from stratus.local.targets import deliver
from stratus.observability.hub import attach
from stratus.observability.tracing import span
from stratus.resources.base import Resource
from stratus.resources.schedule import (
    ConflictError,
    Schedule,
    ScheduleBackend,
    Scheduler,
    SchedulerBackend,
    ScheduleSpec,
    ScheduleState,
)
from stratus.scheduling.expression import parse_schedule_expression

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

log = logging.getLogger("stratus.schedules")

#: The group name under which ``app.schedule(...)`` declarations are kept.
DECLARED = "_declared"
MAX_BACKOFF = 300.0

_MIGRATIONS = [
    """
    CREATE TABLE schedules (
        app TEXT NOT NULL,
        grp TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        next_at REAL,
        last_fired REAL,
        fired_count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (app, grp, name)
    );
    CREATE INDEX schedules_next ON schedules (next_at);
    CREATE TABLE schedule_deliveries (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        grp TEXT NOT NULL,
        name TEXT NOT NULL,
        scheduled_at REAL NOT NULL,
        spec TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at REAL NOT NULL
    );
    CREATE INDEX schedule_deliveries_due ON schedule_deliveries (due_at)
    """
]


def _spec_json(spec: ScheduleSpec) -> str:
    return json.dumps(
        {
            "expression": spec.expression,
            "target": [spec.target.kind, spec.target.name],
            "payload": spec.payload,
            "timezone": spec.timezone,
            "start": spec.start,
            "end": spec.end,
            "retry_attempts": spec.retry_attempts,
            "max_event_age": spec.max_event_age,
            "dead_letter": spec.dead_letter.name if spec.dead_letter else None,
            "action_after_completion": spec.action_after_completion,
        },
        sort_keys=True,
        default=str,
    )


def _first_fire(spec: dict[str, Any], now: float) -> float | None:
    """When a new (or re-enabled) schedule first fires.

    A rate fires one period after it starts (or at its start date, if that is later); cron and
    at() at their next occurrence, counting one that falls exactly now.
    """
    expression = parse_schedule_expression(spec["expression"])
    start = spec["start"]
    if expression.kind == "rate":
        nxt = expression.next_after(now, timezone=spec["timezone"], start=start if start is not None else now)
    else:
        nxt = expression.next_after(max(now, start or now) - 0.001, timezone=spec["timezone"])
    return _within_end(spec, nxt)


def _within_end(spec: dict[str, Any], moment: float | None) -> float | None:
    if moment is None:
        return None
    end = spec["end"]
    return None if end is not None and moment > end else moment


class SchedulerEngine:
    """All schedules of a cloud; one per cloud (``cloud.shared("schedules")``)."""

    name = "schedules"

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.db = cloud.storage.database("schedules")
        self.db.migrate("schedules", _MIGRATIONS)
        self.observability = attach(cloud)
        cloud.add_pump(self)

    # -- definitions --------------------------------------------------------------------
    def upsert(self, app: str, group: str, spec: ScheduleSpec, *, replace: bool) -> None:
        text = _spec_json(spec)
        now = self.clock.now()
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT spec, enabled FROM schedules WHERE app = ? AND grp = ? AND name = ?", (app, group, spec.name)
            ).fetchone()
            if row is not None and not replace:
                raise ConflictError(f"Schedule {spec.name} already exists.")
            if row is not None and row[0] == text and bool(row[1]) == spec.enabled:
                return  # unchanged declaration: keep its position in time
            next_at = _first_fire(json.loads(text), now)
            conn.execute(
                "INSERT INTO schedules (app, grp, name, spec, enabled, next_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(app, grp, name) DO UPDATE SET spec = excluded.spec, enabled = excluded.enabled, "
                "next_at = excluded.next_at",
                (app, group, spec.name, text, int(spec.enabled), next_at),
            )
        self.cloud.wake(self)

    def delete(self, app: str, group: str, name: str) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM schedules WHERE app = ? AND grp = ? AND name = ?", (app, group, name))
            if cur.rowcount == 0:
                raise ResourceNotFound(f"Schedule {name} does not exist.")
            conn.execute("DELETE FROM schedule_deliveries WHERE app = ? AND grp = ? AND name = ?", (app, group, name))

    def state(self, app: str, group: str, name: str) -> ScheduleState:
        rows = self.db.execute(
            "SELECT name, spec, enabled, next_at, last_fired, fired_count FROM schedules "
            "WHERE app = ? AND grp = ? AND name = ?",
            (app, group, name),
        )
        if not rows:
            raise ResourceNotFound(f"Schedule {name} does not exist.")
        return _state(rows[0])

    def list_states(self, app: str, group: str, prefix: str) -> list[ScheduleState]:
        rows = self.db.execute(
            "SELECT name, spec, enabled, next_at, last_fired, fired_count FROM schedules "
            "WHERE app = ? AND grp = ? AND name >= ? ORDER BY name",
            (app, group, prefix),
        )
        return [_state(r) for r in rows if r[0].startswith(prefix)]

    def set_enabled(self, app: str, group: str, name: str, enabled: bool) -> None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT spec FROM schedules WHERE app = ? AND grp = ? AND name = ?", (app, group, name)
            ).fetchone()
            if row is None:
                raise ResourceNotFound(f"Schedule {name} does not exist.")
            next_at = _first_fire(json.loads(row[0]), self.clock.now()) if enabled else None
            conn.execute(
                "UPDATE schedules SET enabled = ?, next_at = ? WHERE app = ? AND grp = ? AND name = ?",
                (int(enabled), next_at, app, group, name),
            )
        self.cloud.wake(self)

    # -- the pump -----------------------------------------------------------------------
    def pump(self) -> PumpResult:
        now = self.clock.now()
        worked = self._enqueue_due(now)
        worked = self._deliver_due(now) or worked
        if worked:
            return PumpResult(True)
        row = self.db.execute(
            "SELECT MIN(t) FROM (SELECT MIN(next_at) AS t FROM schedules WHERE enabled = 1 "
            "UNION ALL SELECT MIN(due_at) FROM schedule_deliveries)"
        )
        nxt = row[0][0]
        return PumpResult(False, nxt) if nxt is not None else IDLE

    def _bound(self, app: str) -> bool:
        return any(a.name == app for a in self.cloud.apps)

    def _enqueue_due(self, now: float) -> bool:
        rows = self.db.execute(
            "SELECT app, grp, name, spec, next_at FROM schedules WHERE enabled = 1 AND next_at <= ? LIMIT 100",
            (now,),
        )
        worked = False
        for app, group, name, text, next_at in rows:
            if not self._bound(app):
                continue
            spec = json.loads(text)
            expression = parse_schedule_expression(spec["expression"])
            anchor = spec["start"]
            with self.db.transaction() as conn:
                moment: float | None = next_at
                fired = 0
                # Every occurrence due by now becomes a delivery (bounded so a long outage can't flood).
                while moment is not None and moment <= now and fired < 1000:
                    conn.execute(
                        "INSERT INTO schedule_deliveries (id, app, grp, name, scheduled_at, spec, due_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (str(uuid.uuid4()), app, group, name, moment, text, moment),
                    )
                    fired += 1
                    last = moment
                    moment = _within_end(
                        spec, expression.next_after(moment, timezone=spec["timezone"], start=anchor or next_at)
                    )
                if moment is None and spec["action_after_completion"] == "DELETE":
                    conn.execute("DELETE FROM schedules WHERE app = ? AND grp = ? AND name = ?", (app, group, name))
                else:
                    conn.execute(
                        "UPDATE schedules SET next_at = ?, last_fired = ?, fired_count = fired_count + ? "
                        "WHERE app = ? AND grp = ? AND name = ?",
                        (moment, last, fired, app, group, name),
                    )
            worked = True
        return worked

    def _deliver_due(self, now: float) -> bool:
        # Each delivery carries the spec it fired with, so a schedule deleted after completion
        # (or changed since) still delivers what was due.
        rows = self.db.execute(
            "SELECT id, app, grp, name, scheduled_at, attempts, spec FROM schedule_deliveries "
            "WHERE due_at <= ? ORDER BY due_at LIMIT 100",
            (now,),
        )
        worked = False
        for delivery_id, app, group, name, scheduled_at, attempts, text in rows:
            if not self._bound(app):
                continue
            worked = True
            self._attempt(delivery_id, app, group, name, scheduled_at, attempts, json.loads(text), now)
        return worked

    def _attempt(
        self,
        delivery_id: str,
        app: str,
        group: str,
        name: str,
        scheduled_at: float,
        attempts: int,
        spec: dict[str, Any],
        now: float,
    ) -> None:
        target = self._resolve(app, spec["target"])
        payload = (
            spec["payload"] if spec["payload"] is not None else self._scheduled_event(app, group, name, scheduled_at)
        )
        if now - scheduled_at > spec["max_event_age"]:
            log.warning(
                "schedule %s/%s: occurrence at %s is older than max_event_age", app, name, iso8601(scheduled_at)
            )
            self._dead_letter(app, spec, payload, TimeoutError("MaximumEventAgeInSeconds exceeded"))
            self._drop(delivery_id)
            return
        try:
            if target is None:
                raise ResourceNotFound(f"target {spec['target'][0]} {spec['target'][1]!r} is not declared")
            # Each occurrence starts a trace, as EventBridge Scheduler's invocations do.
            with span(
                f"Scheduler {app}/{name}",
                "producer",
                {"stratus.target": f"{spec['target'][0]}:{spec['target'][1]}", "stratus.attempt": attempts + 1},
                parent=None,
                hub=self.observability,
            ):
                deliver(target, payload, source="aws.scheduler", detail_type="Scheduled Event")
        except Exception as error:
            attempts += 1
            if attempts > spec["retry_attempts"] or now - scheduled_at > spec["max_event_age"]:
                log.warning("schedule %s/%s gave up after %d attempts: %s", app, name, attempts, error)
                self._dead_letter(app, spec, payload, error)
                self._drop(delivery_id)
            else:
                backoff = min(MAX_BACKOFF, 2.0 ** (attempts - 1))
                with self.db.transaction() as conn:
                    conn.execute(
                        "UPDATE schedule_deliveries SET attempts = ?, due_at = ? WHERE id = ?",
                        (attempts, now + backoff, delivery_id),
                    )
            return
        self._drop(delivery_id)

    def _drop(self, delivery_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM schedule_deliveries WHERE id = ?", (delivery_id,))

    def _resolve(self, app_name: str, ref: list[str]) -> Resource[Any] | None:
        for app in self.cloud.apps:
            if app.name == app_name:
                try:
                    return app.resource(ref[0], ref[1])
                except ResourceNotFound:
                    return None
        return None

    def _dead_letter(self, app: str, spec: dict[str, Any], payload: Any, error: Exception) -> None:
        if not spec["dead_letter"]:
            return
        queue = self._resolve(app, ["queue", spec["dead_letter"]])
        if queue is not None:
            deliver(queue, {"payload": payload, "error": f"{type(error).__name__}: {error}"})

    def _scheduled_event(self, app: str, group: str, name: str, scheduled_at: float) -> dict[str, Any]:
        """EventBridge's "Scheduled Event" envelope, sent when a schedule has no payload of its own."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": self.cloud.account_id,
            "time": iso8601(scheduled_at),
            "region": self.cloud.region,
            "resources": [self.cloud.arn("scheduler", f"schedule/{app}-{group}/{name}")],
            "detail": {},
        }


def _state(row: tuple[Any, ...]) -> ScheduleState:
    name, text, enabled, next_at, last_fired, fired_count = row
    spec = json.loads(text)
    return ScheduleState(name, spec["expression"], spec["timezone"], bool(enabled), next_at, last_fired, fired_count)


class LocalSchedule(ScheduleBackend):
    def __init__(self, resource: Schedule, cloud: LocalCloud) -> None:
        self.resource = resource
        self.engine = cloud.shared("schedules", lambda: SchedulerEngine(cloud))
        self.engine.upsert(resource.app.name, DECLARED, resource.spec, replace=True)

    def state(self, name: str) -> ScheduleState:
        return self.engine.state(self.resource.app.name, DECLARED, name)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.engine.set_enabled(self.resource.app.name, DECLARED, name, enabled)


class LocalScheduler(SchedulerBackend):
    def __init__(self, resource: Scheduler, cloud: LocalCloud) -> None:
        self.resource = resource
        self.engine = cloud.shared("schedules", lambda: SchedulerEngine(cloud))

    def create(self, spec: ScheduleSpec, *, replace: bool) -> None:
        self.engine.upsert(self.resource.app.name, self.resource.name, spec, replace=replace)

    def delete(self, name: str) -> None:
        self.engine.delete(self.resource.app.name, self.resource.name, name)

    def state(self, name: str) -> ScheduleState:
        return self.engine.state(self.resource.app.name, self.resource.name, name)

    def list(self, prefix: str) -> list[ScheduleState]:
        return self.engine.list_states(self.resource.app.name, self.resource.name, prefix)

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.engine.set_enabled(self.resource.app.name, self.resource.name, name, enabled)
