"""Logs (CloudWatch Logs' role): query and follow the JSON-lines streams, and a structured logger for handlers.

The local runtime writes one JSON line per event to ``<state>/logs/<stream>.jsonl``
(``functions`` per invocation, ``access`` per gateway request, ``app`` from handlers' own
logging). :func:`query_logs` filters them like ``aws logs filter-log-events`` (by stream,
function, request id, trace id, time and text), newest last; :func:`tail` follows them.

Handlers log with :data:`logger` (``from stratus.observability import logger``)::

    logger.info("order placed", order_id=order["id"])

Each line carries the level, the message, the fields, and the current function, request id
and trace id (from the invocation context the function runtime sets). Locally lines go to the
``app`` stream of the running cloud; with none running (on AWS) they are printed to stdout
as JSON, which Lambda sends to CloudWatch Logs. Log ids and outcomes, never payloads or secrets.

Why by hand: reading JSON lines with a few filters is shorter than any log library's
adapter, and the record shape is the one the runtime already writes.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stratus.clock import iso8601
from stratus.errors import ValidationError
from stratus.observability.context import active_hub, current

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

TimeArg = float | int | datetime | str | None


def parse_duration(text: str) -> float:
    """Seconds in ``"90s"``, ``"10m"``, ``"1h"``, ``"2d"``, ``"1w"``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValidationError(f"{text!r} is not a duration like 30s, 10m, 1h, 2d or 1w")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def to_epoch(value: TimeArg, now: float | None = None) -> float | None:
    """An absolute time from epoch seconds, a datetime, an ISO-8601 text, or a duration ago ("10m")."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, str):
        if _DURATION.match(value):
            return (time.time() if now is None else now) - parse_duration(value)
        try:
            return float(value)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"{value!r} is not a time (epoch seconds, ISO 8601, or a duration like 10m)"
            ) from None
        return to_epoch(moment)
    raise ValidationError(f"not a time: {value!r}")


def record_time(record: dict[str, Any]) -> float:
    """A log record's time as epoch seconds (records carry ISO text or epoch numbers)."""
    value = record.get("time")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return 0.0


class _Filter:
    def __init__(
        self,
        function: str | None,
        request_id: str | None,
        trace_id: str | None,
        since: float | None,
        until: float | None,
        text: str | None,
    ) -> None:
        self.function = function
        self.request_id = request_id
        self.trace_id = trace_id
        self.since = since
        self.until = until
        self.text = text.lower() if text else None

    def line(self, line: str) -> dict[str, Any] | None:
        if self.text is not None and self.text not in line.lower():
            return None
        if self.request_id is not None and self.request_id not in line:
            return None
        if self.trace_id is not None and self.trace_id not in line:
            return None
        try:
            record = json.loads(line)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        if self.function is not None:
            name = record.get("function")
            if name != self.function and not (isinstance(name, str) and name.endswith("-" + self.function)):
                return None
        if self.request_id is not None and record.get("request_id") != self.request_id:
            return None
        if self.trace_id is not None and record.get("trace_id") != self.trace_id:
            return None
        if self.since is not None or self.until is not None:
            moment = record_time(record)
            if self.since is not None and moment < self.since:
                return None
            if self.until is not None and moment >= self.until:
                return None
        return record


def _streams(folder: Path, stream: str | None) -> list[Path]:
    if stream is not None:
        if "/" in stream or "\\" in stream or stream.startswith("."):
            raise ValidationError(f"not a log stream name: {stream!r}")
        path = folder / f"{stream}.jsonl"
        return [path] if path.exists() else []
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


def query_logs(
    state_dir: Path | str,
    *,
    stream: str | None = None,
    function: str | None = None,
    request_id: str | None = None,
    trace_id: str | None = None,
    since: TimeArg = None,
    until: TimeArg = None,
    text: str | None = None,
    limit: int = 100,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """Log records matching every filter given, the newest ``limit`` of them, oldest first.

    ``function`` matches the qualified name (``shop-place_order``) or the declared name;
    ``text`` is a case-insensitive substring of the line; ``since``/``until`` take epoch seconds,
    datetimes, ISO text or a duration ago (``"10m"``, relative to ``now``, default the wall clock).
    Each record gets ``stream`` (its stream's name).
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit must be a positive integer")
    from stratus.local.logs import LogSink

    sink = LogSink.existing(Path(state_dir) / "logs")
    if sink is not None:  # lines written in this process but not yet flushed
        sink.flush()
    matcher = _Filter(function, request_id, trace_id, to_epoch(since, now), to_epoch(until, now), text)
    found: list[tuple[float, int, dict[str, Any]]] = []
    order = 0
    for path in _streams(Path(state_dir) / "logs", stream):
        newest: deque[dict[str, Any]] = deque(maxlen=limit)
        with open(path, encoding="utf-8") as f:
            for line in f:
                record = matcher.line(line)
                if record is not None:
                    record["stream"] = path.stem
                    newest.append(record)
        for record in newest:
            found.append((record_time(record), order, record))
            order += 1
    found.sort(key=lambda item: (item[0], item[1]))
    return [record for _, _, record in found[-limit:]]


def tail(
    state_dir: Path | str,
    *,
    stream: str | None = None,
    function: str | None = None,
    request_id: str | None = None,
    trace_id: str | None = None,
    since: TimeArg = None,
    text: str | None = None,
    limit: int = 20,
    poll: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    stop: Callable[[], bool] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the last ``limit`` matching records, then every new one as it is written, until ``stop()``.

    New lines are found by polling the files every ``poll`` seconds (``sleep`` is injectable for tests).
    """
    folder = Path(state_dir) / "logs"
    matcher = _Filter(function, request_id, trace_id, to_epoch(since), None, text)
    yield from query_logs(
        state_dir,
        stream=stream,
        function=function,
        request_id=request_id,
        trace_id=trace_id,
        since=since,
        text=text,
        limit=limit,
    )
    offsets: dict[Path, int] = {path: path.stat().st_size for path in _streams(folder, stream)}
    from stratus.local.logs import LogSink

    while stop is None or not stop():
        sleep(poll)
        sink = LogSink.existing(folder)
        if sink is not None:  # written in this process, not yet flushed
            sink.flush()
        for path in _streams(folder, stream):
            start = offsets.get(path, 0)
            size = path.stat().st_size
            if size < start:
                start = 0  # the file was replaced
            if size == start:
                continue
            with open(path, "rb") as f:
                f.seek(start)
                chunk = f.read(size - start)
            complete = chunk.rfind(b"\n") + 1  # leave a half-written last line for the next poll
            offsets[path] = start + complete
            for raw in chunk[:complete].decode("utf-8", "replace").splitlines():
                record = matcher.line(raw)
                if record is not None:
                    record["stream"] = path.stem
                    yield record


# -- the handler logger ------------------------------------------------------------------------
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class StructuredLogger:
    """JSON-lines logging with the invocation's request id and trace id (see the module docstring)."""

    def __init__(self, stream: str = "app", level: str = "INFO") -> None:
        self.stream = stream
        self.level = LEVELS[level]

    def set_level(self, level: str) -> None:
        if level not in LEVELS:
            raise ValidationError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
        self.level = LEVELS[level]

    def log(self, level: str, message: str, **fields: Any) -> None:
        if LEVELS.get(level, 0) < self.level:
            return
        active = current.get()
        hub = active_hub()
        moment = hub.clock.now() if hub is not None else time.time()
        record: dict[str, Any] = {"time": iso8601(moment), "level": level, "message": str(message)}
        if active is not None:
            if active.function:
                record["function"] = active.function
            if active.request_id:
                record["request_id"] = active.request_id
            record["trace_id"] = active.trace_id
        for key, value in fields.items():
            if key not in record:
                record[key] = value
        if hub is not None:
            hub.logs.write(self.stream, record)
        else:
            sys.stdout.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def debug(self, message: str, **fields: Any) -> None:
        self.log("DEBUG", message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        self.log("INFO", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        self.log("WARNING", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        self.log("ERROR", message, **fields)

    def exception(self, message: str, **fields: Any) -> None:
        """An ERROR line with the type of the exception being handled (not its message, which may hold data)."""
        error = sys.exc_info()[1]
        if error is not None:
            fields.setdefault("error_type", type(error).__name__)
        self.log("ERROR", message, **fields)


logger = StructuredLogger()


def get_logger(stream: str = "app", level: str = "INFO") -> StructuredLogger:
    """A logger writing to ``stream`` (default ``app``)."""
    if not re.match(r"^[A-Za-z0-9_-]{1,64}$", stream) or stream in ("functions", "access"):
        raise ValidationError(f"log stream {stream!r}: use letters, digits, '_' and '-' (not a runtime stream)")
    if level not in LEVELS:
        raise ValidationError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    return StructuredLogger(stream, level)


class AppLogHandler(logging.Handler):
    """A ``logging`` handler that writes records logged during an invocation to the ``app`` stream.

    Install it on the loggers handlers use (``logging.getLogger().addHandler(AppLogHandler())``, which
    `stratus up` can do) so that stdlib logging lands beside :data:`logger`'s lines, with the request id
    and trace id, as Lambda's runtime sends a handler's log output to CloudWatch Logs. Records logged
    outside any invocation are left to the other handlers.
    """

    def __init__(self, stream: str = "app", level: int = logging.INFO) -> None:
        super().__init__(level)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        active = current.get()
        if active is None or active.hub is None or record.name.startswith("stratus."):
            return
        try:
            line: dict[str, Any] = {
                "time": iso8601(active.hub.clock.now()),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "trace_id": active.trace_id,
            }
            if active.function:
                line["function"] = active.function
            if active.request_id:
                line["request_id"] = active.request_id
            if record.exc_info and record.exc_info[0] is not None:
                line["error_type"] = record.exc_info[0].__name__
            active.hub.logs.write(self.stream, line)
        except Exception:
            self.handleError(record)
