"""Turning a Lambda's answer into an HTTP response, and API Gateway's own error answers.

The Lambda's output is read with HTTP APIs' payload 2.0 rules: a dict with ``statusCode``
is a full response (headers, cookies -> Set-Cookie, body, isBase64Encoded); anything else
is a 200 JSON body. A malformed answer is API Gateway's 500, never a crash.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from stratus.resources.api_response import dump_json

Headers = list[tuple[bytes, bytes]]
JSON_HEADER = (b"content-type", b"application/json")


class BadLambdaResponse(Exception):
    """The integration's answer is not a valid 2.0 response."""


def gateway_error(status: int, message: str, **extra: Any) -> tuple[int, Headers, bytes]:
    body = json.dumps({"message": message, **extra}, separators=(",", ":")).encode()
    return status, [JSON_HEADER], body


def from_lambda(output: Any) -> tuple[int, Headers, bytes]:
    if isinstance(output, dict) and "statusCode" in output:
        status = output["statusCode"]
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise BadLambdaResponse("statusCode must be an HTTP status code")
        headers: Headers = []
        raw_headers = output.get("headers") or {}
        if not isinstance(raw_headers, dict):
            raise BadLambdaResponse("headers must be an object")
        for name, value in raw_headers.items():
            if not isinstance(name, str) or "\n" in name or "\r" in name:
                raise BadLambdaResponse("bad header name")
            text = value if isinstance(value, str) else json.dumps(value) if not isinstance(value, int) else str(value)
            if "\n" in text or "\r" in text:
                raise BadLambdaResponse("header values may not contain line breaks")
            headers.append((name.lower().encode("latin-1", "replace"), text.encode("latin-1", "replace")))
        for cookie in output.get("cookies") or []:
            if not isinstance(cookie, str) or "\n" in cookie or "\r" in cookie:
                raise BadLambdaResponse("cookies must be strings")
            headers.append((b"set-cookie", cookie.encode("latin-1", "replace")))
        body = output.get("body")
        if body is None:
            data = b""
        elif not isinstance(body, str):
            data = dump_json(body).encode()
        elif output.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise BadLambdaResponse("body is not valid base64") from None
        else:
            data = body.encode("utf-8")
        if data and not any(n == b"content-type" for n, _ in headers):
            headers.append(JSON_HEADER)
        return status, headers, data
    if isinstance(output, str):
        return 200, [JSON_HEADER], output.encode("utf-8")
    try:
        return 200, [JSON_HEADER], dump_json(output).encode()
    except (TypeError, ValueError):
        raise BadLambdaResponse("output is not JSON-serializable") from None
