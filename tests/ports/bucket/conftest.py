"""The bucket port's conformance fixtures: a harness per adapter, exposing only the public handle API.

Each test gets a ``BucketHarness``: fresh buckets (plain, versioned, with notifications, and
a second plain one for cross-bucket copies), the clock, ``restart()``, the notification
messages emitted so far, and an HTTP client for presigned URLs. Adapters: ``local`` now;
an ``aws`` harness on moto joins ``ADAPTERS`` later.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus import App
from stratus.resources.bucket import Bucket, BucketNotification
from stratus.testing import local

ADAPTERS = ["local", "aws"]

_EVENTS = "reads the notification log the local adapter keeps; on AWS, S3 delivers notifications itself"

_SIGNATURES = "moto gap: presigned URLs are not verified (any signature, content type or expiry is accepted)"
_MARKERS = "moto gap: responses about delete markers lack x-amz-delete-marker / DeleteMarker / 405"

#: Tests the aws adapter cannot pass on moto, and why (by test name, or by name with parameters).
AWS_SKIPS: dict[str, str] = {
    "test_get_if_match": "moto gap: If-Match: * does not match an existing object",
    "test_get_if_none_match": "moto gap: If-None-Match: * on HEAD does not answer 304",
    "test_if_match_true_overrides_if_unmodified_since_false": (
        "moto gap: If-Match does not take precedence over If-Unmodified-Since (RFC 7232 order)"
    ),
    "test_bad_listing_arguments[aws-kwargs3-continuation token]": (
        "moto gap: a malformed continuation token crashes moto's ListObjectsV2 (TypeError) instead of InvalidArgument"
    ),
    "test_range_and_conditional_get": (
        "moto gap: a 304 answer to a presigned GET carries a body, which HTTP clients refuse"
    ),
    "test_put_with_another_content_type_than_signed_is_refused": _SIGNATURES,
    "test_tampered_urls_are_signature_does_not_match": _SIGNATURES,
    "test_delete_adds_a_marker_and_hides_the_key": _MARKERS,
    "test_get_of_a_delete_marker_version_is_method_not_allowed": _MARKERS,
    "test_deleting_the_marker_restores_the_object": _MARKERS,
}


class AwsBucketHarness(BucketHarness):
    """The harness over moto: no virtual clock, no restart, no local notification log."""

    def __init__(self, app: App, cloud: Any) -> None:
        self.app = app
        self._cloud = cloud

    def advance(self, seconds: float) -> None:
        pytest.skip("moves time: needs the local adapter's virtual clock")

    def now(self) -> float:
        return float(self._cloud.clock.now())

    def restart(self) -> None:
        pytest.skip("restarts the process state: local adapter only")

    def events(self, bucket: Bucket) -> list[dict[str, Any]]:
        pytest.skip(_EVENTS)

    def http(self) -> Any:
        from tests.stratus.aws.adapters.moto_cloud import HttpClient

        return HttpClient()


def make_app() -> App:
    app = App("conf")
    app.bucket("plain")
    app.bucket("versioned", versioning=True)
    app.bucket("other")
    app.bucket(
        "notified",
        versioning=True,
        notifications=[
            BucketNotification(events=("s3:ObjectCreated:*",), prefix="uploads/", suffix=".jpg", id="images"),
            BucketNotification(events=("s3:ObjectRemoved:*",), id="removals"),
        ],
    )
    return app


@pytest.fixture(params=ADAPTERS)
def harness(request: pytest.FixtureRequest) -> Iterator[BucketHarness]:
    app = make_app()
    if request.param == "aws":
        reason = AWS_SKIPS.get(request.node.name) or AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
        from tests.stratus.aws.adapters.moto_cloud import create_bucket, moto_cloud

        from stratus.aws.adapters.bucket import AwsBucket

        with moto_cloud() as cloud:
            for bucket in app.resources_of("bucket"):
                create_bucket(cloud, bucket)
                cloud.bind(bucket, AwsBucket)
            yield AwsBucketHarness(app, cloud)
        return
    with local(app) as env:
        yield BucketHarness(app, env)


@pytest.fixture
def bucket(harness: BucketHarness) -> Bucket:
    return harness.plain


@pytest.fixture
def versioned(harness: BucketHarness) -> Bucket:
    return harness.versioned
