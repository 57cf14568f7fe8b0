"""Queue round trips (send -> receive -> delete) on the embedded adapter and on boto3 + moto in process.

Both sides do the same work per operation: one send, one receive of that message, one
delete. The embedded adapter commits each call to SQLite (WAL) before returning; moto
keeps everything in memory, so the ratio understates the difference at equal
durability. Rounds alternate between the two sides and each keeps its best round, so a
busy machine's stalls weigh on both alike.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.common import Figures, Row, measure
from stratus import App
from stratus.local.cloud import LocalCloud

STRATUS_COUNT, MOTO_COUNT, MAX_SECONDS, ROUNDS = 3000, 200, 3.0, 3

Op = Callable[[int], object]


@contextmanager
def _stratus(fifo: bool) -> Iterator[Op]:
    folder = tempfile.mkdtemp(prefix="bench-queue-")
    app = App("bench")
    q = app.queue("work.fifo" if fifo else "work", fifo=fifo)
    cloud = LocalCloud(folder)
    cloud.bind(app)
    ids = itertools.count()  # measure() restarts i after its warm-up; deduplication ids must not repeat

    def op(i: int) -> None:
        if fifo:
            q.send(f"message {i}", group_id=f"g{i % 8}", deduplication_id=str(next(ids)))
        else:
            q.send(f"message {i}")
        [m] = q.receive()
        q.delete(m.receipt_handle)

    try:
        yield op
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _moto(fifo: bool) -> Iterator[Op]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = client.create_queue(QueueName="work.fifo" if fifo else "work", Attributes=attributes)["QueueUrl"]
        ids = itertools.count()

        def op(i: int) -> None:
            if fifo:
                client.send_message(
                    QueueUrl=url,
                    MessageBody=f"message {i}",
                    MessageGroupId=f"g{i % 8}",
                    MessageDeduplicationId=str(next(ids)),
                )
            else:
                client.send_message(QueueUrl=url, MessageBody=f"message {i}")
            [m] = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
            client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

        yield op


def compare(stratus_op: Op, moto_op: Op) -> tuple[Figures, Figures]:
    """Alternate rounds of each side; keep each side's best round."""
    rounds = [
        (
            measure(stratus_op, STRATUS_COUNT, max_seconds=MAX_SECONDS),
            measure(moto_op, MOTO_COUNT, warmup=20, max_seconds=MAX_SECONDS),
        )
        for _ in range(ROUNDS)
    ]
    return max((r[0] for r in rounds), key=_rate), max((r[1] for r in rounds), key=_rate)


def _rate(figures: Figures) -> float:
    return figures.ops_per_s


def _row(name: str, fifo: bool) -> Row:
    with _stratus(fifo) as ours, _moto(fifo) as theirs:
        stratus, moto = compare(ours, theirs)
    return Row("queue", name, stratus, moto, target=">= 30x")


def run() -> list[Row]:
    return [_row("send→receive→delete (standard)", False), _row("send→receive→delete (FIFO)", True)]
