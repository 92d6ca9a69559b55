"""GladiaClient: configuration checks before I/O, env fallbacks, lifecycle, key redaction."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from aiohttp import web

from gladia_async import GladiaClient, RetryPolicy
from gladia_async._errors import AuthenticationError, GladiaClientClosed, GladiaConfigError
from gladia_async.types.pre_recorded import PreRecordedJob

from ._servers import KEY, Server, fixture, json_response, serve


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    monkeypatch.delenv("GLADIA_API_URL", raising=False)


def test_missing_key_raises_before_io() -> None:
    with pytest.raises(GladiaConfigError, match="GLADIA_API_KEY"):
        GladiaClient()
    with pytest.raises(GladiaConfigError):
        GladiaClient("   ")


def test_env_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLADIA_API_KEY", KEY)
    monkeypatch.setenv("GLADIA_API_URL", "http://127.0.0.1:9/")
    gladia = GladiaClient()
    assert gladia.base_url == "http://127.0.0.1:9"
    assert GladiaClient(KEY, base_url=None).base_url == "http://127.0.0.1:9"
    monkeypatch.delenv("GLADIA_API_URL")
    assert GladiaClient().base_url == "https://api.gladia.io"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.gladia.io",
        "http://10.0.0.1:8080",
        "ftp://api.gladia.io",
        "api.gladia.io",
        "https://",
        "https://api.gladia.io:99999",
        "https://user:pw@api.gladia.io",
        "https://api.gladia.io/?x=1",
        "ws://127.0.0.1",
    ],
)
def test_unsafe_or_malformed_base_url_rejected(url: str) -> None:
    with pytest.raises(GladiaConfigError):
        GladiaClient(KEY, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "https://x.test/p/"]
)
def test_accepted_base_urls(url: str) -> None:
    assert GladiaClient(KEY, base_url=url).base_url == url.rstrip("/")


def test_bad_numbers_rejected() -> None:
    with pytest.raises(GladiaConfigError):
        GladiaClient(KEY, max_retries=-1)
    with pytest.raises(GladiaConfigError):
        GladiaClient(KEY, timeout=0)
    with pytest.raises(GladiaConfigError):
        GladiaClient(KEY, headers={"X-Gladia-Key": "other"})
    with pytest.raises(GladiaConfigError, match="not both"):
        GladiaClient(KEY, max_retries=1, retry_policy=RetryPolicy(max_retries=5))


def test_repr_shows_only_last_four() -> None:
    text = repr(GladiaClient(KEY))
    assert KEY not in text and KEY[:-4] not in text
    assert "...cdef" in text


async def test_async_with_get_and_key_redaction(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if request.path.endswith("/missing"):
            return json_response(fixture("error_401.json"), status=401)
        return json_response(fixture("prerecorded_job_done.json"))

    caplog.set_level(logging.DEBUG, logger="gladia_async")
    async with serve(handler) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            job = await gladia.pre_recorded.get("45463597-20b7-4af7-b3b3-f5fb778203ab")
            with pytest.raises(AuthenticationError) as info:
                await gladia.pre_recorded.get("missing")
        assert gladia.closed
    assert isinstance(job, PreRecordedJob) and job.status == "done"
    assert server.requests[0].headers["x-gladia-key"] == KEY
    assert server.requests[0].headers["User-Agent"].startswith("gladia-async/")
    for text in (caplog.text, str(info.value), repr(info.value), repr(gladia)):
        assert KEY not in text


async def test_borrowed_session_stays_open() -> None:
    async with serve(lambda r, s: _ok()) as server:
        async with aiohttp.ClientSession() as session:
            gladia = GladiaClient(KEY, base_url=server.url, session=session)
            await gladia.pre_recorded.get("abc")
            await gladia.aclose()
            await gladia.aclose()
            assert not session.closed
            async with session.get(server.url + "/still-works") as resp:
                assert resp.status == 200


async def _ok() -> web.Response:
    return json_response(fixture("prerecorded_job_done.json"))


async def test_closed_client_raises() -> None:
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    await gladia.aclose()
    await gladia.aclose()
    with pytest.raises(GladiaClientClosed):
        await gladia.pre_recorded.get("abc")
    with pytest.raises(GladiaClientClosed):
        await gladia.upload(b"data")
    with pytest.raises(GladiaClientClosed):
        async with gladia:
            pass


async def test_closed_borrowed_session_raises_client_closed() -> None:
    session = aiohttp.ClientSession()
    await session.close()
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9", session=session)
    with pytest.raises(GladiaClientClosed):
        await gladia.pre_recorded.get("abc")


def test_client_builds_outside_a_loop() -> None:
    gladia = GladiaClient(KEY)
    assert gladia.pre_recorded is not None and gladia.upload is not None


def test_live_attribute() -> None:
    pytest.importorskip("gladia_async.resources.live")
    gladia = GladiaClient(KEY)
    assert gladia.live is gladia.live


@pytest.mark.parametrize("key", [12345, b"bytes-key-0123456789", KEY + "\n", " " + KEY, "a b"])
def test_bad_keys_raise_config_error_without_echoing_them(key: object) -> None:
    with pytest.raises(GladiaConfigError) as info:
        GladiaClient(key)  # type: ignore[arg-type]
    assert KEY not in str(info.value) and "bytes-key" not in str(info.value)


def test_userinfo_trick_base_url_rejected() -> None:
    for url in ("http://127.0.0.1:1@evil.test/", "http://evil.test\\@127.0.0.1/"):
        with pytest.raises(GladiaConfigError):
            GladiaClient(KEY, base_url=url)


def test_client_built_outside_a_loop_works_in_asyncio_run() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(fixture("prerecorded_job_done.json"))

    async def main() -> str:
        async with serve(handler) as server:
            gladia = GladiaClient(KEY, base_url=server.url)  # no loop touched here ...
            async with gladia:
                return (await gladia.pre_recorded.get("abc")).status

    assert asyncio.run(main()) == "done"

    async def used_in_two_loops() -> None:
        gladia._transport.session  # noqa: B018 (the owned session is bound to this loop)

    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    asyncio.run(used_in_two_loops())

    async def second_loop() -> None:
        with pytest.raises(GladiaClientClosed, match="another event loop"):
            await gladia.pre_recorded.get("abc")
        await gladia.aclose()

    asyncio.run(second_loop())
