"""Event hooks for metrics and tracing: what each HTTP attempt did, without any dependency.

A leaf module (no I/O). The transport calls `EventHooks` methods synchronously, once per attempt,
retry and page; a hook that raises is logged and ignored, so metrics never break traffic. URLs in
events never carry the API key (it travels in a header, and server-chosen URLs echoing it are
refused before any request).

`current_attempt()` is the attempt number (1 for the first try) of the request aiohttp is sending
right now: aiohttp
`TraceConfig` callbacks (and OpenTelemetry's request hook, see `otel_request_hook`) run in the
same task, so they can read it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from . import _config

__all__ = [
    "EventHooks",
    "PageEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "current_attempt",
    "otel_request_hook",
    "request_id_of",
]

log = logging.getLogger(_config.LOGGER_NAME)

_ATTEMPT: ContextVar[int | None] = ContextVar("gladia_attempt", default=None)


def current_attempt() -> int | None:
    """1 for a first attempt, n + 1 for the n-th retry, None outside a client request."""
    return _ATTEMPT.get()


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The server's request id header (`x-request-id` or `x-aipi-call-id`), if any."""
    for name in _config.REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """An attempt is about to be sent; `attempt` is 1 for the first try, n + 1 for retry n."""

    method: str
    url: str
    attempt: int


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """An attempt ended: with a `status` (and the body read), or with a connection `error`.

    `duration` is the attempt's wall time in seconds; `bytes` the response body size (None for a
    streamed download, whose body is read later, or a failed attempt).
    """

    method: str
    url: str
    attempt: int
    status: int | None
    duration: float
    bytes: int | None
    request_id: str | None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Attempt number `attempt` failed (`status`, or a connection `error`); the next one is sent
    after `delay` seconds."""

    method: str
    url: str
    attempt: int
    status: int | None
    delay: float
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class PageEvent:
    """A listing page was decoded: its collection `path`, `offset`, item count and body size."""

    path: str
    offset: int
    items: int
    bytes: int
    request_id: str | None


class EventHooks:
    """Subclass and override what you count; every method is a no-op by default.

    ```python
    class Metrics(EventHooks):
        def on_response(self, event: ResponseEvent) -> None:
            LATENCY.labels(event.method, event.status).observe(event.duration)

    GladiaClient(hooks=[Metrics()])
    ```

    Hooks run synchronously on the event loop: keep them cheap (increment a counter, observe a
    histogram). An exception from a hook is logged and ignored.
    """

    def on_request(self, event: RequestEvent) -> None:
        """An attempt is about to be sent."""

    def on_response(self, event: ResponseEvent) -> None:
        """An attempt got an answer (any status) or failed to get one."""

    def on_retry(self, event: RetryEvent) -> None:
        """A failed attempt will be retried after `event.delay` seconds."""

    def on_page(self, event: PageEvent) -> None:
        """A listing page was decoded (list streams and list_page)."""


def emit(hooks: Sequence[EventHooks], name: str, event: object) -> None:
    """Call `name` on every hook; a failing hook is logged (at warning) and skipped."""
    for hook in hooks:
        try:
            getattr(hook, name)(event)
        except Exception as exc:
            log.warning("event hook %s.%s failed: %r", type(hook).__name__, name, exc)


class _Span(Protocol):
    def set_attribute(self, key: str, value: Any) -> Any: ...


def otel_request_hook(span: _Span, params: object = None) -> None:
    """A `request_hook` for opentelemetry-instrumentation-aiohttp-client: marks retried
    attempts with `http.request.resend_count` (the OpenTelemetry HTTP convention) and
    `gladia.attempt`. Needs no OpenTelemetry import; pass it as
    `create_trace_config(request_hook=otel_request_hook)`."""
    attempt = _ATTEMPT.get()
    if attempt is None:
        return
    span.set_attribute("gladia.attempt", attempt)
    if attempt > 1:
        span.set_attribute("http.request.resend_count", attempt - 1)
