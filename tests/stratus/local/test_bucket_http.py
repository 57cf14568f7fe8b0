"""The presigned-URL server: S3's XML errors, methods, mounting, header encoding."""

from __future__ import annotations

from collections.abc import Iterator
from email.header import decode_header

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from stratus import App
from stratus.local.bucket_http import create_app
from stratus.resources.bucket import Bucket
from stratus.testing import LocalEnv, local


@pytest.fixture
def env() -> Iterator[tuple[LocalEnv, Bucket]]:
    app = App("web")
    bucket = app.bucket("files")
    with local(app) as env:
        yield env, bucket


def test_unknown_bucket_is_no_such_bucket(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    url = bucket.presigned_url("GET", "k").replace("/web-files/", "/web-nothing/")
    response = TestClient(create_app(cloud)).get(url)
    assert response.status_code == 404
    assert "<Code>NoSuchBucket</Code>" in response.text
    assert response.headers["content-type"].startswith("application/xml")


def test_head_is_not_covered_by_a_get_signature(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    bucket.put("k", b"x")
    response = TestClient(create_app(cloud)).head(bucket.presigned_url("GET", "k"))
    assert response.status_code == 403 and response.content == b""


def test_unsigned_request_is_access_denied(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    bucket.put("k", b"x")
    response = TestClient(create_app(cloud)).get("/_s3/web-files/k")
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text


def test_mounted_under_a_prefix_by_a_gateway(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    bucket.put("a/b.txt", b"mounted")
    gateway = Starlette(routes=[Mount("/_s3", app=create_app(cloud, prefix=""))])
    assert TestClient(gateway).get(bucket.presigned_url("GET", "a/b.txt")).content == b"mounted"


def test_resolver_function_and_unicode_metadata(env) -> None:
    bucket = env[1]
    bucket.put("k", b"x", metadata={"title": "café"})
    client = TestClient(create_app(lambda name: bucket.backend if name == bucket.qualified_name else None))
    response = client.get(bucket.presigned_url("GET", "k"))
    assert response.status_code == 200
    encoded = response.headers["x-amz-meta-title"]
    assert encoded == "=?UTF-8?B?Y2Fmw6k=?="  # RFC 2047, as S3 sends it
    [(raw, charset)] = decode_header(encoded)
    assert isinstance(raw, bytes) and raw.decode(charset or "ascii") == "café"


def test_put_refuses_if_none_match_other_than_star(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    client = TestClient(create_app(cloud))
    url = bucket.presigned_url("PUT", "k")
    assert client.put(url, content=b"1", headers={"If-None-Match": "*"}).status_code == 200
    again = client.put(url, content=b"2", headers={"If-None-Match": "*"})
    assert again.status_code == 412
    bad = client.put(url, content=b"3", headers={"If-None-Match": '"abc"'})
    assert bad.status_code == 400 and "<Code>InvalidArgument</Code>" in bad.text
    assert bucket.get("k").body == b"1"


def test_unparseable_range_is_ignored_as_s3_does(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    bucket.put("k", b"0123456789")
    response = TestClient(create_app(cloud)).get(bucket.presigned_url("GET", "k"), headers={"Range": "lines=1-2"})
    assert response.status_code == 200 and response.content == b"0123456789"


def test_large_put_and_ranged_get_of_a_file_backed_body(env) -> None:
    cloud, bucket = env[0].cloud, env[1]
    client = TestClient(create_app(cloud))
    body = bytes(range(256)) * 2000  # 512 000 bytes: stored as a file, not inline
    assert client.put(bucket.presigned_url("PUT", "big"), content=body).status_code == 200
    assert bucket.get("big").body == body
    response = client.get(bucket.presigned_url("GET", "big"), headers={"Range": "bytes=-10"})
    assert response.status_code == 206 and response.content == body[-10:]
    assert response.headers["content-range"] == f"bytes {len(body) - 10}-{len(body) - 1}/{len(body)}"
