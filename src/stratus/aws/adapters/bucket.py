"""AwsBucket: the bucket port on Amazon S3, through boto3.

The handle has validated keys, metadata, ranges and conditions; this adapter makes the S3
calls and maps S3's errors — by code, or by HTTP status for HEAD requests, which carry no
body — onto the port's errors (``NoSuchKey``, ``PreconditionFailed``, ``NotModified``...).
Presigned URLs are boto3's ``generate_presigned_url``. Notifications are S3's own (the
template configures them), so this adapter keeps no event log.
"""

from __future__ import annotations

import base64
import builtins
from datetime import UTC, datetime
from email.header import decode_header, make_header
from typing import TYPE_CHECKING, Any

from stratus.aws.adapters import _context
from stratus.aws.adapters._context import ClientError
from stratus.errors import StratusError, Throttled
from stratus.resources.bucket import errors as port
from stratus.resources.bucket.backend import Body, BucketBackend
from stratus.resources.bucket.rules import ByteRange
from stratus.resources.bucket.types import (
    Conditions,
    CopyResult,
    DeleteResult,
    Listing,
    MultipartUpload,
    Object,
    ObjectHead,
    ObjectSummary,
    PutResult,
    VersionListing,
    VersionSummary,
)

if TYPE_CHECKING:
    from stratus.resources.bucket import Bucket

_BY_CODE: dict[str, type[StratusError]] = {
    "InvalidArgument": port.InvalidArgument,
    "InvalidRequest": port.InvalidRequest,
    "MalformedXML": port.MalformedXML,
    "EntityTooLarge": port.EntityTooLarge,
    "EntityTooSmall": port.EntityTooSmall,
    "InvalidPart": port.InvalidPart,
    "InvalidPartOrder": port.InvalidPartOrder,
    "KeyTooLongError": port.KeyTooLong,
    "MetadataTooLarge": port.MetadataTooLarge,
    "AccessDenied": port.BucketAccessDenied,
    "SlowDown": Throttled,
}


def _version(value: Any) -> str | None:
    """S3's version id, with the null version (unversioned buckets) as None."""
    return None if value in (None, "", "null") else str(value)


def _when(value: Any) -> datetime:
    """An aware UTC datetime at second precision (what the Last-Modified header carries)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)
    return datetime.fromtimestamp(0, UTC)


def translate(error: ClientError, key: str = "") -> StratusError:
    """The port's error for an S3 error (HEAD errors carry only the HTTP status as their code)."""
    code = _context.error_code(error)
    message = _context.error_message(error)
    response = error.response
    headers = {k.lower(): v for k, v in response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).items()}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in ("NoSuchKey", "404", "NotFound") and status in (0, 404):
        marker = headers.get("x-amz-delete-marker") == "true"
        return port.NoSuchKey(key=key, delete_marker=marker, version_id=_version(headers.get("x-amz-version-id")))
    if code == "NoSuchVersion":
        return port.NoSuchVersion(key=key)
    if code == "NoSuchBucket":
        return port.NoSuchBucket()
    if code == "NoSuchUpload":
        return port.NoSuchUpload()
    if code in ("PreconditionFailed", "412"):
        return port.PreconditionFailed()
    if code in ("NotModified", "304"):
        return port.NotModified(etag=headers.get("etag", ""))
    if code in ("MethodNotAllowed", "405"):
        return port.MethodNotAllowed()
    if code in ("InvalidRange", "416"):
        return port.InvalidRange()
    if code in ("403",):
        return port.BucketAccessDenied(message or "Forbidden")
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    failure = StratusError(f"{code}: {message}")
    failure.code = code or StratusError.code
    return failure


def encode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Metadata for S3 headers: non-ASCII values as RFC 2047 encoded words (boto3 refuses raw UTF-8)."""
    out = {}
    for name, value in metadata.items():
        if value.isascii():
            out[name] = value
        else:
            out[name] = "=?UTF-8?B?" + base64.b64encode(value.encode()).decode() + "?="
    return out


def decode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """S3's metadata with RFC 2047 encoded words decoded back to text."""
    out = {}
    for name, value in metadata.items():
        if value.startswith("=?") and value.endswith("?="):
            try:
                out[name] = str(make_header(decode_header(value)))
                continue
            except (ValueError, LookupError):
                pass
        out[name] = value
    return out


def _range_header(byte_range: ByteRange | None) -> str | None:
    if byte_range is None:
        return None
    first, last = byte_range
    if first is None:
        return f"bytes=-{last}"
    return f"bytes={first}-" if last is None else f"bytes={first}-{last}"


def _conditions(conditions: Conditions) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if conditions.if_match is not None:
        params["IfMatch"] = conditions.if_match
    if conditions.if_none_match is not None:
        params["IfNoneMatch"] = conditions.if_none_match
    if conditions.if_modified_since is not None:
        params["IfModifiedSince"] = conditions.if_modified_since
    if conditions.if_unmodified_since is not None:
        params["IfUnmodifiedSince"] = conditions.if_unmodified_since
    return params


def _size_of(response: dict[str, Any]) -> int:
    content_range = response.get("ContentRange")
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return int(response.get("ContentLength", 0))


class AwsBucket(BucketBackend):
    """One S3 bucket, named by ``STRATUS_BUCKET_<NAME>``."""

    def __init__(self, resource: Bucket, cloud: Any) -> None:
        self.resource = resource
        self.cloud = cloud
        self.bucket_name = _context.physical_id(resource, cloud)
        self.client = _context.client("s3", cloud)

    def _call(self, operation: str, key: str = "", **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(Bucket=self.bucket_name, **params)  # type: ignore[no-any-return,unused-ignore]
        except ClientError as error:
            raise translate(error, key) from None

    # -- objects ----------------------------------------------------------------------------

    def put(
        self,
        key: str,
        body: Body,
        *,
        content_type: str,
        metadata: dict[str, str],
        cache_control: str | None,
        if_match: str | None,
        if_none_match: str | None,
    ) -> PutResult:
        params: dict[str, Any] = {
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "Metadata": encode_metadata(metadata),
        }
        if cache_control is not None:
            params["CacheControl"] = cache_control
        if if_match is not None:
            params["IfMatch"] = if_match
        if if_none_match is not None:
            params["IfNoneMatch"] = if_none_match
        response = self._call("put_object", key, **params)
        return PutResult(etag=response["ETag"], version_id=_version(response.get("VersionId")))

    def _head_of(self, key: str, response: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": key,
            "content_type": response.get("ContentType", "binary/octet-stream"),
            "content_length": int(response.get("ContentLength", 0)),
            "metadata": decode_metadata(dict(response.get("Metadata", {}))),
            "etag": response.get("ETag", ""),
            "last_modified": _when(response.get("LastModified")),
            "version_id": _version(response.get("VersionId")),
            "content_range": response.get("ContentRange"),
            "cache_control": response.get("CacheControl"),
            "size": _size_of(response),
        }

    def _read_params(
        self, key: str, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"Key": key, **_conditions(conditions)}
        header = _range_header(byte_range)
        if header is not None:
            params["Range"] = header
        if version_id is not None:
            params["VersionId"] = version_id
        return params

    def get(self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None) -> Object:
        params = self._read_params(key, byte_range, conditions, version_id)
        try:
            response = self.client.get_object(Bucket=self.bucket_name, **params)
        except ClientError as error:
            raise self._read_error(error, key, version_id) from None
        with response["Body"] as stream:
            body = stream.read()
        return Object(**self._head_of(key, response), body=body)

    def head(
        self, key: str, *, byte_range: ByteRange | None, conditions: Conditions, version_id: str | None
    ) -> ObjectHead:
        params = self._read_params(key, byte_range, conditions, version_id)
        try:
            response = self.client.head_object(Bucket=self.bucket_name, **params)
        except ClientError as error:
            raise self._read_error(error, key, version_id) from None
        return ObjectHead(**self._head_of(key, response))

    def _read_error(self, error: ClientError, key: str, version_id: str | None) -> StratusError:
        translated = translate(error, key)
        # A HEAD of a missing version answers 404 without a body; S3 calls it NoSuchVersion.
        missing = isinstance(translated, port.NoSuchKey) and not translated.delete_marker
        if version_id is not None and missing and _context.error_code(error) in ("404", "NoSuchVersion"):
            return port.NoSuchVersion(key=key)
        return translated

    def delete(self, key: str, *, version_id: str | None) -> DeleteResult:
        params: dict[str, Any] = {"Key": key}
        if version_id is not None:
            params["VersionId"] = version_id
        response = self._call("delete_object", key, **params)
        return DeleteResult(
            key=key, version_id=_version(response.get("VersionId")), delete_marker=bool(response.get("DeleteMarker"))
        )

    def delete_many(self, items: list[tuple[str, str | None]]) -> list[DeleteResult]:
        objects = [{"Key": k, **({"VersionId": v} if v is not None else {})} for k, v in items]
        response = self._call("delete_objects", Delete={"Objects": objects, "Quiet": False})
        done: dict[tuple[str, str | None], DeleteResult] = {}
        for deleted in response.get("Deleted", []):
            asked = _version(deleted.get("VersionId")) if "VersionId" in deleted else None
            result = DeleteResult(
                key=deleted["Key"],
                version_id=_version(deleted.get("DeleteMarkerVersionId") or deleted.get("VersionId")),
                delete_marker=bool(deleted.get("DeleteMarker")),
            )
            done[(deleted["Key"], asked)] = result
            done.setdefault((deleted["Key"], None), result)
        for failed in response.get("Errors", []):
            asked = _version(failed.get("VersionId"))
            done[(failed["Key"], asked)] = DeleteResult(
                key=failed["Key"], version_id=asked, error_code=failed.get("Code"), error_message=failed.get("Message")
            )
        return [done.get((k, v)) or done.get((k, None)) or DeleteResult(key=k, version_id=v) for k, v in items]

    def copy(
        self,
        source_key: str,
        dest_key: str,
        *,
        source_bucket: Bucket | None,
        source_version_id: str | None,
        metadata: dict[str, str] | None,
        content_type: str | None,
        cache_control: str | None,
    ) -> CopyResult:
        source: dict[str, Any] = {"Bucket": _bucket_name(source_bucket) if source_bucket else self.bucket_name}
        source["Key"] = source_key
        if source_version_id is not None:
            source["VersionId"] = source_version_id
        params: dict[str, Any] = {"Key": dest_key, "CopySource": source}
        if metadata is not None:
            params["MetadataDirective"] = "REPLACE"
            params["Metadata"] = encode_metadata(metadata)
            if content_type is not None:
                params["ContentType"] = content_type
            if cache_control is not None:
                params["CacheControl"] = cache_control
        try:
            response = self.client.copy_object(Bucket=self.bucket_name, **params)
        except ClientError as error:
            translated = translate(error, source_key)
            if source_version_id is not None and isinstance(translated, port.NoSuchKey):
                raise port.NoSuchVersion(key=source_key) from None
            raise translated from None
        result = response.get("CopyObjectResult", {})
        return CopyResult(
            etag=result.get("ETag", ""),
            last_modified=_when(result.get("LastModified")),
            version_id=_version(response.get("VersionId")),
            source_version_id=_version(response.get("CopySourceVersionId")),
        )

    # -- listings ---------------------------------------------------------------------------

    def list(
        self,
        *,
        prefix: str,
        delimiter: str | None,
        max_keys: int,
        continuation_token: str | None,
        start_after: str | None,
    ) -> Listing:
        params: dict[str, Any] = {"Prefix": prefix, "MaxKeys": max_keys}
        if delimiter is not None:
            params["Delimiter"] = delimiter
        if continuation_token is not None:
            params["ContinuationToken"] = continuation_token
        if start_after is not None:
            params["StartAfter"] = start_after
        response = self._call("list_objects_v2", **params)
        return Listing(
            objects=[
                ObjectSummary(key=o["Key"], size=int(o["Size"]), etag=o["ETag"], last_modified=_when(o["LastModified"]))
                for o in response.get("Contents", [])
            ],
            common_prefixes=[p["Prefix"] for p in response.get("CommonPrefixes", [])],
            is_truncated=bool(response.get("IsTruncated")),
            next_continuation_token=response.get("NextContinuationToken"),
        )

    def list_versions(
        self, *, prefix: str, max_keys: int, key_marker: str | None, version_id_marker: str | None
    ) -> VersionListing:
        params: dict[str, Any] = {"Prefix": prefix, "MaxKeys": max_keys}
        if key_marker is not None:
            params["KeyMarker"] = key_marker
        if version_id_marker is not None:
            params["VersionIdMarker"] = version_id_marker
        response = self._call("list_object_versions", **params)
        entries: builtins.list[tuple[str, datetime, VersionSummary]] = []
        for v in response.get("Versions", []):
            summary = VersionSummary(
                key=v["Key"],
                version_id=str(v.get("VersionId")),
                is_latest=bool(v.get("IsLatest")),
                is_delete_marker=False,
                last_modified=_when(v.get("LastModified")),
                size=int(v.get("Size", 0)),
                etag=v.get("ETag"),
            )
            entries.append((v["Key"], v.get("LastModified") or datetime.fromtimestamp(0, UTC), summary))
        for m in response.get("DeleteMarkers", []):
            summary = VersionSummary(
                key=m["Key"],
                version_id=str(m.get("VersionId")),
                is_latest=bool(m.get("IsLatest")),
                is_delete_marker=True,
                last_modified=_when(m.get("LastModified")),
            )
            entries.append((m["Key"], m.get("LastModified") or datetime.fromtimestamp(0, UTC), summary))
        # S3 lists the two kinds apart; the port lists one sequence: by key, newest version first.
        entries.sort(key=lambda e: (e[0], -e[1].timestamp(), not e[2].is_latest))
        ordered: builtins.list[VersionSummary] = []
        for key in dict.fromkeys(e[0] for e in entries):
            group = [e[2] for e in entries if e[0] == key]
            group.sort(key=lambda s: not s.is_latest)  # the latest first, whatever the clock's resolution
            ordered.extend(group)
        return VersionListing(
            versions=ordered,
            is_truncated=bool(response.get("IsTruncated")),
            next_key_marker=response.get("NextKeyMarker"),
            next_version_id_marker=response.get("NextVersionIdMarker"),
        )

    # -- multipart uploads ------------------------------------------------------------------

    def create_multipart_upload(
        self, key: str, *, content_type: str, metadata: dict[str, str], cache_control: str | None
    ) -> str:
        params: dict[str, Any] = {"Key": key, "ContentType": content_type, "Metadata": encode_metadata(metadata)}
        if cache_control is not None:
            params["CacheControl"] = cache_control
        return str(self._call("create_multipart_upload", key, **params)["UploadId"])

    def _upload_key(self, upload_id: str) -> str:
        for upload in self._call("list_multipart_uploads").get("Uploads", []):
            if upload.get("UploadId") == upload_id:
                return str(upload["Key"])
        raise port.NoSuchUpload()

    def upload_part(self, upload_id: str, part_number: int, body: Body) -> str:
        key = self._upload_key(upload_id)
        response = self._call("upload_part", key, Key=key, UploadId=upload_id, PartNumber=part_number, Body=body)
        return str(response["ETag"])

    def complete_multipart_upload(self, upload_id: str, parts: builtins.list[tuple[int, str]]) -> PutResult:
        key = self._upload_key(upload_id)
        response = self._call(
            "complete_multipart_upload",
            key,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
        )
        return PutResult(etag=response["ETag"], version_id=_version(response.get("VersionId")))

    def abort_multipart_upload(self, upload_id: str) -> None:
        key = self._upload_key(upload_id)
        self._call("abort_multipart_upload", key, Key=key, UploadId=upload_id)

    def list_multipart_uploads(self, *, prefix: str) -> builtins.list[MultipartUpload]:
        uploads = self._call("list_multipart_uploads", Prefix=prefix).get("Uploads", [])
        return [
            MultipartUpload(key=u["Key"], upload_id=u["UploadId"], initiated=_when(u.get("Initiated"))) for u in uploads
        ]

    # -- presigned URLs ---------------------------------------------------------------------

    def presigned_url(self, method: str, key: str, *, expires_in: int, content_type: str | None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket_name, "Key": key}
        if method == "PUT" and content_type is not None:
            params["ContentType"] = content_type
        operation = "get_object" if method == "GET" else "put_object"
        return str(self.client.generate_presigned_url(operation, Params=params, ExpiresIn=expires_in))


def _bucket_name(bucket: Bucket) -> str:
    name = getattr(bucket.backend, "bucket_name", None)
    if not isinstance(name, str):
        raise port.InvalidArgument(f"bucket {bucket.name!r} is not bound to S3")
    return name
