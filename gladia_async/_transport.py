"""The HTTP transport: the aiohttp session, auth, origin checks, timeouts, size limits and retries.

This is the only module that touches aiohttp exceptions; everything leaving it is a GladiaError.
Retry decisions are the pure functions `should_retry()` and `retry_delay()`; jitter comes from one
seam (`Transport.rand`) and backoff sleeps go through another (`Transport.sleep`).
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import email.utils
import logging
import random
import re
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
import msgspec
from yarl import URL

from . import _config
from ._config import RetryPolicy, redact
from ._decode import decode
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DecodeError,
    GladiaClientClosed,
    GladiaConfigError,
    GladiaError,
    RateLimitError,
    UnsafeURLError,
    status_error_class,
)
from ._hooks import (
    _ATTEMPT,
    EventHooks,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    emit,
    request_id_of,
)
from ._version import __version__
from .types.errors import ErrorResponse

__all__ = [
    "RESPONSES",
    "ByteStream",
    "Response",
    "StreamedResponse",
    "Transport",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

Headers = Mapping[str, str]
Query = Mapping[str, str] | Sequence[tuple[str, str]]

log = logging.getLogger(_config.LOGGER_NAME)

MAX_REDIRECTS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 256 * 1024
_ERROR_BODY_LIMIT = 1024 * 1024
"""Error bodies are read up to this many bytes (the rest is dropped, the connection closed)."""
_MAX_MESSAGE = 1000
"""Server-provided error messages are cut to this many characters in exception text."""
_BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})
_DERIVABLE = frozenset(
    {"timeout", "connect_timeout", "file_timeout", "retry_policy", "max_response_size"}
)
_SECONDS = re.compile(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", re.ASCII)
"""A non-negative decimal number (huge ones become inf: over any cap, so the client gives up)."""

Body = bytes | AsyncIterable[bytes] | None
BodyFactory = Callable[[], Body]
"""A zero-argument callable returning a fresh request body: lets a request be replayed."""


class Response(NamedTuple):
    """A complete HTTP answer: status, headers, the whole body (size-limited) and final URL;
    `retries` taken before it and `elapsed` seconds from the first attempt to the body's end."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    retries: int = 0
    elapsed: float = 0.0


RESPONSES: ContextVar[list[tuple[str, Response]] | None] = ContextVar(
    "gladia_responses", default=None
)
"""When set (by `with_raw_response`), every 2xx (method, Response) is appended to the list."""

OWNED_HEADERS = frozenset(
    {
        _config.AUTH_HEADER,
        "authorization",
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "cookie",
    }
)
"""Headers the client sets itself (or that carry credentials): never taken from the caller."""
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def check_headers(headers: Headers | None, what: str = "extra_headers") -> dict[str, str]:
    """Caller headers as a dict, refusing owned or credential headers and CR/LF injection."""
    if not headers:
        return {}
    if not isinstance(headers, Mapping):
        raise GladiaConfigError(f"{what} must be a mapping of header names to values")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise GladiaConfigError(f"{what}: invalid header name {name!r}")
        if name.lower() == _config.AUTH_HEADER:
            raise GladiaConfigError(f"{what}: pass the key as api_key, not as a header")
        if name.lower() in OWNED_HEADERS:
            raise GladiaConfigError(f"{what}: {name} is set by the client and cannot be overridden")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise GladiaConfigError(f"{what}: the value of {name} must be a str without CR/LF")
        out[name] = value
    return out


def merge_query(
    params: Sequence[tuple[str, str]] | None, extra: Query | None
) -> list[tuple[str, str]] | None:
    """`params` followed by `extra` query parameters; a name the method sets itself is refused
    (it would be ambiguous on the wire)."""
    if not extra:
        return list(params) if params else None
    pairs = list(extra.items()) if isinstance(extra, Mapping) else list(extra)
    taken = {name for name, _ in params or ()}
    out = list(params or ())
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise GladiaConfigError("extra_query must be a mapping or a sequence of (name, value)")
        name, value = pair
        if not isinstance(name, str) or not name:
            raise GladiaConfigError(f"extra_query: invalid parameter name {name!r}")
        if name in taken:
            raise GladiaConfigError(f"extra_query: {name!r} is set by this method; pass it there")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise GladiaConfigError(f"extra_query: the value of {name!r} must be a str or number")
        out.append((name, str(value)))
    return out


# ---------------------------------------------------------------- pure retry decisions


def should_retry(
    attempt: int,
    policy: RetryPolicy,
    *,
    idempotent: bool,
    status: int | None = None,
    connection_error: bool = False,
    never_sent: bool = False,
) -> bool:
    """Whether to retry after `attempt` retries so far, given a status or a connection failure.

    Safe (idempotent) requests retry on connection errors and `RETRY_STATUSES`. Other requests
    (a job-creating POST) retry only when the request provably never left (`never_sent`).
    """
    if attempt >= policy.max_retries:
        return False
    if connection_error:
        return idempotent or never_sent
    return idempotent and status in _config.RETRY_STATUSES


def retry_delay(attempt: int, retry_after: float | None, policy: RetryPolicy, rand: float) -> float:
    """Seconds to wait before retry number `attempt + 1`.

    A server `Retry-After` (already known to be within the cap) wins; otherwise exponential
    backoff from `policy.base_delay`, capped at `policy.max_delay`, reduced by up to 25% jitter
    (`rand` in [0, 1) is the jitter seam).
    """
    if retry_after is not None and 0 <= retry_after <= policy.retry_after_cap:
        return retry_after
    backoff = min(policy.base_delay * 2.0 ** min(attempt, 32), policy.max_delay)
    return max(backoff * (1.0 - 0.25 * rand), 0.0)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from `Retry-After` (delta-seconds or any HTTP-date form) or `retry-after-ms`.

    None when absent or not a valid value (negative, NaN, inf, ...): the caller then backs off.
    """
    value = headers.get("retry-after-ms")
    if value is not None and _SECONDS.fullmatch(value.strip()):
        return float(value) / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # asctime form or "-0000": HTTP dates are always GMT
            when = when.replace(tzinfo=datetime.UTC)
        return max(when.timestamp() - (time.time() if now is None else now), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# ---------------------------------------------------------------- internals


@dataclass(slots=True)
class _Failure:
    """A connection-level failure of one attempt; `never_sent` if no byte reached the server."""

    error: APIConnectionError
    never_sent: bool
    retryable: bool = True


def _translate(exc: BaseException, method: str, url: str) -> _Failure:
    """Map an aiohttp/OS exception to the error tree, noting whether the request left.

    The aiohttp exception becomes `__cause__` unless it carries `request_info`, whose headers
    hold the API key (a malformed response raises such a ClientResponseError).
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        failure = _Failure(APITimeoutError(f"timed out connecting to {url}"), True)
    elif isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        msg = f"TLS failure connecting to {url}: {exc.__class__.__name__}"
        failure = _Failure(APIConnectionError(msg), True, retryable=False)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        msg = f"cannot connect to {url}: {exc.os_error.strerror or exc.__class__.__name__}"
        failure = _Failure(APIConnectionError(msg), True)
    elif isinstance(exc, TimeoutError):
        failure = _Failure(APITimeoutError(f"request timed out: {method} {url}"), False)
    else:
        msg = f"connection failed during {method} {url}: {exc.__class__.__name__}: {exc}"
        failure = _Failure(APIConnectionError(msg), False)
    failure.error.method, failure.error.url = method, url
    if not hasattr(exc, "request_info"):
        failure.error.__cause__ = exc
    return failure


_NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


class _TooLarge(Exception):
    """Internal signal: the body exceeded the size limit (translated to DecodeError)."""


async def _read_limited(resp: aiohttp.ClientResponse, limit: int | None) -> bytes:
    """Read the whole body incrementally, refusing to buffer more than `limit` bytes."""
    if limit is not None:
        length = resp.content_length
        if length is not None and length > limit:
            raise _TooLarge(f"Content-Length {length} exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_any():
        total += len(chunk)
        if limit is not None and total > limit:
            raise _TooLarge(f"body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _read_error_body(resp: aiohttp.ClientResponse) -> bytes:
    """An error answer's body, or b"" when it is too large or cut short (the status decides)."""
    try:
        return await _read_limited(resp, _ERROR_BODY_LIMIT)
    except (_TooLarge, *_NETWORK_ERRORS):
        return b""


def _too_large(exc: _TooLarge, url: str) -> DecodeError:
    return DecodeError(f"response too large: {exc}", url=url, detail=str(exc))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def status_error(
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None = None,
) -> APIStatusError:
    """The APIStatusError subclass for an error answer, with its parsed body and request id.

    A `secret` echoed by the server is replaced in the body before anything is parsed, so it
    reaches neither the message, `body`, nor `raw_body`; the message is cut to a sane length.
    """
    if secret and body:
        body = body.replace(secret.encode(), redact(secret).encode())
    parsed: ErrorResponse | None
    try:
        parsed = decode(body, ErrorResponse) if body else None
    except DecodeError:
        parsed = None
    message = (parsed.message if parsed else None) or _phrase(status)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + f"... ({len(message)} characters)"
    request_id = parsed.request_id if parsed else None
    if not request_id:
        request_id = next((headers[h] for h in _config.REQUEST_ID_HEADERS if h in headers), None)
    cls = status_error_class(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": url,
        "request_id": request_id,
        "body": parsed,
        "raw_body": body,
        "headers": headers,
    }
    if issubclass(cls, RateLimitError):
        return cls(message, retry_after=parse_retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def _origin(url: URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in, as aiohttp itself will parse it."""
    return url.scheme.lower(), (url.host or "").lower(), url.port


# ---------------------------------------------------------------- streamed bodies


class StreamedResponse:
    """An open 2xx response whose body the caller reads in chunks; errors stay GladiaErrors."""

    def __init__(self, resp: aiohttp.ClientResponse, method: str, retries: int = 0) -> None:
        self.raw = resp
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self.url = str(resp.url)
        self.content_length = resp.content_length
        self.retries = retries
        """Retries made before this response opened."""
        self._method = method

    async def iter_chunks(self, chunk_size: int = _CHUNK) -> AsyncGenerator[bytes, None]:
        """Yield the body in chunks of at most `chunk_size` bytes."""
        chunks = self.raw.content.iter_chunked(chunk_size)
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except _NETWORK_ERRORS as exc:
                failure = _translate(exc, self._method, self.url)
            else:
                yield chunk
                continue
            raise failure.error  # outside the except: no implicit __context__


class ByteStream:
    """Async iterator of body chunks that opens its request lazily and always releases it.

    Use `async with` (or exhaust it) to guarantee the connection is released on early exit::

        async with transport.byte_stream("GET", "/v2/pre-recorded/ID/file") as chunks:
            async for chunk in chunks: ...
    """

    def __init__(
        self, transport: Transport, method: str, path_or_url: str, chunk_size: int, **kw: Any
    ) -> None:
        self._open: Callable[[], AbstractAsyncContextManager[StreamedResponse]] = lambda: (
            transport.stream(method, path_or_url, **kw)
        )
        self._chunk_size = chunk_size
        self._cm: AbstractAsyncContextManager[StreamedResponse] | None = None
        self._iter: AsyncGenerator[bytes, None] | None = None
        self._done = False
        self.response: StreamedResponse | None = None
        """The open response (status, headers, retries) once the first chunk was asked for."""

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            it = self._iter
            if it is None:
                self._cm = self._open()
                resp = self.response = await self._cm.__aenter__()
                it = self._iter = resp.iter_chunks(self._chunk_size)
            return await it.__anext__()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end)."""
        self._done = True
        it, cm = self._iter, self._cm
        self._iter = self._cm = None
        if it is not None:
            await it.aclose()
        if cm is not None and it is not None:  # a failed __aenter__ left nothing open
            await cm.__aexit__(None, None, None)

    async def __aenter__(self) -> ByteStream:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


# ---------------------------------------------------------------- the transport


@dataclass(slots=True)
class _Shared:
    """What a client and its `with_options()` copies share: the session and whether it closed."""

    session: aiohttp.ClientSession | None
    owns_session: bool
    max_connections: int
    trust_env: bool
    trace_configs: tuple[aiohttp.TraceConfig, ...]
    closed: bool = False


class Transport:
    """Sends requests to one API origin with the key, retries and limits of one client.

    `session`: a borrowed aiohttp.ClientSession (never closed here); without one, an owned session
    is created lazily on first use (so a Transport can be built outside a running loop), with
    `trace_configs` attached. `derive()` makes a copy with other settings over the same session.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float | None = _config.DEFAULT_TIMEOUT,
        connect_timeout: float | None = _config.DEFAULT_CONNECT_TIMEOUT,
        file_timeout: float | None = _config.DEFAULT_FILE_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        max_response_size: int | None = _config.DEFAULT_MAX_RESPONSE_SIZE,
        session: aiohttp.ClientSession | None = None,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
        trust_env: bool = False,
        hooks: Sequence[EventHooks] = (),
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(URL(self.base_url))
        self._api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.file_timeout = file_timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_response_size = max_response_size
        self._shared = _Shared(
            session, session is None, max_connections, trust_env, tuple(trace_configs)
        )
        self._headers = {"User-Agent": f"gladia-async/{__version__}", **(headers or {})}
        self.hooks: tuple[EventHooks, ...] = tuple(hooks)
        """Event hooks called for every attempt, retry and page (see `_hooks.EventHooks`)."""
        self._closed = False
        self._derived = False
        self._parent: Transport | None = None
        self._query: list[tuple[str, str]] = []
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        """Backoff sleep; tests replace it to make retries instant."""
        self.rand: Callable[[], float] = random.random
        """Jitter source in [0, 1)."""

    def derive(self, headers: Mapping[str, str] | None = None, **settings: Any) -> Transport:
        """A copy over the same session, key and seams, with `settings` (timeout, connect_timeout,
        file_timeout, retry_policy, max_response_size) replaced and `headers` added. Closing the
        copy closes only the copy; closing this transport closes both."""
        child = copy.copy(self)
        for name, value in settings.items():
            if name not in _DERIVABLE:
                raise TypeError(f"unknown transport setting {name!r}")
            setattr(child, name, value)
        child._headers = {**self._headers, **(headers or {})}
        child._closed = False
        child._derived = True
        return child

    def scoped(self, extra_headers: Headers | None, extra_query: Query | None) -> Transport:
        """This transport, or (given any) a view adding the caller's headers and query
        parameters to every request it sends: what a stream's page requests use. The view is
        closed whenever this transport is."""
        if not extra_headers and not extra_query:
            return self
        view = copy.copy(self)
        view._headers = {**self._headers, **check_headers(extra_headers)}
        view._query = merge_query(self._query, extra_query) or []
        view._parent = self
        view._derived = True
        return view

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={redact(self._api_key)!r})"

    @property
    def closed(self) -> bool:
        """True once this transport, the one it was derived from, or the one it is a view of
        (`scoped`), was closed."""
        parent = self._parent
        return self._closed or self._shared.closed or (parent is not None and parent.closed)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session in use, created on first access when owned (needs a running loop)."""
        if self.closed:
            raise GladiaClientClosed("the client is closed")
        loop = asyncio.get_running_loop()
        shared = self._shared
        if shared.session is None:
            shared.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=shared.max_connections),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=shared.trust_env,
                trace_configs=list(shared.trace_configs) or None,
            )
        elif shared.session.closed:
            raise GladiaClientClosed("the aiohttp session given to the client is closed")
        if getattr(shared.session, "_loop", loop) is not loop:
            raise GladiaClientClosed(
                "the client's aiohttp session belongs to another event loop: create the client "
                "inside the loop that uses it (e.g. inside the coroutine given to asyncio.run)"
            )
        return shared.session

    async def aclose(self) -> None:
        """Close the owned session (a borrowed one stays open). Safe to call twice.

        A derived transport only marks itself closed: the session belongs to its origin."""
        if self.closed:
            return
        self._closed = True
        shared = self._shared
        if self._derived:
            return
        shared.closed = True
        session, shared.session = shared.session, None
        if shared.owns_session and session is not None and not session.closed:
            loop = getattr(session, "_loop", None)
            if loop is None or loop is asyncio.get_running_loop() or not loop.is_closed():
                await session.close()
            else:  # its loop is gone with its sockets: nothing left to close but the object
                session.detach()

    # -- URLs and headers

    def _check_url(self, url: str) -> URL:
        """`url` parsed as aiohttp will parse it, if it is an http(s) URL on base_url's origin."""
        shown = self._redact(url)  # server-chosen URLs may echo the key
        try:
            parsed = URL(url)
            origin = _origin(parsed)
        except (ValueError, TypeError):
            raise UnsafeURLError(f"malformed URL: {shown!r}", url=shown) from None
        if origin[0] not in ("http", "https") or not origin[1]:
            raise UnsafeURLError(f"not an http(s) URL: {shown!r}", url=shown)
        if parsed.user is not None or parsed.password is not None or shown != url:
            raise UnsafeURLError(f"refusing a URL with credentials: {shown!r}", url=shown)
        if origin != self._origin:
            raise UnsafeURLError(f"refusing a request outside {self.base_url}: {shown}", url=shown)
        return parsed

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for an API path, or an absolute URL checked to be on base_url's origin."""
        if path_or_url.startswith("/"):
            return self.base_url + path_or_url
        self._check_url(path_or_url)
        return path_or_url

    def same_origin(self, url: str) -> bool:
        """True when `url` is on base_url's origin (the only origin that receives the key)."""
        try:
            self._check_url(url)
        except UnsafeURLError:
            return False
        return True

    def _client_timeout(
        self, timeout: float | None, streaming: bool = False
    ) -> aiohttp.ClientTimeout:
        if streaming:
            read = timeout if timeout is not None else self.timeout
            return aiohttp.ClientTimeout(total=None, connect=self.connect_timeout, sock_read=read)
        total = timeout if timeout is not None else self.timeout
        return aiohttp.ClientTimeout(total=total, connect=self.connect_timeout)

    # -- one attempt (with same-origin redirects)

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]] | None,
        body: BodyFactory | None,
        headers: Mapping[str, str],
        client_timeout: aiohttp.ClientTimeout,
        resend: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse | _Failure]:
        """Open one attempt, following same-origin redirects; yields the response or a failure.

        Every URL requested here has passed `url_for` or `_check_url`, so the key is attached.
        Without `resend` (a request that is not idempotent), a redirect that would send the
        same method again (307, 308; 301/302 but for POST) raises APIStatusError instead.
        """
        session = self.session
        reached = False
        for _hop in range(MAX_REDIRECTS + 1):
            failure: _Failure | None = None
            try:
                resp = await session.request(
                    method,
                    url,
                    params=params,
                    data=body() if body is not None else None,
                    headers={**self._headers, **headers, _config.AUTH_HEADER: self._api_key},
                    timeout=client_timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                )
            except _NETWORK_ERRORS as exc:
                failure = _translate(exc, method, url)
                failure.never_sent = failure.never_sent and not reached
            if failure is not None:
                yield failure
                return
            reached = True
            location = resp.headers.get("Location")
            if resp.status in _REDIRECT_STATUSES and location:
                resp.release()
                try:
                    target = str(resp.url.join(URL(location)))
                except ValueError:
                    target = location
                self._check_url(target)  # UnsafeURLError: never follow (nor key) another origin
                log.debug("redirect %s %s -> %s (%d)", method, url, target, resp.status)
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
                elif not resend:
                    raise APIStatusError(
                        f"refusing to follow a {resp.status} redirect of {method}: the request "
                        "reached the server, and a request that is not idempotent is never sent "
                        "twice",
                        status=resp.status, method=method, url=self._redact(str(resp.url)),
                        headers=resp.headers,
                    )  # fmt: skip
                url, params = target, None
                continue
            async with resp:
                yield resp
            return
        raise APIConnectionError(f"too many redirects from {method} {url}", method=method, url=url)

    def _redact(self, text: str) -> str:
        """`text` with the API key (if a server echoed it) shown as its last four characters."""
        return text.replace(self._api_key, redact(self._api_key))

    def _backoff(
        self,
        attempt: int,
        method: str,
        url: str,
        error: GladiaError,
        *,
        retry: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> float:
        """Seconds to wait before retrying, or raise `error` when the request is not retried.

        A retry is logged at info and reported to the `on_retry` hooks."""
        policy = self.retry_policy
        if retry and retry_after is not None and retry_after > policy.retry_after_cap:
            log.debug(
                "not retrying %s %s: Retry-After %.0fs exceeds the %.0fs cap",
                method, self._path(url), retry_after, policy.retry_after_cap,
            )  # fmt: skip
            raise error
        if not retry:
            raise error
        delay = retry_delay(attempt, retry_after, policy, self.rand())
        if log.isEnabledFor(logging.INFO):
            path = self._path(url)
            cause = str(status) if status is not None else type(error).__name__
            request_id = getattr(error, "request_id", None)
            log.info(
                "retrying %s %s after %s in %.2fs (retry %d of %d, request id %s)",
                method, path, cause, delay, attempt + 1, policy.max_retries, request_id,
                extra={"gladia": {
                    "event": "retry", "method": method, "path": path, "status": status,
                    "error": None if status is not None else type(error).__name__,
                    "delay_ms": round(delay * 1000, 1), "attempt": attempt + 1,
                    "request_id": request_id,
                }},
            )  # fmt: skip
        if self.hooks:
            event = RetryEvent(method, self._redact(url), attempt + 1, status, delay, error)
            emit(self.hooks, "on_retry", event)
        return delay

    def _path(self, url: str) -> str:
        """The path of a request URL, for logs (no query: filters may hold user data)."""
        return self._redact(urlsplit(url).path or "/")

    def _started(self, method: str, url: str, attempt: int) -> None:
        if self.hooks:
            emit(self.hooks, "on_request", RequestEvent(method, self._redact(url), attempt + 1))

    def _ended(
        self,
        method: str,
        url: str,
        attempt: int,
        started: float,
        status: int | None,
        headers: Mapping[str, str] | None,
        size: int | None,
        error: BaseException | None = None,
    ) -> None:
        """Log one line per attempt (debug) and report it to the `on_response` hooks."""
        hooks = self.hooks
        if not hooks and not log.isEnabledFor(logging.DEBUG):
            return
        duration = time.perf_counter() - started
        request_id = request_id_of(headers) if headers is not None else None
        if log.isEnabledFor(logging.DEBUG):
            path = self._path(url)
            outcome = str(status) if status is not None else type(error).__name__
            log.debug(
                "%s %s -> %s in %.1f ms (request id %s, attempt %d)",
                method, path, outcome, duration * 1000, request_id, attempt + 1,
                extra={"gladia": {
                    "event": "response", "method": method, "path": path, "status": status,
                    "error": None if error is None else type(error).__name__,
                    "ms": round(duration * 1000, 1), "request_id": request_id,
                    "attempt": attempt + 1, "bytes": size,
                }},
            )  # fmt: skip
        if hooks:
            shown = self._redact(url)
            event = ResponseEvent(
                method, shown, attempt + 1, status, duration, size, request_id, error
            )
            emit(hooks, "on_response", event)

    # -- public API

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        data: Body | BodyFactory = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (per-attempt aiohttp timeout)
        max_size: int | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> Response:
        """Send a request with retries; return the 2xx Response or raise a GladiaError.

        `json` is encoded with msgspec. `data` is bytes, an async iterable of bytes (sent once,
        never retried) or a zero-argument factory returning a fresh body per attempt.
        `idempotent` defaults from the method (POST/PATCH are not). `timeout` overrides the
        per-attempt total timeout; `max_size` the response size limit. `extra_headers` and
        `extra_query` are the caller's additions (owned headers and taken names refused).
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        added = check_headers(extra_headers)
        if self._query:
            params = merge_query(params, self._query)
        params = merge_query(params, extra_query)
        body, replayable, extra = _prepare_body(json, data)
        all_headers = {**extra, **(headers or {}), **added}
        safe = idempotent if idempotent is not None else method in SAFE_METHODS
        limit = max_size if max_size is not None else self.max_response_size
        client_timeout = self._client_timeout(timeout)
        policy = self.retry_policy
        first = time.perf_counter()
        attempt = 0
        while True:
            if self.closed:
                raise GladiaClientClosed("the client is closed")
            self._started(method, url, attempt)
            begun = time.perf_counter()
            token = _ATTEMPT.set(attempt + 1)
            try:
                result = await self._attempt(
                    method, url, params, body, all_headers, client_timeout, limit, safe
                )
            finally:
                _ATTEMPT.reset(token)
            if isinstance(result, Response):
                status = result.status
                self._ended(method, url, attempt, begun, status, result.headers, len(result.body))
                if 200 <= status < 300:
                    result = result._replace(retries=attempt, elapsed=time.perf_counter() - first)
                    captured = RESPONSES.get()
                    if captured is not None:
                        captured.append((method, result))
                    return result
                delay = self._backoff(
                    attempt, method, url,
                    status_error(method, result.url, status, result.headers, result.body,
                                 self._api_key),
                    retry=replayable and should_retry(attempt, policy, idempotent=safe,
                                                      status=status),
                    retry_after=parse_retry_after(result.headers),
                    status=status,
                )  # fmt: skip
            else:
                self._ended(method, url, attempt, begun, None, None, None, result.error)
                delay = self._backoff(
                    attempt, method, url, result.error,
                    retry=replayable and result.retryable and should_retry(
                        attempt, policy, idempotent=safe, connection_error=True,
                        never_sent=result.never_sent,
                    ),
                )  # fmt: skip
            await self.sleep(delay)
            attempt += 1

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Sequence[tuple[str, str]] | None,
        body: BodyFactory | None,
        headers: Mapping[str, str],
        client_timeout: aiohttp.ClientTimeout,
        limit: int | None,
        resend: bool,
    ) -> Response | _Failure:
        """One attempt: the whole answer (error bodies capped at 1 MiB) or a connection failure."""
        async with self._open(
            method, url, params=params, body=body, headers=headers,
            client_timeout=client_timeout, resend=resend,
        ) as resp:  # fmt: skip
            if isinstance(resp, _Failure):
                return resp
            final_url = str(resp.url)
            if not 200 <= resp.status < 300:
                data = await _read_error_body(resp)
            else:
                try:
                    data = await _read_limited(resp, limit)
                except _TooLarge as exc:
                    resp.close()
                    too_large = _too_large(exc, final_url)
                    raise too_large from None
                except _NETWORK_ERRORS as exc:
                    failure = _translate(exc, method, final_url)
                    failure.never_sent = False
                    return failure
            return Response(resp.status, resp.headers, data, final_url)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (per-read aiohttp timeout)
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        """Open a request whose 2xx body the caller reads in chunks (file downloads).

        Opening is retried like `request()` for safe methods; once the body is being read nothing
        is retried. The connection is released (or closed, if unread) when the block exits.
        `timeout` bounds each read (no data for that long), not the whole download.
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        all_headers = {**(headers or {}), **check_headers(extra_headers)}
        if self._query:
            params = merge_query(params, self._query)
        params = merge_query(params, extra_query)
        safe = method in SAFE_METHODS
        client_timeout = self._client_timeout(
            timeout if timeout is not None else self.file_timeout, streaming=True
        )
        policy = self.retry_policy
        attempt = 0
        while True:
            if self.closed:
                raise GladiaClientClosed("the client is closed")
            self._started(method, url, attempt)
            begun = time.perf_counter()
            token: Token[int | None] | None = _ATTEMPT.set(attempt + 1)
            try:
                async with self._open(
                    method, url, params=params, body=None, headers=all_headers,
                    client_timeout=client_timeout,
                ) as resp:  # fmt: skip
                    _reset_attempt(token)
                    token = None
                    status = None
                    if isinstance(resp, _Failure):
                        self._ended(method, url, attempt, begun, None, None, None, resp.error)
                        error: GladiaError = resp.error
                        retry = resp.retryable and should_retry(
                            attempt, policy, idempotent=safe, connection_error=True,
                            never_sent=resp.never_sent,
                        )  # fmt: skip
                        retry_after = None
                    elif 200 <= resp.status < 300:
                        self._ended(method, url, attempt, begun, resp.status, resp.headers, None)
                        yield StreamedResponse(resp, method, attempt)
                        return
                    else:
                        status = resp.status
                        data = await _read_error_body(resp)
                        self._ended(method, url, attempt, begun, status, resp.headers, len(data))
                        error = status_error(
                            method, str(resp.url), status, resp.headers, data, self._api_key
                        )
                        retry = should_retry(attempt, policy, idempotent=safe, status=status)
                        retry_after = parse_retry_after(resp.headers)
            finally:
                _reset_attempt(token)
            await self.sleep(
                self._backoff(
                    attempt, method, url, error, retry=retry, retry_after=retry_after,
                    status=status,
                )
            )  # fmt: skip
            attempt += 1

    def byte_stream(
        self, method: str, path_or_url: str, *, chunk_size: int = _CHUNK, **kw: Any
    ) -> ByteStream:
        """A lazily opened async iterator over a response body (see ByteStream)."""
        if chunk_size <= 0:
            raise GladiaConfigError("chunk_size must be positive")
        return ByteStream(self, method, path_or_url, chunk_size, **kw)


def _reset_attempt(token: Token[int | None] | None) -> None:
    """Restore the attempt number seen by trace callbacks (once; later calls do nothing)."""
    if token is not None:
        _ATTEMPT.reset(token)


def _prepare_body(
    json: Any, data: Body | BodyFactory
) -> tuple[BodyFactory | None, bool, dict[str, str]]:
    """(factory, replayable, headers) for a request body."""
    if json is not None:
        if data is not None:
            raise TypeError("pass json or data, not both")
        encoded = msgspec.json.encode(json)
        return (lambda: encoded), True, {"Content-Type": "application/json"}
    if data is None:
        return None, True, {}
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        return (lambda: raw), True, {}
    if callable(data):
        return data, True, {}
    once = data
    used = False

    def single() -> Body:
        nonlocal used
        if used:
            raise APIConnectionError("the request body cannot be sent twice")
        used = True
        return once

    return single, False, {}
