"""The bucket port's errors, named and coded as S3 names them.

Each class carries S3's error ``code`` and the HTTP ``status`` S3 answers with, so the
presigned-URL server can render S3's XML error documents and the AWS adapter can map
botocore errors back onto the same classes. Each also subclasses the shared error that
says what kind of failure it is (not found, bad input, failed condition, denied).
"""

from __future__ import annotations

from stratus.errors import (
    AccessDenied,
    ConditionalCheckFailed,
    LimitExceeded,
    ResourceNotFound,
    StratusError,
    ValidationError,
)


class NoSuchBucket(ResourceNotFound):
    code = "NoSuchBucket"
    status = 404

    def __init__(self, message: str = "The specified bucket does not exist") -> None:
        super().__init__(message)


class NoSuchKey(ResourceNotFound):
    """No current object at the key (``delete_marker`` is true when a delete marker hides it)."""

    code = "NoSuchKey"
    status = 404

    def __init__(
        self,
        message: str = "The specified key does not exist.",
        *,
        key: str = "",
        delete_marker: bool = False,
        version_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.delete_marker = delete_marker
        #: The version id of the delete marker, when one hides the key.
        self.version_id = version_id


class NoSuchVersion(ResourceNotFound):
    code = "NoSuchVersion"
    status = 404

    def __init__(self, message: str = "The specified version does not exist.", *, key: str = "") -> None:
        super().__init__(message)
        self.key = key


class NoSuchUpload(ResourceNotFound):
    code = "NoSuchUpload"
    status = 404

    def __init__(
        self,
        message: str = (
            "The specified upload does not exist. The upload ID may be invalid, "
            "or the upload may have been aborted or completed."
        ),
    ) -> None:
        super().__init__(message)


class MethodNotAllowed(StratusError):
    """Reading a version that is a delete marker."""

    code = "MethodNotAllowed"
    status = 405

    def __init__(self, message: str = "The specified method is not allowed against this resource.") -> None:
        super().__init__(message)
        self.delete_marker = True


class PreconditionFailed(ConditionalCheckFailed):
    code = "PreconditionFailed"
    status = 412

    def __init__(
        self, message: str = "At least one of the pre-conditions you specified did not hold", *, condition: str = ""
    ) -> None:
        super().__init__(message)
        #: Which condition failed: "If-Match", "If-Unmodified-Since" or "If-None-Match".
        self.condition = condition


class NotModified(StratusError):
    """A conditional read whose object has not changed (HTTP 304): not a failure, nothing to send."""

    code = "NotModified"
    status = 304

    def __init__(self, message: str = "Not Modified", *, etag: str = "") -> None:
        super().__init__(message)
        self.etag = etag


class InvalidArgument(ValidationError):
    code = "InvalidArgument"
    status = 400


class InvalidRequest(ValidationError):
    code = "InvalidRequest"
    status = 400


class MalformedXML(ValidationError):
    code = "MalformedXML"
    status = 400


class InvalidRange(ValidationError):
    code = "InvalidRange"
    status = 416

    def __init__(self, message: str = "The requested range is not satisfiable", *, size: int = 0) -> None:
        super().__init__(message)
        #: The object's size (S3 reports it as ActualObjectSize).
        self.size = size


class EntityTooLarge(ValidationError, LimitExceeded):
    code = "EntityTooLarge"
    status = 400


class EntityTooSmall(ValidationError):
    code = "EntityTooSmall"
    status = 400


class InvalidPart(ValidationError):
    code = "InvalidPart"
    status = 400


class InvalidPartOrder(ValidationError):
    code = "InvalidPartOrder"
    status = 400


class KeyTooLong(ValidationError, LimitExceeded):
    code = "KeyTooLongError"
    status = 400


class MetadataTooLarge(ValidationError, LimitExceeded):
    code = "MetadataTooLarge"
    status = 400


class BucketAccessDenied(AccessDenied):
    """S3's AccessDenied (e.g. "Request has expired" for a presigned URL past its expiry)."""

    code = "AccessDenied"
    status = 403


class SignatureDoesNotMatch(AccessDenied):
    code = "SignatureDoesNotMatch"
    status = 403

    def __init__(
        self,
        message: str = (
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method."
        ),
    ) -> None:
        super().__init__(message)
