"""Lambda event filtering: event patterns applied to each record before a batch is built.

For SQS, Kinesis and DynamoDB sources Lambda matches the filter patterns against the
record, with the payload (SQS ``body``, Kinesis ``data``) parsed as JSON when it is JSON;
records that match none of the patterns are dropped (deleted from the queue, skipped on
streams).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from stratus.matching import EventPattern, compile_pattern


class RecordFilter:
    def __init__(self, patterns: tuple[dict[str, Any], ...], payload_key: str, *, base64_payload: bool = False) -> None:
        self.patterns: list[EventPattern] = [compile_pattern(p) for p in patterns]
        self.payload_key = payload_key
        self.base64_payload = base64_payload

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def accepts(self, record: dict[str, Any]) -> bool:
        if not self.patterns:
            return True
        view = dict(record)
        payload = record.get(self.payload_key)
        if isinstance(payload, str):
            text = payload
            if self.base64_payload:
                try:
                    text = base64.b64decode(payload).decode()
                except (ValueError, UnicodeDecodeError):
                    text = ""
            try:
                view[self.payload_key] = json.loads(text)
            except ValueError:
                view[self.payload_key] = text
        return any(p.matches(view) for p in self.patterns)
