"""Live socket arithmetic the fake cannot show (tests/_live_server.py); the rest of the session
behaviour is tested end to end against FakeGladia in test_live_fake.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gladia_async import GladiaClient, UnsafeURLError
from gladia_async.resources.live_session import (
    AudioFormat,
    LiveConnection,
    check_ws_url,
    is_final_close_code,
)
from gladia_async.types.ws import AudioChunkAck, EndSessionMessage

from ._live_server import LiveServer

AUDIO = bytes(range(256)) * 500  # 128000 bytes = 4 s of 16 kHz 16-bit mono


@pytest.fixture
async def server() -> AsyncIterator[LiveServer]:
    srv = await LiveServer().start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def gladia(server: LiveServer) -> AsyncIterator[GladiaClient]:
    async with GladiaClient(api_key="test-key", base_url=server.url) as client:
        yield client


async def send_in_chunks(live: LiveConnection, audio: bytes, size: int) -> None:
    for start in range(0, len(audio), size):
        await live.send_audio(audio[start : start + size])
    await live.stop()


async def test_audio_received_but_unacknowledged_is_resent(
    server: LiveServer, gladia: GladiaClient
) -> None:
    server.drop_after_frames = [5, 17]
    async with gladia.live.connect() as live:
        live.sleep = lambda _delay: asyncio.sleep(0)
        sender = asyncio.create_task(send_in_chunks(live, AUDIO, size=4000))
        messages = [m async for m in live]
        await sender
    assert live.reconnects == 2 and len(server.segments) == 3
    # The frame each drop cut off arrived unacknowledged and was sent again: nothing lost,
    # although the server's byte count ran on over the duplicates.
    first, *others = [bytes(s) for s in server.segments]
    assert AUDIO.startswith(first)
    covered = len(first)
    for segment in others:
        start = covered - 4000  # resending starts at the one unacknowledged frame
        assert AUDIO[start : start + len(segment)] == segment
        covered = start + len(segment)
    assert covered == len(AUDIO) and len(server.received) == len(AUDIO) + 2 * 4000
    assert live.bytes_acknowledged == len(AUDIO) and live.unacknowledged_bytes == 0
    assert isinstance(messages[-1], EndSessionMessage) and live.close_code == 1000


async def test_inclusive_acks_round_to_frame_boundary(
    server: LiveServer, gladia: GladiaClient
) -> None:
    server.inclusive_acks = True
    async with gladia.live.connect(yield_acknowledgments=True) as live:
        await live.send_audio(AUDIO[:3200])
        message = await anext(live)
        assert isinstance(message, AudioChunkAck) and message.data is not None
        assert message.data.byte_range == (0, 3199)
        assert live.bytes_acknowledged == 3200 and live.unacknowledged_bytes == 0


def test_close_codes_urls_and_formats() -> None:
    assert all(is_final_close_code(c) for c in (1000, 1001, 4400, 4403, 4499))
    assert not any(is_final_close_code(c) for c in (None, 1006, 1011, 1009, 4000, 4500))
    check_ws_url("wss://api.gladia.io/v2/live?token=x")
    check_ws_url("ws://127.0.0.1:8000/v2/live?token=x")
    for bad in ("ws://api.gladia.io/v2/live", "https://api.gladia.io/x", "file:///etc/passwd"):
        with pytest.raises(UnsafeURLError):
            check_ws_url(bad)
    assert AudioFormat(encoding="wav/ulaw", bit_depth=16, channels=2).frame_size == 2
    assert AudioFormat(bit_depth=24, sample_rate=48000).bytes_per_second == 144000
