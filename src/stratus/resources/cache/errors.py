"""Errors of the cache port, named after what Redis (ElastiCache) reports."""

from __future__ import annotations

from stratus.errors import LimitExceeded, StratusError, ValidationError


class ValueTooLarge(LimitExceeded):
    """A value whose encoded size is over the cache's ``max_value_bytes``; nothing was stored."""


class NotAnInteger(ValidationError):
    """``incr`` on a value that is not a 64-bit integer, or an increment that would overflow one."""

    code = "WRONGTYPE"


class CacheUnavailable(StratusError):
    """The cache server could not be reached; the call may or may not have taken effect."""

    code = "ServiceUnavailable"
