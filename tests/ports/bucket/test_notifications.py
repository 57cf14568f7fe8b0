"""Notification events in S3's message shape, and S3's rule matching."""

from __future__ import annotations

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.errors import ValidationError
from stratus.resources.bucket import BucketNotification, notification_matches


def test_created_events_have_s3s_shape(harness: BucketHarness) -> None:
    bucket = harness.notified
    put = bucket.put("uploads/my photo.jpg", b"12345")
    [record] = harness.events(bucket)
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["bucket"]["name"] == bucket.qualified_name
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{bucket.qualified_name}"
    obj = s3["object"]
    assert obj["key"] == "uploads/my+photo.jpg"  # URL-encoded, spaces as '+'
    assert obj["size"] == 5
    assert obj["eTag"] == put.etag.strip('"')
    assert obj["versionId"] == put.version_id
    assert obj["sequencer"]


def test_every_change_is_an_event_in_order(harness: BucketHarness) -> None:
    bucket = harness.notified
    bucket.put("a.jpg", b"x")
    bucket.copy("a.jpg", "b.jpg")
    upload = bucket.create_multipart_upload("c.jpg")
    bucket.complete_multipart_upload(upload, [(1, bucket.upload_part(upload, 1, b"p"))])
    marker = bucket.delete("a.jpg")
    bucket.delete("a.jpg", version_id=marker.version_id)
    records = harness.events(bucket)
    assert [r["eventName"] for r in records] == [
        "ObjectCreated:Put",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectRemoved:DeleteMarkerCreated",
        "ObjectRemoved:Delete",
    ]
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 5
    assert records[3]["s3"]["object"]["versionId"] == marker.version_id
    assert "size" not in records[3]["s3"]["object"]


def test_failed_writes_emit_nothing(harness: BucketHarness) -> None:
    bucket = harness.notified
    bucket.put("a", b"x", if_none_match="*")
    with pytest.raises(ValidationError):
        bucket.put("a" * 2000, b"x")
    with pytest.raises(Exception, match="pre-conditions"):
        bucket.put("a", b"x", if_none_match="*")
    assert len(harness.events(bucket)) == 1


def test_events_survive_restart(harness: BucketHarness) -> None:
    harness.notified.put("a", b"x")
    harness.restart()
    assert [r["s3"]["object"]["key"] for r in harness.events(harness.notified)] == ["a"]


RULE = BucketNotification(events=("s3:ObjectCreated:*",), prefix="uploads/", suffix=".jpg")


@pytest.mark.parametrize(
    ("event", "key", "expected"),
    [
        ("ObjectCreated:Put", "uploads/a.jpg", True),
        ("s3:ObjectCreated:Copy", "uploads/a.jpg", True),
        ("ObjectCreated:CompleteMultipartUpload", "uploads/x/y.jpg", True),
        ("ObjectCreated:Put", "uploads/a.png", False),
        ("ObjectCreated:Put", "other/a.jpg", False),
        ("ObjectCreated:Put", "uploads/a.JPG", False),  # filters are case-sensitive
        ("ObjectRemoved:Delete", "uploads/a.jpg", False),
    ],
)
def test_rule_matching(event: str, key: str, expected: bool) -> None:
    assert notification_matches(RULE, event, key) is expected


def test_specific_event_types_match_only_themselves() -> None:
    rule = BucketNotification(events=("s3:ObjectRemoved:DeleteMarkerCreated",))
    assert notification_matches(rule, "ObjectRemoved:DeleteMarkerCreated", "k")
    assert not notification_matches(rule, "ObjectRemoved:Delete", "k")
    assert notification_matches(BucketNotification(events=("s3:ObjectRemoved:*",)), "ObjectRemoved:Delete", "k")


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(ValidationError, match="s3:ObjectCreated:Get"):
        BucketNotification(events=("s3:ObjectCreated:Get",))
    with pytest.raises(ValidationError, match="at least one"):
        BucketNotification(events=())
