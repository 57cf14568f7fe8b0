"""Errors of the matching engines, carrying the AWS error codes.

Rule compilers raise :class:`PatternError` with the bare reason AWS gives (``"Empty arrays are not
allowed"``); each front end wraps it in its service's wording: EventBridge's
``InvalidEventPatternException: Event pattern is not valid. Reason: ...`` or SNS's
``InvalidParameter: Invalid parameter: FilterPolicy: ...``.
"""

from __future__ import annotations

from stratus.errors import ValidationError


class PatternError(Exception):
    """A rule (event pattern or filter policy) is invalid; ``reason`` is AWS's text for why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyAlternatives(PatternError):
    """``$or`` multiplied a rule into more alternatives than Stratus evaluates."""


class InvalidEventPattern(ValidationError):
    """EventBridge rejected an event pattern (PutRule, TestEventPattern)."""

    code = "InvalidEventPatternException"


class InvalidFilterPolicy(ValidationError):
    """SNS rejected a subscription filter policy (Subscribe, SetSubscriptionAttributes)."""

    code = "InvalidParameter"


class InvalidEvent(ValidationError):
    """TestEventPattern rejected the event itself."""

    code = "ValidationException"
