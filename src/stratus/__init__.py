"""Stratus: serverless systems on an embedded local cloud that deploys unchanged to AWS.

The public API a system uses is re-exported here; everything else is internal.
"""

from stratus.app import App
from stratus.clock import Clock, SystemClock, VirtualClock
from stratus.errors import (
    ConditionalCheckFailed,
    NotBound,
    ResourceNotFound,
    StratusError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "App",
    "Clock",
    "ConditionalCheckFailed",
    "NotBound",
    "ResourceNotFound",
    "StratusError",
    "SystemClock",
    "ValidationError",
    "VirtualClock",
    "__version__",
]
