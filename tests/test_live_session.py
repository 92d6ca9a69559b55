"""Live WebSocket sessions against a controlled loopback server (tests/_live_server.py)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gladia_async import GladiaClient, UnsafeURLError
from gladia_async.resources.live_session import (
    MAX_FRAME_BYTES,
    AudioFormat,
    LiveConnection,
    LiveSessionError,
    is_final_close_code,
)
from gladia_async.types.live import LiveSession
from gladia_async.types.ws import (
    AudioChunkAck,
    EndSessionMessage,
    LiveServerMessage,
    PostFinalTranscriptMessage,
    PostTranscriptMessage,
    StopRecordingAck,
    TranscriptMessage,
)

from ._live_server import SESSION_ID, LiveServer

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


async def collect(live: LiveConnection) -> list[LiveServerMessage]:
    return [message async for message in live]


async def send_in_chunks(live: LiveConnection, audio: bytes, size: int = 3200) -> None:
    for start in range(0, len(audio), size):
        await live.send_audio(audio[start : start + size])
    await live.stop()


async def test_full_session(server: LiveServer, gladia: GladiaClient) -> None:
    live = gladia.live.connect(
        sample_rate=16000, messages_config={"receive_partial_transcripts": True}
    )
    async with live:
        assert live.id == SESSION_ID
        assert "token" not in repr(live)
        sender = asyncio.create_task(send_in_chunks(live, AUDIO))
        messages = await collect(live)
        await sender
    assert bytes(server.received) == AUDIO
    sent_config = server.create_bodies[0]["messages_config"]
    assert sent_config == {"receive_partial_transcripts": True, "receive_acknowledgments": True}
    assert all("x-gladia-key" not in h for h in server.ws_headers)
    transcripts = [m for m in messages if isinstance(m, TranscriptMessage)]
    assert [t.is_final for t in transcripts] == [False, True] * 4
    assert transcripts[-1].text == "utterance 4"
    assert not any(isinstance(m, AudioChunkAck) for m in messages)  # not asked for
    kinds = [type(m) for m in messages if not isinstance(m, TranscriptMessage)]
    assert kinds == [StopRecordingAck, PostTranscriptMessage, PostFinalTranscriptMessage,
                     EndSessionMessage]  # fmt: skip
    assert live.close_code == 1000 and live.ended and live.reconnects == 0
    assert live.result is not None and live.result.transcription is not None
    assert live.bytes_acknowledged == len(AUDIO) and live.unacknowledged_bytes == 0
    job = await live.final_result(poll_interval=0.01)
    assert job.id == SESSION_ID and job.status == "done"
    with pytest.raises(LiveSessionError):
        await live.send_audio(b"\0\0")


async def test_dropped_socket_resends_unacknowledged_audio(
    server: LiveServer, gladia: GladiaClient
) -> None:
    server.drop_after_frames = [5, 17]
    async with gladia.live.connect(region="eu-west") as live:
        live.sleep = lambda _delay: asyncio.sleep(0)
        sender = asyncio.create_task(send_in_chunks(live, AUDIO, size=4000))
        messages = await collect(live)
        await sender
    assert server.create_queries == [{"region": "eu-west"}]
    assert live.reconnects == 2 and server.connections == 3
    # The frame each drop cut off arrived unacknowledged and was sent again: nothing lost.
    first, *others = [bytes(s) for s in server.segments]
    assert AUDIO.startswith(first)
    covered = len(first)
    for segment in others:
        start = covered - 4000  # resending starts at the one unacknowledged frame
        assert AUDIO[start : start + len(segment)] == segment
        covered = start + len(segment)
    assert covered == len(AUDIO) and len(server.received) == len(AUDIO) + 2 * 4000
    assert isinstance(messages[-1], EndSessionMessage) and live.close_code == 1000


async def test_inclusive_acks_round_to_frame_boundary(server: LiveServer) -> None:
    server.inclusive_acks = True
    async with GladiaClient(api_key="test-key", base_url=server.url) as gladia:
        async with gladia.live.connect(yield_acknowledgments=True) as live:
            await live.send_audio(AUDIO[:3200])
            message = await anext(live)
            assert isinstance(message, AudioChunkAck) and message.data is not None
            assert message.data.byte_range == (0, 3199)
            assert live.bytes_acknowledged == 3200 and live.unacknowledged_bytes == 0


async def test_large_chunks_are_split_and_bounded(server: LiveServer, gladia: GladiaClient) -> None:
    big = bytes(3 * MAX_FRAME_BYTES + 10)
    async with gladia.live.connect(max_unacknowledged_bytes=MAX_FRAME_BYTES) as live:
        sender = asyncio.create_task(send_in_chunks(live, big, size=len(big)))
        await collect(live)
        await sender
    assert server.frames == 4 and bytes(server.received) == big


async def test_unacknowledged_bound_makes_send_wait(
    server: LiveServer, gladia: GladiaClient
) -> None:
    server.ack = False
    async with gladia.live.connect(max_unacknowledged_bytes=6400) as live:
        await live.send_audio(AUDIO[:6400])
        blocked = asyncio.create_task(live.send_audio(AUDIO[6400:9600]))
        await asyncio.sleep(0.05)
        assert not blocked.done() and live.unacknowledged_bytes == 6400
    # leaving the block closes the connection; the waiting sender is released with an error
    with pytest.raises(LiveSessionError):
        await blocked


async def test_slow_consumer_bounds_the_queue(server: LiveServer, gladia: GladiaClient) -> None:
    server.utterance_bytes = 100  # two messages per 100 bytes of audio
    async with gladia.live.connect(max_queued_messages=4) as live:
        await live.send_audio(AUDIO[:3200])
        await asyncio.sleep(0.05)
        assert live._queue.maxsize == 4
        await live.stop()
        count = len(await collect(live))
    assert count == 64 + 4


async def test_exit_without_stop_closes_with_1000_and_no_task_leaks(
    server: LiveServer, gladia: GladiaClient
) -> None:
    async with gladia.live.connect() as live:
        await live.send_audio(AUDIO[:3200])
        reader = live._reader
    assert reader is not None and reader.done() and live._reader is None
    assert [m async for m in live] == []  # iteration after close ends
    await live.aclose()


async def test_exception_inside_block_closes(server: LiveServer, gladia: GladiaClient) -> None:
    with pytest.raises(ZeroDivisionError):
        async with gladia.live.connect() as live:
            1 / 0  # noqa: B018
    assert live._reader is None


async def test_awaitable_form_and_existing_session(
    server: LiveServer, gladia: GladiaClient
) -> None:
    created = await gladia.live.create(sample_rate=16000)
    live = await gladia.live.connect(session=created, sample_rate=16000)
    try:
        sender = asyncio.create_task(send_in_chunks(live, AUDIO[:32000]))
        messages = await collect(live)
        await sender
    finally:
        await live.aclose()
    assert isinstance(messages[-1], EndSessionMessage)
    assert len(server.create_bodies) == 1


async def test_reconnecting_after_the_end_is_final(
    server: LiveServer, gladia: GladiaClient
) -> None:
    server.ended = True
    session = LiveSession(id=SESSION_ID, url=server.ws_url)
    async with gladia.live.connect(session=session) as live:
        assert await collect(live) == []
    assert live.close_code == 4403 and live.reconnects == 0


async def test_stream_audio_paces_and_skips_wav_header(
    server: LiveServer, gladia: GladiaClient
) -> None:
    pcm = AUDIO[:16000]
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    header += b"data" + struct.pack("<I", len(pcm))
    async with gladia.live.connect() as live:
        sent = await live.stream_audio(header + pcm, realtime=True, chunk_duration=0.05)
        await collect(live)
    assert sent == len(pcm) and bytes(server.received) == pcm
    assert server.frames == 10


async def test_stream_audio_rejects_a_mismatched_wav(
    server: LiveServer, gladia: GladiaClient
) -> None:
    header = b"RIFF" + struct.pack("<I", 36) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 0, 4, 16) + b"data\0\0\0\0"
    async with gladia.live.connect() as live:
        with pytest.raises(ValueError, match="44100"):
            await live.stream_audio(header, realtime=False)


async def test_stream_audio_from_async_iterator_and_file(
    server: LiveServer, gladia: GladiaClient, tmp_path: Path
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, 10000, 777):
            yield AUDIO[start : min(start + 777, 10000)]

    async with gladia.live.connect() as live:
        assert await live.stream_audio(chunks(), realtime=False, stop=False) == 10000
        path = tmp_path / "audio.raw"
        path.write_bytes(AUDIO[10000:20000])
        assert await live.stream_audio(path, realtime=False) == 10000
        await collect(live)
    assert bytes(server.received) == AUDIO[:20000]


def test_close_codes_and_urls() -> None:
    assert all(is_final_close_code(c) for c in (1000, 1001, 4400, 4403, 4499))
    assert not any(is_final_close_code(c) for c in (None, 1006, 1011, 1009, 4000, 4500))
    from gladia_async.resources.live_session import check_ws_url

    check_ws_url("wss://api.gladia.io/v2/live?token=x")
    check_ws_url("ws://127.0.0.1:8000/v2/live?token=x")
    for bad in ("ws://api.gladia.io/v2/live", "https://api.gladia.io/x", "file:///etc/passwd"):
        with pytest.raises(UnsafeURLError):
            check_ws_url(bad)
    assert AudioFormat(encoding="wav/ulaw", bit_depth=16, channels=2).frame_size == 2
    assert AudioFormat(bit_depth=24, sample_rate=48000).bytes_per_second == 144000


async def test_server_url_off_loopback_in_clear_is_refused(gladia: GladiaClient) -> None:
    session = LiveSession(id=SESSION_ID, url="ws://evil.example/v2/live?token=x")
    with pytest.raises(UnsafeURLError):
        async with gladia.live.connect(session=session):
            pass
