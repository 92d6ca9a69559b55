"""GladiaClient: the facade users hold; validates configuration, owns the transport and resources.

Everything about configuration is checked in `__init__`, before any I/O, so a bad key or an
unsafe base URL fails at construction rather than on the first request.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp

from . import _config
from ._config import RetryPolicy, is_loopback_host, redact
from ._errors import GladiaConfigError
from ._hooks import EventHooks
from ._raw import ClientWithRawResponse
from ._transport import Transport, check_headers
from .resources.live import LiveResource
from .resources.pre_recorded import PreRecordedResource
from .resources.upload import UploadResource

__all__ = ["GladiaClient"]


def _check_api_key(api_key: object) -> str:
    """The key from the argument or GLADIA_API_KEY; never echoed in the error messages."""
    key = api_key if api_key is not None else os.environ.get(_config.ENV_API_KEY)
    if key is None or key == "":
        raise GladiaConfigError(
            f"no API key: pass api_key=... or set the {_config.ENV_API_KEY} environment variable"
        )
    if not isinstance(key, str):
        raise GladiaConfigError(f"api_key must be a str, not {type(key).__name__}")
    if not all("!" <= c <= "~" for c in key):
        raise GladiaConfigError(
            "api_key must be printable ASCII without spaces or newlines (read from a file?)"
        )
    return key


class _NotGiven(enum.Enum):
    NOT_GIVEN = "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
"""`with_options()` default: keep the parent's value (None means "no limit" there)."""
NotGiven = Literal[_NotGiven.NOT_GIVEN]


def _check_limits(**values: float | None) -> None:
    """Timeouts and sizes must be positive, or None for no limit."""
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or value <= 0):
            raise GladiaConfigError(f"{name} must be positive (or None for no limit)")


def _check_policy(max_retries: int | None, retry_policy: RetryPolicy | None) -> None:
    if max_retries is not None and retry_policy is not None:
        raise GladiaConfigError("pass max_retries or retry_policy, not both")
    if max_retries is not None and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise GladiaConfigError("max_retries must be an int >= 0")
    if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
        raise GladiaConfigError("retry_policy must be a RetryPolicy")


def _check_base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get(_config.ENV_BASE_URL) or _config.DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise GladiaConfigError("base_url must be a str")
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (validates the port)
    except ValueError as exc:
        raise GladiaConfigError(f"malformed base_url {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise GladiaConfigError(f"base_url must be https:// (or http:// on loopback): {url!r}")
    if not host:
        raise GladiaConfigError(f"base_url has no host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise GladiaConfigError("base_url must not contain credentials")
    if parts.query or parts.fragment:
        raise GladiaConfigError(f"base_url must not have a query or fragment: {url!r}")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v2"):
        # Paths already start with /v2: this base URL would send /v2/v2/pre-recorded.
        hint = url[: len(url) - len(parts.path)] + path[:-3]
        raise GladiaConfigError(
            f"base_url must not end in /v2 (the client adds it to every path): use {hint!r}"
        )
    if scheme == "http" and not is_loopback_host(host):
        raise GladiaConfigError(
            f"refusing plain http:// to {host}: the API key would cross the network in clear "
            "text; use https:// (http:// is allowed only for localhost / 127.0.0.0/8 / ::1)"
        )
    return url.rstrip("/")


class GladiaClient:
    """Async client for the Gladia speech-to-text API v2.

    ```python
    async with GladiaClient() as gladia:       # GLADIA_API_KEY, GLADIA_API_URL
        job = await gladia.pre_recorded.transcribe("meeting.mp3", diarization=True)
    ```

    `session`: an aiohttp.ClientSession you own; the client uses it and never closes it.
    Without one the client creates its own on first use and closes it in `aclose()`.
    `timeout` is per attempt (seconds), `max_retries` how often safe requests are retried,
    `max_response_size` the largest body the client buffers.
    `hooks`: `EventHooks` called for every attempt, retry and page (metrics); `trace_configs`:
    aiohttp TraceConfigs for the session the client creates (tracing, e.g. OpenTelemetry).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = _config.DEFAULT_TIMEOUT,
        connect_timeout: float | None = _config.DEFAULT_CONNECT_TIMEOUT,
        file_timeout: float | None = _config.DEFAULT_FILE_TIMEOUT,
        max_retries: int = _config.DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        max_response_size: int | None = _config.DEFAULT_MAX_RESPONSE_SIZE,
        max_connections: int = 100,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = False,
        hooks: Sequence[EventHooks] = (),
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        key = _check_api_key(api_key)
        url = _check_base_url(base_url)
        _check_limits(
            timeout=timeout,
            connect_timeout=connect_timeout,
            file_timeout=file_timeout,
            max_response_size=max_response_size,
        )
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise GladiaConfigError("session must be an aiohttp.ClientSession")
        if session is not None and trace_configs:
            raise GladiaConfigError(
                "trace_configs apply to the session the client creates: "
                "pass them to your own aiohttp.ClientSession(trace_configs=...) instead"
            )
        if isinstance(hooks, EventHooks) or not all(isinstance(h, EventHooks) for h in hooks):
            raise GladiaConfigError("hooks must be a sequence of EventHooks instances")
        checked_headers = check_headers(headers, "headers")
        given_retries = None if max_retries == _config.DEFAULT_MAX_RETRIES else max_retries
        _check_policy(given_retries, retry_policy)
        policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._transport = Transport(
            api_key=key,
            base_url=url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            file_timeout=file_timeout,
            retry_policy=policy,
            max_response_size=max_response_size,
            session=session,
            headers=checked_headers,
            max_connections=max_connections,
            trust_env=trust_env,
            hooks=hooks,
            trace_configs=trace_configs,
        )
        self._key_hint = redact(key)
        self._attach_resources()

    def _attach_resources(self) -> None:
        self.upload = UploadResource(self._transport)
        """`await gladia.upload(source)`: upload a file, bytes, a stream or a URL."""
        self.pre_recorded = PreRecordedResource(self._transport, self.upload)
        """Pre-recorded jobs: create, get, wait, transcribe, list, ..."""
        self.live = LiveResource(self._transport)
        """Live sessions: create, connect, get, list, ..."""

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        connect_timeout: float | NotGiven | None = NOT_GIVEN,
        file_timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        max_response_size: int | NotGiven | None = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
    ) -> GladiaClient:
        """A client with these settings changed, sharing this one's session, key and hooks.

        Cheap (no new session or connection pool): use it per request, e.g.
        `await gladia.with_options(timeout=5, max_retries=0).pre_recorded.get(job_id)`.
        `headers` are added to this client's (the key and client-owned headers are refused).
        Closing the copy does not close this client; closing this client closes every copy.
        """
        settings: dict[str, Any] = {
            name: value
            for name, value in (
                ("timeout", timeout),
                ("connect_timeout", connect_timeout),
                ("file_timeout", file_timeout),
                ("max_response_size", max_response_size),
            )
            if value is not NOT_GIVEN
        }
        _check_limits(**settings)
        retries = None if max_retries is NOT_GIVEN else max_retries
        policy = None if retry_policy is NOT_GIVEN else retry_policy
        _check_policy(retries, policy)
        if retries is not None:
            policy = dataclasses.replace(self._transport.retry_policy, max_retries=retries)
        if policy is not None:
            settings["retry_policy"] = policy
        added = check_headers(headers, "headers")
        child = object.__new__(GladiaClient)
        child._transport = self._transport.derive(added, **settings)
        child._key_hint = self._key_hint
        child._attach_resources()
        return child

    @functools.cached_property
    def with_raw_response(self) -> ClientWithRawResponse:
        """The same methods, returning a `RawResponse` (status, headers, request id, elapsed,
        retries; `.parse()` for the usual result): `await gladia.with_raw_response
        .pre_recorded.get(job_id)`."""
        return ClientWithRawResponse(self)

    @property
    def base_url(self) -> str:
        """The API origin (and optional path prefix) requests go to."""
        return self._transport.base_url

    @property
    def closed(self) -> bool:
        """True once `aclose()` was called."""
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the client (and its session, if it created it). Closing twice is harmless."""
        await self._transport.aclose()

    async def __aenter__(self) -> GladiaClient:
        self._transport.session  # noqa: B018 (creates the owned session / checks it is open)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"GladiaClient(base_url={self.base_url!r}, api_key={self._key_hint!r}{state})"
