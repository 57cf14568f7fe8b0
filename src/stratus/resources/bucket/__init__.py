"""The bucket port (S3): objects by key with S3's semantics.

``app.bucket("images", versioning=True, notifications=[...])`` declares a bucket; the
handle's methods (put, get, head, delete, copy, list, multipart uploads, presigned URLs)
follow the S3 API reference: its limits, error codes, versioning and conditional requests.

Modules: ``handle`` (the Bucket class), ``backend`` (what adapters implement), ``types``
(the records methods return), ``rules`` (S3's input rules and preconditions),
``notifications`` (rules and matching), ``errors``.
"""

from stratus.resources.bucket.backend import Body, BucketBackend, NotificationLog
from stratus.resources.bucket.errors import (
    BucketAccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    KeyTooLong,
    MalformedXML,
    MetadataTooLarge,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NoSuchVersion,
    NotModified,
    PreconditionFailed,
    SignatureDoesNotMatch,
)
from stratus.resources.bucket.handle import Bucket
from stratus.resources.bucket.notifications import EVENT_TYPES, BucketNotification, notification_matches
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

__all__ = [
    "EVENT_TYPES",
    "Body",
    "Bucket",
    "BucketAccessDenied",
    "BucketBackend",
    "BucketNotification",
    "Conditions",
    "CopyResult",
    "DeleteResult",
    "EntityTooLarge",
    "EntityTooSmall",
    "InvalidArgument",
    "InvalidPart",
    "InvalidPartOrder",
    "InvalidRange",
    "InvalidRequest",
    "KeyTooLong",
    "Listing",
    "MalformedXML",
    "MetadataTooLarge",
    "MethodNotAllowed",
    "MultipartUpload",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "NotModified",
    "NotificationLog",
    "Object",
    "ObjectHead",
    "ObjectSummary",
    "PreconditionFailed",
    "PutResult",
    "SignatureDoesNotMatch",
    "VersionListing",
    "VersionSummary",
    "notification_matches",
]
