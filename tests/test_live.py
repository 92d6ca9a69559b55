"""Against tests/_live_server.py: the exact POST /v2/live bodies and queries sent (the fake fills
defaults in), option checks, and the socket arithmetic the fake cannot show (resends, inclusive
acks). The rest of the session behaviour is tested end to end against FakeGladia in
test_live_fake.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gladia_async import APIConnectionError, GladiaClient, GladiaConfigError, UnsafeURLError
from gladia_async.resources.live_session import (
    AudioFormat,
    LiveConnection,
    check_ws_url,
    is_final_close_code,
)
from gladia_async.types.live import LiveRequest, LiveSession, MessagesConfig
from gladia_async.types.ws import AudioChunkAck, EndSessionMessage

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


async def test_create_with_region_and_options(server: LiveServer, gladia: GladiaClient) -> None:
    session = await gladia.live.create(
        region="us-west", sample_rate=8000, language_config={"languages": ["fr"]}
    )
    assert isinstance(session, LiveSession) and session.id == SESSION_ID
    assert session.url == server.ws_url
    assert server.create_queries == [{"region": "us-west"}]
    # create() sends exactly what was asked: only connect() forces acknowledgments on
    assert server.create_bodies == [{"sample_rate": 8000, "language_config": {"languages": ["fr"]}}]


async def test_create_from_a_request(server: LiveServer, gladia: GladiaClient) -> None:
    request = LiveRequest(channels=2, messages_config=MessagesConfig(receive_errors=False))
    await gladia.live.create(request)
    assert server.create_bodies == [{"channels": 2, "messages_config": {"receive_errors": False}}]
    assert server.create_queries == [{}]


async def test_connect_keeps_an_explicit_ack_choice_and_yields_acks(
    server: LiveServer, gladia: GladiaClient
) -> None:
    live = gladia.live.connect(messages_config={"receive_acknowledgments": True})
    async with live:
        await live.send_audio(b"\0" * 3200)
        message = await anext(live)
        assert message.type == "audio_chunk"
    assert server.create_bodies == [{"messages_config": {"receive_acknowledgments": True}}]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rte": 16000},
        {"sample_rate": "fast"},
        {"region": ""},
        {"callback": True},
        {"callback": True, "callback_config": {"receive_final_transcripts": True}},
    ],
)
async def test_bad_options_fail_before_io(
    server: LiveServer, gladia: GladiaClient, kwargs: dict[str, object]
) -> None:
    with pytest.raises(GladiaConfigError):
        await gladia.live.create(**kwargs)  # type: ignore[arg-type]
    assert server.create_bodies == []


async def test_bad_ids_and_connect_arguments(gladia: GladiaClient) -> None:
    with pytest.raises(GladiaConfigError):
        await gladia.live.get("../pre-recorded")
    session = LiveSession(id=SESSION_ID, url="wss://api.gladia.io/v2/live?token=x")
    with pytest.raises(GladiaConfigError):
        gladia.live.connect(session=session, language_config={"languages": ["en"]})
    with pytest.raises(GladiaConfigError):
        gladia.live.connect(LiveRequest(), sample_rate=8000)


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


@pytest.mark.parametrize(
    "url", ["wss://[::1/v2/live", "ws://[not-an-ip]:1/x", "wss://h:99999999/x"]
)
def test_a_malformed_session_url_is_an_unsafe_url_error(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_ws_url(url)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_queued_messages": 0},
        {"max_reconnects": -1},
        {"max_unacknowledged_bytes": 0},
        {"max_queued_messages": 2.5},
    ],
)
async def test_bad_connection_limits_fail_before_io(
    server: LiveServer, gladia: GladiaClient, kwargs: dict[str, object]
) -> None:
    with pytest.raises(GladiaConfigError):
        gladia.live.connect(**kwargs)  # type: ignore[arg-type]
    assert server.create_bodies == []


async def test_a_stalled_handshake_is_bounded_by_the_clients_connect_timeout() -> None:
    """A server that accepts TCP but never answers the upgrade: retried, then a typed error."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    session = LiveSession(id=SESSION_ID, url=f"ws://127.0.0.1:{port}/v2/live?token=t")
    try:
        async with GladiaClient("k", base_url="http://127.0.0.1:1", connect_timeout=0.2) as gladia:
            with pytest.raises(APIConnectionError, match="after 2 attempts"):
                async with asyncio.timeout(10):  # guard: without the bound this would hang
                    async with gladia.live.connect(session=session, max_reconnects=1):
                        pass
        assert len(accepted) == 2
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
