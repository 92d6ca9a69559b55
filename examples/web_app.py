"""A web backend over gladia_async: one page of the job list per request, one shared client.

    GLADIA_API_KEY=... python examples/web_app.py            # http://127.0.0.1:8080/jobs
    gladia-async fake-server --port 9000 &                   # or against the built-in fake:
    GLADIA_API_URL=http://127.0.0.1:9000 GLADIA_API_KEY=test-key python examples/web_app.py

What it shows:
- one GladiaClient for the whole app, opened and closed with it (aiohttp ``cleanup_ctx``, stored
  under a typed ``web.AppKey``): one connection pool shared by every request;
- ``list_page`` (exactly one API request per page view, ``lean=True``: no transcript decoded);
- the caller's ``X-Request-ID`` (or a new one) passed through to Gladia with ``extra_headers``,
  and echoed back with Gladia's own request id, read from ``with_raw_response``;
- per-request limits with ``with_options`` (a page view must not hang on a slow upstream);
- API errors answered as 502 with the request ids, not as a stack trace.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiohttp import web

from gladia_async import APIStatusError, GladiaClient, GladiaError

__all__ = ["GLADIA", "create_app", "main"]

GLADIA = web.AppKey("gladia", GladiaClient)
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
"""The current request's id: the handler and anything it calls (logs included) can read it."""
MAX_LIMIT = 100
log = logging.getLogger("web_app")


def gladia_context(**client_options: Any) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry: the client opens with the app and closes with it (no socket left)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with GladiaClient(**client_options) as gladia:
            app[GLADIA] = gladia
            yield

    return context


@web.middleware
async def request_ids(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Take the caller's X-Request-ID (or make one), set it for the handler, echo it back."""
    given = request.headers.get("X-Request-ID", "")
    rid = given if given.isascii() and given.isprintable() and 0 < len(given) <= 128 else ""
    rid = rid or uuid.uuid4().hex
    REQUEST_ID.set(rid)  # aiohttp runs each request in its own task: no reset needed
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # error answers carry it too
        exc.headers["X-Request-ID"] = rid
        raise
    response.headers["X-Request-ID"] = rid
    return response


def _int_arg(request: web.Request, name: str, default: int, high: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer") from None
    if not 0 <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be between 0 and {high}")
    return value


async def jobs_page(request: web.Request) -> web.Response:
    """GET /jobs?offset=0&limit=20: one page of pre-recorded jobs as an HTML table."""
    offset = _int_arg(request, "offset", 0, 10**9)
    limit = max(1, _int_arg(request, "limit", 20, MAX_LIMIT))
    rid = REQUEST_ID.get()
    gladia = request.app[GLADIA].with_options(timeout=10, max_retries=1)
    try:
        raw = await gladia.with_raw_response.pre_recorded.list_page(
            offset, limit, lean=True, extra_headers={"X-Request-ID": rid}
        )
        page = raw.parse()
    except APIStatusError as exc:
        log.warning("gladia answered %s (request %s, gladia %s)", exc.status, rid, exc.request_id)
        raise web.HTTPBadGateway(
            text=f"upstream error {exc.status} (request {rid}, gladia {exc.request_id})"
        ) from None
    except GladiaError as exc:
        log.warning("gladia unreachable: %s (request %s)", type(exc).__name__, rid)
        raise web.HTTPBadGateway(text=f"upstream unavailable (request {rid})") from None
    rows = "".join(
        f"<tr><td>{html.escape(job.id)}</td><td>{html.escape(job.status)}</td>"
        f"<td>{html.escape(job.created_at)}</td></tr>"
        for job in page.items
    )
    more = f'<a href="?offset={offset + limit}&amp;limit={limit}">next</a>' if page.next_url else ""
    body = (
        "<!DOCTYPE html><title>Jobs</title>"
        f"<h1>Jobs {offset + 1}-{offset + len(page.items)}</h1>"
        f"<table><tr><th>id</th><th>status</th><th>created</th></tr>{rows}</table>{more}"
    )
    headers = {"X-Gladia-Request-ID": raw.request_id or ""}
    return web.Response(text=body, content_type="text/html", headers=headers)


def create_app(**client_options: Any) -> web.Application:
    """The app; `client_options` go to GladiaClient (default: GLADIA_API_KEY, GLADIA_API_URL)."""
    app = web.Application(middlewares=[request_ids])
    app.cleanup_ctx.append(gladia_context(**client_options))
    app.router.add_get("/jobs", jobs_page)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    # A backlog above aiohttp's default 128, so a burst of new connections is not dropped.
    web.run_app(create_app(), host="127.0.0.1", port=8080, backlog=1024)


if __name__ == "__main__":
    main()
