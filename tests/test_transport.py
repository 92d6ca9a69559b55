"""Transport decisions: retries, Retry-After, error mapping, origin checks, size limits, logging."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from aioresponses.core import RequestCall
from yarl import URL

from gladia_async._config import RetryPolicy
from gladia_async._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    DecodeError,
    GladiaClientClosed,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
    UnsafeURLError,
)
from gladia_async._transport import Transport, parse_retry_after, retry_delay, should_retry

from ._servers import KEY, Server, fixture, free_port, json_response, serve

POLICY = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0, retry_after_cap=60.0)
BASE = "https://api.example.test"


def make_transport(base_url: str = BASE, **kw: object) -> tuple[Transport, list[float]]:
    """A Transport whose backoff sleeps are recorded instead of slept."""
    transport = Transport(api_key=KEY, base_url=base_url, **kw)  # type: ignore[arg-type]
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    transport.sleep = fake_sleep
    transport.rand = lambda: 0.0
    return transport, slept


# ---------------------------------------------------------------- pure functions


def test_should_retry_safe_requests() -> None:
    for status in (408, 429, 500, 502, 503, 504):
        assert should_retry(0, POLICY, idempotent=True, status=status)
    for status in (400, 401, 403, 404, 422):
        assert not should_retry(0, POLICY, idempotent=True, status=status)
    assert should_retry(0, POLICY, idempotent=True, connection_error=True)
    assert not should_retry(3, POLICY, idempotent=True, status=503)


def test_should_retry_post_only_when_never_sent() -> None:
    assert not should_retry(0, POLICY, idempotent=False, status=503)
    assert not should_retry(0, POLICY, idempotent=False, status=429)
    assert not should_retry(0, POLICY, idempotent=False, connection_error=True)
    assert should_retry(0, POLICY, idempotent=False, connection_error=True, never_sent=True)
    assert not should_retry(3, POLICY, idempotent=False, connection_error=True, never_sent=True)


def test_retry_delay_backoff_jitter_and_retry_after() -> None:
    assert retry_delay(0, None, POLICY, 0.0) == 0.5
    assert retry_delay(1, None, POLICY, 0.0) == 1.0
    assert retry_delay(10, None, POLICY, 0.0) == 8.0
    assert retry_delay(0, None, POLICY, 0.999) == pytest.approx(0.5 * 0.75, rel=1e-2)
    assert retry_delay(0, 7.0, POLICY, 0.5) == 7.0
    assert retry_delay(0, 600.0, POLICY, 0.0) == 0.5  # over the cap: the caller gives up


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


# ---------------------------------------------------------------- mocked responses
# Narrow decisions (which status maps to which error, retry or not, Retry-After on a real
# aiohttp response, origin checks on redirects) run on responses built by aioresponses: a
# socket adds nothing there. End-to-end behaviour runs against loopback servers below.

URL_X = BASE + "/v2/pre-recorded/x"


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


def calls(m: aioresponses, method: str, url: str) -> list[RequestCall]:
    """The requests the mock received for one method and URL."""
    return m.requests.get((method, URL(url)), [])


def refused() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


@pytest.mark.parametrize(
    ("status", "name", "cls"),
    [
        (401, "error_401.json", AuthenticationError),
        (404, "error_404.json", NotFoundError),
        (422, "error_422.json", UnprocessableEntityError),
        (429, "error_429_assumed.json", RateLimitError),
    ],
)
async def test_status_errors_map_to_classes(
    mocked: aioresponses, status: int, name: str, cls: type
) -> None:
    mocked.get(URL_X, status=status, body=fixture(name))
    transport, _ = make_transport(retry_policy=RetryPolicy(max_retries=0))
    with pytest.raises(cls) as info:
        await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    exc = info.value
    assert isinstance(exc, APIStatusError)
    assert exc.status == status
    assert exc.request_id == "G-8e21f0c4"
    assert exc.body is not None and exc.body.status_code == status
    assert exc.url == URL_X
    assert "G-8e21f0c4" in str(exc) and KEY not in str(exc)
    assert "(GET /v2/pre-recorded/x, request_id=G-8e21f0c4)" in str(exc)


async def test_5xx_maps_to_internal_server_error_with_header_request_id(
    mocked: aioresponses,
) -> None:
    headers = {"x-aipi-call-id": "call-1"}
    mocked.get(URL_X, status=502, body=b"<html>bad gateway</html>", headers=headers, repeat=True)
    transport, slept = make_transport(retry_policy=RetryPolicy(max_retries=1))
    with pytest.raises(InternalServerError) as info:
        await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert info.value.status == 502 and info.value.body is None
    assert info.value.request_id == "call-1"
    assert slept == [0.5]
    assert len(calls(mocked, "GET", URL_X)) == 2


async def test_rate_limit_over_cap_raises_with_retry_after(mocked: aioresponses) -> None:
    body = fixture("error_429_assumed.json")
    mocked.get(URL_X, status=429, body=body, headers={"Retry-After": "3600"}, repeat=True)
    transport, slept = make_transport()
    with pytest.raises(RateLimitError) as info:
        await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert info.value.retry_after == 3600.0
    assert slept == [] and len(calls(mocked, "GET", URL_X)) == 1


async def test_400_validation_errors_in_message(mocked: aioresponses) -> None:
    mocked.post(BASE + "/v2/pre-recorded", status=400, body=fixture("error_400_validation.json"))
    transport, _ = make_transport()
    with pytest.raises(APIStatusError) as info:
        await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "x"})
    await transport.aclose()
    assert "min_speakers must be a number" in str(info.value)
    assert len(info.value.validation_errors) == 2


async def test_post_connect_error_is_retried_but_disconnect_is_not(mocked: aioresponses) -> None:
    url = BASE + "/v2/pre-recorded"
    created = fixture("prerecorded_init_response.json")
    mocked.post(url, exception=refused())  # never left: safe to send again
    mocked.post(url, status=201, body=created)
    transport, slept = make_transport()
    resp = await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "x"})
    assert resp.status == 201 and len(slept) == 1 and len(calls(mocked, "POST", url)) == 2
    mocked.post(url, exception=aiohttp.ServerDisconnectedError())  # may have reached it
    mocked.post(url, status=201, body=created)
    with pytest.raises(APIConnectionError):
        await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "x"})
    assert len(slept) == 1 and len(calls(mocked, "POST", url)) == 3
    mocked.get(URL_X, exception=aiohttp.ServerDisconnectedError())
    mocked.get(URL_X, body=b"{}")
    resp = await transport.request("GET", "/v2/pre-recorded/x")  # a GET retries it
    assert resp.status == 200 and len(slept) == 2
    await transport.aclose()


async def test_timeouts_map_to_api_timeout_error(mocked: aioresponses) -> None:
    mocked.get(URL_X, exception=TimeoutError(), repeat=True)
    transport, slept = make_transport(retry_policy=RetryPolicy(max_retries=1))
    with pytest.raises(APITimeoutError):
        await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert len(slept) == 1 and len(calls(mocked, "GET", URL_X)) == 2


async def test_tls_errors_are_not_retried(mocked: aioresponses) -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    mocked.get(URL_X, exception=aiohttp.ClientSSLError(key, OSError(1, "ssl")), repeat=True)
    transport, slept = make_transport()
    with pytest.raises(APIConnectionError):
        await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert slept == [] and len(calls(mocked, "GET", URL_X)) == 1


async def test_get_retried_after_503_and_429_with_retry_after(mocked: aioresponses) -> None:
    mocked.get(URL_X, status=503, body=b'{"statusCode":503}')
    mocked.get(
        URL_X, status=429, body=fixture("error_429_assumed.json"), headers={"Retry-After": "2"}
    )
    mocked.get(URL_X, body=fixture("prerecorded_job_done.json"))
    transport, slept = make_transport()
    resp = await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert resp.status == 200
    sent = calls(mocked, "GET", URL_X)
    assert len(sent) == 3 and slept == [0.5, 2.0]
    assert all(c.kwargs["headers"]["x-gladia-key"] == KEY for c in sent)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "soon"}, 0.5),  # invalid: ignored, the backoff applies
        ({"Retry-After": "-3"}, 0.5),
    ],
)
async def test_retry_after_read_from_a_real_response(
    mocked: aioresponses, headers: dict[str, str], expected: float
) -> None:
    mocked.get(URL_X, status=503, body=b"{}", headers=headers)
    mocked.get(URL_X, body=b"{}")
    transport, slept = make_transport()
    await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert slept == [expected]


async def test_retry_after_http_date_on_a_real_response(mocked: aioresponses) -> None:
    date = email.utils.formatdate(time.time() + 20, usegmt=True)
    mocked.get(URL_X, status=429, body=b"{}", headers={"Retry-After": date})
    mocked.get(URL_X, body=b"{}")
    transport, slept = make_transport()
    await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    assert len(slept) == 1 and 15 <= slept[0] <= 20


async def test_post_429_is_not_repeated_but_carries_retry_after(mocked: aioresponses) -> None:
    url = BASE + "/v2/pre-recorded"
    body = fixture("error_429_assumed.json")
    mocked.post(url, status=429, body=body, headers={"Retry-After": "1"}, repeat=True)
    transport, slept = make_transport()
    with pytest.raises(RateLimitError) as info:
        await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "u"})
    await transport.aclose()
    assert info.value.retry_after == 1.0
    assert len(calls(mocked, "POST", url)) == 1 and slept == []


async def test_redirects_followed_on_the_same_origin_only(mocked: aioresponses) -> None:
    mocked.get(BASE + "/same", status=302, headers={"Location": "/v2/final"})
    mocked.get(BASE + "/v2/final", body=b'{"ok":true}')
    for location in (
        "https://evil.test/steal",  # another host
        "http://api.example.test/steal",  # same host, plain http
        "https://api.example.test:8443/steal",  # same host, another port
    ):
        mocked.get(URL_X, status=307, headers={"Location": location})
    transport, _ = make_transport()
    resp = await transport.request("GET", "/same")
    assert resp.body == b'{"ok":true}'
    (final,) = calls(mocked, "GET", BASE + "/v2/final")
    assert final.kwargs["headers"]["x-gladia-key"] == KEY
    for _ in range(3):
        with pytest.raises(UnsafeURLError):
            await transport.request("GET", "/v2/pre-recorded/x")
    await transport.aclose()
    hosts = {url.host for _, url in mocked.requests}
    assert hosts == {"api.example.test"}
    assert {url.port for _, url in mocked.requests} == {443}


# ---------------------------------------------------------------- loopback end to end


def respond(status: int, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(body, status=status, **headers)

    return handler


async def test_post_that_reached_the_server_is_not_repeated() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if len(server.requests) == 1:
            return json_response(b"{}", status=503)
        request.transport.close()  # type: ignore[union-attr]  # reset after receiving
        return web.Response()

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)
        with pytest.raises(InternalServerError):
            await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "u"})
        with pytest.raises(APIConnectionError):
            await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "u"})
        await transport.aclose()
    assert server.count("POST") == 2  # one per call: neither was repeated
    assert slept == []


async def test_post_refused_before_sending_is_retried() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    transport, _ = make_transport(base)
    started: list[Server] = []
    stack: list[object] = []

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(fixture("prerecorded_init_response.json"), status=201)

    async def start_server_then_return(delay: float) -> None:
        cm = serve(handler, port=port)
        started.append(await cm.__aenter__())
        stack.append(cm)

    transport.sleep = start_server_then_return
    try:
        resp = await transport.request("POST", "/v2/pre-recorded", json={"audio_url": "u"})
    finally:
        await transport.aclose()
        for cm in stack:
            await cm.__aexit__(None, None, None)  # type: ignore[attr-defined]
    assert resp.status == 201
    assert started[0].count("POST") == 1


async def test_cross_origin_redirect_never_carries_the_key() -> None:
    async def thief(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(b"{}")

    async with serve(thief) as other:

        async def redirector(request: web.Request, server: Server) -> web.StreamResponse:
            if request.path == "/same":
                raise web.HTTPFound("/v2/final")
            if request.path == "/v2/final":
                return json_response(b'{"ok":true}')
            raise web.HTTPFound(other.url + "/steal")

        async with serve(redirector) as server:
            transport, _ = make_transport(server.url)
            with pytest.raises(UnsafeURLError):
                await transport.request("GET", "/v2/pre-recorded/x")
            resp = await transport.request("GET", "/same")
            with pytest.raises(UnsafeURLError):
                await transport.request("GET", other.url + "/v2/x")
            await transport.aclose()
    assert other.requests == []
    assert resp.body == b'{"ok":true}'
    assert server.requests[-1].path == "/v2/final"
    assert server.requests[-1].headers["x-gladia-key"] == KEY


async def test_response_size_limit_and_truncated_body() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/big":
            resp = web.StreamResponse()
            await resp.prepare(request)
            for _ in range(64):
                await resp.write(b"x" * 1024)
            await resp.write_eof()
            return resp
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b'{"id": "tru')
        request.transport.close()  # type: ignore[union-attr]
        return resp

    async with serve(handler) as server:
        transport, slept = make_transport(server.url, max_response_size=10_000)
        with pytest.raises(DecodeError) as info:
            await transport.request("GET", "/big")
        assert info.value.url == server.url + "/big"
        with pytest.raises(APIConnectionError):
            await transport.request("GET", "/cut")
        await transport.aclose()
    assert len(slept) == 3  # the cut body is a connection failure: a GET retries it


async def test_key_never_in_logs_repr_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if len(server.requests) == 1:
            return json_response(b"{}", status=500)
        return json_response(b'{"message": "key %s not found"}' % KEY.encode(), status=401)

    caplog.set_level(logging.DEBUG, logger="gladia_async")
    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        with pytest.raises(AuthenticationError) as info:
            await transport.request("GET", "/v2/pre-recorded/x")
        await transport.aclose()
    assert caplog.records, "expected debug lines"
    assert any("retrying" in r.getMessage() for r in caplog.records)
    for text in (caplog.text, repr(transport), str(info.value), repr(info.value)):
        assert KEY not in text and KEY[:-4] not in text


async def test_closed_transport_raises_and_aclose_is_idempotent() -> None:
    transport, _ = make_transport()
    await transport.aclose()
    await transport.aclose()
    with pytest.raises(GladiaClientClosed):
        await transport.request("GET", "/v2/x")


async def test_borrowed_session_is_not_closed() -> None:
    async with aiohttp.ClientSession() as session:
        transport, _ = make_transport(session=session)
        assert transport.session is session
        await transport.aclose()
        assert not session.closed


async def test_foreign_absolute_url_is_refused_before_io() -> None:
    transport, _ = make_transport()
    for url in (
        "https://evil.test/v2/x",
        "http://api.example.test/v2/x",
        "ftp://api.example.test/",
    ):
        with pytest.raises(UnsafeURLError):
            await transport.request("GET", url)
    await transport.aclose()


async def test_stream_releases_connection_on_early_exit() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/ping":
            return json_response(b"{}")
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            for _ in range(256):
                await resp.write(b"y" * 65536)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async with serve(handler) as server:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            transport, _ = make_transport(server.url, session=session)
            async with transport.byte_stream("GET", "/file", chunk_size=1024) as chunks:
                async for chunk in chunks:
                    assert chunk
                    break
            async with asyncio.timeout(10):  # would hang if the only connection leaked
                resp = await transport.request("GET", "/ping")
            assert resp.status == 200
            await transport.aclose()


# ---------------------------------------------------------------- review fixes


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "-1", "1_0", "\u0661", "0x10", "", "3 s", "NaN", "e5"]
)
def test_parse_retry_after_ignores_garbage(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None


def test_parse_retry_after_huge_values_exceed_any_cap() -> None:
    for value in ("1e400", "9" * 400, "31536000"):
        seconds = parse_retry_after({"retry-after": value})
        assert seconds is not None and seconds > POLICY.retry_after_cap


def test_parse_retry_after_accepts_every_http_date_form() -> None:
    now = email.utils.parsedate_to_datetime("Sun, 06 Nov 1994 08:49:00 GMT").timestamp()
    for value in (
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime: no zone, but HTTP dates are always GMT
        "Sun, 06 Nov 1994 08:49:37 -0000",
    ):
        assert parse_retry_after({"retry-after": value}, now=now) == 37.0, value
    assert parse_retry_after({"retry-after": " 5 "}) == 5.0


async def test_error_body_with_invalid_utf8_or_deep_nesting_still_maps_to_status() -> None:
    bodies = [b'{"message": "bad \xff byte"}', b"[" * 50_000]

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(bodies[len(server.requests) - 1], status=404)

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        for _ in bodies:
            with pytest.raises(NotFoundError) as info:
                await transport.request("GET", "/v2/x")
            assert info.value.body is None
        await transport.aclose()


async def test_echoed_key_is_scrubbed_from_error_body_and_message_is_bounded() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        sent = request.headers["x-gladia-key"]
        body = {
            "statusCode": 400,
            "message": f"key {sent} rejected " + "x" * 100_000,
            "validation_errors": [f"x-gladia-key={sent}"],
        }
        return web.json_response(body, status=400)

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        with pytest.raises(APIStatusError) as info:
            await transport.request("GET", "/v2/x")
        await transport.aclose()
    exc = info.value
    for text in (str(exc), repr(exc), repr(exc.body), repr(exc.raw_body)):
        assert KEY not in text and KEY[:-4] not in text
    assert len(str(exc)) < 2000


async def _bad_status_line_server(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await reader.read(65536)
    writer.write(b"HTTP/1.1 abc\r\nbroken\r\n\r\n")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_malformed_response_error_chain_does_not_carry_the_key() -> None:
    server = await asyncio.start_server(_bad_status_line_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = make_transport(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(APIConnectionError) as info:
            await transport.request("GET", "/v2/x")
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    chain: list[str] = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain += [str(exc), repr(exc), repr(vars(exc))]
        exc = exc.__cause__ or exc.__context__
    assert KEY not in "\n".join(chain)


async def test_malformed_or_userinfo_urls_raise_unsafe_url_error() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async with serve(handler) as server:
        host = server.url.removeprefix("http://")
        transport, _ = make_transport(server.url)
        for target in (
            "http://x:abc/",
            "http://[bad/",
            f"http://evil\\@{host}/v2/x",
            f"http://user:pw@{host}/v2/x",
        ):
            with pytest.raises(UnsafeURLError):
                await transport.request("GET", "/r", params=[("to", target)])
            with pytest.raises(UnsafeURLError):
                await transport.request("GET", target)
        await transport.aclose()
    assert all(r.path == "/r" for r in server.requests)


async def test_uppercase_default_port_and_ipv6_origins() -> None:
    transport, _ = make_transport("http://[::1]:8080")
    assert transport.same_origin("HTTP://[::1]:8080/v2/x")
    assert not transport.same_origin("http://[::1]:8081/v2/x")
    assert not transport.same_origin("http://127.0.0.1:8080/v2/x")
    await transport.aclose()
    transport, _ = make_transport("https://API.example.test")
    assert transport.same_origin("https://api.example.test:443/v2/x")
    assert not transport.same_origin("http://api.example.test:443/v2/x")
    assert not transport.same_origin("https://127.0.0.1:1@api.example.test.evil/")
    await transport.aclose()


async def test_post_redirected_to_get_drops_the_body_headers() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.method == "POST":
            raise web.HTTPSeeOther("/v2/done")
        return json_response(b"{}")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        await transport.request("POST", "/v2/upload", json={"audio_url": "u"})
        await transport.aclose()
    get = server.requests[-1]
    assert get.method == "GET" and get.body == b""
    assert "Content-Type" not in get.headers


async def test_cancelling_during_body_read_releases_the_connection() -> None:
    sent_part = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/ping":
            return json_response(b"{}")
        resp = web.StreamResponse(headers={"Content-Length": "100000"})
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        sent_part.set()
        await release.wait()
        return resp

    async with serve(handler) as server:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            transport, _ = make_transport(server.url, session=session)
            task = asyncio.create_task(transport.request("GET", "/slow"))
            await sent_part.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with asyncio.timeout(10):  # would hang if the only connection leaked
                resp = await transport.request("GET", "/ping")
            assert resp.status == 200
            release.set()
            await transport.aclose()


async def test_failed_byte_stream_is_finished_and_closes_cleanly() -> None:
    async with serve(respond(404, fixture("error_404.json"))) as server:
        transport, _ = make_transport(server.url)
        stream = transport.byte_stream("GET", "/v2/pre-recorded/x/file")
        with pytest.raises(NotFoundError):
            await stream.__anext__()
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        await stream.aclose()
        await transport.aclose()
    assert server.count() == 1


async def test_stream_error_message_scrubs_an_echoed_key() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        body = b'{"statusCode": 403, "message": "no for %s"}' % KEY.encode()
        return json_response(body, status=403)

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        with pytest.raises(APIStatusError) as info:
            async with transport.stream("GET", "/v2/pre-recorded/x/file"):
                pass
        await transport.aclose()
    assert KEY not in str(info.value) and KEY not in repr(info.value.raw_body)


def test_session_from_another_event_loop_raises_client_closed() -> None:
    transport, _ = make_transport()

    async def first() -> None:
        transport.session  # noqa: B018 (created in this loop)

    async def second() -> None:
        with pytest.raises(GladiaClientClosed, match="event loop"):
            await transport.request("GET", "/v2/x")
        await transport.aclose()

    asyncio.run(first())
    asyncio.run(second())


async def test_declared_length_over_the_limit_fails_before_reading() -> None:
    release = asyncio.Event()

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "50000000"})
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        await release.wait()  # never sends the rest: reading it would hang
        return resp

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, max_response_size=10_000)
        async with asyncio.timeout(10):
            with pytest.raises(DecodeError, match="Content-Length"):
                await transport.request("GET", "/v2/pre-recorded/x/file")
        release.set()
        await transport.aclose()


async def test_leaving_a_byte_stream_without_closing_it_still_frees_the_connection() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/ping":
            return json_response(b"{}")
        return web.Response(body=b"z" * 1_000_000)

    async with serve(handler) as server:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            transport, _ = make_transport(server.url, session=session)
            async for _chunk in transport.byte_stream("GET", "/file", chunk_size=1024):
                break  # no `async with`, not exhausted: dropping the stream must release it
            async with asyncio.timeout(10):
                resp = await transport.request("GET", "/ping")
            assert resp.status == 200
            await transport.aclose()


async def test_redirect_to_a_url_carrying_the_key_is_refused_and_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/r":
            raise web.HTTPFound(f"/v2/x?key={request.headers['x-gladia-key']}")
        return json_response(b"{}")

    caplog.set_level(logging.DEBUG, logger="gladia_async")
    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        with pytest.raises(UnsafeURLError) as info:
            await transport.request("GET", "/r")
        await transport.aclose()
    assert server.count() == 1
    for text in (str(info.value), repr(info.value), str(info.value.url), caplog.text):
        assert KEY not in text
