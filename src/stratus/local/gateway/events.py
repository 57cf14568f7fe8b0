"""Building the HTTP API payload format 2.0 event from an HTTP request, as API Gateway does.

Headers are lower-cased and repeated ones comma-joined; the Cookie header moves to
``cookies``; repeated query parameters are comma-joined; text bodies are passed as text
and anything else base64-encoded; ``rawPath`` is the path the API sees (without the local
prefix, as on AWS where each API has its own domain).
"""

from __future__ import annotations

import base64
import random
import time
from typing import Any
from urllib.parse import parse_qsl

from stratus.resources.api_paths import BadPath

_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
)


def request_id() -> str:
    """An id in API Gateway's shape (16 base64 characters), from the PRNG: ids are not secrets, and a
    system call per request is slow on a busy machine."""
    return base64.b64encode(random.getrandbits(88).to_bytes(11, "big")).decode("ascii")


def _is_text(content_type: str) -> bool:
    ct = content_type.split(";")[0].strip().lower()
    return ct.startswith("text/") or ct in _TEXT_TYPES or ct.endswith(("+json", "+xml"))


def headers_dict(raw: list[tuple[bytes, bytes]]) -> tuple[dict[str, str], list[str]]:
    """(headers, cookies) from ASGI headers."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        if name in headers:
            headers[name] = headers[name] + "," + value
        else:
            headers[name] = value
    return headers, cookies


def query_dict(raw_query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadPath("query string is not valid UTF-8 after percent-decoding") from None
    query: dict[str, str] = {}
    for key, value in pairs:
        query[key] = query[key] + "," + value if key in query else value
    return query


def build_event(
    *,
    route_key: str,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    cookies: list[str],
    query: dict[str, str],
    path_params: dict[str, str],
    body: bytes,
    source_ip: str,
    api_id: str,
    account_id: str,
    now: float,
    req_id: str,
) -> dict[str, Any]:
    host = headers.get("host", f"{api_id}.execute-api.localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": req_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        if _is_text(headers.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event
