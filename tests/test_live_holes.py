"""Live socket holes from issue 16: a redirected handshake, and reconnects without progress."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from gladia_async import APIConnectionError, GladiaClient, UnsafeURLError
from gladia_async.resources.live_session import LiveConnection
from gladia_async.testing import FakeGladia
from gladia_async.types.live import LiveSession

from ._servers import Server, other_tasks, serve

SPEECH_START = json.dumps(
    {"type": "speech_start", "session_id": "s", "created_at": "2026-01-01T00:00:00.000Z",
     "data": {"time": 0.0, "channel": 0}}
)  # fmt: skip


def session_at(url: str) -> LiveSession:
    return LiveSession(id="s", url=url)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirected_handshake_is_refused(status: int) -> None:
    async def target(request: web.Request, server: Server) -> web.StreamResponse:
        ws = web.WebSocketResponse()  # pragma: no cover - must never be reached
        await ws.prepare(request)
        return ws

    async with serve(target) as other:
        other_ws = other.url.replace("http://", "ws://")
        hops = [other_ws + "/v2/live?token=t", "ws://203.0.113.7/v2/live?token=t"]

        async def redirect(request: web.Request, server: Server) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": hops[len(server.requests) % 2]})

        async with serve(redirect) as api, aiohttp.ClientSession() as http:
            for _ in hops:
                conn = LiveConnection(
                    http=lambda: http,
                    session=session_at(api.url.replace("http", "ws") + "/v2/live"),
                )
                with pytest.raises(UnsafeURLError, match="redirect"):
                    await conn.open()
            assert api.count() == 2  # each refused at once: never retried
    assert other.requests == []
    assert not other_tasks()


async def test_reconnects_without_acknowledged_audio_are_bounded_and_back_off() -> None:
    async def flaky(request: web.Request, server: Server) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(SPEECH_START)  # a message, but no acknowledgment
        await ws.receive()  # one audio frame
        await ws.close(code=1011)
        return ws

    async with serve(flaky) as api, aiohttp.ClientSession() as http:
        conn = LiveConnection(
            http=lambda: http,
            session=session_at(api.url.replace("http", "ws") + "/v2/live"),
            max_reconnects=4,
            reconnect_delay=0.1,
            max_reconnect_delay=10.0,
        )
        slept: list[float] = []

        async def record(delay: float) -> None:
            slept.append(delay)

        conn.sleep = record
        async with conn:
            await conn.send_audio(b"\x00" * 3200)
            with pytest.raises(APIConnectionError, match="without acknowledging"):
                async with asyncio.timeout(30):  # a hang guard: unbounded reconnects fail here
                    async for _ in conn:
                        pass
        assert conn.reconnects == 4
    assert api.count() == 5  # the first socket and 4 reconnects, then a clear error
    assert len(slept) == 4
    assert slept[-1] > 2 * slept[0]  # 0.4-0.8 s after 0.05-0.1 s: the backoff grew


async def test_reconnects_that_make_progress_go_on_past_max_reconnects() -> None:
    async with FakeGladia(api_key="test-key") as fake:
        fake.inject("live.ws", "ws_drop", after_frames=2, times=None)
        async with GladiaClient(api_key="test-key", base_url=fake.url) as gladia:
            conn = gladia.live.connect(max_reconnects=1)
            conn.sleep = lambda delay: asyncio.sleep(0)
            async with conn:
                for _ in range(8):
                    await conn.send_audio(b"\x01\x00" * 1600)
                    await asyncio.sleep(0)
                await conn.stop()
                async for _ in conn:
                    pass
            assert conn.reconnects > 1  # more drops than max_reconnects, each after progress
            assert conn.bytes_acknowledged == conn.bytes_sent
