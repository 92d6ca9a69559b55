"""gladia_async: the async Python client for the Gladia speech-to-text API v2."""

from __future__ import annotations

from ._client import GladiaClient
from ._config import RetryPolicy
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
    PaginationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UnsafeURLError,
    WaitTimeoutError,
)
from ._filters import FilterMismatchError, ListingStats
from ._hooks import (
    EventHooks,
    PageEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    current_attempt,
    otel_request_hook,
)
from ._logging import setup_logging as _setup_logging
from ._raw import RawResponse
from ._streams import Checkpoint, GetManyStream, ListStream, StreamStats
from ._version import __version__
from ._windows import ShardedStream, WalkStats
from .resources.live_session import AudioFormat, LiveConnection, LiveSessionError
from .webhooks import (
    WebhookVerificationError,
    parse_callback,
    parse_live_message,
    parse_webhook,
    verify_webhook,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AudioFormat",
    "AuthenticationError",
    "BadRequestError",
    "Checkpoint",
    "DecodeError",
    "EventHooks",
    "FilterMismatchError",
    "GetManyStream",
    "GladiaClient",
    "GladiaClientClosed",
    "GladiaConfigError",
    "GladiaError",
    "InternalServerError",
    "JobFailedError",
    "ListStream",
    "ListingStats",
    "LiveConnection",
    "LiveSessionError",
    "NotFoundError",
    "PageEvent",
    "PaginationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RetryPolicy",
    "ShardedStream",
    "StreamStats",
    "UnprocessableEntityError",
    "UnsafeURLError",
    "WaitTimeoutError",
    "WalkStats",
    "WebhookVerificationError",
    "__version__",
    "current_attempt",
    "otel_request_hook",
    "parse_callback",
    "parse_live_message",
    "parse_webhook",
    "verify_webhook",
]

_setup_logging()  # GLADIA_LOG=debug|info, GLADIA_LOG_FORMAT=json
