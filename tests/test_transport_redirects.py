"""Redirects and size limits: which answers are followed, how often a request is sent, and
where the body limit lies (issue 16: a job-creating POST is never sent twice)."""

from __future__ import annotations

import pytest
from aiohttp import web

from gladia_async import APIConnectionError, APIStatusError, DecodeError, GladiaClient
from gladia_async._config import RetryPolicy
from gladia_async.testing import FakeGladia

from ._servers import KEY, Server, json_response, serve
from .test_transport import make_transport


@pytest.mark.parametrize("status", [307, 308])
async def test_a_same_origin_redirect_loop_never_repeats_a_job_creating_post(status: int) -> None:
    async with FakeGladia(api_key=KEY) as fake:
        fake.inject(
            "pre_recorded.create", "redirect", redirect_status=status,
            foreign_origin=fake.url, times=None,
        )  # fmt: skip
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            with pytest.raises(APIStatusError) as info:
                await gladia.pre_recorded.create(audio_url="https://a.test/x.mp3")
        assert fake.requests.count("pre_recorded.create") == 1
    assert info.value.status == status
    assert "never sent twice" in str(info.value)


def redirecting(status: int, *, to: str = "/v2/final") -> object:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path == "/v2/final":
            return json_response(b'{"method": "%s"}' % request.method.encode())
        return web.Response(status=status, headers={"Location": to})

    return handler


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_get_follows_every_redirect_status_keeping_its_method(status: int) -> None:
    async with serve(redirecting(status)) as server:  # type: ignore[arg-type]
        transport, _ = make_transport(server.url)
        resp = await transport.request("GET", "/v2/start")
        await transport.aclose()
    assert resp.body == b'{"method": "GET"}'
    assert [r.path for r in server.requests] == ["/v2/start", "/v2/final"]


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_a_post_redirected_with_301_302_303_becomes_one_get(status: int) -> None:
    async with serve(redirecting(status)) as server:  # type: ignore[arg-type]
        transport, _ = make_transport(server.url)
        resp = await transport.request("POST", "/v2/start", json={"a": 1})
        await transport.aclose()
    assert resp.body == b'{"method": "GET"}'
    assert [(r.method, r.body) for r in server.requests] == [("POST", b'{"a":1}'), ("GET", b"")]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_patch_is_not_sent_again_by_a_redirect(status: int) -> None:
    async with serve(redirecting(status)) as server:  # type: ignore[arg-type]
        transport, _ = make_transport(server.url)
        with pytest.raises(APIStatusError) as info:
            await transport.request("PATCH", "/v2/start", json={"a": 1})
        await transport.aclose()
    assert info.value.status == status
    assert server.count() == 1


@pytest.mark.parametrize("status", [307, 308])
async def test_an_idempotent_put_is_sent_again_with_its_body(status: int) -> None:
    async with serve(redirecting(status)) as server:  # type: ignore[arg-type]
        transport, _ = make_transport(server.url)
        resp = await transport.request("PUT", "/v2/start", data=b"abc")
        await transport.aclose()
    assert resp.body == b'{"method": "PUT"}'
    assert [r.body for r in server.requests] == [b"abc", b"abc"]


@pytest.mark.parametrize("status", [200, 201, 202, 400, 500])
async def test_a_location_header_outside_a_redirect_is_not_followed(status: int) -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(b"{}", status=status, Location="/v2/elsewhere")

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, retry_policy=RetryPolicy(max_retries=0))
        for method in ("POST", "GET"):
            if status < 400:
                resp = await transport.request(method, "/v2/pre-recorded", json={"a": 1})
                assert resp.status == status
            else:
                with pytest.raises(APIStatusError) as info:
                    await transport.request(method, "/v2/pre-recorded", json={"a": 1})
                assert info.value.status == status and "redirect" not in str(info.value)
        await transport.aclose()
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/v2/pre-recorded"),
        ("GET", "/v2/pre-recorded"),
    ]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_streamed_download_follows_redirects(status: int) -> None:
    async with serve(redirecting(status)) as server:  # type: ignore[arg-type]
        transport, _ = make_transport(server.url)
        async with transport.stream("GET", "/v2/start") as resp:
            body = b"".join([chunk async for chunk in resp.iter_chunks()])
        await transport.aclose()
    assert body == b'{"method": "GET"}'


async def test_the_redirect_hop_limit() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        hop = int(request.path.rsplit("/", 1)[1])
        if hop >= int(request.query.get("stop", "1000")):
            return json_response(b'{"hop": %d}' % hop)
        return web.Response(
            status=302, headers={"Location": f"/v2/{hop + 1}?{request.query_string}"}
        )

    async with serve(handler) as server:
        transport, slept = make_transport(server.url)
        resp = await transport.request("GET", "/v2/0", params=[("stop", "5")])
        assert resp.body == b'{"hop": 5}'  # exactly 5 hops (the documented limit): fine
        server.requests.clear()
        with pytest.raises(APIConnectionError, match="too many redirects"):
            await transport.request("GET", "/v2/0")
        await transport.aclose()
    assert server.count() == 6  # the first request and 5 redirects followed
    assert slept == []


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_of_exactly_max_response_size_is_accepted(declared: bool) -> None:
    limit = 4096

    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        size = int(request.query["size"])
        if declared:
            return web.Response(body=b"x" * size)
        resp = web.StreamResponse()  # chunked: no Content-Length to check up front
        await resp.prepare(request)
        await resp.write(b"x" * size)
        await resp.write_eof()
        return resp

    async with serve(handler) as server:
        transport, _ = make_transport(server.url, max_response_size=limit)
        resp = await transport.request("GET", "/v2/x", params=[("size", str(limit))])
        assert len(resp.body) == limit
        with pytest.raises(DecodeError, match="too large"):
            await transport.request("GET", "/v2/x", params=[("size", str(limit + 1))])
        await transport.aclose()
