"""Transport limits at their exact boundaries (mutation testing found them pinned loosely)."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import multidict
import pytest
import yarl
from aiohttp import web

from gladia_async._config import RetryPolicy
from gladia_async._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    GladiaClientClosed,
    GladiaConfigError,
    InternalServerError,
    NotFoundError,
    UnsafeURLError,
)
from gladia_async._hooks import EventHooks
from gladia_async._transport import (
    Response,
    Transport,
    _translate,
    check_headers,
    merge_query,
    parse_retry_after,
    retry_delay,
    should_retry,
    status_error,
)

from ._servers import Server, free_port, serve
from .test_transport import make_transport

POLICY = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0, retry_after_cap=60.0)


def test_retry_after_boundaries() -> None:
    assert retry_delay(0, 0.0, POLICY, 0.0) == 0.0  # "now" is honoured, not backed off
    assert retry_delay(0, 60.0, POLICY, 0.0) == 60.0  # exactly the cap is honoured
    assert retry_delay(0, 60.5, POLICY, 0.0) == 0.5
    assert retry_delay(0, -1.0, POLICY, 0.0) == 0.5
    assert should_retry(3, POLICY, idempotent=True, status=503) is False
    assert should_retry(2, POLICY, idempotent=True, status=503) is True


def test_response_defaults() -> None:
    resp = Response(200, {}, b"", "https://x")
    assert resp.retries == 0 and resp.elapsed == 0.0


def test_server_messages_are_cut_after_1000_characters() -> None:
    def message_of(text: str) -> str:
        body = json.dumps({"message": text}).encode()
        return status_error("GET", "https://x/v2/y", 500, {}, body).message

    assert message_of("m" * 1000) == "m" * 1000
    assert message_of("m" * 1001) == "m" * 1000 + "... (1001 characters)"


@pytest.mark.parametrize(("size", "parsed"), [(1024 * 1024, True), (1024 * 1024 + 1, False)])
async def test_error_bodies_are_read_up_to_1_mib(size: int, parsed: bool) -> None:
    head = b'{"message": "boom", "pad": "'
    body = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(body) == size

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(status=500, body=body, content_type="application/json")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, retry_policy=RetryPolicy(max_retries=0))
        with pytest.raises(InternalServerError) as info:
            await transport.request("GET", "/v2/x")
        await transport.aclose()
    assert (info.value.message == "boom") is parsed
    assert len(info.value.raw_body) == (size if parsed else 0)


def test_extra_headers_and_query_shapes() -> None:
    with pytest.raises(GladiaConfigError, match="must be a mapping"):
        check_headers([("X-A", "b")])  # type: ignore[arg-type]
    assert check_headers({"X-A": "b"}) == {"X-A": "b"}
    for bad in (["ab"], [("a", "b", "c")], [("a",)]):
        with pytest.raises(GladiaConfigError, match="mapping or a sequence"):
            merge_query(None, bad)  # type: ignore[arg-type]
    for value in (True, None, b"x"):
        with pytest.raises(GladiaConfigError, match="must be a str or number"):
            merge_query(None, {"a": value})  # type: ignore[dict-item]
    assert merge_query([("x", "1")], {"a": 2, "b": 0.5}) == [("x", "1"), ("a", "2"), ("b", "0.5")]


async def test_a_post_redirect_error_names_the_status_and_sends_once() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": "/v2/again"})

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)
        with pytest.raises(APIStatusError) as info:
            await transport.request("POST", "/v2/pre-recorded", json={"a": 1})
        await transport.aclose()
    assert info.value.status == 307 and info.value.method == "POST"
    assert server.count() == 1 and slept == []


KEY_OF = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
URL = "https://api.example.test/v2/x"


def test_translate_says_whether_the_request_left() -> None:
    cases: list[tuple[BaseException, type, bool, bool]] = [
        (aiohttp.ConnectionTimeoutError(), APITimeoutError, True, True),
        (aiohttp.ClientConnectorError(KEY_OF, OSError(111, "Connection refused")),
         APIConnectionError, True, True),
        (aiohttp.ClientConnectorCertificateError(KEY_OF, ValueError("bad cert")),
         APIConnectionError, True, False),
        (TimeoutError(), APITimeoutError, False, True),
        (aiohttp.ServerDisconnectedError(), APIConnectionError, False, True),
    ]  # fmt: skip
    for exc, cls, never_sent, retryable in cases:
        failure = _translate(exc, "POST", URL)
        assert type(failure.error) is cls, exc
        assert (failure.never_sent, failure.retryable) == (never_sent, retryable), exc
        assert failure.error.method == "POST" and failure.error.url == URL
        assert failure.error.__cause__ is exc
    refused = _translate(aiohttp.ClientConnectorError(KEY_OF, OSError(111, None)), "GET", URL)
    assert str(refused.error) == f"cannot connect to {URL}: ClientConnectorError"
    assert "Connection refused" in str(_translate(cases[1][0], "GET", URL).error)


def test_translate_drops_a_cause_that_carries_request_headers() -> None:
    info = aiohttp.RequestInfo(yarl.URL(URL), "GET", multidict.CIMultiDictProxy(
        multidict.CIMultiDict({"x-gladia-key": "secret"})), yarl.URL(URL))  # fmt: skip
    failure = _translate(aiohttp.ClientResponseError(info, ()), "GET", URL)
    assert failure.error.__cause__ is None


def test_an_http_date_without_a_zone_is_gmt_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        now = email.utils.parsedate_to_datetime("Sun, 06 Nov 1994 08:49:00 GMT").timestamp()
        assert parse_retry_after({"retry-after": "Sun Nov  6 08:49:37 1994"}, now=now) == 37.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_backoff_exponent_is_capped_not_overflowing() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=2.0**-40, max_delay=1e300)
    assert retry_delay(32, None, policy, 0.0) == 2.0**-8
    assert retry_delay(10_000, None, policy, 0.0) == 2.0**-8  # 2**32 at most, no OverflowError


def test_status_error_without_a_secret_or_a_known_phrase() -> None:
    body = json.dumps({"message": "over quota"}).encode()
    assert status_error("GET", URL, 429, {}, body).message == "over quota"
    assert status_error("GET", URL, 599, {}, b"").message == "HTTP 599"
    assert status_error("GET", URL, 503, {}, b"").message == "Service Unavailable"
    echoed = json.dumps({"message": "bad key secret-key-123456"}).encode()
    error = status_error("GET", URL, 401, {}, echoed, "secret-key-123456")
    assert "secret-key-123456" not in error.message and "...3456" in error.message


async def test_a_streamed_response_knows_its_url_and_status() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(body=b"abc")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        async with transport.stream("GET", "/v2/file") as resp:
            assert (resp.url, resp.status) == (server.url + "/v2/file", 200)
            assert resp.retries == 0 and resp.content_length == 3
            assert b"".join([c async for c in resp.iter_chunks()]) == b"abc"
        await transport.aclose()


async def test_a_byte_stream_cut_short_raises_and_releases_its_connection() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": str(1 << 20)})
        await resp.prepare(request)
        await resp.write(b"x" * 1000)
        if request.path == "/v2/cut":
            request.transport.close()  # type: ignore[union-attr]
            return resp
        await resp.write(b"x" * ((1 << 20) - 1000))
        return resp

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        chunks = transport.byte_stream("GET", "/v2/cut", chunk_size=100)
        received = 0
        with pytest.raises(APIConnectionError):
            async for chunk in chunks:
                received += len(chunk)
        assert received == 1000  # not a silent short file
        with pytest.raises(StopAsyncIteration):
            await anext(chunks)
        unopened = transport.byte_stream("GET", "/v2/whole")
        await unopened.aclose()  # never opened: nothing to release
        async with transport.byte_stream("GET", "/v2/whole", chunk_size=1000) as early:
            assert len(await anext(early)) <= 1000
        connector = transport.session.connector
        assert connector is not None and not connector._acquired  # type: ignore[attr-defined]
        await transport.aclose()


async def test_derive_refuses_unknown_settings_and_starts_open() -> None:
    transport, _ = make_transport()
    with pytest.raises(TypeError, match="unknown transport setting"):
        transport.derive(colour="blue")
    child = transport.derive(timeout=1.0)
    await child.aclose()
    assert child.closed and not transport.closed
    grandchild = child.derive(timeout=2.0)
    assert not grandchild.closed and grandchild.timeout == 2.0
    await transport.aclose()
    assert grandchild.closed


async def test_closed_sessions_and_views() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(body=b"{}", content_type="application/json")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url)
        view = transport.scoped({"X-Tenant": "a"}, None)
        await view.request("GET", "/v2/x")
        await view.aclose()  # a view never closes the session it shares
        assert (await transport.request("GET", "/v2/x")).status == 200
        await transport.aclose()
        with pytest.raises(GladiaClientClosed):
            transport.session  # noqa: B018
        async with aiohttp.ClientSession() as borrowed:
            lender = Transport(api_key="k" * 20, base_url=server.url, session=borrowed)
        with pytest.raises(GladiaClientClosed, match="given to the client is closed"):
            await lender.request("GET", "/v2/x")
    assert server.requests[0].headers["X-Tenant"] == "a"


def test_urls_without_a_host_or_of_another_scheme_are_refused() -> None:
    transport, _ = make_transport()
    for url in ("https:///v2/x", "ftp://api.example.test/v2/x", "https://:443/v2/x"):
        with pytest.raises(UnsafeURLError):
            transport.url_for(url)
    assert transport.url_for("https://api.example.test/v2/x") == "https://api.example.test/v2/x"


def test_url_refusals_say_why_and_timeouts_by_kind() -> None:
    transport, _ = make_transport(timeout=30.0, connect_timeout=4.0)
    with pytest.raises(UnsafeURLError, match="not an http"):
        transport.url_for("ftp://api.example.test/v2/x")
    with pytest.raises(UnsafeURLError, match="outside"):
        transport.url_for("https://evil.example/v2/x")
    assert transport.same_origin("https://evil.example/v2/x") is False
    assert transport.same_origin("https://api.example.test/v2/x") is True
    whole = transport._client_timeout(None)
    assert (whole.total, whole.connect, whole.sock_read) == (30.0, 4.0, None)
    assert transport._client_timeout(5.0).total == 5.0
    streaming = transport._client_timeout(None, streaming=True)
    assert (streaming.total, streaming.connect, streaming.sock_read) == (None, 4.0, 30.0)
    assert transport._client_timeout(7.0, streaming=True).sock_read == 7.0


async def test_a_retry_after_of_exactly_the_cap_is_honoured() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if len(server.requests) == 1:
            return web.Response(status=503, headers={"Retry-After": "60"})
        return web.Response(body=b"{}", content_type="application/json")

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)  # retry_after_cap 60 s (the default)
        assert (await transport.request("GET", "/v2/x")).status == 200
        await transport.aclose()
    assert slept == [60.0]


async def test_status_300_is_an_error_and_methods_are_case_insensitive() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/v2/choices":
            return web.Response(status=300, body=b"{}", content_type="application/json")
        if len(server.requests) % 2:
            return web.Response(status=503)
        return web.Response(body=b"{}", content_type="application/json")

    async with serve(handler) as server:
        transport, slept = make_transport(server.url, retry_policy=RetryPolicy(max_retries=1))
        with pytest.raises(APIStatusError) as info:
            await transport.request("GET", "/v2/choices")
        assert info.value.status == 300
        with pytest.raises(APIStatusError):
            async with transport.stream("GET", "/v2/choices"):
                pass  # pragma: no cover
        server.requests.clear()
        resp = await transport.request("get", "/v2/x")  # a lowercase GET is still safe to retry
        assert resp.status == 200 and resp.retries == 1 and 0 <= resp.elapsed < 3600
        server.requests.clear()
        async with transport.stream("get", "/v2/x") as streamed:
            assert streamed.status == 200
        await transport.aclose()
    assert len(slept) == 2


async def test_streams_use_the_file_timeout_and_the_views_query() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(body=b"abc")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, file_timeout=300.0, timeout=60.0)
        view = transport.scoped(None, {"tenant": "a"})
        seen: list[tuple[float | None, bool]] = []
        original = view._client_timeout

        def recording(timeout: float | None, streaming: bool = False) -> aiohttp.ClientTimeout:
            seen.append((timeout, streaming))
            return original(timeout, streaming)

        view._client_timeout = recording  # type: ignore[method-assign]
        async with view.stream("GET", "/v2/file") as resp:
            assert resp.status == 200
        async with view.stream("GET", "/v2/file", timeout=5.0):
            pass
        await transport.aclose()
    assert seen == [(300.0, True), (5.0, True)]
    assert [r.query for r in server.requests] == ["tenant=a", "tenant=a"]


async def test_a_one_shot_body_is_never_sent_twice() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/v2/moved":
            return web.Response(status=307, headers={"Location": "/v2/x"})
        return web.Response(status=503)

    async def body() -> AsyncIterator[bytes]:
        yield b"chunk"

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)
        with pytest.raises(InternalServerError):  # a PUT is safe, but this body is gone
            await transport.request("PUT", "/v2/x", data=body())
        assert slept == [] and server.count() == 1
        assert server.requests[0].body == b"chunk"
        with pytest.raises(APIConnectionError, match="cannot be sent twice"):
            await transport.request("PUT", "/v2/moved", data=body())
        await transport.aclose()
    assert server.count() == 2


async def test_byte_stream_failures_and_double_close_and_redirect_release() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/v2/missing":
            return web.Response(status=404, body=b"{}", content_type="application/json")
        if request.path == "/v2/moved":
            return web.Response(status=302, headers={"Location": "/v2/file"})
        return web.Response(body=b"x" * 4096)

    durations: list[float] = []

    class Hooks(EventHooks):
        def on_response(self, event: Any) -> None:
            durations.append(event.duration)

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, hooks=[Hooks()])
        missing = transport.byte_stream("GET", "/v2/missing")
        with pytest.raises(NotFoundError):  # not an error of closing a failed open
            await anext(missing)
        await missing.aclose()
        partial = transport.byte_stream("GET", "/v2/file", chunk_size=1024)
        assert len(await anext(partial)) <= 1024
        await partial.aclose()
        await partial.aclose()  # twice: harmless
        await transport.request("GET", "/v2/moved")
        connector = transport.session.connector
        assert connector is not None and not connector._acquired  # type: ignore[attr-defined]
        assert transport.session.trust_env is False
        assert connector.limit == 100
        await transport.aclose()
    assert durations and all(0 <= d < 3600 for d in durations)


async def test_a_post_that_reached_the_server_is_not_retried_when_a_later_hop_fails() -> None:
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None
    posts = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal posts
        posts += 1
        assert site is not None
        await site.stop()  # the origin stops accepting connections before the next hop
        return web.Response(status=303, headers={"Location": "/v2/done", "Connection": "close"})

    app = web.Application()
    app.router.add_post("/v2/pre-recorded", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        transport, slept = make_transport(f"http://127.0.0.1:{port}")
        with pytest.raises(APIConnectionError):
            await transport.request("POST", "/v2/pre-recorded", json={"a": 1})
        await transport.aclose()
    finally:
        await runner.cleanup()
    assert posts == 1
    assert slept == []  # it reached the server: no retry, even though the GET never left


async def test_opening_a_stream_retries_connection_failures_but_not_tls_ones() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    transport, slept = make_transport(dead)
    with pytest.raises(APIConnectionError, match="cannot connect"):
        async with transport.stream("GET", "/v2/file"):
            pass  # pragma: no cover
    await transport.aclose()
    assert len(slept) == 3  # the policy's max_retries

    async def plain(request: web.Request, server: Server) -> web.StreamResponse:
        return web.Response(body=b"not tls")  # pragma: no cover

    async with serve(plain) as server:
        tls, slept = make_transport(server.url.replace("http://", "https://"))
        with pytest.raises(APIConnectionError, match="TLS"):
            async with tls.stream("GET", "/v2/file"):
                pass  # pragma: no cover
        await tls.aclose()
    assert slept == []


def test_byte_stream_chunk_size_must_be_positive() -> None:
    transport, _ = make_transport()
    for bad in (0, -1):
        with pytest.raises(GladiaConfigError, match="chunk_size"):
            transport.byte_stream("GET", "/v2/file", chunk_size=bad)
    transport.byte_stream("GET", "/v2/file", chunk_size=1)  # the smallest allowed


async def test_bytes_and_factory_bodies_are_replayed_on_retry() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if len(server.requests) % 2:
            return web.Response(status=503)
        return web.Response(body=b"{}", content_type="application/json")

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)
        with pytest.raises(TypeError, match="json or data"):
            await transport.request("PUT", "/v2/x", json={"a": 1}, data=b"b")
        await transport.request("PUT", "/v2/x", data=b"abc")
        await transport.request("PUT", "/v2/x", data=lambda: b"def")
        await transport.aclose()
    assert len(slept) == 2
    assert [r.body for r in server.requests] == [b"abc", b"abc", b"def", b"def"]


async def test_hooks_see_streamed_requests_and_their_failures() -> None:
    events: list[tuple[str, Any]] = []

    class Hooks(EventHooks):
        def on_request(self, event: Any) -> None:
            events.append(("request", event.method))

        def on_response(self, event: Any) -> None:
            events.append(("response", event.status))

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/v2/missing":
            return web.Response(status=404)
        return web.Response(body=b"abc")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, hooks=[Hooks()])
        async with transport.stream("GET", "/v2/file"):
            pass
        with pytest.raises(NotFoundError):
            async with transport.stream("GET", "/v2/missing"):
                pass  # pragma: no cover
        await transport.aclose()
    dead, _ = make_transport(
        f"http://127.0.0.1:{free_port()}", hooks=[Hooks()], retry_policy=RetryPolicy(0)
    )
    with pytest.raises(APIConnectionError):
        async with dead.stream("GET", "/v2/file"):
            pass  # pragma: no cover
    await dead.aclose()
    assert [name for name, _ in events] == ["request", "response"] * 3
    assert [value for name, value in events if name == "response"] == [200, 404, None]
