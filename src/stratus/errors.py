"""Errors shared by every port, named after the AWS errors they stand for.

Each error carries ``code`` (the AWS error code, e.g. ``ConditionalCheckFailedException``)
so the AWS adapters can map botocore errors onto the same classes and user code can
catch one class whichever adapter is bound. Port-specific errors subclass these in the
port's own module.
"""

from __future__ import annotations


class StratusError(Exception):
    """Base of every error Stratus raises on purpose."""

    code: str = "InternalFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StateFolderInUse(StratusError):
    """Another process holds the state folder's databases (one process owns a state folder)."""

    code = "StateFolderInUse"


class ValidationError(StratusError, ValueError):
    """Input that AWS would reject: wrong types, bad names, limits exceeded, bad expressions."""

    code = "ValidationException"


class ResourceNotFound(StratusError, LookupError):
    """A resource (table, index, bucket, queue...) that does not exist."""

    code = "ResourceNotFoundException"


class ResourceInUse(StratusError):
    """A resource that cannot be created or changed because of its current state."""

    code = "ResourceInUseException"


class ConditionalCheckFailed(StratusError):
    """A condition on a write was false; nothing was written."""

    code = "ConditionalCheckFailedException"

    def __init__(self, message: str = "The conditional request failed", item: dict | None = None) -> None:
        super().__init__(message)
        #: The item as it was, when the caller asked for it (ReturnValuesOnConditionCheckFailure).
        self.item = item


class LimitExceeded(StratusError):
    """A service limit (size, count, rate) was exceeded."""

    code = "LimitExceededException"


class Throttled(StratusError):
    """The request rate exceeded what the resource allows; retry with backoff."""

    code = "ThrottlingException"


class AccessDenied(StratusError, PermissionError):
    """The caller is not allowed to do this (bad credentials, deleted key, wrong owner)."""

    code = "AccessDeniedException"


class NotBound(StratusError, RuntimeError):
    """A declared resource was used before its App was bound to adapters."""

    code = "NotBound"
