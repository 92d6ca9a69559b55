"""Transport limits at their exact boundaries (mutation testing found them pinned loosely)."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from gladia_async._config import RetryPolicy
from gladia_async._errors import APIStatusError, GladiaConfigError, InternalServerError
from gladia_async._transport import (
    Response,
    check_headers,
    merge_query,
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
