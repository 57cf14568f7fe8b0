"""Bucket notifications → function: filters, record shape, async retries, restart."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.testing import local


def test_created_objects_matching_the_filter_invoke_the_function() -> None:
    app = App("notify")
    images = app.bucket("images")
    seen: list[tuple[str, str]] = []

    @app.on_bucket(images, events=["s3:ObjectCreated:*"], prefix="uploads/", suffix=".jpg")
    def resize(event: Any, context: Any) -> None:
        for record in event.records:
            seen.append((record.event_name, record.s3.get_object.key))

    with local(app) as env:
        images.put("uploads/cat photo.jpg", b"jpeg")
        images.put("uploads/notes.txt", b"text")
        images.put("other/dog.jpg", b"jpeg")
        images.delete("uploads/cat photo.jpg")
        env.settle()
        assert seen == [("ObjectCreated:Put", "uploads/cat+photo.jpg")]


def test_removed_events_and_restart_keep_position() -> None:
    app = App("notify")
    docs = app.bucket("docs")
    seen: list[str] = []

    @app.on_bucket(docs, events=["s3:ObjectRemoved:*"])
    def on_removed(event: Any, context: Any) -> None:
        seen.extend(r["eventName"] for r in event["Records"])

    with local(app) as env:
        docs.put("a", b"1")
        docs.delete("a")
        env.settle()
        env.restart()
        env.settle()
        assert seen == ["ObjectRemoved:Delete"]  # not delivered again after the restart


def test_events_before_the_mapping_existed_are_not_delivered() -> None:
    app = App("notify")
    bucket = app.bucket("bbb")
    with local(app) as env:
        bucket.put("old", b"x")
        env.close()
        later = App("notify")
        bucket2 = later.bucket("bbb")
        seen: list[str] = []

        @later.on_bucket(bucket2)
        def handler(event: Any, context: Any) -> None:
            seen.extend(r["s3"]["object"]["key"] for r in event["Records"])

        from stratus.testing import LocalEnv

        env2 = LocalEnv((later,), env.state_dir, env.clock, "process", None)
        try:
            bucket2.put("new", b"y")
            env2.settle()
            assert seen == ["new"]
        finally:
            env2.close()
