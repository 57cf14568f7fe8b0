"""The observability plane: logs, metrics, alarms and traces (CloudWatch and X-Ray's roles).

- :mod:`~stratus.observability.logs`: ``query_logs``/``tail`` over the JSON-lines streams, and
  :data:`logger` for handlers (request id and trace id on every line);
- :mod:`~stratus.observability.metrics`: ``metrics.put(...)`` custom metrics (EMF on AWS) and
  ``get_statistics``; the store is :mod:`~stratus.observability.metric_store`;
- :mod:`~stratus.observability.alarms`: CloudWatch's alarm evaluation (``app.alarm(...)``);
- :mod:`~stratus.observability.tracing`: ``tracing.span(...)``, X-Ray trace ids through every hop,
  spans stored in SQLite and exported with OpenTelemetry;
- :mod:`~stratus.observability.hub`: ``attach(cloud)``, the per-cloud plane and its pumps.
"""

from __future__ import annotations

from stratus.observability import metrics, tracing
from stratus.observability.context import current_header, current_request_id, current_trace_id
from stratus.observability.logs import AppLogHandler, get_logger, logger, query_logs, tail

__all__ = [
    "AppLogHandler",
    "current_header",
    "current_request_id",
    "current_trace_id",
    "get_logger",
    "logger",
    "metrics",
    "query_logs",
    "tail",
    "tracing",
]
