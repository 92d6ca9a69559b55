"""The exact POST /v2/live bodies and queries sent (tests/_live_server.py records them; the fake
fills defaults in) and option checks. REST calls against the fake: test_live_fake.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gladia_async import GladiaClient, GladiaConfigError
from gladia_async.types.live import LiveRequest, LiveSession, MessagesConfig

from ._live_server import SESSION_ID, LiveServer


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
