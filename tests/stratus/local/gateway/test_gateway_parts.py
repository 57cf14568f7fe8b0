"""The gateway's parts on their own: matching, event building, buckets, the response cache."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import App
from stratus.clock import VirtualClock
from stratus.local.gateway.cache import ResponseCache
from stratus.local.gateway.events import build_event, headers_dict, query_dict
from stratus.local.gateway.matching import RouteTable
from stratus.local.gateway.responses import BadLambdaResponse, from_lambda
from stratus.local.gateway.throttle import TokenBucket
from stratus.resources.api import Request
from stratus.resources.api_paths import BadPath, decode_segment


def table(*keys: tuple[str, str]) -> RouteTable:
    api = App("m").http_api("public")
    for i, (method, path) in enumerate(keys):

        def handler(request: Request, context: Any) -> None:
            return None

        api.route(method, path, name=f"r{i}")(handler)
    return RouteTable(api.routes)


def matched(t: RouteTable, method: str, path: str) -> str | None:
    found = t.match(method, path)
    return found[0].key if found else None


def test_precedence() -> None:
    t = table(
        ("GET", "/a/b"),
        ("GET", "/a/{x}"),
        ("ANY", "/a/{x}"),
        ("GET", "/a/{x}/c"),
        ("GET", "/{p}/b/c"),
        ("GET", "/a/{rest+}"),
        ("ANY", "$default"),
    )
    assert matched(t, "GET", "/a/b") == "GET /a/b"
    assert matched(t, "GET", "/a/z") == "GET /a/{x}"
    assert matched(t, "PUT", "/a/z") == "ANY /a/{x}"
    assert matched(t, "GET", "/a/b/c") == "GET /a/{x}/c"  # static 'a' first beats {p}
    assert matched(t, "GET", "/q/b/c") == "GET /{p}/b/c"
    assert matched(t, "GET", "/a/b/c/d") == "GET /a/{rest+}"
    assert matched(t, "GET", "/a") == "$default"
    assert matched(t, "GET", "/a/") == "$default"  # {x} never matches an empty segment


def test_no_match_without_default() -> None:
    t = table(("GET", "/x"))
    assert t.match("GET", "/y") is None
    assert t.keys() == ["GET /x"]


def test_decode_segment_refuses_traversal_and_bad_escapes() -> None:
    assert decode_segment("a%20b", allow_slash=False) == "a b"
    for raw in ("..", "%2E%2E", "a%2Fb", "%00", "%zz", "%e9"):
        with pytest.raises(BadPath):
            decode_segment(raw, allow_slash=False)


def test_headers_and_query() -> None:
    headers, cookies = headers_dict([(b"X-A", b"1"), (b"x-a", b"2"), (b"cookie", b"a=1; b=2")])
    assert headers == {"x-a": "1,2"} and cookies == ["a=1", "b=2"]
    assert query_dict("a=1&a=2&b=&c=%20") == {"a": "1,2", "b": "", "c": " "}
    with pytest.raises(BadPath):
        query_dict("a=%ff")


def test_event_body_encoding_depends_on_content_type() -> None:
    def event(content_type: str, body: bytes) -> dict[str, Any]:
        return build_event(
            route_key="POST /x",
            method="POST",
            raw_path="/x",
            raw_query="",
            headers={"content-type": content_type},
            cookies=[],
            query={},
            path_params={},
            body=body,
            source_ip="127.0.0.1",
            api_id="abc",
            account_id="0",
            now=1_700_000_000.5,
            req_id="r",
        )

    assert event("application/json", b"{}")["body"] == "{}"
    assert event("application/vnd.api+json", b"{}")["isBase64Encoded"] is False
    assert event("text/plain", b"\xff")["isBase64Encoded"] is True
    assert event("image/png", b"png")["body"] == "cG5n"
    e = event("text/plain", b"x")
    assert e["requestContext"]["time"] == "14/Nov/2023:22:13:20 +0000"
    assert e["requestContext"]["timeEpoch"] == 1_700_000_000_500


def test_token_bucket_refills_at_rate_up_to_burst() -> None:
    bucket = TokenBucket(rate=2, burst=2, now=0)
    assert bucket.take(0) == 0 and bucket.take(0) == 0
    assert bucket.take(0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0
    assert bucket.take(100) == 0 and bucket.take(100) == 0 and bucket.take(100) > 0


def test_response_cache_is_lru_bounded_and_expires() -> None:
    clock = VirtualClock(0)
    cache = ResponseCache(clock, max_entries=2)
    for i in range(3):
        cache.put(("k", "GET", (str(i),)), 10, f"/p/{i}", 200, [], b"x")
    assert len(cache) == 2 and cache.get(("k", "GET", ("0",))) is None
    assert cache.get(("k", "GET", ("1",))) is not None
    clock.advance(10)
    assert cache.get(("k", "GET", ("1",))) is None


def test_lambda_output_rules() -> None:
    assert from_lambda({"a": 1}) == (200, [(b"content-type", b"application/json")], b'{"a":1}')
    status, headers, body = from_lambda(
        {"statusCode": 201, "body": "aGk=", "isBase64Encoded": True, "cookies": ["c=1"]}
    )
    assert (status, body) == (201, b"hi") and (b"set-cookie", b"c=1") in headers
    for bad in (
        {"statusCode": 99},
        {"statusCode": 200, "headers": {"x": "a\r\nb"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ):
        with pytest.raises(BadLambdaResponse):
            from_lambda(bad)
