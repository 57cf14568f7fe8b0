"""Presigned URLs: GET and PUT without credentials until expiry; tampering and expiry are refused."""

from __future__ import annotations

from email.utils import format_datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from tests.ports.bucket.harness import BucketHarness

from stratus.resources.bucket import Bucket, InvalidArgument


def tamper(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def error_code(response) -> str:
    text = response.text
    return text.split("<Code>")[1].split("</Code>")[0]


def test_get_through_a_presigned_url(harness: BucketHarness) -> None:
    harness.plain.put(
        "photos/a b+c.jpg", b"jpeg bytes", content_type="image/jpeg", cache_control="max-age=3600", metadata={"k": "v"}
    )
    url = harness.plain.presigned_url("GET", "photos/a b+c.jpg", expires_in=600)
    response = harness.http().get(url)
    assert response.status_code == 200
    assert response.content == b"jpeg bytes"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["etag"] == harness.plain.head("photos/a b+c.jpg").etag
    assert response.headers["cache-control"] == "max-age=3600"
    assert response.headers["x-amz-meta-k"] == "v"
    assert response.headers["last-modified"] == format_datetime(
        harness.plain.head("photos/a b+c.jpg").last_modified, usegmt=True
    )


def test_range_and_conditional_get(harness: BucketHarness) -> None:
    etag = harness.plain.put("k", b"0123456789").etag
    url = harness.plain.presigned_url("GET", "k")
    client = harness.http()
    ranged = client.get(url, headers={"Range": "bytes=2-4"})
    assert ranged.status_code == 206
    assert ranged.content == b"234"
    assert ranged.headers["content-range"] == "bytes 2-4/10"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    failed = client.get(url, headers={"If-Match": '"other"'})
    assert failed.status_code == 412 and error_code(failed) == "PreconditionFailed"
    unsatisfiable = client.get(url, headers={"Range": "bytes=50-"})
    assert unsatisfiable.status_code == 416 and error_code(unsatisfiable) == "InvalidRange"


def test_put_through_a_presigned_url(harness: BucketHarness) -> None:
    url = harness.plain.presigned_url("PUT", "uploads/new.txt", content_type="text/plain")
    response = harness.http().put(
        url, content=b"uploaded", headers={"Content-Type": "text/plain", "x-amz-meta-by": "u1"}
    )
    assert response.status_code == 200
    obj = harness.plain.get("uploads/new.txt")
    assert obj.body == b"uploaded"
    assert obj.content_type == "text/plain"
    assert obj.metadata == {"by": "u1"}
    assert response.headers["etag"] == obj.etag


def test_put_with_another_content_type_than_signed_is_refused(harness: BucketHarness) -> None:
    url = harness.plain.presigned_url("PUT", "k", content_type="image/png")
    response = harness.http().put(url, content=b"x", headers={"Content-Type": "text/html"})
    assert response.status_code == 403 and error_code(response) == "SignatureDoesNotMatch"
    assert not harness.plain.exists("k")


def test_tampered_urls_are_signature_does_not_match(harness: BucketHarness) -> None:
    harness.plain.put("secret", b"s")
    harness.plain.put("public", b"p")
    url = harness.plain.presigned_url("GET", "public", expires_in=60)
    client = harness.http()
    for bad in (
        url.replace("/public?", "/secret?"),
        tamper(url, **{"X-Amz-Expires": "604800"}),
        tamper(url, **{"X-Amz-Signature": "0" * 64}),
    ):
        response = client.get(bad)
        assert response.status_code == 403, bad
        assert error_code(response) == "SignatureDoesNotMatch"
    put = client.put(url, content=b"overwrite")  # signed for GET, used for PUT
    assert put.status_code == 403 and error_code(put) == "SignatureDoesNotMatch"
    assert harness.plain.get("public").body == b"p"


def test_expired_url_is_access_denied(harness: BucketHarness) -> None:
    harness.plain.put("k", b"x")
    url = harness.plain.presigned_url("GET", "k", expires_in=60)
    client = harness.http()
    harness.advance(60)
    assert client.get(url).status_code == 200  # valid through its last second
    harness.advance(1)
    response = client.get(url)
    assert response.status_code == 403
    assert error_code(response) == "AccessDenied"
    assert "Request has expired" in response.text


def test_missing_key_is_404_no_such_key(harness: BucketHarness) -> None:
    response = harness.http().get(harness.plain.presigned_url("GET", "missing"))
    assert response.status_code == 404 and error_code(response) == "NoSuchKey"


def test_urls_stay_valid_across_restart(harness: BucketHarness) -> None:
    harness.plain.put("k", b"x")
    url = harness.plain.presigned_url("GET", "k")
    harness.restart()
    assert harness.http().get(url).content == b"x"


@pytest.mark.parametrize(
    ("method", "expires", "message"),
    [("DELETE", 60, "method"), ("GET", 0, "expires_in"), ("GET", 604801, "expires_in"), ("GET", 1.5, "expires_in")],
)
def test_bad_presign_arguments(bucket: Bucket, method: str, expires, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        bucket.presigned_url(method, "k", expires_in=expires)


def test_seven_days_is_the_longest_expiry(bucket: Bucket) -> None:
    url = bucket.presigned_url("GET", "k", expires_in=7 * 24 * 3600)
    assert "X-Amz-Expires=604800" in url
    assert urlsplit(url).path.endswith("/k")
