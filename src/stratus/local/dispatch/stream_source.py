"""Kinesis stream / DynamoDB table stream → function, as Lambda's stream event-source mappings deliver.

Per shard, in order: read a batch after the durable checkpoint (waiting up to
``batching_window`` for a fuller one), drop records the filters reject, invoke, and move the
checkpoint only after success. A failing batch blocks its shard and is retried with
backoff until it succeeds, its records grow older than ``max_record_age``, or
``retry_attempts`` is exhausted; with ``bisect_on_error`` it is split in two first; with
``report_failures`` the checkpoint moves to just before the first failed record. When it
gives up, the on-failure destination receives Lambda's batch-info record and the shard
moves on. Children of a split or merge are read only after their parents are finished.
``tumbling_window`` passes aggregation state between invocations of one window.

Locally each shard is processed by one poller (``parallelization`` is accepted and
reported, and order per partition key holds trivially).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stratus.clock import iso8601
from stratus.local.dispatch.filtering import RecordFilter
from stratus.local.dispatch.shards import KinesisShards, ShardSource, StreamRecord, TableStreamShards
from stratus.local.pumps import IDLE, PumpResult
from stratus.local.targets import deliver
from stratus.observability.tracing import span
from stratus.resources.function import Function, FunctionError, TooManyRequests
from stratus.resources.triggers import StreamSource

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud
    from stratus.local.functions import FunctionEngine

log = logging.getLogger("stratus.dispatch")

MAX_BACKOFF = 60.0

_MIGRATIONS = [
    """
    CREATE TABLE stream_checkpoints (
        mapping TEXT NOT NULL,
        shard TEXT NOT NULL,
        position TEXT,
        finished INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mapping, shard)
    )
    """
]


@dataclass
class _ShardState:
    position: str | None
    finished: bool
    attempts: int = 0
    retry_at: float = 0.0
    limit: int | None = None  # a bisected batch's size
    window_start: float | None = None
    window_state: dict[str, Any] = field(default_factory=dict)
    pending_since: float | None = None


class StreamPump:
    def __init__(self, function: Function, spec: StreamSource, engine: FunctionEngine, cloud: LocalCloud) -> None:
        self.function = function
        self.spec = spec
        self.engine = engine
        self.cloud = cloud
        source: ShardSource = (
            TableStreamShards(spec.source, cloud) if spec.is_table else KinesisShards(spec.source, cloud)
        )
        self.source = source
        self.mapping = f"{function.qualified_name}|{spec.source.kind}|{spec.source.qualified_name}"
        self.name = f"stream:{spec.source.qualified_name}->{function.qualified_name}"
        self.filter = RecordFilter(spec.filters, "kinesis" if not spec.is_table else "dynamodb")
        self.db = cloud.storage.database("dispatch")
        self.db.migrate("stream_checkpoints", _MIGRATIONS)
        self.states: dict[str, _ShardState] = {}
        self._load()
        spec.source.backend.subscribe(lambda: cloud.wake(self))  # only this pump has work

    # -- checkpoints -------------------------------------------------------------------------
    def _load(self) -> None:
        rows = self.db.execute(
            "SELECT shard, position, finished FROM stream_checkpoints WHERE mapping = ?", (self.mapping,)
        )
        for shard, position, finished in rows:
            self.states[shard] = _ShardState(position, bool(finished))

    def _state(self, shard_id: str) -> _ShardState:
        state = self.states.get(shard_id)
        if state is None:
            # A new shard starts where the mapping's starting position says; children of a
            # split or merge start at their beginning (their parents were read to the end).
            position = None
            if self.spec.starting_position == "LATEST" and not self._is_child(shard_id):
                position = self.source.latest(shard_id)
            state = _ShardState(position, False)
            self.states[shard_id] = state
            self._save(shard_id, state)
        return state

    def _is_child(self, shard_id: str) -> bool:
        return any(s.shard_id == shard_id and s.parents for s in self.source.shards())

    def _save(self, shard_id: str, state: _ShardState) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO stream_checkpoints (mapping, shard, position, finished) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(mapping, shard) DO UPDATE SET position = excluded.position, finished = excluded.finished",
                (self.mapping, shard_id, state.position, int(state.finished)),
            )

    def start(self) -> None:
        """Fix the starting positions now (LATEST means "from when the mapping was created")."""
        for shard in self.source.shards():
            self._state(shard.shard_id)

    # -- the pump ---------------------------------------------------------------------------
    def pump(self) -> PumpResult:
        now = self.cloud.clock.now()
        shards = self.source.shards()
        finished = {s.shard_id for s in shards if self.states.get(s.shard_id, _ShardState(None, False)).finished}
        worked = False
        due: list[float] = []
        for shard in shards:
            if shard.shard_id in finished or any(p not in finished for p in shard.parents if self._known(p, shards)):
                continue
            state = self._state(shard.shard_id)
            if state.retry_at > now:
                due.append(state.retry_at)
                continue
            outcome, next_due = self._pump_shard(shard.shard_id, shard.closed, state, now)
            worked = worked or outcome
            if next_due is not None:
                due.append(next_due)
        if worked:
            return PumpResult(True)
        return PumpResult(False, min(due)) if due else IDLE

    def _known(self, parent: str, shards: list[Any]) -> bool:
        return any(s.shard_id == parent for s in shards)  # parents past retention no longer block

    def _pump_shard(self, shard_id: str, closed: bool, state: _ShardState, now: float) -> tuple[bool, float | None]:
        limit = state.limit or self.spec.batch_size
        records, exhausted = self.source.read(shard_id, state.position, limit)
        if not records:
            if closed and exhausted:
                self._close_window(shard_id, state, now)
                state.finished = True
                self._save(shard_id, state)
                return True, None
            return self._close_window(shard_id, state, now), None
        if len(records) < limit and self.spec.batching_window:
            if state.pending_since is None:
                state.pending_since = now
            if now < state.pending_since + self.spec.batching_window:
                return False, state.pending_since + self.spec.batching_window
        state.pending_since = None
        if self.spec.max_record_age != -1 and now - records[0].arrival > self.spec.max_record_age:
            self._give_up(shard_id, state, records, "RecordAgeExceeded", None)
            return True, None
        kept = [r for r in records if self.filter.accepts(r.record)]
        if not kept:
            self._advance(shard_id, state, records[-1].sequence)
            return True, None
        self._invoke(shard_id, state, records, kept, now)
        return True, None

    def _event(
        self, shard_id: str, kept: list[StreamRecord], state: _ShardState, now: float, final: bool = False
    ) -> dict[str, Any]:
        event: dict[str, Any] = {"Records": [r.record for r in kept]}
        if self.spec.tumbling_window:
            width = self.spec.tumbling_window
            start = state.window_start if state.window_start is not None else (kept[0].arrival // width) * width
            state.window_start = start
            event.update(
                {
                    "window": {"start": iso8601(start), "end": iso8601(start + width)},
                    "state": dict(state.window_state),
                    "shardId": shard_id,
                    "eventSourceARN": self.source.arn,
                    "isFinalInvokeForWindow": final,
                    "isWindowTerminatedEarly": False,
                }
            )
        return event

    def _invoke(
        self, shard_id: str, state: _ShardState, records: list[StreamRecord], kept: list[StreamRecord], now: float
    ) -> None:
        window_passed = (
            state.window_start is not None and kept[0].arrival >= state.window_start + self.spec.tumbling_window
        )
        if self.spec.tumbling_window and window_passed:
            self._close_window(shard_id, state, now)
        # IteratorAge: how old the last record of the batch is when the mapping reads it.
        self.engine.observability.record_iterator_age(
            self.function.qualified_name, self.spec.source.qualified_name, max(0.0, (now - records[-1].arrival) * 1000)
        )
        try:
            with span(
                f"{'DynamoDB Streams' if self.spec.is_table else 'Kinesis'} {self.spec.source.qualified_name}",
                "consumer",
                {"stratus.shard": shard_id, "messaging.batch.message_count": len(kept)},
                parent=None,
                hub=self.engine.observability,
            ):
                result = self.engine.invoke(self.function, self._event(shard_id, kept, state, now), source="stream")
        except TooManyRequests:
            state.retry_at = now + 1.0
            return
        except FunctionError as error:
            self._failed(shard_id, state, records, now, error)
            return
        if self.spec.tumbling_window and isinstance(result, dict) and isinstance(result.get("state"), dict):
            state.window_state = result["state"]
        if self.spec.report_failures:
            failed = _first_failed(result, [r.sequence for r in kept])
            if failed == "invalid":
                self._failed(shard_id, state, records, now, None)
                return
            if failed is not None:
                before = [r for r in records if int(r.sequence) < int(failed)]
                if before:
                    self._advance(shard_id, state, before[-1].sequence, reset=False)
                self._failed(shard_id, state, [r for r in records if int(r.sequence) >= int(failed)], now, None)
                return
        self._advance(shard_id, state, records[-1].sequence)

    def _failed(
        self, shard_id: str, state: _ShardState, records: list[StreamRecord], now: float, error: FunctionError | None
    ) -> None:
        state.attempts += 1
        if self.spec.bisect_on_error and len(records) > 1:
            state.limit = max(1, len(records) // 2)
        if self.spec.retry_attempts != -1 and state.attempts > self.spec.retry_attempts:
            self._give_up(shard_id, state, records, "RetryAttemptsExhausted", error)
            return
        state.retry_at = now + min(MAX_BACKOFF, 2.0 ** (state.attempts - 1))
        log.info("%s: batch on %s failed (attempt %d)", self.name, shard_id, state.attempts)

    def _give_up(
        self,
        shard_id: str,
        state: _ShardState,
        records: list[StreamRecord],
        condition: str,
        error: FunctionError | None,
    ) -> None:
        if self.spec.on_failure is not None:
            deliver(self.spec.on_failure, self._failure_record(shard_id, records, condition, state.attempts + 1, error))
        log.warning("%s: skipping %d records on %s (%s)", self.name, len(records), shard_id, condition)
        self._advance(shard_id, state, records[-1].sequence)

    def _advance(self, shard_id: str, state: _ShardState, sequence: str, *, reset: bool = True) -> None:
        state.position = sequence
        if reset:
            state.attempts = 0
            state.limit = None
            state.retry_at = 0.0
        self._save(shard_id, state)

    def _close_window(self, shard_id: str, state: _ShardState, now: float) -> bool:
        if not self.spec.tumbling_window or state.window_start is None:
            return False
        if now < state.window_start + self.spec.tumbling_window:
            return False
        event = self._event(shard_id, [], state, now, final=True)
        try:
            self.engine.invoke(self.function, event, source="stream")
        except (FunctionError, TooManyRequests) as error:
            log.warning("%s: final window invoke failed: %s", self.name, error)
        state.window_start = None
        state.window_state = {}
        return True

    def _failure_record(
        self, shard_id: str, records: list[StreamRecord], condition: str, count: int, error: FunctionError | None
    ) -> dict[str, Any]:
        info_key = "DDBStreamBatchInfo" if self.spec.is_table else "KinesisBatchInfo"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.engine.arn(self.function),
                "condition": condition,
                "approximateInvokeCount": count,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if error else None,
            },
            "version": "1.0",
            "timestamp": iso8601(self.cloud.clock.now()),
            info_key: {
                "shardId": shard_id,
                "startSequenceNumber": records[0].sequence,
                "endSequenceNumber": records[-1].sequence,
                "approximateArrivalOfFirstRecord": iso8601(records[0].arrival),
                "approximateArrivalOfLastRecord": iso8601(records[-1].arrival),
                "batchSize": len(records),
                "streamArn": self.source.arn,
            },
        }


def _first_failed(result: Any, sequences: list[str]) -> str | None:
    """The lowest failed sequence number of a partial-batch response, None for success, "invalid" if malformed."""
    if not isinstance(result, dict) or result.get("batchItemFailures") in (None, []):
        return None
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return "invalid"
    ids = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in sequences:
            return "invalid"
        ids.append(identifier)
    return min(ids, key=int)
