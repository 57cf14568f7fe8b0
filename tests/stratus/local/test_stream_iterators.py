"""Shard iterators of the local stream: the compact form, and the JSON form earlier versions issued."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from stratus import App
from stratus.resources.stream import InvalidArgument
from stratus.testing import local


def test_an_iterator_in_the_earlier_json_form_still_reads() -> None:
    app = App("si")
    stream = app.stream("events", shards=1)
    with local(app) as env:
        stream.put(b"one", "k")
        stream.put(b"two", "k")
        backend: Any = stream.backend
        issued = env.cloud.clock.now()
        legacy = base64.urlsafe_b64encode(
            json.dumps([backend.name, 0, 0, issued], separators=(",", ":")).encode()
        ).decode()
        result = stream.get_records(legacy)
        assert [r.data for r in result.records] == [b"one", b"two"]
        assert result.next_shard_iterator is not None
        assert stream.get_records(result.next_shard_iterator).records == []


@pytest.mark.parametrize(
    "payload",
    [b"si-events\n0\n0", b"si-events\n0\nx\n1.0", b"other-stream\n0\n0\n1.0", b"[1, 2]", b"\xff\xfe"],
)
def test_malformed_iterators_are_invalid_arguments(payload: bytes) -> None:
    app = App("si")
    stream = app.stream("events", shards=1)
    with local(app), pytest.raises(InvalidArgument):
        stream.get_records(base64.urlsafe_b64encode(payload).decode())
