"""Live sessions end to end: the real client against gladia_async.testing.FakeGladia."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gladia_async import GladiaClient, NotFoundError, PermissionDeniedError, UnsafeURLError
from gladia_async.resources.live_session import MAX_FRAME_BYTES, LiveConnection, LiveSessionError
from gladia_async.testing import FakeGladia
from gladia_async.types.live import LiveSession
from gladia_async.types.ws import (
    AudioChunkAck,
    EndRecordingMessage,
    EndSessionMessage,
    LiveServerMessage,
    PostChapterizationMessage,
    PostFinalTranscriptMessage,
    PostSummarizationMessage,
    PostTranscriptMessage,
    StartRecordingMessage,
    StartSessionMessage,
    StopRecordingAck,
    TranscriptMessage,
)

KEY = "test-key"
RATE = 32000  # bytes per second: 16 kHz, 16-bit, mono (the session defaults)
AUDIO = random.Random(4).randbytes(int(6.6 * RATE))  # 3 utterances of 2 s + a last 0.6 s


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, live_jobs=3, seed=5) as f:
        yield f


@pytest.fixture
async def gladia(fake: FakeGladia) -> AsyncIterator[GladiaClient]:
    async with GladiaClient(api_key=KEY, base_url=fake.url) as client:
        yield client


async def send_then_stop(live: LiveConnection, audio: bytes, size: int = 6400) -> None:
    for start in range(0, len(audio), size):
        await live.send_audio(audio[start : start + size])
    await live.stop()


async def run(live: LiveConnection, audio: bytes, size: int = 6400) -> list[LiveServerMessage]:
    """Send ``audio`` then stop while reading every message until the session ends."""
    sender = asyncio.create_task(send_then_stop(live, audio, size))
    try:
        return [message async for message in live]
    finally:
        await sender


def no_backoff(live: LiveConnection) -> None:
    async def sleep(_delay: float) -> None:
        await asyncio.sleep(0)

    live.sleep = sleep


async def test_full_session(fake: FakeGladia, gladia: GladiaClient) -> None:
    live = gladia.live.connect(
        messages_config={"receive_partial_transcripts": True, "receive_lifecycle_events": True},
        post_processing={"summarization": True, "chapterization": True},
    )
    async with live:
        messages = await run(live, AUDIO)
    assert live.close_code == 1000 and live.ended and live.reconnects == 0
    assert live.bytes_sent == live.bytes_acknowledged == len(AUDIO)
    assert live.unacknowledged_bytes == 0

    transcripts = [m for m in messages if isinstance(m, TranscriptMessage)]
    finals = [t for t in transcripts if t.is_final]
    partials = [t for t in transcripts if not t.is_final]
    assert len(finals) == 4 and len(partials) >= 3  # 3 windows of 2 s, then the last 0.6 s
    for partial in partials:  # a partial comes before the final of the same utterance
        final = next(f for f in finals if f.data.id == partial.data.id)
        assert transcripts.index(partial) < transcripts.index(final)
        assert final.text.startswith(partial.text)
    others = [type(m) for m in messages if not isinstance(m, TranscriptMessage)]
    assert others[:2] == [StartSessionMessage, StartRecordingMessage]
    assert others[2] is StopRecordingAck
    assert others[3:] == [
        EndRecordingMessage,
        PostTranscriptMessage,
        PostFinalTranscriptMessage,
        PostSummarizationMessage,
        PostChapterizationMessage,
        EndSessionMessage,
    ]
    stop_ack = next(m for m in messages if isinstance(m, StopRecordingAck))
    assert stop_ack.acknowledged and stop_ack.data is not None
    assert stop_ack.data.recording_duration == pytest.approx(6.6)
    assert live.result is not None and live.result.transcription is not None
    assert len(live.result.transcription.utterances) == 4

    job = await live.final_result(poll_interval=0.01)
    assert job.id == live.id and job.status == "done" and job.result is not None
    assert job.result.messages is not None  # every message sent but the acks
    assert len(job.result.messages) == len(messages) - 1
    assert job.request_params is not None and job.request_params.messages_config is not None
    assert job.request_params.messages_config.receive_acknowledgments is True  # forced by connect


async def test_dropped_sockets_lose_no_audio(fake: FakeGladia, gladia: GladiaClient) -> None:
    fake.inject("live.ws", "ws_drop", after_frames=5, on={1})
    fake.inject("live.ws", "ws_drop", after_frames=7, on={2}, close_code=1012)
    async with gladia.live.connect() as live:
        no_backoff(live)
        messages = await run(live, AUDIO, size=4000)
    assert live.reconnects == 2 and live.close_code == 1000
    assert isinstance(messages[-1], PostFinalTranscriptMessage)  # no lifecycle events asked
    server = fake.live.session_for(live.id)
    assert server is not None and server.connections == 3
    # Every byte arrived exactly once, in order (the fake acknowledges each frame it reads).
    assert server.received == len(AUDIO) and bytes(server.pcm) == AUDIO
    assert live.bytes_acknowledged == len(AUDIO) and live.unacknowledged_bytes == 0
    recording = await gladia.live.download_file(live.id)
    assert recording.startswith(b"RIFF") and recording.endswith(AUDIO)


async def test_drop_near_stop_resends_audio_and_stop(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    # All audio and stop_recording are sent before the socket drops three frames short of the
    # end: the reopened socket gets the unacknowledged tail and stop_recording again.
    frames = -(-len(AUDIO) // 8000)
    fake.inject("live.ws", "ws_drop", after_frames=frames - 3)
    async with gladia.live.connect() as live:
        no_backoff(live)
        await send_then_stop(live, AUDIO, size=8000)
        messages = [m async for m in live]
    assert live.reconnects == 1 and live.close_code == 1000
    assert sum(isinstance(m, StopRecordingAck) for m in messages) == 1
    server = fake.live.session_for(live.id)
    assert server is not None and bytes(server.pcm) == AUDIO


async def test_reconnect_after_the_end_gets_4403(fake: FakeGladia, gladia: GladiaClient) -> None:
    created = await gladia.live.create()
    async with gladia.live.connect(session=created) as live:
        await live.send_audio(AUDIO[:RATE])
    # leaving the block closed with 1000 without stop_recording: the fake ends the session
    job = await live.final_result(poll_interval=0.01)
    assert job.status == "done"
    async with gladia.live.connect(session=created) as again:
        assert [m async for m in again] == []
    assert again.close_code == 4403 and again.reconnects == 0 and again.ended


async def test_unknown_token_gets_4401(fake: FakeGladia, gladia: GladiaClient) -> None:
    session = LiveSession(id="nope", url=f"{fake.ws_url}/v2/live?token=bogus")
    async with gladia.live.connect(session=session) as live:
        assert [m async for m in live] == []
    assert live.close_code == 4401


async def test_api_key_never_sent_on_the_socket(fake: FakeGladia, gladia: GladiaClient) -> None:
    fake.inject("live.ws", "ws_drop", after_frames=2)
    async with gladia.live.connect() as live:
        no_backoff(live)
        await run(live, AUDIO[: 2 * RATE])
    sockets = fake.requests.for_route("live.ws")
    assert len(sockets) == 2
    assert all("x-gladia-key" not in r.headers for r in sockets)
    rest = [r for r in fake.requests if r.route != "live.ws"]
    assert rest and all(r.headers.get("x-gladia-key") == KEY for r in rest)


async def test_rest_calls(fake: FakeGladia, gladia: GladiaClient) -> None:
    created = await gladia.live.create(region="eu-west", sample_rate=8000)
    assert created.url.startswith(f"{fake.ws_url}/v2/live?token=")
    assert fake.requests.for_route("live.create")[-1].param("region") == "eu-west"
    job = await gladia.live.get(created.id)
    assert job.kind == "live" and job.status == "queued"
    assert job.request_params is not None and job.request_params.sample_rate == 8000
    page = await gladia.live.list_page(limit=10)
    assert len(page.items) == 4 and created.id in {j.id for j in page.items}
    with pytest.raises(PermissionDeniedError):
        await gladia.live.delete(created)  # not finished yet
    done = next(j for j in page.items if j.status == "done")
    assert (await gladia.live.download_file(done.id)).startswith(b"RIFF")
    await gladia.live.delete(done.id)
    with pytest.raises(NotFoundError):
        await gladia.live.get(done.id)


async def test_unacknowledged_bound_makes_send_wait(gladia: GladiaClient) -> None:
    created = await gladia.live.create()  # without acknowledgments: nothing is ever trimmed
    async with gladia.live.connect(session=created, max_unacknowledged_bytes=6400) as live:
        await live.send_audio(AUDIO[:6400])
        blocked = asyncio.create_task(live.send_audio(AUDIO[6400:9600]))
        await asyncio.sleep(0.05)
        assert not blocked.done() and live.unacknowledged_bytes == 6400
    # leaving the block closes the connection; the waiting sender is released with an error
    with pytest.raises(LiveSessionError):
        await blocked


async def test_slow_consumer_bounds_the_queue() -> None:
    async with (
        FakeGladia(api_key=KEY, live_utterance_seconds=0.005) as fake,  # 160-byte utterances
        GladiaClient(api_key=KEY, base_url=fake.url) as gladia,
        gladia.live.connect(max_queued_messages=4) as live,
    ):
        await live.send_audio(AUDIO[:3200])
        async with asyncio.timeout(10):
            while not live._queue.full():  # noqa: ASYNC110 (the reader stopped: bounded)
                await asyncio.sleep(0.01)
        await live.stop()
        messages = [m async for m in live]
    finals = [m for m in messages if isinstance(m, TranscriptMessage) and m.is_final]
    assert len(finals) == 20 and isinstance(messages[-1], PostFinalTranscriptMessage)


async def test_large_chunks_are_split_and_bounded(fake: FakeGladia, gladia: GladiaClient) -> None:
    big = random.Random(5).randbytes(3 * MAX_FRAME_BYTES + 10)
    live = gladia.live.connect(yield_acknowledgments=True, max_unacknowledged_bytes=MAX_FRAME_BYTES)
    async with live:
        messages = await run(live, big, size=len(big))
    acks = [m.data for m in messages if isinstance(m, AudioChunkAck) and m.data is not None]
    sizes = [end - start for start, end in (a.byte_range for a in acks)]
    assert sizes == [MAX_FRAME_BYTES] * 3 + [10]
    server = fake.live.session_for(live.id)
    assert server is not None and bytes(server.pcm) == big


async def test_exit_without_stop_closes_and_leaks_no_task(gladia: GladiaClient) -> None:
    async with gladia.live.connect() as live:
        await live.send_audio(AUDIO[:3200])
        reader = live._reader
    assert reader is not None and reader.done() and live._reader is None
    assert [m async for m in live] == []  # iteration after close ends
    await live.aclose()
    with pytest.raises(LiveSessionError):
        await live.send_audio(b"\0\0")


async def test_exception_inside_block_closes(gladia: GladiaClient) -> None:
    with pytest.raises(ZeroDivisionError):
        async with gladia.live.connect() as live:
            1 / 0  # noqa: B018
    assert live._reader is None


async def test_awaitable_form_and_existing_session(fake: FakeGladia, gladia: GladiaClient) -> None:
    created = await gladia.live.create(sample_rate=8000)
    live = await gladia.live.connect(session=created, sample_rate=8000, resend=False)
    try:
        messages = await run(live, AUDIO[: 2 * 16000])
    finally:
        await live.aclose()
    assert live.id == created.id and live.close_code == 1000
    assert isinstance(messages[-1], PostFinalTranscriptMessage)
    assert len(fake.requests.for_route("live.create")) == 1
    assert live.result is not None and live.result.metadata.audio_duration == pytest.approx(2.0)


def wav(pcm: bytes, *, channels: int = 1, rate: int = 16000) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * 2 * channels,
                                    2 * channels, 16)  # fmt: skip
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


async def test_stream_audio_paces_and_skips_wav_header(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    pcm = AUDIO[:16000]
    async with gladia.live.connect(yield_acknowledgments=True) as live:
        sent = await live.stream_audio(wav(pcm), realtime=True, chunk_duration=0.05)
        messages = [m async for m in live]
    assert sent == len(pcm)
    assert sum(isinstance(m, AudioChunkAck) for m in messages) == 10  # 50 ms frames
    server = fake.live.session_for(live.id)
    assert server is not None and bytes(server.pcm) == pcm


async def test_stream_audio_rejects_a_mismatched_wav(gladia: GladiaClient) -> None:
    async with gladia.live.connect() as live:
        with pytest.raises(ValueError, match="44100"):
            await live.stream_audio(wav(b"", channels=2, rate=44100), realtime=False)


async def test_stream_audio_from_async_iterator_and_file(
    fake: FakeGladia, gladia: GladiaClient, tmp_path: Path
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, 10000, 777):
            yield AUDIO[start : min(start + 777, 10000)]

    async with gladia.live.connect() as live:
        assert await live.stream_audio(chunks(), realtime=False, stop=False) == 10000
        path = tmp_path / "audio.raw"
        path.write_bytes(AUDIO[10000:20000])
        assert await live.stream_audio(path, realtime=False) == 10000
        assert [m async for m in live]
    server = fake.live.session_for(live.id)
    assert server is not None and bytes(server.pcm) == AUDIO[:20000]


async def test_server_url_off_loopback_in_clear_is_refused(gladia: GladiaClient) -> None:
    session = LiveSession(id="x", url="ws://evil.example/v2/live?token=x")
    with pytest.raises(UnsafeURLError):
        async with gladia.live.connect(session=session):
            pass
