"""gladia_async: the async Python client for the Gladia speech-to-text API v2."""

from __future__ import annotations

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DecodeError,
    GladiaClientClosed,
    GladiaConfigError,
    GladiaError,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UnsafeURLError,
)
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "DecodeError",
    "GladiaClientClosed",
    "GladiaConfigError",
    "GladiaError",
    "InternalServerError",
    "JobFailedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "UnsafeURLError",
    "__version__",
]
