"""The notification log of LocalBucket: ordering, paging, listeners, 24-hour retention."""

from __future__ import annotations

from stratus import App
from stratus.local.bucket import LocalBucket
from stratus.local.bucket.events import encode_key
from stratus.resources.bucket import BucketNotification
from stratus.testing import local


def make() -> tuple[App, object, object]:
    app = App("ev")
    watched = app.bucket("watched", notifications=[BucketNotification(events=("s3:ObjectCreated:*",))])
    quiet = app.bucket("quiet")
    return app, watched, quiet


def backend(bucket) -> LocalBucket:
    b = bucket.backend
    assert isinstance(b, LocalBucket)
    return b


def test_events_after_pages_by_position() -> None:
    app, watched, _ = make()
    with local(app):
        for i in range(5):
            watched.put(f"k{i}", b"x")  # type: ignore[attr-defined]
        log = backend(watched)
        first = log.events_after(0, 2)
        assert [m["Records"][0]["s3"]["object"]["key"] for _, m in first] == ["k0", "k1"]
        rest = log.events_after(first[-1][0], 100)
        assert [m["Records"][0]["s3"]["object"]["key"] for _, m in rest] == ["k2", "k3", "k4"]
        assert log.events_after(rest[-1][0], 100) == []
        # Unversioned buckets carry no versionId; the sequencer is the hex position.
        pos, message = rest[0]
        record = message["Records"][0]
        assert "versionId" not in record["s3"]["object"]
        assert int(record["s3"]["object"]["sequencer"], 16) == pos


def test_buckets_without_notifications_log_nothing() -> None:
    app, watched, quiet = make()
    with local(app):
        quiet.put("k", b"x")  # type: ignore[attr-defined]
        assert backend(quiet).events_after(0, 10) == []
        watched.put("k", b"x")  # type: ignore[attr-defined]
        assert len(backend(watched).events_after(0, 10)) == 1  # logs are per bucket


def test_listeners_hear_about_commits() -> None:
    app, watched, _ = make()
    with local(app):
        calls: list[int] = []
        unsubscribe = backend(watched).subscribe(lambda: calls.append(len(backend(watched).events_after(0, 10))))
        watched.put("k", b"x")  # type: ignore[attr-defined]
        assert calls == [1]  # called after the commit: the event is already readable
        unsubscribe()
        watched.put("k2", b"x")  # type: ignore[attr-defined]
        assert calls == [1]


def test_events_older_than_24_hours_are_dropped() -> None:
    app, watched, _ = make()
    with local(app) as env:
        watched.put("old", b"x")  # type: ignore[attr-defined]
        env.advance(23 * 3600)
        watched.put("recent", b"x")  # type: ignore[attr-defined]
        keys = [m["Records"][0]["s3"]["object"]["key"] for _, m in backend(watched).events_after(0, 10)]
        assert keys == ["old", "recent"]
        env.advance(2 * 3600)  # "old" is now 25 h old
        keys = [m["Records"][0]["s3"]["object"]["key"] for _, m in backend(watched).events_after(0, 10)]
        assert keys == ["recent"]
        watched.put("new", b"x")  # type: ignore[attr-defined]  # trims the table
        db = env.cloud.storage.database("buckets")
        assert db.execute("SELECT COUNT(*) FROM bucket_events") == [(2,)]


def test_keys_are_encoded_as_s3_encodes_them() -> None:
    assert encode_key("a b/c+d.jpg") == "a+b/c%2Bd.jpg"
    assert encode_key("dir/ümlaut=1.txt") == "dir/%C3%BCmlaut%3D1.txt"
