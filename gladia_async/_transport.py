"""The HTTP transport: the aiohttp session, auth, origin checks, timeouts, size limits and retries.

This is the only module that touches aiohttp exceptions; everything leaving it is a GladiaError.
Retry decisions are the pure functions `should_retry()` and `retry_delay()`; jitter comes from one
seam (`Transport.rand`) and backoff sleeps go through another (`Transport.sleep`).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import aiohttp
import msgspec

from . import _config
from ._config import RetryPolicy, origin_of, redact
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DecodeError,
    GladiaClientClosed,
    RateLimitError,
    UnsafeURLError,
    status_error_class,
)
from ._version import __version__
from .types.errors import ErrorResponse

__all__ = [
    "ByteStream",
    "Response",
    "StreamedResponse",
    "Transport",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

log = logging.getLogger(_config.LOGGER_NAME)

MAX_REDIRECTS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 256 * 1024
_ERROR_DECODER = msgspec.json.Decoder(ErrorResponse)

Body = bytes | AsyncIterable[bytes] | None
BodyFactory = Callable[[], Body]
"""A zero-argument callable returning a fresh request body: lets a request be replayed."""


class Response(NamedTuple):
    """A complete HTTP answer: status, headers, the whole body (size-limited) and final URL."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


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
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date), or None if absent/bad."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


# ---------------------------------------------------------------- internals


@dataclass(slots=True)
class _Failure:
    """A connection-level failure of one attempt; `never_sent` if no byte reached the server."""

    error: APIConnectionError
    never_sent: bool
    retryable: bool = True


def _translate(exc: BaseException, method: str, url: str) -> _Failure:
    """Map an aiohttp/OS exception to the error tree, noting whether the request left."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _Failure(
            APITimeoutError(f"timed out connecting to {url}", method=method, url=url), True
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        msg = f"TLS failure connecting to {url}: {exc.__class__.__name__}"
        return _Failure(APIConnectionError(msg, method=method, url=url), True, retryable=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        msg = f"cannot connect to {url}: {exc.os_error.strerror or exc.__class__.__name__}"
        return _Failure(APIConnectionError(msg, method=method, url=url), True)
    if isinstance(exc, TimeoutError):
        return _Failure(
            APITimeoutError(f"request timed out: {method} {url}", method=method, url=url), False
        )
    msg = f"connection failed during {method} {url}: {exc.__class__.__name__}: {exc}"
    return _Failure(APIConnectionError(msg, method=method, url=url), False)


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
    reason: str | None,
    secret: str | None = None,
) -> APIStatusError:
    """The APIStatusError subclass for an error answer, with its parsed body and request id."""
    parsed: ErrorResponse | None
    try:
        parsed = _ERROR_DECODER.decode(body) if body else None
    except (msgspec.DecodeError, msgspec.ValidationError):
        parsed = None
    message = (parsed.message if parsed else None) or reason or _phrase(status)
    if secret and secret in message:  # a server echoing the key must not leak it into str(exc)
        message = message.replace(secret, redact(secret))
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


# ---------------------------------------------------------------- streamed bodies


class StreamedResponse:
    """An open response whose body the caller reads in chunks; errors stay GladiaErrors."""

    def __init__(self, resp: aiohttp.ClientResponse, method: str) -> None:
        self.raw = resp
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self.url = str(resp.url)
        self.content_length = resp.content_length
        self._method = method

    async def iter_chunks(self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """Yield the body in chunks of at most `chunk_size` bytes."""
        try:
            async for chunk in self.raw.content.iter_chunked(chunk_size):
                yield chunk
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _translate(exc, self._method, self.url).error from exc

    async def read(self, limit: int | None = None) -> bytes:
        """The whole remaining body, refusing more than `limit` bytes."""
        try:
            return await _read_limited(self.raw, limit)
        except _TooLarge as exc:
            raise DecodeError(f"response too large: {exc}", url=self.url, detail=str(exc)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _translate(exc, self._method, self.url).error from exc


class ByteStream:
    """Async iterator of body chunks that opens its request lazily and always releases it.

    Use `async with` (or exhaust it) to guarantee the connection is released on early exit::

        async with transport.byte_stream("GET", "/v2/pre-recorded/ID/file") as chunks:
            async for chunk in chunks: ...
    """

    def __init__(
        self, transport: Transport, method: str, path_or_url: str, chunk_size: int, **kw: Any
    ) -> None:
        self._transport = transport
        self._args = (method, path_or_url)
        self._kw = kw
        self._chunk_size = chunk_size
        self._cm: Any = None
        self._iter: AsyncIterator[bytes] | None = None
        self._done = False

    def __aiter__(self) -> ByteStream:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        if self._iter is None:
            self._cm = self._transport.stream(*self._args, **self._kw)
            resp: StreamedResponse = await self._cm.__aenter__()
            self._iter = resp.iter_chunks(self._chunk_size)
        try:
            return await self._iter.__anext__()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end)."""
        self._done = True
        it, cm = self._iter, self._cm
        self._iter = self._cm = None
        if it is not None:
            await it.aclose()  # type: ignore[attr-defined]
        if cm is not None:
            await cm.__aexit__(None, None, None)

    async def __aenter__(self) -> ByteStream:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


# ---------------------------------------------------------------- the transport


class Transport:
    """Sends requests to one API origin with the key, retries and limits of one client.

    `session`: a borrowed aiohttp.ClientSession (never closed here); without one, an owned session
    is created lazily on first use (so a Transport can be built outside a running loop).
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = origin_of(self.base_url)
        self._api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.file_timeout = file_timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.max_response_size = max_response_size
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections
        self._trust_env = trust_env
        self._headers = {"User-Agent": f"gladia-async/{__version__}", **(headers or {})}
        self.closed = False
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        """Backoff sleep; tests replace it to make retries instant."""
        self.rand: Callable[[], float] = random.random
        """Jitter source in [0, 1)."""

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={redact(self._api_key)!r})"

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session in use, created on first access when owned."""
        if self.closed:
            raise GladiaClientClosed("the client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=self._trust_env,
            )
        elif self._session.closed:
            raise GladiaClientClosed("the aiohttp session given to the client is closed")
        return self._session

    async def aclose(self) -> None:
        """Close the owned session (a borrowed one stays open). Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        session, self._session = self._session, None
        if self._owns_session and session is not None and not session.closed:
            await session.close()

    # -- URLs and headers

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for an API path, or an absolute URL checked to be on base_url's origin."""
        if path_or_url.startswith("/"):
            return self.base_url + path_or_url
        parts = urlsplit(path_or_url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise UnsafeURLError(f"not an http(s) URL: {path_or_url!r}", url=path_or_url)
        if origin_of(path_or_url) != self._origin:
            raise UnsafeURLError(
                f"refusing to send a request outside {self.base_url}: {path_or_url}",
                url=path_or_url,
            )
        return path_or_url

    def same_origin(self, url: str) -> bool:
        """True when `url` is on base_url's origin (the only origin that receives the key)."""
        return origin_of(url) == self._origin

    def _headers_for(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        merged = {**self._headers, **(extra or {})}
        if self.same_origin(url):
            merged[_config.AUTH_HEADER] = self._api_key
        else:
            merged.pop(_config.AUTH_HEADER, None)
        return merged

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
        headers: Mapping[str, str] | None,
        client_timeout: aiohttp.ClientTimeout,
    ) -> AsyncIterator[aiohttp.ClientResponse | _Failure]:
        """Open one attempt, following same-origin redirects; yields the response or a failure."""
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
                    headers=self._headers_for(url, headers),
                    timeout=client_timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                failure = _translate(exc, method, url)
                failure.error.__cause__ = exc
                failure.never_sent = failure.never_sent and not reached
            if failure is not None:
                yield failure
                return
            reached = True
            location = resp.headers.get("Location")
            if resp.status in _REDIRECT_STATUSES and location:
                resp.release()
                target = urljoin(str(resp.url), location)
                if not self.same_origin(target):
                    raise UnsafeURLError(
                        f"refusing a redirect from {url} to another origin: {target}", url=target
                    )
                log.debug("redirect %s %s -> %s (%d)", method, url, target, resp.status)
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                url, params = target, None
                continue
            async with resp:
                yield resp
            return
        raise APIConnectionError(f"too many redirects from {method} {url}", method=method, url=url)

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
    ) -> Response:
        """Send a request with retries; return the 2xx Response or raise a GladiaError.

        `json` is encoded with msgspec. `data` is bytes, an async iterable of bytes (sent once,
        never retried) or a zero-argument factory returning a fresh body per attempt.
        `idempotent` defaults from the method (POST/PATCH are not). `timeout` overrides the
        per-attempt total timeout; `max_size` the response size limit.
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        body, replayable, extra = _prepare_body(json, data)
        all_headers = {**extra, **(headers or {})}
        safe = idempotent if idempotent is not None else method in SAFE_METHODS
        limit = max_size if max_size is not None else self.max_response_size
        client_timeout = self._client_timeout(timeout)
        policy = self.retry_policy
        attempt = 0
        while True:
            if self.closed:
                raise GladiaClientClosed("the client is closed")
            result = await self._attempt(
                method, url, params, body, all_headers, client_timeout, limit
            )
            if isinstance(result, _Failure):
                error: APIConnectionError | APIStatusError = result.error
                retry = (
                    replayable
                    and result.retryable
                    and should_retry(
                        attempt,
                        policy,
                        idempotent=safe,
                        connection_error=True,
                        never_sent=result.never_sent,
                    )
                )
                retry_after = None
                log.debug(
                    "%s %s failed: %s (attempt %d)", method, url, result.error.message, attempt + 1
                )
            elif 200 <= result.status < 300:
                return result
            else:
                error = status_error(
                    method, result.url, result.status, result.headers, result.body, None,
                    self._api_key,
                )  # fmt: skip
                retry_after = parse_retry_after(result.headers)
                retry = replayable and should_retry(
                    attempt, policy, idempotent=safe, status=result.status
                )
                if retry and retry_after is not None and retry_after > policy.retry_after_cap:
                    log.debug(
                        "not retrying %s %s: Retry-After %.0fs exceeds the %.0fs cap",
                        method, url, retry_after, policy.retry_after_cap,
                    )  # fmt: skip
                    raise error
            if not retry:
                log.debug("not retrying %s %s after attempt %d", method, url, attempt + 1)
                raise error
            delay = retry_delay(attempt, retry_after, policy, self.rand())
            log.debug(
                "retrying %s %s in %.2fs (retry %d of %d)",
                method, url, delay, attempt + 1, policy.max_retries,
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
    ) -> Response | _Failure:
        async with self._open(
            method, url, params=params, body=body, headers=headers, client_timeout=client_timeout
        ) as resp:
            if isinstance(resp, _Failure):
                return resp
            final_url = str(resp.url)
            try:
                data = await _read_limited(resp, limit)
            except _TooLarge as exc:
                resp.close()
                raise DecodeError(
                    f"response too large: {exc}", url=final_url, detail=str(exc)
                ) from None
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                failure = _translate(exc, method, final_url)
                failure.error.__cause__ = exc
                failure.never_sent = False
                return failure
            log.debug("%s %s -> %d (%d bytes)", method, final_url, resp.status, len(data))
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
    ) -> AsyncIterator[StreamedResponse]:
        """Open a request whose 2xx body the caller reads in chunks (file downloads).

        Opening is retried like `request()` for safe methods; once the body is being read nothing
        is retried. The connection is released (or closed, if unread) when the block exits.
        `timeout` bounds each read (no data for that long), not the whole download.
        """
        method = method.upper()
        url = self.url_for(path_or_url)
        safe = method in SAFE_METHODS
        client_timeout = self._client_timeout(
            timeout if timeout is not None else self.file_timeout, streaming=True
        )
        policy = self.retry_policy
        attempt = 0
        while True:
            if self.closed:
                raise GladiaClientClosed("the client is closed")
            retry_after: float | None = None
            async with self._open(
                method,
                url,
                params=params,
                body=None,
                headers=headers,
                client_timeout=client_timeout,
            ) as resp:
                if isinstance(resp, _Failure):
                    error: APIConnectionError | APIStatusError = resp.error
                    retry = resp.retryable and should_retry(
                        attempt, policy, idempotent=safe, connection_error=True,
                        never_sent=resp.never_sent,
                    )  # fmt: skip
                elif 200 <= resp.status < 300:
                    log.debug("%s %s -> %d (streaming)", method, resp.url, resp.status)
                    yield StreamedResponse(resp, method)
                    return
                else:
                    try:
                        data = await _read_limited(resp, 1024 * 1024)
                    except (_TooLarge, aiohttp.ClientError, OSError, TimeoutError):
                        data = b""
                    error = status_error(
                        method, str(resp.url), resp.status, resp.headers, data, None
                    )
                    retry_after = parse_retry_after(resp.headers)
                    retry = should_retry(attempt, policy, idempotent=safe, status=resp.status)
                    if retry_after is not None and retry_after > policy.retry_after_cap:
                        retry = False
            if not retry:
                log.debug("not retrying %s %s after attempt %d", method, url, attempt + 1)
                raise error
            delay = retry_delay(attempt, retry_after, policy, self.rand())
            log.debug("retrying %s %s in %.2fs (retry %d)", method, url, delay, attempt + 1)
            await self.sleep(delay)
            attempt += 1

    def byte_stream(
        self, method: str, path_or_url: str, *, chunk_size: int = _CHUNK, **kw: Any
    ) -> ByteStream:
        """A lazily opened async iterator over a response body (see ByteStream)."""
        return ByteStream(self, method, path_or_url, chunk_size, **kw)


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
