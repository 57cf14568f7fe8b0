"""The stream port's conformance fixtures: each test runs once per adapter.

A test declares its streams on ``harness.app``, then calls ``harness.start()``; time
moves only through ``harness.advance`` (the local adapter's virtual clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.stream import Stream
from stratus.testing import LocalEnv

ADAPTERS = ["local", "aws"]

_HASH_KEYS = "moto gap: an ExplicitHashKey on a shard boundary crashes moto's PutRecords (no shard found)"
_RESHARD = "moto gap: resharding differs from Kinesis (child sequence ranges, closed-shard iterators, adjacency order)"

#: Tests the aws adapter cannot pass on moto, and why (by test name, or by name with parameters).
AWS_SKIPS: dict[str, str] = {
    "test_explicit_hash_key_overrides_the_partition_key": _HASH_KEYS,
    "test_put_records_reports_throttled_records_and_writes_the_rest": _HASH_KEYS,
    "test_a_shard_takes_one_mebibyte_per_second": "moto gap: no per-shard write throughput limit",
    "test_bad_iterator_requests[aws-args9-kwargs9-InvalidArgument-invalid]": (
        "moto gap: AT_SEQUENCE_NUMBER with a sequence number never issued is accepted"
    ),
    "test_a_sequence_number_of_another_shard_is_rejected": (
        "moto gap: a sequence number of another shard is accepted by GetShardIterator"
    ),
    "test_bad_get_records_requests": "moto gap: a malformed shard iterator crashes moto (binascii.Error)",
    "test_listeners_hear_about_new_records": (
        "local-only hook: on AWS, Lambda's event-source mapping reads the shards"
    ),
    "test_split_then_merge": _RESHARD,
    "test_reading_a_closed_shard_to_its_end_hands_over_the_children": _RESHARD,
    "test_merged_child_names_both_parents": _RESHARD,
    "test_split_needs_a_key_inside_the_shard": (
        "moto gap: SplitShard refuses a NewStartingHashKey equal to the shard's EndingHashKey"
    ),
    "test_closed_and_non_adjacent_shards_cannot_be_resharded": _RESHARD,
}


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.app = App("stest")
        self._stack = ExitStack()
        self._env: LocalEnv | None = None
        self._cloud: Any = None

    def stream(self, name: str, **settings: Any) -> Stream:
        return self.app.stream(name, **settings)

    def start(self) -> LocalEnv:
        if self.adapter == "aws":
            return self._start_aws()
        self._env = self._stack.enter_context(stratus.testing.local(self.app))
        return self._env

    def _start_aws(self) -> Any:
        from tests.stratus.aws.adapters.moto_cloud import create_stream, moto_cloud

        from stratus.aws.adapters.stream import AwsStream

        self._cloud = cloud = self._stack.enter_context(moto_cloud())
        for s in self.app.resources_of("stream"):
            create_stream(cloud, s)
            cloud.bind(s, AwsStream)
        return cloud

    @property
    def env(self) -> LocalEnv:
        if self.adapter != "local":
            pytest.skip("inspects the local environment: local adapter only")
        assert self._env is not None, "call harness.start() first"
        return self._env

    def now(self) -> float:
        if self.adapter == "aws":
            return float(self._cloud.clock.now())
        return self.env.clock.now()

    def advance(self, seconds: float) -> None:
        if self.adapter != "local":
            pytest.skip("moves time: needs the local adapter's virtual clock")
        self.env.advance(seconds)

    def restart(self) -> None:
        if self.adapter != "local":
            pytest.skip("restarts the process state: local adapter only")
        self.env.restart()

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "aws":
        reason = AWS_SKIPS.get(request.node.name) or AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
    h = Harness(request.param)
    yield h
    h.close()


@pytest.fixture
def stream(harness: Harness) -> Stream:
    """A bound one-shard stream."""
    s = harness.stream("events")
    harness.start()
    return s


@pytest.fixture
def four(harness: Harness) -> Stream:
    """A bound four-shard stream."""
    s = harness.stream("sharded", shards=4)
    harness.start()
    return s


def _read_all(s: Stream, shard_id: str, iterator_type: str = "TRIM_HORIZON", **kwargs: Any) -> list[Any]:
    """Every record from an iterator to the end of what is there now."""
    iterator = s.get_shard_iterator(shard_id, iterator_type, **kwargs)  # type: ignore[arg-type]
    records = []
    while iterator:
        result = s.get_records(iterator)
        records += result.records
        if not result.records:
            break
        iterator = result.next_shard_iterator
    return records


@pytest.fixture
def read_all() -> Any:
    """``read_all(stream, shard_id, iterator_type="TRIM_HORIZON", **kwargs)``: every record from there on."""
    return _read_all
