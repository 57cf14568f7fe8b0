"""The handle-only harness the bucket conformance tests drive (one per adapter)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from stratus import App
from stratus.local.bucket_http import create_app
from stratus.resources.bucket import Bucket
from stratus.testing import LocalEnv


class BucketHarness:
    def __init__(self, app: App, env: LocalEnv) -> None:
        self.app = app
        self._env = env

    def bucket(self, name: str) -> Bucket:
        resource = self.app.resource("bucket", name)
        assert isinstance(resource, Bucket)
        return resource

    @property
    def plain(self) -> Bucket:
        return self.bucket("plain")

    @property
    def versioned(self) -> Bucket:
        return self.bucket("versioned")

    @property
    def other(self) -> Bucket:
        return self.bucket("other")

    @property
    def notified(self) -> Bucket:
        return self.bucket("notified")

    def advance(self, seconds: float) -> None:
        self._env.advance(seconds)

    def now(self) -> float:
        return self._env.clock.now()

    def restart(self) -> None:
        self._env.restart()

    def events(self, bucket: Bucket) -> list[dict[str, Any]]:
        """The event records the bucket emitted so far, oldest first."""
        return [m["Records"][0] for _, m in bucket.backend.events_after(0, 10_000)]  # type: ignore[attr-defined]

    def http(self) -> TestClient:
        """A client for the presigned URLs the buckets hand out."""
        return TestClient(create_app(self._env.cloud), base_url=self._env.cloud.base_url)
