"""The shop's notion of "now": the cloud's clock when it told us one, else the wall clock.

Functions have no public way to read the local cloud's clock, so a startup hook hands it
over (:func:`use`); tests on a virtual clock then expire reservations and date events in
virtual time. On AWS no hook runs and this is the wall clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

_clock: Any = None


def use(clock: Any) -> None:
    """Read time from ``clock`` (anything with ``now() -> float``) from now on."""
    global _clock
    _clock = clock


def now() -> float:
    return float(_clock.now()) if _clock is not None else time.time()


def iso(epoch: float | None = None) -> str:
    """An ISO 8601 UTC timestamp with milliseconds (sorts as text)."""
    moment = datetime.fromtimestamp(now() if epoch is None else epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(epoch: float | None = None) -> str:
    return datetime.fromtimestamp(now() if epoch is None else epoch, tz=UTC).strftime("%Y-%m-%d")
