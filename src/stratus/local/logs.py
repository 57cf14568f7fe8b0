"""Structured logs: one JSON line per invocation (and per other notable event), on disk and on the console.

Lines go to ``<state>/logs/<stream>.jsonl`` (append-only) and to the ``stratus.<stream>``
logger, so `stratus up` shows them and `stratus logs` (and the console) can read them
back. Nothing secret is ever passed here: callers log ids, durations and outcomes, not
payloads.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import IO, Any


class LogSink:
    """An append-only JSON-lines file per stream, plus a Python logger of the same name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()

    def write(self, stream: str, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str)
        with self._lock:
            handle = self._files.get(stream)
            if handle is None:
                handle = open(self.folder / f"{stream}.jsonl", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
                self._files[stream] = handle
            handle.write(line + "\n")
        logger = logging.getLogger(f"stratus.{stream}")
        if logger.isEnabledFor(logging.INFO):
            logger.info(line)

    def read(self, stream: str) -> list[dict[str, Any]]:
        """Every record of ``stream`` (for tests and the log viewer)."""
        path = self.folder / f"{stream}.jsonl"
        with self._lock:
            handle = self._files.get(stream)
            if handle is not None:
                handle.flush()
        if not path.exists():
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()
