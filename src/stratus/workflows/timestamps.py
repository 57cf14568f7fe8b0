"""ISO-8601 extended offset date-times, as Step Functions accepts them (Wait, Timestamp* rules).

A timestamp needs a ``T`` and a zone (``Z`` or ``+hh:mm``); fractional seconds are
optional (AWS accepts nanosecond precision). ``datetime.fromisoformat`` is more lenient
(no zone, a space for ``T``), hence the pattern in front of it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> float | None:
    """Seconds since the epoch, or None when ``value`` is not such a timestamp."""
    if not isinstance(value, str):
        return None
    m = _PATTERN.match(value)
    if not m:
        return None
    base, fraction, zone = m.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    seconds = moment.timestamp()
    if fraction:
        seconds += float("0" + fraction)
    return seconds
