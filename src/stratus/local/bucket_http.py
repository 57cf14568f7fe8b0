"""Serving presigned bucket URLs over HTTP, as S3 answers them.

``create_app(cloud_or_resolver)`` returns a Starlette app for
``GET|PUT /_s3/<bucket qualified name>/<key>?X-Amz-Expires=..&X-Amz-Date=..&X-Amz-Signature=..``.
The HTTP gateway mounts it (pass ``prefix=""`` when mounting it under ``/_s3``). A GET
honours Range, If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since and
answers ETag, Content-Type, Cache-Control, Last-Modified and x-amz-meta-* headers; a PUT
stores the request body (its Content-Type and x-amz-meta-* headers too). Errors are S3's
XML error documents: 403 SignatureDoesNotMatch, 403 AccessDenied "Request has expired",
404 NoSuchKey / NoSuchBucket, 412, 416.
"""

from __future__ import annotations

import base64
import tempfile
import uuid
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stratus.errors import StratusError
from stratus.resources.bucket.errors import EntityTooLarge, InvalidArgument, NoSuchBucket
from stratus.resources.bucket.rules import (
    DEFAULT_CONTENT_TYPE,
    MAX_PUT_SIZE,
    normalize_metadata,
    parse_range,
    validate_conditions,
    validate_key,
)

if TYPE_CHECKING:
    from datetime import datetime

    from stratus.local.bucket import LocalBucket
    from stratus.local.cloud import LocalCloud

Resolver = Callable[[str], "LocalBucket | None"]


def cloud_resolver(cloud: LocalCloud) -> Resolver:
    """Find a bound bucket of any app of ``cloud`` by its qualified name."""

    def resolve(name: str) -> LocalBucket | None:
        from stratus.local.bucket import LocalBucket

        for app in cloud.apps:
            for resource in app.resources_of("bucket"):
                if resource.qualified_name == name and resource.is_bound:
                    backend = resource.backend
                    return backend if isinstance(backend, LocalBucket) else None
        return None

    return resolve


def error_response(error: StratusError, *, resource: str = "", method: str = "GET") -> Response:
    status = int(getattr(error, "status", 500))
    request_id = uuid.uuid4().hex[:16].upper()
    if status == 304:
        return Response(status_code=304, headers={"ETag": getattr(error, "etag", "")})
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    headers = {"x-amz-request-id": request_id}
    if getattr(error, "delete_marker", False):
        headers["x-amz-delete-marker"] = "true"
    if method == "HEAD":
        return Response(status_code=status, headers=headers)
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def _header_value(value: str) -> str:
    """Non-ASCII metadata values go out RFC 2047-encoded, as S3 sends them."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def _http_date(value: str | None, header: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{header} {value!r} is not an HTTP date") from None


def create_app(source: LocalCloud | Resolver, *, prefix: str = "/_s3") -> Starlette:
    """The presigned-URL server over the buckets ``source`` (a LocalCloud or a name resolver) finds."""
    resolve: Resolver = source if callable(source) else cloud_resolver(source)

    async def serve(request: Request) -> Response:
        bucket_name = request.path_params["bucket"]
        key = request.path_params["key"]
        resource = f"/{bucket_name}/{key}"
        try:
            bucket = resolve(bucket_name)
            if bucket is None:
                raise NoSuchBucket()
            validate_key(key)
            query = dict(request.query_params)
            content_type = request.headers.get("content-type")
            bucket.verify_presigned(request.method, key, query, content_type=content_type)
            if request.method == "PUT":
                return await _put(request, bucket, key, content_type)
            return await run_in_threadpool(_get, request, bucket, key)
        except StratusError as e:
            return error_response(e, resource=resource, method=request.method)

    return Starlette(routes=[Route(prefix + "/{bucket}/{key:path}", serve, methods=["GET", "PUT"])])


def _get(request: Request, bucket: LocalBucket, key: str) -> Response:
    h = request.headers
    range_header = h.get("range")
    conditions = validate_conditions(
        h.get("if-match"),
        h.get("if-none-match"),
        _http_date(h.get("if-modified-since"), "If-Modified-Since"),
        _http_date(h.get("if-unmodified-since"), "If-Unmodified-Since"),
    )
    try:
        byte_range = parse_range(range_header) if range_header else None
    except InvalidArgument:
        byte_range = None  # S3 ignores a Range header it cannot parse and sends the whole object
    head_only = request.method == "HEAD"
    if head_only:
        obj: Any = bucket.head(key, byte_range=byte_range, conditions=conditions, version_id=None)
        body = b""
    else:
        obj = bucket.get(key, byte_range=byte_range, conditions=conditions, version_id=None)
        body = obj.body
    headers = {
        "ETag": obj.etag,
        "Last-Modified": format_datetime(obj.last_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Length": str(obj.content_length),
    }
    if obj.cache_control:
        headers["Cache-Control"] = obj.cache_control
    if obj.content_range:
        headers["Content-Range"] = obj.content_range
    if obj.version_id:
        headers["x-amz-version-id"] = obj.version_id
    for name, value in obj.metadata.items():
        headers[f"x-amz-meta-{name}"] = _header_value(value)
    status = 206 if obj.content_range else 200
    return Response(body, status_code=status, media_type=obj.content_type, headers=headers)


async def _put(request: Request, bucket: LocalBucket, key: str, content_type: str | None) -> Response:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise InvalidArgument("If-None-Match on a PUT accepts only '*'")
    metadata = normalize_metadata(
        {k[len("x-amz-meta-") :]: v for k, v in request.headers.items() if k.startswith("x-amz-meta-")}
    )
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_PUT_SIZE:
                raise EntityTooLarge("Your proposed upload exceeds the maximum allowed object size.")
            spool.write(chunk)
        spool.seek(0)
        result = await run_in_threadpool(
            bucket.put,
            key,
            spool,  # type: ignore[arg-type]
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=metadata,
            cache_control=request.headers.get("cache-control"),
            if_match=request.headers.get("if-match"),
            if_none_match=if_none_match,
        )
    headers = {"ETag": result.etag}
    if result.version_id:
        headers["x-amz-version-id"] = result.version_id
    return Response(status_code=200, headers=headers)


__all__ = ["cloud_resolver", "create_app", "error_response"]
