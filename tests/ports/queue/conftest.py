"""The queue port's conformance fixtures: each test runs once per adapter.

A test declares its queues on ``harness.app``, then calls ``harness.start()``; the
harness binds them to the adapter under test. Time moves only through
``harness.advance`` (the local adapter's virtual clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

import stratus.testing
from stratus import App
from stratus.resources.queue import Queue
from stratus.testing import LocalEnv

ADAPTERS = ["local", "aws"]

_PEEK = "uses peek (list without receiving), which SQS cannot do: local adapter only"
_LISTENER = "local-only hook: on AWS, Lambda's event-source mapping polls the queue"
_MOVE_TASKS = "moto gap: StartMessageMoveTask/ListMessageMoveTasks are not implemented"
_POLL_AND_ADVANCE = (
    "moves time (virtual clock) under a long poll; skipped before its polling thread starts, so that "
    "thread does not outlive moto"
)
_DEDUPE_ID = "moto gap: a deduplicated send returns a new MessageId (SQS returns the original's)"

#: Tests the aws adapter cannot pass on moto or on SQS itself, and why.
AWS_SKIPS: dict[str, str] = {
    "test_content_based_deduplication_uses_the_body_hash": _DEDUPE_ID,
    "test_fifo_batch_keeps_order_and_dedupes": _DEDUPE_ID,
    "test_sequence_numbers_increase_and_attributes_are_reported": (
        "moto gap: FIFO sequence numbers are random, not increasing"
    ),
    "test_fifo_requires_a_group_id_and_a_deduplication_id": _PEEK,
    "test_fifo_rejects_a_per_message_delay": _PEEK,
    "test_redrive_to_another_queue": _MOVE_TASKS,
    "test_redrive_with_a_rate_moves_that_many_per_clock_second": _MOVE_TASKS,
    "test_redrive_needs_a_dead_letter_queue_and_valid_parameters": _MOVE_TASKS,
    "test_a_running_redrive_can_be_cancelled": _MOVE_TASKS,
    "test_send_receive_delete_round_trip": (
        "asserts SentTimestamp == ApproximateFirstReceiveTimestamp, true only under the virtual clock"
    ),
    "test_receive_can_select_message_attributes_and_system_attributes": _PEEK,
    "test_send_batch_sends_good_entries_and_reports_bad_ones": _PEEK,
    "test_garbage_receipt_handles_are_invalid": (
        "moto gap: its message is 'The input receipt handle is invalid.' (SQS: '... is not a valid receipt "
        "handle.'); the test also peeks"
    ),
    "test_visibility_cannot_exceed_twelve_hours_from_the_receive": (
        "moves time (virtual clock); moto also refuses 43200 s right after the receive"
    ),
    "test_delete_batch_reports_each_entry": _PEEK,
    "test_attributes_count_visible_in_flight_and_delayed": (
        "moves time, and ApproximateAgeOfOldestMessage is a CloudWatch metric on AWS, not a queue attribute"
    ),
    "test_purge_deletes_everything_once_a_minute": _PEEK,
    "test_peek_lists_without_receiving": _PEEK,
    "test_concurrent_senders_and_receivers_see_every_message_once": (
        "moto gap: concurrent ReceiveMessage calls can return one message twice (moto does not lock its queue); "
        "note SQS standard queues promise at-least-once delivery, so exactly-once holds only usually on AWS"
    ),
    "test_long_poll_returns_empty_when_the_clock_passes_the_wait": _POLL_AND_ADVANCE,
    "test_long_poll_wakes_when_a_delayed_message_becomes_visible": _POLL_AND_ADVANCE,
    "test_listeners_are_told_when_messages_may_be_receivable": _LISTENER,
    "test_a_failing_listener_does_not_fail_the_committed_send": _LISTENER,
}


class Harness:
    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.app = App("qtest")
        self._stack = ExitStack()
        self._env: LocalEnv | None = None
        self._cloud: Any = None

    def queue(self, name: str, **settings: Any) -> Queue:
        return self.app.queue(name, **settings)

    def start(self) -> LocalEnv:
        if self.adapter == "aws":
            return self._start_aws()
        self._env = self._stack.enter_context(stratus.testing.local(self.app))
        return self._env

    def _start_aws(self) -> Any:
        from tests.stratus.aws.adapters.moto_cloud import create_queue, moto_cloud

        from stratus.aws.adapters.queue import AwsQueue

        self._cloud = cloud = self._stack.enter_context(moto_cloud())
        queues = list(self.app.resources_of("queue"))
        created: set[str] = set()
        while len(created) < len(queues):  # dead-letter queues first
            for q in queues:
                if q.name in created or (q.dead_letter is not None and q.dead_letter.queue.name not in created):
                    continue
                create_queue(cloud, q)
                created.add(q.name)
        for q in queues:
            cloud.bind(q, AwsQueue)
        return cloud

    @property
    def env(self) -> LocalEnv:
        if self.adapter != "local":
            pytest.skip("inspects the local environment (its virtual clock): local adapter only")
        assert self._env is not None, "call harness.start() first"
        return self._env

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
    if request.param == "aws" and request.node.originalname in AWS_SKIPS:
        pytest.skip(AWS_SKIPS[request.node.originalname])
    h = Harness(request.param)
    yield h
    h.close()


@pytest.fixture
def queue(harness: Harness) -> Queue:
    """A bound standard queue with the default settings."""
    q = harness.queue("orders")
    harness.start()
    return q


@pytest.fixture
def fifo(harness: Harness) -> Queue:
    """A bound FIFO queue (explicit deduplication ids)."""
    q = harness.queue("orders.fifo", fifo=True)
    harness.start()
    return q
