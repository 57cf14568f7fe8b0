"""What is running now: the invocation or span in progress, its trace ids, and the cloud's observability hub.

One context variable carries it, set by the function runtime around each invocation and by
:func:`stratus.observability.tracing.span` around each span, so anything a handler sends
(a topic publish, a bus put, an async invoke, a queue send) can read the trace header to
carry, and :mod:`~stratus.observability.logs` and :mod:`~stratus.observability.metrics`
know the request id and where to write.

Trace ids use X-Ray's format (``1-<8 hex epoch seconds>-<24 hex random>``) and the header
X-Ray and Lambda pass along (``Root=<trace id>;Parent=<16 hex span id>;Sampled=1``); an
X-Ray trace id is also a valid OpenTelemetry trace id once the dashes are removed. Written
by hand because it is a few lines of string formatting on the hot path.
"""

from __future__ import annotations

import random
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.observability.hub import Observability

_bits = random.getrandbits


class Active:
    """The span in progress (an invocation is a span): its ids and, if local, the hub that records it."""

    __slots__ = ("function", "hub", "request_id", "span_id", "trace_id")

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        request_id: str | None = None,
        function: str | None = None,
        hub: Observability | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.request_id = request_id
        self.function = function
        self.hub = hub

    @property
    def header(self) -> str:
        return f"Root={self.trace_id};Parent={self.span_id};Sampled=1"


current: ContextVar[Active | None] = ContextVar("stratus_active_span", default=None)

#: The hub of the cloud most recently started in this process (for code running outside an invocation).
_active_hub: list[Any] = [None]


def active_hub() -> Observability | None:
    """The hub to record into: the current invocation's, else the process's active one."""
    active = current.get()
    if active is not None and active.hub is not None:
        return active.hub
    hub: Observability | None = _active_hub[0]
    return hub


def set_active_hub(hub: Observability | None) -> None:
    _active_hub[0] = hub


def new_trace_id(now: float) -> str:
    """A fresh X-Ray trace id: ``1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>``."""
    return f"1-{int(now) & 0xFFFFFFFF:08x}-{_bits(96):024x}"


def new_span_id() -> str:
    return f"{_bits(64) | 1:016x}"


def current_header() -> str | None:
    """The X-Ray trace header for anything sent from here (None outside any invocation or span)."""
    active = current.get()
    return None if active is None else f"Root={active.trace_id};Parent={active.span_id};Sampled=1"


def current_trace_id() -> str | None:
    active = current.get()
    return None if active is None else active.trace_id


def current_request_id() -> str | None:
    active = current.get()
    return None if active is None else active.request_id


def parse_header(header: str | None) -> tuple[str | None, str | None]:
    """``(trace id, parent span id)`` from an X-Ray header (or a bare trace id); Nones if unusable."""
    if not header:
        return None, None
    if header.startswith("1-") and ";" not in header:
        return (header if _valid_trace_id(header) else None), None
    root = parent = None
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root":
            root = value
        elif key == "Parent":
            parent = value
    if root is None or not _valid_trace_id(root):
        return None, None
    if parent is not None and not _is_hex(parent, 16):
        parent = None
    return root, parent


def _valid_trace_id(value: str) -> bool:
    return len(value) == 35 and value[:2] == "1-" and value[10] == "-" and _is_hex(value[2:10] + value[11:], 32)


def _is_hex(value: str, length: int) -> bool:
    if len(value) != length:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def otel_trace_id(trace_id: str) -> int:
    """The OpenTelemetry (128-bit) trace id of an X-Ray trace id."""
    return int(trace_id[2:10] + trace_id[11:], 16)


def xray_trace_id(otel_id: int) -> str:
    text = f"{otel_id:032x}"
    return f"1-{text[:8]}-{text[8:]}"


def normalize_trace_id(value: str) -> str:
    """Accept an X-Ray trace id, a 32-hex OpenTelemetry id or a full header; return the X-Ray id."""
    value = value.strip()
    if _is_hex(value, 32):
        return xray_trace_id(int(value, 16))
    root, _ = parse_header(value)
    return root or value
