"""Custom metrics from handlers, the CloudWatch embedded-metric-format way.

    from stratus.observability import metrics

    metrics.put("OrdersPlaced", 1, unit="Count", dimensions={"Channel": "web"}, namespace="Shop")

Locally the value goes to the bound cloud's :class:`~stratus.observability.metric_store.MetricStore`
(buffered; no SQLite write on the caller's path). With no local cloud active (on AWS) the same
call prints one EMF JSON line to stdout, which Lambda's log agent turns into the metric.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from stratus.errors import ValidationError
from stratus.observability.context import active_hub
from stratus.observability.metric_store import dimensions_key

DEFAULT_NAMESPACE = "Stratus"

#: CloudWatch's StandardUnit values.
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
MAX_DIMENSIONS = 30


def _check_name(label: str, value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise ValidationError(f"metric {label} must be a string of 1 to 255 characters, got {value!r}")
    return value


def validate(
    name: object, value: object, unit: object, dimensions: object, namespace: object
) -> tuple[str, float, str, dict[str, str], str]:
    """Check a custom datapoint as PutMetricData does; return it normalized."""
    metric = _check_name("name", name)
    ns = _check_name("namespace", namespace)
    if ns.startswith("AWS/"):
        raise ValidationError(f"namespace {ns!r}: names beginning with 'AWS/' are reserved for AWS services")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"metric {metric!r}: value must be a finite number, got {value!r}")
    if unit not in UNITS:
        raise ValidationError(f"metric {metric!r}: unit {unit!r} is not a CloudWatch unit (e.g. Count, Milliseconds)")
    dims: dict[str, str] = {}
    if dimensions is not None:
        if not isinstance(dimensions, Mapping):
            raise ValidationError(f"metric {metric!r}: dimensions must be a dict of name to value")
        if len(dimensions) > MAX_DIMENSIONS:
            raise ValidationError(f"metric {metric!r}: at most {MAX_DIMENSIONS} dimensions, got {len(dimensions)}")
        for key, val in dimensions.items():
            if not isinstance(key, str) or not 1 <= len(key) <= 255:
                raise ValidationError(f"metric {metric!r}: dimension name {key!r} must be 1 to 255 characters")
            if not isinstance(val, str) or not 1 <= len(val) <= 1024:
                raise ValidationError(f"metric {metric!r}: dimension {key!r} value must be 1 to 1024 characters")
            dims[key] = val
    return metric, float(value), str(unit), dims, ns


def put(
    name: str,
    value: float,
    *,
    unit: str = "None",
    dimensions: Mapping[str, str] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    timestamp: float | None = None,
) -> None:
    """Record one value of a custom metric (see the module docstring)."""
    metric, number, unit, dims, ns = validate(name, value, unit, dimensions, namespace)
    hub = active_hub()
    if hub is None:
        emit_emf(ns, metric, number, unit, dims, timestamp)
        return
    hub.metrics.add(ns, metric, number, dimensions=dimensions_key(dims), unit=unit, timestamp=timestamp)


def emf_document(
    namespace: str, name: str, value: float, unit: str, dimensions: Mapping[str, str], timestamp_ms: int
) -> dict[str, Any]:
    """The embedded-metric-format document for one value."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [sorted(dimensions)], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        }
    }
    document.update(dimensions)
    document[name] = value
    return document


def emit_emf(
    namespace: str, name: str, value: float, unit: str, dimensions: Mapping[str, str], timestamp: float | None
) -> None:
    import time

    when = time.time() if timestamp is None else timestamp
    line = json.dumps(emf_document(namespace, name, value, unit, dimensions, int(when * 1000)), separators=(",", ":"))
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def get_statistics(
    namespace: str,
    name: str,
    dimensions: Mapping[str, str] | None,
    start: float,
    end: float,
    period: int = 60,
    statistics: Iterable[str] = ("Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p99"),
) -> list[dict[str, Any]]:
    """GetMetricStatistics against the active local cloud (see ``MetricStore.get_statistics``)."""
    hub = active_hub()
    if hub is None:
        raise ValidationError("no local cloud is running: metrics can be queried under stratus up or in tests")
    return hub.metrics.get_statistics(namespace, name, dimensions, start, end, period, statistics)
