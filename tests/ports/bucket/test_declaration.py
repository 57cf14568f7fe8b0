"""Declaring a bucket: S3's naming rules, settings, and notification rules checked at import time."""

from __future__ import annotations

import pytest

from stratus import App
from stratus.errors import ValidationError
from stratus.resources.bucket import Bucket, BucketNotification


def test_settings_report_the_declaration() -> None:
    app = App("shop")
    bucket = app.bucket(
        "images",
        versioning=True,
        notifications=[BucketNotification(events=("s3:ObjectCreated:Put",), prefix="in/", suffix=".png")],
    )
    assert isinstance(bucket, Bucket)
    assert bucket.qualified_name == "shop-images"
    assert bucket.settings() == {
        "versioning": True,
        "notifications": [
            {"id": "images-notification-1", "events": ["s3:ObjectCreated:Put"], "prefix": "in/", "suffix": ".png"}
        ],
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "3-63"),
        ("a" * 64, "3-63"),
        ("Images", "lower-case"),
        ("my_bucket", "lower-case"),
        ("-images", "beginning and ending"),
        ("images-", "beginning and ending"),
        ("my..bucket", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "must not start with 'xn--'"),
        ("data-s3alias", "must not end with '-s3alias'"),
    ],
)
def test_bucket_names_follow_s3_rules(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        App("shop").bucket(name)


def test_the_physical_name_must_fit_too() -> None:
    with pytest.raises(ValidationError, match="physical name"):
        App("a" * 40).bucket("b" * 30)


def test_good_names() -> None:
    app = App("shop")
    for name in ("abc", "my.bucket-1", "0-9"):
        app.bucket(name)


def test_versioning_must_be_a_bool() -> None:
    with pytest.raises(ValidationError, match="versioning"):
        App("shop").bucket("images", versioning="yes")  # type: ignore[arg-type]


def test_overlapping_rules_are_refused_as_s3_does() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        App("shop").bucket(
            "images",
            notifications=[
                BucketNotification(events=("s3:ObjectCreated:*",), prefix="uploads/"),
                BucketNotification(events=("s3:ObjectCreated:Put",), prefix="uploads/raw/"),
            ],
        )


def test_disjoint_rules_are_fine() -> None:
    bucket = App("shop").bucket(
        "images",
        notifications=[
            BucketNotification(events=("s3:ObjectCreated:*",), prefix="uploads/", suffix=".jpg"),
            BucketNotification(events=("s3:ObjectCreated:*",), prefix="uploads/", suffix=".png"),
            BucketNotification(events=("s3:ObjectRemoved:*",), prefix="uploads/"),
        ],
    )
    assert [n.id for n in bucket.notifications] == [
        "images-notification-1",
        "images-notification-2",
        "images-notification-3",
    ]


def test_notifications_must_be_rules() -> None:
    app = App("shop")
    with pytest.raises(ValidationError, match=r"notifications\[0\]"):
        app.bucket("images", notifications=[{"events": ["s3:ObjectCreated:*"]}])  # type: ignore[list-item]
    assert app.resources == []  # a refused declaration registers nothing
    app.bucket("images")
