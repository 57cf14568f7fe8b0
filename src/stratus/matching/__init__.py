"""Content matching with AWS's semantics: EventBridge event patterns and SNS subscription filter policies.

Both services share one rule language (exact values, prefix/suffix, anything-but, numeric, cidr,
exists, ``$or``...), implemented once in this package and exposed per service:

- :func:`compile_pattern` / :class:`EventPattern` / :func:`test_event_pattern` (EventBridge),
- :class:`RuleSet` to match an event against many rules fast (PutEvents against a bus's rules),
- :func:`compile_filter_policy` / :class:`FilterPolicy` (SNS).
"""

from __future__ import annotations

from stratus.matching.errors import InvalidEvent, InvalidEventPattern, InvalidFilterPolicy
from stratus.matching.event_pattern import EventPattern, compile_pattern, test_event_pattern
from stratus.matching.filter_policy import (
    SET_SUBSCRIPTION_ATTRIBUTES_PREFIX,
    SUBSCRIBE_PREFIX,
    FilterPolicy,
    compile_filter_policy,
)
from stratus.matching.ruleset import RuleSet

__all__ = [
    "SET_SUBSCRIPTION_ATTRIBUTES_PREFIX",
    "SUBSCRIBE_PREFIX",
    "EventPattern",
    "FilterPolicy",
    "InvalidEvent",
    "InvalidEventPattern",
    "InvalidFilterPolicy",
    "RuleSet",
    "compile_filter_policy",
    "compile_pattern",
    "test_event_pattern",
]
