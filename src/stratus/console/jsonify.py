"""Turning what the ports return into JSON the page can show: Decimals, bytes, sets, datetimes, dataclasses.

The page renders every value as text (never as HTML), so nothing here escapes; it only
makes values JSON-safe and bounds their size.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse


def plain(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``value``."""
    if depth > 64:
        return "…"
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$binary": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        items = [plain(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    return repr(value)


def parse_json_text(text: Any) -> Any:
    """JSON text parsed, or the text itself when it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


class Json(JSONResponse):
    """A JSON response of plain() values, never sniffed as anything else, never cached."""

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(
            plain(content),
            status_code=status_code,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def error(message: str, status: int = 400, code: str | None = None) -> Json:
    body: dict[str, Any] = {"error": message}
    if code:
        body["code"] = code
    return Json(body, status)
