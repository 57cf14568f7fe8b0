"""Bucket notifications: which object events a rule selects, by S3's rules.

A rule names event types (``s3:ObjectCreated:*`` selects every creation) and optionally
a key prefix and suffix; an event matches when its type is selected and its key (the
raw key, not the URL-encoded one in the message) starts with the prefix and ends with
the suffix. S3 refuses two rules that could both match one event of one type, and so
does :func:`validate_notifications`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from stratus.errors import ValidationError

#: The concrete events the bucket port emits, and the wildcards that select them.
CREATED_EVENTS = ("s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
                  "s3:ObjectCreated:CompleteMultipartUpload")  # fmt: skip
REMOVED_EVENTS = ("s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated")
EVENT_TYPES = ("s3:ObjectCreated:*", *CREATED_EVENTS, "s3:ObjectRemoved:*", *REMOVED_EVENTS)


@dataclass(frozen=True)
class BucketNotification:
    """One notification rule: the event types it selects and an optional key prefix/suffix filter."""

    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    prefix: str = ""
    suffix: str = ""
    #: S3's configuration Id (``configurationId`` in the event message); defaulted from the bucket's name.
    id: str = ""

    def __post_init__(self) -> None:
        events = self.events
        if isinstance(events, str):
            events = (events,)
            object.__setattr__(self, "events", events)
        if not isinstance(events, tuple | list) or not events:
            raise ValidationError("a bucket notification needs at least one event type in events=(...)")
        object.__setattr__(self, "events", tuple(events))
        for name in self.events:
            if name not in EVENT_TYPES:
                raise ValidationError(
                    f"bucket notification event {name!r} is not supported; use one of {', '.join(EVENT_TYPES)}"
                )
        for field_name in ("prefix", "suffix", "id"):
            value = getattr(self, field_name)
            if not isinstance(value, str):
                raise ValidationError(f"bucket notification {field_name} must be a string, got {value!r}")
        if len(self.prefix.encode()) > 1024 or len(self.suffix.encode()) > 1024:
            raise ValidationError("bucket notification prefix and suffix must be at most 1024 bytes")

    def selects(self, event_name: str) -> bool:
        """Does this rule select the concrete event ``event_name`` ("ObjectCreated:Put" or "s3:...")?"""
        return _event_selected(self.events, _qualified(event_name))


def _qualified(event_name: str) -> str:
    return event_name if event_name.startswith("s3:") else "s3:" + event_name


def _event_selected(rule_events: Iterable[str], event: str) -> bool:
    family = event.rsplit(":", 1)[0]
    return any(e == event or (e.endswith(":*") and e[:-2] == family) for e in rule_events)


def notification_matches(rule: BucketNotification, event_name: str, key: str) -> bool:
    """S3's matching: the event type is selected (``:*`` wildcards a family) and the key fits the filter."""
    return rule.selects(event_name) and key.startswith(rule.prefix) and key.endswith(rule.suffix)


def _concrete(events: Iterable[str]) -> set[str]:
    return {e for e in (*CREATED_EVENTS, *REMOVED_EVENTS) if _event_selected(events, e)}


def _overlap(a: str, b: str, *, suffix: bool) -> bool:
    if suffix:
        return a.endswith(b) or b.endswith(a)
    return a.startswith(b) or b.startswith(a)


def validate_notifications(bucket: str, rules: object) -> list[BucketNotification]:
    """Check a bucket's rules; give each an id; refuse ambiguous (overlapping) rules as S3 does."""
    if rules is None:
        return []
    if not isinstance(rules, list | tuple):
        raise ValidationError(f"bucket {bucket!r}: notifications must be a list of BucketNotification")
    out: list[BucketNotification] = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, BucketNotification):
            raise ValidationError(f"bucket {bucket!r}: notifications[{i}] must be a BucketNotification, got {rule!r}")
        out.append(rule if rule.id else replace(rule, id=f"{bucket}-notification-{i + 1}"))
    ids = [r.id for r in out]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"bucket {bucket!r}: notification ids must be unique, got {ids}")
    for i, a in enumerate(out):
        for b in out[i + 1 :]:
            shared = _concrete(a.events) & _concrete(b.events)
            if shared and _overlap(a.prefix, b.prefix, suffix=False) and _overlap(a.suffix, b.suffix, suffix=True):
                raise ValidationError(
                    f"bucket {bucket!r}: notifications {a.id!r} and {b.id!r} overlap for {sorted(shared)[0]} "
                    "(S3: Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
                    "if the prefixes are overlapping for the same event type.)"
                )
    return out
