"""Event-source mappings: which queue, stream, table stream or bucket feeds a function, and how.

The options are Lambda's (EventSourceMapping and S3 notification settings), validated when
declared so a bad one fails at import, naming the setting. The dispatcher (`stratus.local.dispatch`)
delivers with these semantics locally; template synthesis writes them for AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stratus.errors import ValidationError
from stratus.matching import compile_pattern
from stratus.resources.base import Resource

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")


def _range(label: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{label} must be a whole number from {low} to {high}, got {value!r}")


def _filters(label: str, patterns: list[dict[str, Any]] | None) -> tuple[dict[str, Any], ...]:
    """Lambda event filtering: up to 5 event patterns, any of which lets a record through."""
    if patterns is None:
        return ()
    if not isinstance(patterns, list) or not 1 <= len(patterns) <= 5:
        raise ValidationError(f"{label}: filters must be a list of 1 to 5 event patterns")
    for pattern in patterns:
        compile_pattern(pattern)
    return tuple(patterns)


@dataclass(frozen=True)
class QueueSource:
    """SQS → function (Lambda's SQS event-source mapping)."""

    queue: Resource[Any]
    batch_size: int = 10
    batching_window: int = 0
    report_failures: bool = False
    max_concurrency: int | None = None
    filters: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if getattr(self.queue, "kind", None) != "queue":
            raise ValidationError(f"on_queue needs a queue, got {self.queue!r}")
        fifo = bool(getattr(self.queue, "fifo", False))
        _range("batch_size", self.batch_size, 1, 10 if fifo or self.batching_window == 0 else 10000)
        _range("batching_window", self.batching_window, 0, 300)
        if fifo and self.batching_window:
            raise ValidationError("batching_window is not supported for FIFO queues")
        if self.max_concurrency is not None:
            _range("max_concurrency", self.max_concurrency, 2, 1000)


@dataclass(frozen=True)
class StreamSource:
    """Kinesis stream or DynamoDB table stream → function."""

    source: Resource[Any]
    batch_size: int = 100
    batching_window: int = 0
    starting_position: str = "LATEST"
    bisect_on_error: bool = False
    retry_attempts: int = -1
    max_record_age: int = -1
    on_failure: Resource[Any] | None = None
    parallelization: int = 1
    tumbling_window: int = 0
    report_failures: bool = False
    filters: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        kind = getattr(self.source, "kind", None)
        if kind == "table" and not getattr(self.source, "stream_view", None):
            raise ValidationError(
                f"table {self.source.name!r} has no stream: declare it with stream='NEW_AND_OLD_IMAGES'"
            )
        if kind not in ("stream", "table"):
            raise ValidationError(f"on_stream needs a stream or a table with a stream, got {self.source!r}")
        _range("batch_size", self.batch_size, 1, 10000)
        _range("batching_window", self.batching_window, 0, 300)
        if self.starting_position not in STARTING_POSITIONS:
            raise ValidationError(f"starting_position must be one of {', '.join(STARTING_POSITIONS)}")
        if self.retry_attempts != -1:
            _range("retry_attempts", self.retry_attempts, 0, 10000)
        if self.max_record_age != -1:
            _range("max_record_age", self.max_record_age, 60, 604800)
        _range("parallelization", self.parallelization, 1, 10)
        _range("tumbling_window", self.tumbling_window, 0, 900)
        if self.on_failure is not None and getattr(self.on_failure, "kind", None) not in ("queue", "topic"):
            raise ValidationError("on_failure must be a queue or a topic")

    @property
    def is_table(self) -> bool:
        return self.source.kind == "table"


@dataclass(frozen=True)
class BucketSource:
    """S3 event notification → function (invoked asynchronously, as S3 does)."""

    bucket: Resource[Any]
    rule: Any  # stratus.resources.bucket.BucketNotification

    def __post_init__(self) -> None:
        if getattr(self.bucket, "kind", None) != "bucket":
            raise ValidationError(f"on_bucket needs a bucket, got {self.bucket!r}")

    def matches(self, event_name: str, key: str) -> bool:
        """S3's notification filter: the event type (with ``*`` families) and the key's prefix/suffix."""
        from stratus.resources.bucket.notifications import notification_matches

        return notification_matches(self.rule, event_name, key)


__all__ = ["BucketSource", "QueueSource", "StreamSource", "_filters"]
