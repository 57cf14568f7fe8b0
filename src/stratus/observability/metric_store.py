"""The durable metric store (CloudWatch Metrics' role): one row per series per minute.

Each datapoint row keeps count, sum, minimum, maximum and a sparse histogram over fixed
log-spaced buckets (ratio 2^(1/8), so a percentile is within about 4.5 % of the true
value), from which p50/p90/p99 of any period are computed. Writes are aggregated in memory
and committed in one transaction by :meth:`MetricStore.flush` (a pump, and on close), so
code that emits metrics never waits for SQLite. Datapoints older than the retention (15
days at one-minute resolution, as CloudWatch keeps 1-minute data) are deleted on the clock.

Why by hand: the OpenTelemetry metrics SDK aggregates for export, not for storing and
querying CloudWatch's statistics per period; what is needed here is a small table and a
histogram merge.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratus.clock import Clock
from stratus.errors import ValidationError
from stratus.local.storage import Database

RETENTION = 15 * 86400
#: Bucket i holds values in [BASE**i, BASE**(i+1)).
BASE = 2 ** (1 / 8)
_INV_LOG_BASE = 1 / math.log(BASE)
#: The bucket for zero and negative values.
ZERO_BUCKET = -100_000

STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")

_MIGRATIONS = [
    """
    CREATE TABLE metric_series (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        dimensions TEXT NOT NULL,
        unit TEXT,
        UNIQUE (namespace, name, dimensions)
    );
    CREATE TABLE metric_data (
        series INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        count REAL NOT NULL,
        sum REAL NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        histogram TEXT NOT NULL,
        PRIMARY KEY (series, minute)
    ) WITHOUT ROWID;
    CREATE INDEX metric_data_minute ON metric_data (minute)
    """
]


def bucket_of(value: float) -> int:
    if value <= 0:
        return ZERO_BUCKET
    return math.floor(math.log(value) * _INV_LOG_BASE)


def bucket_value(index: int) -> float:
    """The value a bucket stands for in percentiles (its geometric middle)."""
    if index == ZERO_BUCKET:
        return 0.0
    return float(BASE ** (index + 0.5))


class Aggregate:
    """count / sum / min / max / histogram of the values seen in one minute of one series."""

    __slots__ = ("count", "histogram", "maximum", "minimum", "total")

    def __init__(self) -> None:
        self.count = 0.0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.histogram: dict[int, float] = {}

    def add(self, value: float, count: float = 1.0) -> None:
        self.count += count
        self.total += value * count
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        index = bucket_of(value)
        self.histogram[index] = self.histogram.get(index, 0.0) + count

    def merge(self, other: Aggregate) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        for index, n in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0.0) + n

    @classmethod
    def from_row(cls, count: float, total: float, minimum: float, maximum: float, histogram: str) -> Aggregate:
        agg = cls()
        agg.count, agg.total, agg.minimum, agg.maximum = count, total, minimum, maximum
        agg.histogram = {int(k): v for k, v in json.loads(histogram).items()}
        return agg

    def percentile(self, p: float) -> float | None:
        if self.count <= 0:
            return None
        rank = p / 100.0 * self.count
        seen = 0.0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                return min(self.maximum, max(self.minimum, bucket_value(index)))
        return self.maximum

    def statistic(self, name: str) -> float | None:
        if self.count <= 0:
            return None
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Average":
            return self.total / self.count
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        return self.percentile(percentile_of(name))


def percentile_of(statistic: str) -> float:
    """50.0 for "p50", 99.9 for "p99.9"; ValidationError for anything that is not a statistic."""
    if len(statistic) > 1 and statistic[0] == "p":
        try:
            value = float(statistic[1:])
        except ValueError:
            value = -1.0
        if 0 <= value <= 100:
            return value
    raise ValidationError(
        f"statistic {statistic!r} is not one of {', '.join(STATISTICS)} or a percentile such as p50, p99, p99.9"
    )


def check_statistic(statistic: str) -> str:
    if statistic not in STATISTICS:
        percentile_of(statistic)
    return statistic


def dimensions_key(dimensions: Mapping[str, str] | None) -> str:
    """Canonical text of a dimension set (sorted JSON)."""
    if not dimensions:
        return "{}"
    return json.dumps({str(k): str(v) for k, v in dimensions.items()}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Series:
    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str | None


class MetricStore:
    """Metric datapoints of one state folder (database ``metrics``)."""

    def __init__(self, db: Database, clock: Clock, *, retention: float = RETENTION) -> None:
        self.db = db
        self.clock = clock
        self.retention = retention
        db.migrate("metrics", _MIGRATIONS)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, str, int], Aggregate] = {}
        self._units: dict[tuple[str, str, str], str | None] = {}
        self._ids: dict[tuple[str, str, str], int] = {}
        self._last_purge = -math.inf
        #: Called first by :meth:`flush` (the hub folds its queued invocation records in here).
        self.before_flush: Callable[[], None] | None = None

    @classmethod
    def open(cls, state_dir: Path | str) -> MetricStore:
        """The store of a state folder opened for reading (the CLI): it never purges or writes."""
        from stratus.clock import SystemClock

        store = cls(Database(Path(state_dir) / "metrics.db"), SystemClock())
        store._last_purge = math.inf
        return store

    # -- writing ---------------------------------------------------------------------------
    def add(
        self,
        namespace: str,
        name: str,
        value: float,
        *,
        dimensions: str = "{}",
        unit: str | None = None,
        timestamp: float | None = None,
    ) -> None:
        """Record one value (``dimensions`` is a :func:`dimensions_key`); buffered until :meth:`flush`."""
        when = self.clock.now() if timestamp is None else timestamp
        minute = int(when // 60) * 60
        key = (namespace, name, dimensions, minute)
        with self._lock:
            agg = self._pending.get(key)
            if agg is None:
                agg = self._pending[key] = Aggregate()
                self._units.setdefault((namespace, name, dimensions), unit)
            agg.add(float(value))

    def add_counts(
        self,
        namespace: str,
        name: str,
        counts: Mapping[float, float],
        *,
        dimensions: str,
        unit: str | None,
        minute: int,
    ) -> None:
        """Record each value of ``counts`` as many times as it maps to, in the minute starting at ``minute``
        (the same statistics as that many :meth:`add` calls, for one lock and lookup)."""
        with self._lock:
            agg = self._aggregate(namespace, name, dimensions, unit, minute)
            for value, n in counts.items():
                if n > 0:
                    agg.add(float(value), n)

    def add_values(
        self, namespace: str, name: str, values: Iterable[float], *, dimensions: str, unit: str | None, minute: int
    ) -> None:
        """Record every value of ``values`` in the minute starting at ``minute`` (see :meth:`add_counts`)."""
        with self._lock:
            agg = self._aggregate(namespace, name, dimensions, unit, minute)
            for value in values:
                agg.add(float(value))

    def _aggregate(self, namespace: str, name: str, dimensions: str, unit: str | None, minute: int) -> Aggregate:
        """The pending aggregate of a series' minute; called with the lock held (a flush swaps them out)."""
        key = (namespace, name, dimensions, minute)
        agg = self._pending.get(key)
        if agg is None:
            agg = self._pending[key] = Aggregate()
            self._units.setdefault((namespace, name, dimensions), unit)
        return agg

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Commit every buffered aggregate (merging with what the minute already holds); the number written."""
        if self.before_flush is not None:
            self.before_flush()
        with self._lock:
            pending, self._pending = self._pending, {}
            units, self._units = self._units, {}
        now = self.clock.now()
        purge = now - self._last_purge >= 3600
        if not pending and not purge:
            return 0
        with self.db.transaction() as conn:
            for (namespace, name, dims, minute), agg in pending.items():
                series = self._series_id(conn, namespace, name, dims, units.get((namespace, name, dims)))
                row = conn.execute(
                    "SELECT count, sum, min, max, histogram FROM metric_data WHERE series = ? AND minute = ?",
                    (series, minute),
                ).fetchone()
                if row is not None:
                    merged = Aggregate.from_row(*row)
                    merged.merge(agg)
                    agg = merged
                conn.execute(
                    "INSERT OR REPLACE INTO metric_data (series, minute, count, sum, min, max, histogram) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        series,
                        minute,
                        agg.count,
                        agg.total,
                        agg.minimum,
                        agg.maximum,
                        json.dumps(agg.histogram, separators=(",", ":")),
                    ),
                )
            if purge:
                self._last_purge = now
                conn.execute("DELETE FROM metric_data WHERE minute < ?", (now - self.retention,))
        return len(pending)

    def _series_id(self, conn: Any, namespace: str, name: str, dims: str, unit: str | None) -> int:
        key = (namespace, name, dims)
        series = self._ids.get(key)
        if series is None:
            conn.execute(
                "INSERT OR IGNORE INTO metric_series (namespace, name, dimensions, unit) VALUES (?, ?, ?, ?)",
                (namespace, name, dims, unit),
            )
            series = conn.execute(
                "SELECT id FROM metric_series WHERE namespace = ? AND name = ? AND dimensions = ?",
                (namespace, name, dims),
            ).fetchone()[0]
            self._ids[key] = series
        return series

    # -- reading ---------------------------------------------------------------------------
    def list_metrics(
        self, namespace: str | None = None, name: str | None = None, dimensions: Mapping[str, str] | None = None
    ) -> list[Series]:
        """Series that have data, filtered by namespace, name and a subset of dimensions (ListMetrics)."""
        self.flush()
        sql = "SELECT namespace, name, dimensions, unit FROM metric_series WHERE 1 = 1"
        params: list[Any] = []
        if namespace is not None:
            sql += " AND namespace = ?"
            params.append(namespace)
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        out = []
        for ns, metric, dims, unit in self.db.execute(sql + " ORDER BY namespace, name, dimensions", params):
            parsed = json.loads(dims)
            if dimensions and any(parsed.get(k) != str(v) for k, v in dimensions.items()):
                continue
            out.append(Series(ns, metric, parsed, unit))
        return out

    def aggregates(
        self, namespace: str, name: str, dimensions: Mapping[str, str] | None, start: float, end: float
    ) -> list[tuple[int, Aggregate]]:
        """The per-minute aggregates of one series with ``start <= minute < end``."""
        self.flush()
        rows = self.db.execute(
            "SELECT d.minute, d.count, d.sum, d.min, d.max, d.histogram FROM metric_data d "
            "JOIN metric_series s ON s.id = d.series "
            "WHERE s.namespace = ? AND s.name = ? AND s.dimensions = ? AND d.minute >= ? AND d.minute < ? "
            "ORDER BY d.minute",
            (namespace, name, dimensions_key(dimensions), math.floor(start), math.ceil(end)),
        )
        return [(minute, Aggregate.from_row(*rest)) for minute, *rest in rows if start <= minute < end]

    def unit_of(self, namespace: str, name: str, dimensions: Mapping[str, str] | None) -> str | None:
        rows = self.db.execute(
            "SELECT unit FROM metric_series WHERE namespace = ? AND name = ? AND dimensions = ?",
            (namespace, name, dimensions_key(dimensions)),
        )
        return rows[0][0] if rows else None

    def get_statistics(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        start: float,
        end: float,
        period: int = 60,
        statistics: Iterable[str] = ("Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p99"),
    ) -> list[dict[str, Any]]:
        """CloudWatch's GetMetricStatistics: one datapoint per ``period`` (from ``start``) that has data.

        Each datapoint is ``{"Timestamp": <period start, epoch seconds>, "Unit": ..., <statistic>: value}``,
        oldest first. ``dimensions`` must match the series' dimensions exactly, as in CloudWatch.
        """
        if not isinstance(period, int) or period < 60 or period % 60:
            raise ValidationError(f"period must be a multiple of 60 seconds, got {period!r}")
        if end <= start:
            raise ValidationError("end must be after start")
        wanted = [check_statistic(s) for s in statistics]
        windows: dict[int, Aggregate] = {}
        for minute, agg in self.aggregates(namespace, name, dimensions, start, end):
            window = int(start + ((minute - start) // period) * period)
            into = windows.get(window)
            if into is None:
                windows[window] = agg
            else:
                into.merge(agg)
        unit = self.unit_of(namespace, name, dimensions) or "None"
        points = []
        for window in sorted(windows):
            agg = windows[window]
            point: dict[str, Any] = {"Timestamp": float(window), "Unit": unit}
            for statistic in wanted:
                point[statistic] = agg.statistic(statistic)
            points.append(point)
        return points

    def close(self) -> None:
        self.flush()
