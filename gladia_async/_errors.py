"""The exception tree. Every error the client raises derives from GladiaError::

    GladiaError
    ├── GladiaConfigError            bad or missing configuration, raised before any I/O
    ├── GladiaClientClosed           the client was used after aclose()
    ├── APIConnectionError           the request could not complete (connect, reset, ...)
    │   └── APITimeoutError          ... because a timeout expired
    ├── APIStatusError               the API answered with an error status
    │   ├── BadRequestError              400
    │   ├── AuthenticationError          401
    │   ├── PermissionDeniedError        403
    │   ├── NotFoundError                404
    │   ├── PayloadTooLargeError         413
    │   ├── UnprocessableEntityError     422
    │   ├── RateLimitError               429 (.retry_after)
    │   └── InternalServerError          5xx
    ├── DecodeError                  a 2xx body that is not the JSON the API documents
    │   ├── PaginationError          the server's paging links are inconsistent
    │   └── FilterMismatchError      a listed item breaks the listing's filters (_filters)
    ├── UnsafeURLError               the server pointed the client at another origin
    ├── JobFailedError               a job ended with status "error"
    ├── WaitTimeoutError             wait()/transcribe() gave up before the job finished
    ├── SyncError                    a sync could not proceed (sync)
    │   └── StoreLockedError         another sync holds the store's lock (sync)
    ├── LiveSessionError             the live WebSocket refused or ended the session (live_session)
    └── WebhookVerificationError     a webhook signature or timestamp did not verify (webhooks)

GladiaConfigError is also a ValueError, GladiaClientClosed a RuntimeError and WaitTimeoutError a
TimeoutError. Only the transport catches aiohttp exceptions; it translates them into this tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yarl import URL

if TYPE_CHECKING:
    from ._streams import Checkpoint
    from .types.errors import ErrorResponse
    from .types.live import LiveJob
    from .types.pre_recorded import PreRecordedJob

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
    "PaginationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "UnsafeURLError",
    "WaitTimeoutError",
    "status_error_class",
]


class GladiaError(Exception):
    """Base of every error raised by gladia_async.

    `checkpoint` is set when the error escaped a ListStream: resume from it with
    `list(resume=exc.checkpoint)`.
    """

    checkpoint: Checkpoint | None = None


class GladiaConfigError(GladiaError, ValueError):
    """Bad or missing configuration (no API key, an http:// base URL off loopback, ...)."""


class GladiaClientClosed(GladiaError, RuntimeError):
    """The client (or its session) was used after aclose()."""


class APIConnectionError(GladiaError):
    """The request could not complete: DNS, connect, reset, or a body cut short."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APITimeoutError(APIConnectionError):
    """A connect or read timeout expired."""


class APIStatusError(GladiaError):
    """The API answered with a non-2xx status.

    `body` is the parsed error envelope (None when the body was not JSON), `raw_body` the bytes.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str | None = None,
        url: str | None = None,
        request_id: str | None = None,
        body: ErrorResponse | None = None,
        raw_body: bytes = b"",
        headers: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.request_id = request_id
        self.body = body
        self.raw_body = raw_body
        self.headers = headers

    @property
    def validation_errors(self) -> list[str]:
        """The 400 answer's `validation_errors`, or an empty list."""
        if self.body is None or self.body.validation_errors is None:
            return []
        return list(self.body.validation_errors)

    def __str__(self) -> str:
        text = f"{self.status} {self.message}"
        errors = self.validation_errors
        if errors:
            text += ": " + "; ".join(e[:200] for e in errors[:10])
            if len(errors) > 10:
                text += f" (+{len(errors) - 10} more)"
        where = [f"{self.method} {_path(self.url)}"] if self.method and self.url else []
        if self.request_id:
            where.append(f"request_id={self.request_id}")
        return f"{text} ({', '.join(where)})" if where else text


def _path(url: str) -> str:
    """The path of a request URL, for error text: no origin, no query (short, and key-free)."""
    try:
        return URL(url).path or "/"
    except (TypeError, ValueError):
        return "?"


class BadRequestError(APIStatusError):
    """400: invalid parameters; see `validation_errors`."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or unknown."""


class PermissionDeniedError(APIStatusError):
    """403: not allowed, e.g. deleting a job that is still queued or processing."""


class NotFoundError(APIStatusError):
    """404: no such job or file (or it was deleted, or retention expired)."""


class PayloadTooLargeError(APIStatusError):
    """413: the request body is too large."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but cannot be processed."""


class RateLimitError(APIStatusError):
    """429: too many requests or concurrent jobs. `retry_after`: seconds, if the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the API failed."""


class DecodeError(GladiaError):
    """A 2xx body that is not the JSON the API documents. `url` and `detail` say where."""

    def __init__(self, message: str, *, url: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message} (url={self.url})" if self.url else self.message


class PaginationError(DecodeError):
    """The server's paging links are inconsistent: a ``next`` link that does not advance the
    offset (which would loop forever) or that has no usable offset."""


class UnsafeURLError(GladiaError):
    """The server pointed the client at a URL outside base_url's origin (or an unsafe scheme)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class JobFailedError(GladiaError):
    """A job ended with status "error". `job` is the job, `error_code` its HTTP-like code."""

    def __init__(self, job: PreRecordedJob | LiveJob) -> None:
        self.job = job
        self.error_code = job.error_code
        super().__init__(f"job {job.id} failed with error_code={self.error_code}")


class WaitTimeoutError(GladiaError, TimeoutError):
    """wait()/transcribe() timed out before the job finished; `job` is the last state seen."""

    def __init__(self, message: str, *, job: PreRecordedJob | LiveJob | None = None) -> None:
        super().__init__(message)
        self.job = job


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The APIStatusError subclass for an HTTP status."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)
