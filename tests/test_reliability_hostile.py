"""A hostile or broken server: every answer gives a typed error or safe, bounded behaviour.

Each test runs the real client against a programmable loopback server (the API origin) and a
second loopback server (a foreign origin). The foreign server's request log proves the API key
never leaves base_url's origin; every error raised is checked for the key too.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from aiohttp import web

from gladia_async import (
    APIStatusError,
    DecodeError,
    GladiaClient,
    GladiaError,
    InternalServerError,
    RateLimitError,
    UnsafeURLError,
)

from ._reliability_helpers import (
    Handler,
    LoopbackServer,
    assert_no_secret,
    exception_text,
    fast_retry_kwargs,
    job_payload,
    page_payload,
    secret_key,
)

JOB_ID = str(uuid.UUID(int=1))
HANG_GUARD = 8.0  # seconds: a hang (e.g. a year-long sleep) fails the test instead of the run


@pytest.fixture
def key() -> str:
    return secret_key()


@pytest.fixture
async def api() -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        yield server


@pytest.fixture
async def other() -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        yield server


def client(api: LoopbackServer, key: str, **extra: Any) -> GladiaClient:
    kwargs = fast_retry_kwargs(2)
    kwargs.update(extra)
    return GladiaClient(api_key=key, base_url=api.url, **kwargs)


def check_error(exc: BaseException, key: str, other: LoopbackServer | None = None) -> None:
    """A typed error, without the key in any of its text; the foreign origin never saw the key."""
    assert isinstance(exc, GladiaError), f"untyped error {type(exc).__name__}: {exc!r}"
    assert_no_secret(exception_text(exc), key, f"{type(exc).__name__} text")
    assert len(str(exc)) < 4000, "error message is unbounded"
    if other is not None:
        assert other.headers_with(key) == [], "API key sent to a foreign origin"


def respond(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, content_type=content_type)

    return handler


# -- bodies that are not the documented JSON --------------------------------------------------

BAD_JOB_BODIES = {
    "malformed_json": (b'{"id": "' + JOB_ID.encode() + b'", "status": "do', "application/json"),
    "html_2xx": (b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", "text/html"),
    "empty_body": (b"", "application/json"),
    "json_null": (b"null", "application/json"),
    "json_list": (b"[]", "application/json"),
    "wrong_id_type": (
        json.dumps({**job_payload(0), "id": 12345}).encode(),
        "application/json",
    ),
    "wrong_status_type": (
        json.dumps({**job_payload(0), "status": ["done"]}).encode(),
        "application/json",
    ),
    "wrong_result_type": (
        json.dumps({**job_payload(0), "result": "not an object"}).encode(),
        "application/json",
    ),
    "not_utf8": (b'{"id": "\xff\xfe", "status": "done"}', "application/json"),
}


@pytest.mark.parametrize("case", sorted(BAD_JOB_BODIES))
async def test_bad_2xx_body_is_decode_error(
    case: str, api: LoopbackServer, other: LoopbackServer, key: str
) -> None:
    body, ctype = BAD_JOB_BODIES[case]
    api.handler = respond(body, content_type=ctype)
    async with client(api, key) as gladia:
        with pytest.raises(DecodeError) as info:
            async with asyncio.timeout(HANG_GUARD):
                await gladia.pre_recorded.get(JOB_ID)
    check_error(info.value, key, other)
    assert info.value.url is not None and str(api.port) in info.value.url


async def test_wrong_type_error_says_where(api: LoopbackServer, key: str) -> None:
    api.handler = respond(BAD_JOB_BODIES["wrong_id_type"][0])
    async with client(api, key) as gladia:
        with pytest.raises(DecodeError) as info:
            await gladia.pre_recorded.get(JOB_ID)
    text = f"{info.value} {info.value.detail}"
    assert "id" in text, f"DecodeError does not say what failed where: {text!r}"


def paged_handler(
    total: int, *, next_for: Any = None, bad_page: int | None = None, bad_items: Any = None
) -> Any:
    """Serve `total` jobs by offset/limit; next_for(offset, limit, request) overrides `next`."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path != "/v2/pre-recorded":
            return web.json_response({"message": "Not found"}, status=404)
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "20"))
        items = [job_payload(i) for i in range(offset, min(offset + limit, total))]
        base = f"http://{request.host}/v2/pre-recorded"
        nxt: str | None = f"{base}?offset={offset + limit}&limit={limit}"
        if offset + limit >= total:
            nxt = None
        if next_for is not None and nxt is not None:
            nxt = next_for(offset, limit, request)
        if bad_page is not None and offset // limit == bad_page:
            body = json.dumps({"first": base, "current": base, "next": nxt, "items": bad_items})
            return web.Response(body=body.encode(), content_type="application/json")
        current = f"{base}?offset={offset}&limit={limit}"
        return web.Response(body=page_payload(items, nxt, current), content_type="application/json")

    return handler


async def test_bad_page_mid_stream_is_decode_error_with_checkpoint(
    api: LoopbackServer, key: str
) -> None:
    api.handler = paged_handler(50, bad_page=2, bad_items=[{"id": 7, "status": None}])
    got: list[str] = []
    async with client(api, key) as gladia:
        stream = gladia.pre_recorded.list(page_size=10, concurrency=1)
        with pytest.raises(DecodeError) as info:
            async with asyncio.timeout(HANG_GUARD):
                async for job in stream:
                    got.append(job.id)
        await stream.aclose()
    check_error(info.value, key)
    assert got == [job_payload(i)["id"] for i in range(20)]
    assert info.value.checkpoint is not None, "error escaped the stream without a checkpoint"
    assert info.value.checkpoint.offset == 20


# -- size limits ------------------------------------------------------------------------------

GIGANTIC = 256 * 1024 * 1024  # what the server offers
LIMIT = 1024 * 1024  # what the client accepts


def gigantic(*, declare_length: bool) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        if declare_length:
            resp.content_length = GIGANTIC
        await resp.prepare(request)
        await resp.write(b'{"first":"","current":"","next":null,"items":["')
        block = b"x" * (1 << 20)
        try:
            for _ in range(GIGANTIC // len(block)):
                await resp.write(block)
        except (ConnectionError, RuntimeError):
            return resp  # the client hung up: what we hope for
        await resp.write_eof()
        return resp

    return handler


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_gigantic_body_is_refused_with_bounded_memory(
    declare_length: bool, api: LoopbackServer, key: str
) -> None:
    kwargs: dict[str, Any] = {"max_response_size": LIMIT}
    assert kwargs, "GladiaClient offers no max_response_size"
    api.handler = gigantic(declare_length=declare_length)
    proc = psutil.Process()
    before = proc.memory_info().rss
    async with client(api, key, **kwargs) as gladia:
        with pytest.raises(GladiaError) as info:
            async with asyncio.timeout(HANG_GUARD):
                await gladia.pre_recorded.list_page(offset=0, limit=10)
    grown = proc.memory_info().rss - before
    check_error(info.value, key)
    assert isinstance(info.value, DecodeError | APIStatusError), repr(info.value)
    assert "size" in str(info.value).lower() or "large" in str(info.value).lower(), str(info.value)
    # The body was 256 MiB; buffering even a quarter of it would show here.
    assert grown < 64 * 1024 * 1024, f"memory grew by {grown / 2**20:.0f} MiB"


async def test_gigantic_page_mid_stream_stops_with_checkpoint(
    api: LoopbackServer, key: str
) -> None:
    pages: Handler = paged_handler(100)
    huge: Handler = gigantic(declare_length=False)

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.query.get("offset") == "10":
            return await huge(request)
        return await pages(request)

    api.handler = handler
    got: list[str] = []
    async with client(api, key, max_response_size=LIMIT) as gladia:
        stream = gladia.pre_recorded.list(page_size=10, concurrency=1)
        with pytest.raises(DecodeError) as info:
            async with asyncio.timeout(HANG_GUARD):
                async for job in stream:
                    got.append(job.id)
        await stream.aclose()
    check_error(info.value, key)
    assert len(got) == 10
    assert info.value.checkpoint is not None and info.value.checkpoint.offset == 10


async def test_error_body_of_any_size_gives_bounded_message(api: LoopbackServer, key: str) -> None:
    api.handler = respond(
        json.dumps({"statusCode": 404, "message": "x" * 200_000}).encode(), status=404
    )
    async with client(api, key) as gladia:
        with pytest.raises(APIStatusError) as info:
            await gladia.pre_recorded.get(JOB_ID)
    check_error(info.value, key)
    assert info.value.status == 404


# -- URLs chosen by the server ----------------------------------------------------------------


def foreign_nexts(other: LoopbackServer, api: LoopbackServer) -> dict[str, str]:
    path = "/v2/pre-recorded?offset={o}&limit={n}"
    return {
        "other_port": other.url + path,
        "other_host": f"http://127.0.0.2:{api.port}" + path,
        "localhost_alias": f"http://localhost:{other.port}" + path,
        "https_scheme": f"https://127.0.0.1:{api.port}" + path,
        "ws_scheme": f"ws://127.0.0.1:{api.port}" + path,
        "userinfo_trick": f"http://127.0.0.1:{api.port}@127.0.0.1:{other.port}" + path,
        "scheme_relative": f"//127.0.0.1:{other.port}" + path,
        "file_scheme": "file:///etc/passwd",
        "javascript": "javascript:alert(1)",
        "data_url": "data:application/json,%7B%7D",
    }


NEXT_CASES = [
    "other_port",
    "other_host",
    "localhost_alias",
    "https_scheme",
    "ws_scheme",
    "userinfo_trick",
    "scheme_relative",
    "file_scheme",
    "javascript",
    "data_url",
]


@pytest.mark.parametrize("concurrency", [1, 3])
@pytest.mark.parametrize("case", NEXT_CASES)
async def test_next_link_to_another_origin_is_never_followed(
    case: str, concurrency: int, api: LoopbackServer, other: LoopbackServer, key: str
) -> None:
    total = 25
    template = foreign_nexts(other, api)[case]
    api.handler = paged_handler(total, next_for=lambda o, n, r: template.format(o=o + n, n=n))
    other.handler = paged_handler(total)
    got: list[str] = []
    error: BaseException | None = None
    async with client(api, key) as gladia:
        stream = gladia.pre_recorded.list(page_size=10, concurrency=concurrency)
        try:
            async with asyncio.timeout(HANG_GUARD):
                async for job in stream:
                    got.append(job.id)
        except GladiaError as exc:
            error = exc
        finally:
            await stream.aclose()
    assert other.requests == [], f"client followed a {case} next link to a foreign origin"
    expected = [job_payload(i)["id"] for i in range(total)]
    if error is None:
        # Safe behaviour: the stream kept to base_url and still yielded everything once.
        assert got == expected
    else:
        check_error(error, key, other)
        # refused as unsafe, or as a link without a usable offset (PaginationError)
        assert isinstance(error, UnsafeURLError | DecodeError), repr(error)
        assert got == expected[: len(got)]
    for request in api.requests:
        assert request.headers.get("Host", "").endswith(str(api.port))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("route", ["get", "list_page", "delete"])
async def test_redirect_to_another_origin_never_carries_the_key(
    status: int, route: str, api: LoopbackServer, other: LoopbackServer, key: str
) -> None:
    async def to_other(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": other.url + request.path_qs})

    api.handler = to_other
    other.handler = respond(json.dumps(job_payload(0)).encode())
    async with client(api, key) as gladia:
        with pytest.raises(GladiaError) as info:
            async with asyncio.timeout(HANG_GUARD):
                if route == "get":
                    await gladia.pre_recorded.get(JOB_ID)
                elif route == "list_page":
                    await gladia.pre_recorded.list_page(offset=0, limit=5)
                else:
                    await gladia.pre_recorded.delete(JOB_ID)
    check_error(info.value, key, other)
    assert other.requests == [], "client followed a redirect to another origin"


async def test_same_origin_redirect_chain_is_bounded(api: LoopbackServer, key: str) -> None:
    async def loop(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": request.path_qs})

    api.handler = loop
    async with client(api, key) as gladia:
        with pytest.raises(GladiaError) as info:
            async with asyncio.timeout(HANG_GUARD):
                await gladia.pre_recorded.get(JOB_ID)
    check_error(info.value, key)
    assert len(api.requests) <= 50


# -- Retry-After values -----------------------------------------------------------------------


def status_with_retry_after(status: int, value: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"statusCode": status, "message": "slow down"},
            status=status,
            headers={"Retry-After": value},
        )

    return handler


A_YEAR = str(365 * 24 * 3600)


@pytest.mark.parametrize(
    ("status", "value"),
    [
        (429, A_YEAR),
        (429, "Wed, 21 Oct 2099 07:28:00 GMT"),
        (503, A_YEAR),
        (429, "9" * 40),
    ],
    ids=["429-year-seconds", "429-http-date-2099", "503-year-seconds", "429-40-digits"],
)
async def test_retry_after_of_a_year_gives_up_at_once(
    status: int, value: str, api: LoopbackServer, key: str
) -> None:
    """Default policy: a Retry-After beyond the cap is not slept on; the error says so."""
    api.handler = status_with_retry_after(status, value)
    async with GladiaClient(api_key=key, base_url=api.url) as gladia:
        with pytest.raises(APIStatusError) as info:
            async with asyncio.timeout(HANG_GUARD):
                await gladia.pre_recorded.get(JOB_ID)
    check_error(info.value, key)
    assert info.value.status == status
    expected = RateLimitError if status == 429 else InternalServerError
    assert isinstance(info.value, expected)
    assert len(api.requests) == 1, "retried although the server asked for a year's pause"
    if isinstance(info.value, RateLimitError) and value == A_YEAR:
        assert info.value.retry_after == float(A_YEAR)


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "1e400", "soon", "", "0x10", "1" * 400])
async def test_garbage_retry_after_is_bounded(value: str, api: LoopbackServer, key: str) -> None:
    api.handler = status_with_retry_after(429, value)
    async with client(api, key) as gladia:
        with pytest.raises(RateLimitError) as info:
            async with asyncio.timeout(HANG_GUARD):
                await gladia.pre_recorded.get(JOB_ID)
    check_error(info.value, key)
    assert 1 <= len(api.requests) <= 3


# -- paging loops and lies --------------------------------------------------------------------


@pytest.mark.parametrize("where", ["same_page", "first_page"])
async def test_next_link_loop_is_bounded(where: str, api: LoopbackServer, key: str) -> None:
    def looping(offset: int, limit: int, request: web.Request) -> str:
        target = offset if where == "same_page" else 0
        return f"http://{request.host}/v2/pre-recorded?offset={target}&limit={limit}"

    api.handler = paged_handler(1000, next_for=looping)
    got: list[str] = []
    async with client(api, key) as gladia:
        stream = gladia.pre_recorded.list(page_size=10, concurrency=1)
        try:
            async with asyncio.timeout(HANG_GUARD):
                async for job in stream:
                    got.append(job.id)
        except GladiaError as exc:
            check_error(exc, key)
        finally:
            await stream.aclose()
    assert len(got) == len(set(got)), "a job was yielded twice"
    assert len(api.requests) < 20, f"{len(api.requests)} requests: the loop was not detected"


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_server_ignoring_limit_still_yields_each_job_once(
    concurrency: int, api: LoopbackServer, key: str
) -> None:
    """The server answers 25 items whatever `limit` asks; nothing may be lost or repeated."""
    total = 60

    async def overfull(request: web.Request) -> web.StreamResponse:
        offset = int(request.query.get("offset", "0"))
        items = [job_payload(i) for i in range(offset, min(offset + 25, total))]
        nxt = f"{api.url}/v2/pre-recorded?offset={offset + 25}" if offset + 25 < total else None
        return web.Response(body=page_payload(items, nxt), content_type="application/json")

    api.handler = overfull
    got: list[str] = []
    async with (
        client(api, key) as gladia,
        gladia.pre_recorded.list(page_size=10, concurrency=concurrency) as stream,
    ):
        async with asyncio.timeout(HANG_GUARD):
            async for job in stream:
                got.append(job.id)
    assert len(got) == len(set(got)), "a job was yielded twice"
    missing = {job_payload(i)["id"] for i in range(total)} - set(got)
    assert not missing, f"{len(missing)} jobs silently lost"
    assert got == [job_payload(i)["id"] for i in range(total)]


async def test_duplicate_ids_across_pages_are_yielded_once(api: LoopbackServer, key: str) -> None:
    async def dup(request: web.Request) -> web.StreamResponse:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", "10"))
        # every page repeats the last job of the previous page (a job inserted meanwhile)
        start = max(0, offset - 1)
        items = [job_payload(i) for i in range(start, min(start + limit, 40))]
        nxt = f"{api.url}/v2/pre-recorded?offset={offset + limit}&limit={limit}"
        return web.Response(
            body=page_payload(items, nxt if offset + limit < 40 else None),
            content_type="application/json",
        )

    api.handler = dup
    got: list[str] = []
    async with client(api, key) as gladia, gladia.pre_recorded.list(page_size=10) as stream:
        async with asyncio.timeout(HANG_GUARD):
            async for job in stream:
                got.append(job.id)
    assert len(got) == len(set(got))


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_retry_after_of_a_year_in_a_stream_fails_promptly(
    concurrency: int, api: LoopbackServer, key: str
) -> None:
    """A listing told to wait a year stops with RateLimitError (and a checkpoint), at once."""
    api.handler = status_with_retry_after(429, A_YEAR)
    async with GladiaClient(api_key=key, base_url=api.url) as gladia:
        stream = gladia.pre_recorded.list(page_size=10, concurrency=concurrency)
        with pytest.raises(RateLimitError) as info:
            async with asyncio.timeout(3.0):  # an instant when it works
                async for _ in stream:
                    pass
        await stream.aclose()
    check_error(info.value, key)
    assert info.value.checkpoint is not None and info.value.checkpoint.offset == 0
    assert len(api.requests) <= 2 * concurrency, "kept asking although told to wait a year"
