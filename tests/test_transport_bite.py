"""Transport limits at their exact boundaries (mutation testing found them pinned loosely)."""

from __future__ import annotations

import email.utils
import json
import time

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
    GladiaConfigError,
    InternalServerError,
)
from gladia_async._transport import (
    Response,
    _translate,
    check_headers,
    merge_query,
    parse_retry_after,
    retry_delay,
    should_retry,
    status_error,
)

from ._servers import Server, serve
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
