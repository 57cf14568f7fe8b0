"""Change streams (record shapes, order, view types) and TTL expiry under the virtual clock."""

from __future__ import annotations

import pytest

from stratus.errors import ConditionalCheckFailed
from stratus.resources.table import TransactionCanceled, transact_write
from stratus.resources.table.expressions import Attr


@pytest.fixture
def streaming(env):
    env.need("stream")
    return env


def test_records_have_the_dynamodb_streams_shape(streaming) -> None:
    env = streaming
    env.orders.put({"customer": "c", "at": 1, "status": "new"})
    env.orders.update({"customer": "c", "at": 1}, set={"status": "paid"})
    env.orders.delete({"customer": "c", "at": 1})
    records = env.stream(env.orders)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    first = records[0]
    assert first["eventVersion"] == "1.1"
    assert first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"]
    assert first["eventSourceARN"].split(":")[2] == "dynamodb"
    assert "/stream/" in first["eventSourceARN"]
    assert len(first["eventID"]) >= 16
    d = first["dynamodb"]
    assert d["Keys"] == {"customer": {"S": "c"}, "at": {"N": "1"}}
    assert d["NewImage"] == {"customer": {"S": "c"}, "at": {"N": "1"}, "status": {"S": "new"}}
    assert "OldImage" not in d
    assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert d["SizeBytes"] > 0
    assert isinstance(d["ApproximateCreationDateTime"], int | float)
    modify = records[1]["dynamodb"]
    assert modify["OldImage"]["status"] == {"S": "new"} and modify["NewImage"]["status"] == {"S": "paid"}
    remove = records[2]["dynamodb"]
    assert remove["OldImage"]["status"] == {"S": "paid"} and "NewImage" not in remove
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert len({r["eventID"] for r in records}) == 3


def test_view_types_keep_only_their_images(streaming) -> None:
    env = streaming
    for table, key in ((env.events, {"topic": "t", "id": "1"}), (env.news, {"id": "1"}), (env.olds, {"id": "1"})):
        table.put({**key, "v": 1})
        table.put({**key, "v": 2})
    keys_only = [r["dynamodb"] for r in env.stream(env.events)]
    assert all("NewImage" not in d and "OldImage" not in d for d in keys_only)
    assert keys_only[1]["Keys"] == {"topic": {"S": "t"}, "id": {"S": "1"}}
    news = [r["dynamodb"] for r in env.stream(env.news)]
    assert [d["NewImage"]["v"] for d in news] == [{"N": "1"}, {"N": "2"}]
    assert all("OldImage" not in d for d in news)
    olds = [r["dynamodb"] for r in env.stream(env.olds)]
    assert "OldImage" not in olds[0] and olds[1]["OldImage"]["v"] == {"N": "1"}
    assert all("NewImage" not in d for d in olds)


def test_writes_that_change_nothing_or_fail_emit_nothing(streaming) -> None:
    env = streaming
    env.news.put({"id": "a", "tags": {"x", "y"}, "m": {"k": 1, "j": 2}})
    env.news.put({"id": "a", "m": {"j": 2, "k": 1}, "tags": {"y", "x"}})  # same item
    env.news.update({"id": "a"}, set={"tags": {"x", "y"}})  # same value
    env.news.delete({"id": "zzz"})  # nothing to delete
    with pytest.raises(ConditionalCheckFailed):
        env.news.put({"id": "a", "v": 1}, condition=Attr("id").not_exists())
    with pytest.raises(TransactionCanceled):
        transact_write([env.news.tx_put({"id": "b"}), env.news.tx_check({"id": "q"}, Attr("id").exists())])
    assert [r["eventName"] for r in env.stream(env.news)] == ["INSERT"]


def test_reading_after_a_sequence_number(streaming) -> None:
    env = streaming
    for i in range(5):
        env.news.put({"id": f"n{i}"})
    records = env.stream(env.news)
    after = records[1]["dynamodb"]["SequenceNumber"]
    rest = env.stream(env.news, after=after)
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in rest] == ["n2", "n3", "n4"]
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in env.stream(env.news, after=after, limit=1)] == ["n2"]
    assert env.orders.backend.stream_latest_sequence() is None
    assert env.news.backend.stream_latest_sequence() == records[-1]["dynamodb"]["SequenceNumber"]


def test_transactions_emit_one_record_per_changed_item(streaming) -> None:
    env = streaming
    transact_write([env.news.tx_put({"id": "a"}), env.orders.tx_put({"customer": "c", "at": 1})])
    assert len(env.stream(env.news)) == 1 and len(env.stream(env.orders)) == 1


def test_records_are_kept_for_24_hours(streaming) -> None:
    env = streaming
    env.need("virtual_clock")
    env.news.put({"id": "a"})
    env.advance(23 * 3600)
    env.news.put({"id": "b"})
    assert len(env.stream(env.news)) == 2
    env.advance(2 * 3600)
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in env.stream(env.news)] == ["b"]


def test_listeners_hear_of_new_records(streaming) -> None:
    env = streaming
    heard: list[int] = []
    env.news.backend.subscribe(lambda: heard.append(1))
    env.news.put({"id": "a"})
    env.news.put({"id": "a"})  # no change, no record
    env.news.delete({"id": "a"})
    assert len(heard) == 2


def test_stream_survives_restart_and_keeps_counting(streaming) -> None:
    env = streaming
    env.need("restart")
    env.news.put({"id": "a"})
    before = env.stream(env.news)
    env.restart()
    env.news.put({"id": "b"})
    after = env.stream(env.news)
    assert after[0] == before[0]
    assert int(after[1]["dynamodb"]["SequenceNumber"]) > int(before[0]["dynamodb"]["SequenceNumber"])


# -- TTL ----------------------------------------------------------------------------------------


def test_expired_items_are_deleted_by_the_service(env) -> None:
    env.need("virtual_clock")
    now = int(env.now())
    env.sessions.put({"id": "soon", "expires": now + 60})
    env.sessions.put({"id": "later", "expires": now + 3600})
    env.sessions.put({"id": "never"})
    env.sessions.put({"id": "text", "expires": str(now)})  # not a number: ignored
    env.advance(59)
    assert env.sessions.get({"id": "soon"}) is not None
    env.advance(2)
    assert env.sessions.get({"id": "soon"}) is None
    assert sorted(i["id"] for i in env.sessions.scan().items) == ["later", "never", "text"]
    env.advance(3600)
    assert sorted(i["id"] for i in env.sessions.scan().items) == ["never", "text"]
    removes = [r for r in env.stream(env.sessions) if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in removes] == ["soon", "later"]
    assert all(r["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"} for r in removes)
    inserts = [r for r in env.stream(env.sessions) if r["eventName"] == "INSERT"]
    assert all("userIdentity" not in r for r in inserts)


def test_updating_the_expiry_moves_it(env) -> None:
    env.need("virtual_clock")
    now = int(env.now())
    env.sessions.put({"id": "s", "expires": now + 10})
    env.sessions.update({"id": "s"}, set={"expires": now + 100})
    env.advance(50)
    assert env.sessions.get({"id": "s"}) is not None
    env.sessions.update({"id": "s"}, remove=["expires"])
    env.advance(100)
    assert env.sessions.get({"id": "s"}) is not None
    env.sessions.put({"id": "t", "expires": now})  # already due
    assert env.sessions.get({"id": "t"}) is None


def test_expiry_survives_restart(env) -> None:
    env.need("restart")
    now = int(env.now())
    env.sessions.put({"id": "s", "expires": now + 10})
    env.restart()
    env.advance(11)
    assert env.sessions.get({"id": "s"}) is None


def test_a_change_of_type_alone_is_a_change(streaming) -> None:
    env = streaming
    env.news.put({"id": "a", "v": True})
    env.news.put({"id": "a", "v": 1})
    env.news.put({"id": "a", "v": "1"})
    env.news.put({"id": "a", "v": {"1"}})
    env.news.put({"id": "a", "v": ["1"]})
    assert [r["eventName"] for r in env.stream(env.news)] == ["INSERT"] + ["MODIFY"] * 4
    assert env.news.get({"id": "a"}) == {"id": "a", "v": ["1"]}
