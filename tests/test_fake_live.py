"""The fake live API: POST /v2/live, the WebSocket protocol, resume, faults on the socket."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gladia_async.testing import FakeGladia

KEY = {"x-gladia-key": "test-key"}
ALL_MESSAGES = {
    "receive_partial_transcripts": True,
    "receive_speech_events": True,
    "receive_acknowledgments": True,
    "receive_lifecycle_events": True,
}
SECOND = bytes(32000)  # 1 s of 16 kHz 16-bit mono PCM


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(live_utterance_seconds=1.0) as f:
        yield f


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def init(
    s: aiohttp.ClientSession, fake: FakeGladia, body: dict[str, Any], query: str = ""
) -> dict[str, Any]:
    async with s.post(f"{fake.url}/v2/live{query}", json=body, headers=KEY) as r:
        assert r.status == 201, await r.text()
        out: dict[str, Any] = await r.json()
        return out


async def read_all(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    out = []
    async for msg in ws:
        assert msg.type == aiohttp.WSMsgType.TEXT
        out.append(json.loads(msg.data))
    return out


async def test_full_session(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    body = {
        "messages_config": ALL_MESSAGES,
        "realtime_processing": {
            "translation": True,
            "translation_config": {"target_languages": ["fr"]},
            "named_entity_recognition": True,
            "sentiment_analysis": True,
        },
        "post_processing": {"summarization": True, "chapterization": True},
        "custom_metadata": {"call": "c1"},
    }
    created = await init(session, fake, body, "?region=eu-west")
    assert set(created) == {"id", "created_at", "url"}
    assert created["url"].startswith(f"{fake.ws_url}/v2/live?token=")
    job = fake.store.job_json(created["id"])
    assert job["status"] == "queued" and job["custom_metadata"] == {"call": "c1"}
    async with session.ws_connect(created["url"]) as ws:
        await ws.send_bytes(SECOND)
        chunk = base64.b64encode(SECOND).decode()
        await ws.send_str(json.dumps({"type": "audio_chunk", "data": {"chunk": chunk}}))
        await ws.send_bytes(SECOND[:16000])
        await ws.send_str(json.dumps({"type": "stop_recording"}))
        msgs = await read_all(ws)
    assert ws.close_code == 1000
    types = [m["type"] for m in msgs]
    assert types[:2] == ["start_session", "start_recording"]
    assert types[-1] == "end_session"
    assert all(m["session_id"] == created["id"] and m["created_at"].endswith("Z") for m in msgs)
    acks = [m for m in msgs if m["type"] == "audio_chunk"]
    assert [a["data"]["byte_range"] for a in acks] == [[0, 32000], [32000, 64000], [64000, 80000]]
    assert acks[1]["data"]["time_range"] == [1.0, 2.0] and all(a["acknowledged"] for a in acks)
    finals = [m for m in msgs if m["type"] == "transcript" and m["data"]["is_final"]]
    partials = [m for m in msgs if m["type"] == "transcript" and not m["data"]["is_final"]]
    assert len(finals) == 3 and partials  # 1 s + 1 s + the 0.5 s tail flushed at stop
    assert partials[0]["data"]["id"] == finals[0]["data"]["id"] == "00-00000001"
    for kind in (
        "speech_start",
        "speech_end",
        "translation",
        "named_entity_recognition",
        "sentiment_analysis",
        "stop_recording",
        "end_recording",
        "post_transcript",
        "post_final_transcript",
        "post_summarization",
        "post_chapterization",
    ):
        assert kind in types, kind
    stop = next(m for m in msgs if m["type"] == "stop_recording")
    assert stop["acknowledged"] and stop["data"]["recording_duration"] == 2.5
    assert types.index("stop_recording") < types.index("end_recording")
    tr = next(m for m in msgs if m["type"] == "translation")
    assert tr["error"] is None and tr["data"]["target_language"] == "fr"
    final = next(m for m in msgs if m["type"] == "post_final_transcript")["data"]
    assert final["metadata"]["audio_duration"] == 2.5 and "messages" not in final
    job = fake.store.job_json(created["id"])
    assert job["status"] == "done" and job["completed_at"]
    assert len(job["result"]["transcription"]["utterances"]) == 3
    assert {"summarization", "chapterization", "translation"} <= set(job["result"])
    messages = [json.loads(m) for m in job["result"]["messages"]]
    assert [m["type"] for m in messages if m["type"] == "transcript"]
    async with session.get(f"{fake.url}/v2/live/{created['id']}/file", headers=KEY) as r:
        wav = await r.read()
    assert wav[:4] == b"RIFF" and len(wav) == 44 + 80000
    async with session.delete(f"{fake.url}/v2/live/{created['id']}", headers=KEY) as r:
        assert r.status == 202


async def test_defaults_send_only_final_transcripts(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    created = await init(session, fake, {})
    async with session.ws_connect(created["url"]) as ws:
        for _ in range(3):
            await ws.send_bytes(SECOND)
        await ws.send_str('{"type": "stop_recording"}')
        msgs = await read_all(ws)
    types = [m["type"] for m in msgs]
    assert set(types) == {"transcript", "post_transcript", "post_final_transcript"}
    assert all(m["data"]["is_final"] for m in msgs if m["type"] == "transcript")


async def test_sample_format_changes_utterance_pace(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    body = {"sample_rate": 8000, "bit_depth": 8, "channels": 2, "encoding": "wav/pcm"}
    created = await init(session, fake, body)
    async with session.ws_connect(created["url"]) as ws:
        await ws.send_bytes(bytes(16000 * 3))  # 3 s at 16000 bytes per second
        await ws.send_str('{"type": "stop_recording"}')
        msgs = await read_all(ws)
    assert sum(m["type"] == "transcript" for m in msgs) == 3


async def test_close_1000_without_stop_ends_session(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    created = await init(session, fake, {"messages_config": ALL_MESSAGES})
    async with session.ws_connect(created["url"]) as ws:
        await ws.send_bytes(SECOND)
        await ws.receive()  # start_session
        await ws.close(code=1000)
    job = fake.store.job_json(created["id"])
    assert job["status"] == "done" and job["result"]["metadata"]["audio_duration"] == 1.0


async def test_reconnect_resumes_then_4403_after_end(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    created = await init(session, fake, {"messages_config": ALL_MESSAGES})
    ws = await session.ws_connect(created["url"])
    await ws.send_bytes(SECOND)
    await ws.receive()
    ws._response.connection.transport.abort()  # type: ignore[union-attr]  # network drop
    await ws.close()
    assert fake.store.job_json(created["id"])["status"] == "processing"
    async with session.ws_connect(created["url"]) as ws2:
        await ws2.send_bytes(SECOND)
        await ws2.send_str('{"type": "stop_recording"}')
        msgs = await read_all(ws2)
    assert "start_session" not in [m["type"] for m in msgs]
    acks = [m["data"]["byte_range"] for m in msgs if m["type"] == "audio_chunk"]
    assert acks == [[32000, 64000]]  # byte counts continue across connections
    end = next(m for m in msgs if m["type"] == "end_recording")
    assert end["data"]["recording_duration"] == 2.0
    async with session.ws_connect(created["url"]) as ws3:
        assert (await ws3.receive()).type == aiohttp.WSMsgType.CLOSE
    assert ws3.close_code == 4403


async def test_unknown_token(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(f"{fake.ws_url}/v2/live?token=nope") as ws:
        await ws.receive()
    assert ws.close_code == 4401


async def test_ws_drop_fault_once(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    f = fake.inject("live.ws", "ws_drop", after_frames=2)
    created = await init(session, fake, {"messages_config": {"receive_acknowledgments": True}})
    async with session.ws_connect(created["url"]) as ws:
        for _ in range(3):
            await ws.send_bytes(SECOND)
        msgs = await read_all(ws)
    assert ws.close_code == 1011 and f.fired == 1
    assert [m["data"]["byte_range"][1] for m in msgs if m["type"] == "audio_chunk"] == [
        32000,
        64000,
    ]
    async with session.ws_connect(created["url"]) as ws:  # the fault is spent: resumes
        await ws.send_bytes(SECOND)
        await ws.send_str('{"type": "stop_recording"}')
        msgs = await read_all(ws)
    assert ws.close_code == 1000
    assert fake.requests.count("live.ws") == 2 and fake.stats["ws_connections"] == 2


async def test_bad_json_chunk_rejected(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    created = await init(session, fake, {"messages_config": {"receive_acknowledgments": True}})
    async with session.ws_connect(created["url"]) as ws:
        await ws.send_str('{"type": "audio_chunk", "data": {"chunk": "***"}}')
        msg = await ws.receive_json()
        assert msg["acknowledged"] is False and msg["data"] is None and msg["error"]["message"]
        await ws.send_str("not json")
        await ws.send_str('{"type": "stop_recording"}')
        msgs = await read_all(ws)
    assert msgs[0]["type"] == "stop_recording"


@pytest.mark.parametrize(
    ("body", "query"),
    [
        ({"sample_rate": 12345}, ""),
        ({"channels": 9}, ""),
        ({"encoding": "mp3"}, ""),
        ({"messages_config": {"receive_errors": "yes"}}, ""),
        ({}, "?region=mars"),
    ],
)
async def test_live_create_400(
    fake: FakeGladia, session: aiohttp.ClientSession, body: dict[str, Any], query: str
) -> None:
    async with session.post(f"{fake.url}/v2/live{query}", json=body, headers=KEY) as r:
        assert r.status == 400
        assert (await r.json())["validation_errors"]


async def test_live_delete_403_until_done(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    created = await init(session, fake, {})
    async with session.delete(f"{fake.url}/v2/live/{created['id']}", headers=KEY) as r:
        assert r.status == 403
    async with session.get(f"{fake.url}/v2/live?status=queued", headers=KEY) as r:
        assert [i["id"] for i in (await r.json())["items"]] == [created["id"]]
