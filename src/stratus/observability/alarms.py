"""Alarm evaluation (CloudWatch Alarms' role), durable in the ``alarms`` database.

Each alarm is evaluated at every multiple of its period on the clock, over the last
``evaluation_periods`` complete periods: a datapoint is the alarm's statistic over one period
(missing if the metric had no value then). With ``treat_missing`` breaching / notBreaching a
missing datapoint counts as such; with missing / ignore only present datapoints count, and
when all are missing the alarm goes to INSUFFICIENT_DATA (missing) or stays as it is (ignore).
At least ``datapoints_to_alarm`` breaching datapoints mean ALARM, fewer mean OK. A change of
state is written with its reason to the history, then the actions for the new state receive
CloudWatch's alarm notification (AlarmName, NewStateValue, NewStateReason, StateChangeTime,
Trigger...).

The evaluator is a pump that never asks for a future wake-up: under ``env.settle()`` alarms are
evaluated whenever time has moved past period boundaries (each missed boundary in order), but
they never move virtual time themselves. Written by hand: this is CloudWatch's evaluation
rule, which no library implements.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus.local.pumps import PumpResult
from stratus.local.targets import deliver
from stratus.observability.metric_store import Aggregate
from stratus.resources.alarm import COMPARISONS, Alarm, AlarmHistoryItem, AlarmState

if TYPE_CHECKING:
    from stratus.observability.hub import Observability

log = logging.getLogger("stratus.alarms")

HISTORY_RETENTION = 14 * 86400
#: At most this many missed period boundaries are evaluated after a long pause.
MAX_CATCH_UP = 100
REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}
_WORDS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_SHORT = {v: k for k, v in COMPARISONS.items()}

_MIGRATIONS = [
    """
    CREATE TABLE alarm_state (
        alarm TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        updated_at REAL NOT NULL,
        evaluated_at REAL
    );
    CREATE TABLE alarm_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alarm TEXT NOT NULL,
        at REAL NOT NULL,
        old_state TEXT,
        new_state TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX alarm_history_alarm ON alarm_history (alarm, id)
    """
]


def _stamp(epoch: float) -> str:
    """CloudWatch's StateChangeTime text: 2024-01-02T03:04:05.000+0000."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}+0000"


def _short_stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


class AlarmEngine:
    """Every alarm of a cloud: their state, history and evaluation."""

    name = "alarms"

    def __init__(self, hub: Observability) -> None:
        self.hub = hub
        self.cloud = hub.cloud
        self.clock = hub.clock
        self.db = self.cloud.storage.database("alarms")
        self.db.migrate("alarms", _MIGRATIONS)
        self.alarms: dict[str, Alarm] = {}
        self._evaluated: dict[str, float] = {}
        self._last_purge = -math.inf
        self.cloud.add_pump(self)

    # -- registry and state ----------------------------------------------------------------
    def register(self, alarm: Alarm) -> None:
        name = alarm.qualified_name
        now = self.clock.now()
        boundary = math.floor(now / alarm.period) * alarm.period
        with self.db.transaction() as conn:
            row = conn.execute("SELECT evaluated_at FROM alarm_state WHERE alarm = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO alarm_state (alarm, state, reason, updated_at, evaluated_at) VALUES (?, ?, ?, ?, ?)",
                    (name, "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", now, boundary),
                )
                conn.execute(
                    "INSERT INTO alarm_history (alarm, at, old_state, new_state, reason) VALUES (?, ?, ?, ?, ?)",
                    (name, now, None, "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"),
                )
                evaluated = boundary
            else:
                evaluated = row[0] if row[0] is not None else boundary
        self._evaluated[name] = evaluated
        self.alarms[name] = alarm

    def unregister(self, alarm: Alarm) -> None:
        self.alarms.pop(alarm.qualified_name, None)

    def state(self, alarm: Alarm) -> AlarmState:
        row = self.db.execute(
            "SELECT state, reason, updated_at FROM alarm_state WHERE alarm = ?", (alarm.qualified_name,)
        )
        return AlarmState(*row[0])

    def history(self, alarm: Alarm, limit: int) -> list[AlarmHistoryItem]:
        rows = self.db.execute(
            "SELECT at, old_state, new_state, reason FROM alarm_history WHERE alarm = ? ORDER BY id DESC LIMIT ?",
            (alarm.qualified_name, limit),
        )
        return [AlarmHistoryItem(*r) for r in rows]

    def set_state(self, alarm: Alarm, value: str, reason: str) -> None:
        self._transition(alarm, value, reason, self.clock.now())

    # -- the pump ---------------------------------------------------------------------------
    def pump(self) -> PumpResult:
        now = self.clock.now()
        worked = False
        flushed = False
        for name, alarm in list(self.alarms.items()):
            period = alarm.period
            boundary = math.floor(now / period) * period
            last = self._evaluated.get(name, boundary)
            if boundary <= last:
                continue
            if not flushed:
                self.hub.flush()
                flushed = True
            moment = max(last + period, boundary - (MAX_CATCH_UP - 1) * period)
            while moment <= boundary:
                self.evaluate(alarm, moment)
                moment += period
            worked = True
        if worked and now - self._last_purge >= 3600:
            self._last_purge = now
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM alarm_history WHERE at < ?", (now - HISTORY_RETENTION,))
        return PumpResult(worked)

    def datapoints(self, alarm: Alarm, at: float) -> list[tuple[float, float | None]]:
        """(period start, statistic or None) for the ``evaluation_periods`` periods before ``at``, oldest first."""
        n, period = alarm.evaluation_periods, alarm.period
        start = at - n * period
        windows: list[Aggregate | None] = [None] * n
        for minute, agg in self.hub.metrics.aggregates(alarm.namespace, alarm.metric, alarm.dimensions, start, at):
            index = int((minute - start) // period)
            into = windows[index]
            if into is None:
                windows[index] = agg
            else:
                into.merge(agg)
        return [
            (start + i * period, agg.statistic(alarm.statistic) if agg is not None else None)
            for i, agg in enumerate(windows)
        ]

    def evaluate(self, alarm: Alarm, at: float) -> str:
        """Evaluate ``alarm`` at the period boundary ``at``; the resulting state."""
        points = self.datapoints(alarm, at)
        value, reason = self._decide(alarm, points)
        name = alarm.qualified_name
        if value is not None:
            self._transition(alarm, value, reason, at)
        self._evaluated[name] = at
        with self.db.transaction() as conn:
            conn.execute("UPDATE alarm_state SET evaluated_at = ? WHERE alarm = ?", (at, name))
        return self.state(alarm).value

    def _decide(self, alarm: Alarm, points: list[tuple[float, float | None]]) -> tuple[str | None, str]:
        n, m = alarm.evaluation_periods, alarm.datapoints_to_alarm
        treat = alarm.treat_missing
        present = [(t, v) for t, v in points if v is not None]
        missing = n - len(present)
        words = _WORDS[alarm.comparison]
        threshold = _number(alarm.threshold)
        if not present and treat in ("missing", "ignore"):
            if treat == "ignore":
                return None, ""
            return "INSUFFICIENT_DATA", f"Insufficient Data: {n} datapoint{'s were' if n > 1 else ' was'} unknown."
        if treat == "breaching":
            breaching = missing + sum(1 for _, v in present if alarm.breaches(v))
        else:
            breaching = sum(1 for _, v in present if alarm.breaches(v))
        newest_first = sorted(present, key=lambda p: -p[0])
        listed = ", ".join(f"{_number(v)} ({_short_stamp(t)})" for t, v in newest_first)
        if not present:
            kind = "Breaching" if treat == "breaching" else "NonBreaching"
            state = "ALARM" if breaching >= m else "OK"
            return state, (
                f"Threshold Crossed: no datapoints were received for {n} period{'s' if n > 1 else ''} and "
                f"{missing} missing datapoint{'s were' if missing > 1 else ' was'} treated as [{kind}]."
            )
        if breaching >= m:
            reason = (
                f"Threshold Crossed: {breaching} out of the last {n} datapoints [{listed}] were {words} the "
                f"threshold ({threshold}) (minimum {m} datapoint{'s' if m > 1 else ''} for OK -> ALARM transition)."
            )
            if treat == "breaching" and missing:
                reason = reason[:-1] + f" and {missing} missing datapoints were treated as [Breaching]."
            return "ALARM", reason
        return "OK", (
            f"Threshold Crossed: {len(present)} datapoint{'s' if len(present) > 1 else ''} [{listed}] "
            f"{'were' if len(present) > 1 else 'was'} not {words} the threshold ({threshold})."
        )

    def _transition(self, alarm: Alarm, value: str, reason: str, at: float) -> None:
        name = alarm.qualified_name
        with self.db.transaction() as conn:
            old, old_reason = conn.execute("SELECT state, reason FROM alarm_state WHERE alarm = ?", (name,)).fetchone()
            if old == value:
                if old_reason != reason:
                    conn.execute("UPDATE alarm_state SET reason = ? WHERE alarm = ?", (reason, name))
                return
            conn.execute(
                "UPDATE alarm_state SET state = ?, reason = ?, updated_at = ? WHERE alarm = ?",
                (value, reason, at, name),
            )
            conn.execute(
                "INSERT INTO alarm_history (alarm, at, old_state, new_state, reason) VALUES (?, ?, ?, ?, ?)",
                (name, at, old, value, reason),
            )
        log.info("alarm %s: %s -> %s", name, old, value)
        self._notify(alarm, old, value, reason, at)

    # -- notifications ----------------------------------------------------------------------
    def notification(self, alarm: Alarm, old: str, new: str, reason: str, at: float) -> dict[str, Any]:
        """CloudWatch's alarm notification document (what an SNS subscriber receives as the Message)."""
        percentile = alarm.statistic.startswith("p")
        trigger: dict[str, Any] = {
            "MetricName": alarm.metric,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if percentile else "Statistic",
            "Unit": None,
            "Dimensions": [{"value": v, "name": k} for k, v in alarm.dimensions.items()],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.comparison,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing,
            "EvaluateLowSampleCountPercentile": "",
        }
        if percentile:
            trigger["ExtendedStatistic"] = alarm.statistic
        else:
            trigger["Statistic"] = alarm.statistic.upper() if alarm.statistic != "SampleCount" else "SAMPLE_COUNT"
        cloud = self.cloud
        return {
            "AlarmName": alarm.qualified_name,
            "AlarmDescription": alarm.description or None,
            "AWSAccountId": cloud.account_id,
            "AlarmConfigurationUpdatedTimestamp": _stamp(at),
            "NewStateValue": new,
            "NewStateReason": reason,
            "StateChangeTime": _stamp(at),
            "Region": REGION_NAMES.get(cloud.region, cloud.region),
            "AlarmArn": cloud.arn("cloudwatch", f"alarm:{alarm.qualified_name}"),
            "OldStateValue": old,
            "OKActions": [self._arn(a) for a in alarm.ok_actions],
            "AlarmActions": [self._arn(a) for a in alarm.actions],
            "InsufficientDataActions": [self._arn(a) for a in alarm.insufficient_data_actions],
            "Trigger": trigger,
        }

    def _arn(self, target: Any) -> str:
        if target.kind == "topic":
            return self.cloud.arn("sns", target.qualified_name)
        return self.cloud.arn("lambda", f"function:{target.qualified_name}")

    def _notify(self, alarm: Alarm, old: str, new: str, reason: str, at: float) -> None:
        targets = {
            "ALARM": alarm.actions,
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }[new]
        if not targets:
            return
        document = self.notification(alarm, old, new, reason, at)
        region = document["Region"]
        for target in targets:
            try:
                if target.kind == "topic":
                    subject = f'{new}: "{alarm.qualified_name}" in {region}'
                    target.publish(json.dumps(document), subject=subject[:100])  # type: ignore[attr-defined]
                else:
                    deliver(target, document, source="aws.cloudwatch", detail_type="CloudWatch Alarm State Change")
            except Exception:
                log.warning("alarm %s: could not notify %s", alarm.qualified_name, target.qualified_name, exc_info=True)
