"""Structured logs: one JSON line per invocation (and per other notable event), on disk and on the console.

Lines go to ``<state>/logs/<stream>.jsonl`` (append-only) and to the ``stratus.<stream>``
logger, so `stratus up` shows them and `stratus logs` (and the console) can read them
back. Nothing secret is ever passed here: callers log ids, durations and outcomes, not
payloads.

Writing is off the hot path: records are kept in memory and written by :meth:`LogSink.flush`
(run by a pump, by every reader, and on close), so an invocation pays for an append, not
for JSON encoding and a system call. A crash can lose the last moments of log lines, never
an acknowledged write. One sink serves each state folder (:meth:`LogSink.for_folder`), so
every reader in the process sees every writer's lines.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import IO, Any, ClassVar

import orjson

from stratus import jsontext
from stratus.local.pumps import IDLE, PumpResult

#: Pending records that force a flush on the writer's thread (bounds memory if no pump runs).
FLUSH_AT = 5000


def _line(record: dict[str, Any]) -> bytes:
    """One JSON line, UTF-8. orjson writes it directly: a log line needs valid JSON, not the standard
    library's exact text, so only what orjson refuses (integers beyond 64 bits, lone surrogates) takes
    the standard encoder, escaped to ASCII so the file stays valid UTF-8."""
    try:
        return orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(record, default=str, separators=(",", ":")).encode("ascii") + b"\n"


class LogSink:
    """Append-only JSON-lines files per stream, plus a Python logger per stream for the console."""

    _by_folder: ClassVar[dict[Path, LogSink]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()
    name = "log-flush"
    #: Flushed every 20 ms under `stratus up`: a few hundred lines at most, a millisecond or two of GIL.
    idle_sleep = 0.02

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[bytes]] = {}
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._loggers: dict[str, logging.Logger] = {}
        self._lock = threading.Lock()
        self._users = 0

    @classmethod
    def for_folder(cls, folder: Path) -> LogSink:
        """The process's sink for ``folder``; pair each call with :meth:`release`."""
        key = folder.resolve()
        with cls._registry_lock:
            sink = cls._by_folder.get(key)
            if sink is None:
                sink = cls._by_folder[key] = LogSink(folder)
            sink._users += 1
            return sink

    @classmethod
    def existing(cls, folder: Path) -> LogSink | None:
        """The sink already serving ``folder`` in this process, if any (readers flush it first)."""
        with cls._registry_lock:
            return cls._by_folder.get(folder.resolve())

    def release(self) -> None:
        with self._registry_lock:
            self._users -= 1
            last = self._users <= 0
            if last:
                self._by_folder.pop(self.folder.resolve(), None)
        if last:
            self.close()

    def write(self, stream: str, record: dict[str, Any]) -> None:
        logger = self._loggers.get(stream)
        if logger is None:
            logger = self._loggers[stream] = logging.getLogger(f"stratus.{stream}")
        if logger.isEnabledFor(logging.INFO):
            logger.info(jsontext.compact(record, str))
        pending = self._pending
        pending.append((stream, record))  # list.append is atomic under the GIL
        if len(pending) >= FLUSH_AT:
            self.flush()

    def flush(self) -> int:
        """Write every pending record; returns how many were written."""
        with self._lock:
            pending, self._pending = self._pending, []
            for stream, record in pending:
                handle = self._files.get(stream)
                if handle is None:
                    handle = open(self.folder / f"{stream}.jsonl", "ab")  # noqa: SIM115
                    self._files[stream] = handle
                handle.write(_line(record))
            for handle in self._files.values():
                handle.flush()
            return len(pending)

    def pump(self) -> PumpResult:
        """Flush as background work; never schedules anything (so it never moves virtual time)."""
        self.flush()
        return IDLE

    def read(self, stream: str) -> list[dict[str, Any]]:
        """Every record of ``stream`` (for tests and the log viewer)."""
        self.flush()
        path = self.folder / f"{stream}.jsonl"
        if not path.exists():
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self) -> None:
        self.flush()
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()
