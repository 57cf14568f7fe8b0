"""The bucket port's conformance fixtures: a harness per adapter, exposing only the public handle API.

Each test gets a ``BucketHarness``: fresh buckets (plain, versioned, with notifications, and
a second plain one for cross-bucket copies), the clock, ``restart()``, the notification
messages emitted so far, and an HTTP client for presigned URLs. Adapters: ``local`` now;
an ``aws`` harness on moto joins ``ADAPTERS`` later.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus import App
from stratus.resources.bucket import Bucket, BucketNotification
from stratus.testing import local

ADAPTERS = ["local"]


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
    with local(app) as env:
        yield BucketHarness(app, env)


@pytest.fixture
def bucket(harness: BucketHarness) -> Bucket:
    return harness.plain


@pytest.fixture
def versioned(harness: BucketHarness) -> Bucket:
    return harness.versioned
