"""JSON text on hot paths: orjson's speed with exactly the text the standard library writes.

Workflow data is encoded several times per state (size limits, history events, Lambda
payloads), and the standard encoder is the largest single cost there. orjson (a pinned
dependency) is several times faster, but differs from ``json`` in a few corners: floats
with small exponents (``1e-7`` against ``1e-07``, ``0.00001`` against ``1e-05``), integers beyond 64 bits, lone
surrogates, NaN/Infinity, subclasses of the JSON types, and types it does not know
(Decimal, sets, datetimes, dataclasses) — for all of those the standard encoder writes the
text (or raises) instead, so callers see one behaviour. The one exception: orjson writes
UUIDs and plain enums, which the standard encoder refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

#: the standard library's compact encoder, built once (``json.dumps`` with options builds one per call)
_STD_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: where orjson's float text may differ (see _corner): one-digit negative exponents (``1e-9``, json
#: ``1e-09``), 1e-5 written out (``0.00001``, json ``1e-05``), NaN/Infinity written as null
_FLOAT_EXPONENT = re.compile(rb"\de-\d")

#: hand datetimes, dataclasses and subclasses to the standard encoder, which refuses or writes them its way
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def compact(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)``, faster."""
    try:
        data = orjson.dumps(value, default=default, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return _standard(value, default)
    if _corner(data, value):
        return _standard(value, default)
    return data.decode()


def _corner(data: bytes, value: Any) -> bool:
    # substring tests first: they are much cheaper than the regex, which most texts never need
    if b"0.0000" in data or (b"e-" in data and _FLOAT_EXPONENT.search(data) is not None):
        return True
    return b"null" in data and not _nulls_are_nones(data, value)


def _nulls_are_nones(data: bytes, value: Any) -> bool:
    """Whether every ``null`` orjson wrote stands for a None (it also writes NaN and ±Infinity as null).

    None equals only None, so the text read back equals the value exactly when no null stands for
    anything else; the comparison runs in C, far cheaper than the standard encoder it saves.
    """
    return bool(orjson.loads(data) == value)


def _standard(value: Any, default: Callable[[Any], Any] | None) -> str:
    if default is None:
        return _STD_COMPACT(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)


def copy(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """An independent copy of a JSON value: ``json.loads(json.dumps(value, default=default))``, faster."""
    try:
        data = orjson.dumps(value, default=default, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return json.loads(json.dumps(value, default=default))
    copied = orjson.loads(data)
    if b"null" in data and copied != value:  # NaN and Infinity survive the standard round trip, not orjson's
        return json.loads(json.dumps(value, default=default))
    return copied
