"""Shared test helpers: the fixtures directory, free loopback ports, the running loop's other
tasks, and small loopback aiohttp.web servers (a handler plus a request log)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "test-key-0123456789abcdef"

Handler = Callable[[web.Request, "Server"], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """A running loopback server: `url`, `requests` (log), `handler` (replaceable)."""

    handler: Handler
    url: str = ""
    requests: list[Seen] = field(default_factory=list)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matched `method` and `path`."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        )


def fixture(name: str) -> bytes:
    """Bytes of tests/fixtures/<name>."""
    return (FIXTURES / name).read_bytes()


def json_response(body: bytes, status: int = 200, **headers: str) -> web.Response:
    """A JSON response from raw bytes."""
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def other_tasks() -> set[asyncio.Task[Any]]:
    """Unfinished tasks of the running loop other than the current one."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


@asynccontextmanager
async def serve(handler: Handler, port: int = 0) -> AsyncIterator[Server]:
    """Run `handler` on 127.0.0.1 (a free port unless given); every request is logged first."""
    server = Server(handler)

    async def entry(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        server.requests.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers), body)
        )
        return await server.handler(request, server)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", entry)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    sockets = site._server.sockets if site._server else ()  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        await runner.cleanup()
