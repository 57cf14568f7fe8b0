"""Queue round trips (send -> receive -> delete) on the embedded adapter and on boto3 + moto in process.

Both sides do the same work per operation: one send, one receive of that message, one
delete. The embedded adapter commits each call to SQLite (WAL) before returning; moto
keeps everything in memory, so the ratio understates the difference at equal durability.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable

from bench.common import Figures, Row, measure
from stratus import App
from stratus.local.cloud import LocalCloud

STRATUS_COUNT, MOTO_COUNT, MAX_SECONDS, ROUNDS = 3000, 200, 3.0, 3


def _best(op: Callable[[int], object], count: int, warmup: int = 50) -> Figures:
    """The best of a few rounds: both sides get the same treatment, and a busy machine's stalls weigh less."""
    return max((measure(op, count, warmup=warmup, max_seconds=MAX_SECONDS) for _ in range(ROUNDS)), key=_rate)


def _rate(figures: Figures) -> float:
    return figures.ops_per_s


def _stratus(fifo: bool) -> Figures:
    folder = tempfile.mkdtemp(prefix="bench-queue-")
    app = App("bench")
    q = app.queue("work.fifo" if fifo else "work", fifo=fifo)
    cloud = LocalCloud(folder)
    cloud.bind(app)
    ids = itertools.count()  # measure() restarts i after its warm-up; deduplication ids must not repeat
    try:

        def op(i: int) -> None:
            if fifo:
                q.send(f"message {i}", group_id=f"g{i % 8}", deduplication_id=str(next(ids)))
            else:
                q.send(f"message {i}")
            [m] = q.receive()
            q.delete(m.receipt_handle)

        return _best(op, STRATUS_COUNT)
    finally:
        cloud.close()
        shutil.rmtree(folder, ignore_errors=True)


def _moto(fifo: bool) -> Figures:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        attributes = {"FifoQueue": "true"} if fifo else {}
        url = client.create_queue(QueueName="work.fifo" if fifo else "work", Attributes=attributes)["QueueUrl"]
        ids = itertools.count()
        send: Callable[[int], object]
        if fifo:

            def send(i: int) -> object:
                return client.send_message(
                    QueueUrl=url,
                    MessageBody=f"message {i}",
                    MessageGroupId=f"g{i % 8}",
                    MessageDeduplicationId=str(next(ids)),
                )
        else:

            def send(i: int) -> object:
                return client.send_message(QueueUrl=url, MessageBody=f"message {i}")

        def op(i: int) -> None:
            send(i)
            [m] = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
            client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

        return _best(op, MOTO_COUNT, warmup=20)


def run() -> list[Row]:
    return [
        Row("queue", "send→receive→delete (standard)", _stratus(False), _moto(False), target=">= 30x"),
        Row("queue", "send→receive→delete (FIFO)", _stratus(True), _moto(True), target=">= 30x"),
    ]
