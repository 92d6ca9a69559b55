"""Shared pieces for the reliability tests: a programmable loopback server, job payloads,
resource counters and secret checks.

The LoopbackServer is deliberately not the project's fake: hostile behaviour is easier to state
exactly with a handler per test, and a second instance serves as the "other origin" whose request
log proves the API key never left base_url's origin.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
import logging
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, NamedTuple

import psutil  # type: ignore[import-untyped]
from aiohttp import web

from gladia_async import RetryPolicy

from ._servers import FIXTURES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secret_key() -> str:
    """A recognisable API key: any appearance of it in output is a leak."""
    return "sk-SECRET-" + uuid.uuid4().hex


def secret_forms(key: str) -> list[str]:
    """The key and the pieces of it that would still identify it (anything over 4 chars)."""
    forms = [key, key.lower(), key.upper(), key[:-4], key[-12:]]
    forms.append(base64.urlsafe_b64encode(key.encode()).decode().rstrip("="))
    forms.append(base64.b64encode(key.encode()).decode().rstrip("="))
    return forms


def assert_no_secret(text: str, key: str, where: str) -> None:
    """Fail if the key (or an identifying piece of it) appears in text."""
    for form in secret_forms(key):
        assert form not in text, f"API key leaked in {where}: {text[:500]!r}"


def exception_text(exc: BaseException) -> str:
    """Everything an operator might see of an exception: str, repr, the formatted chain, attrs."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(repr(current))
        parts.append(repr(getattr(current, "args", ())))
        for name, value in vars(current).items():
            if name.startswith("__"):
                continue
            with contextlib.suppress(Exception):
                parts.append(f"{name}={value!r}")
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def log_text(records: Iterable[logging.LogRecord]) -> str:
    """Every rendered message, raw args and formatted traceback of the captured log records."""
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


# -- payloads ---------------------------------------------------------------------------------


def load_example(name: str) -> Any:
    """A JSON fixture from tests/fixtures (the suite never reads outside the project)."""
    return json.loads((FIXTURES / name).read_text())


_JOB_TEMPLATE: dict[str, Any] | None = None


def job_payload(index: int, *, status: str = "done") -> dict[str, Any]:
    """A realistic job object (from the list-page example) with a unique, index-derived id."""
    global _JOB_TEMPLATE
    if _JOB_TEMPLATE is None:
        _JOB_TEMPLATE = load_example("prerecorded_list_page.json")["items"][0]
    job = copy.deepcopy(_JOB_TEMPLATE)
    job["id"] = str(uuid.UUID(int=index + 1))
    job["request_id"] = f"G-{index:08x}"
    job["status"] = status
    return job


def page_payload(items: list[dict[str, Any]], next_url: str | None, current: str = "") -> bytes:
    """A list envelope as the API sends it."""
    return json.dumps(
        {"first": current, "current": current, "next": next_url, "items": items}
    ).encode()


# -- a programmable loopback server -----------------------------------------------------------


class RecordedRequest(NamedTuple):
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


async def _not_found(request: web.Request) -> web.StreamResponse:
    return web.json_response({"statusCode": 404, "message": "Not found"}, status=404)


class LoopbackServer:
    """aiohttp app on 127.0.0.1 with one replaceable handler and a log of every request."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler: Handler = handler or _not_found
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.query_string, dict(request.headers)
            )
        )
        return await self.handler(request)

    async def __aenter__(self) -> LoopbackServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def headers_with(self, key: str) -> list[RecordedRequest]:
        """Requests that carried the key anywhere in their headers, path or query."""
        return [
            r
            for r in self.requests
            if any(key in v for v in r.headers.values()) or key in r.path or key in r.query
        ]


# -- client construction ----------------------------------------------------------------------


def fast_retry_kwargs(max_retries: int = 6) -> dict[str, Any]:
    """GladiaClient kwargs for quick retries: tiny backoff, small Retry-After cap."""
    policy = RetryPolicy(
        max_retries=max_retries, base_delay=0.001, max_delay=0.01, retry_after_cap=1.0
    )
    return {"retry_policy": policy}


# -- resource accounting ----------------------------------------------------------------------


def open_fds() -> int:
    """File descriptors open in this process."""
    return int(psutil.Process().num_fds())


def connections_to(port: int) -> int:
    """Client-side TCP connections from this process to a local port (any state but CLOSED)."""
    count = 0
    for conn in psutil.Process().net_connections(kind="tcp"):
        if conn.raddr and conn.raddr.port == port and conn.laddr.port != port:
            count += 1
    return count


async def settle(predicate: Callable[[], bool], rounds: int = 200) -> bool:
    """Let the loop run until predicate() holds (bounded); socket closes complete asynchronously."""
    for _ in range(rounds):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


@contextlib.asynccontextmanager
async def loopback_pair() -> AsyncIterator[tuple[LoopbackServer, LoopbackServer]]:
    """The API origin and a foreign origin, both on loopback."""
    async with LoopbackServer() as api, LoopbackServer() as other:
        yield api, other


def chunks(total: int, size: int = 1 << 16) -> Iterator[bytes]:
    """total bytes of JSON-ish filler, in chunks."""
    sent = 0
    head = b'{"first":"","current":"","next":null,"items":[' + b'"x' * 8
    yield head
    sent += len(head)
    block = b"x" * size
    while sent < total:
        yield block
        sent += len(block)
