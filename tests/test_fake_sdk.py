"""The official Gladia SDK (gladiaio-sdk) runs against the fake: proof it speaks the protocol.

Every call goes to the fake on 127.0.0.1 (api_url=fake.url); nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import gladiaio_sdk as sdk  # a dev dependency: missing, the module fails rather than skips
import pytest

from gladia_async.testing import FakeGladia, Lifecycle
from gladia_async.testing.data import synth_wav

from ._servers import other_tasks

KEY = "sdk-test-key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    lifecycle = Lifecycle(queued=0.05, processing=0.1)
    async with FakeGladia(
        api_key=KEY,
        jobs=5,
        live_jobs=3,
        seed=1,
        transcript_seconds=10.0,
        lifecycle=lifecycle,
        live_utterance_seconds=0.5,
    ) as f:
        yield f


def only_loopback(fake: FakeGladia) -> None:
    assert fake.requests, "the SDK sent nothing to the fake"
    for rec in fake.requests:
        assert rec.route != "unknown", (rec.method, rec.path)
        if rec.route != "live.ws":
            assert rec.headers["x-gladia-key"] == KEY
            assert rec.headers["Host"] == f"127.0.0.1:{fake.port}"


async def test_sdk_pre_recorded(fake: FakeGladia) -> None:
    client = sdk.GladiaClient(api_key=KEY, api_url=fake.url).prerecorded_async()
    try:
        wav = synth_wav(1.5)
        upload = await client.upload_file(io.BytesIO(wav))
        assert upload.audio_url.startswith(fake.url)
        assert upload.audio_metadata.size == len(wav)
        created = await client.create(
            {
                "audio_url": upload.audio_url,
                "diarization": True,
                "sentences": True,
                "custom_metadata": {"case": "sdk"},
            }
        )
        job: Any = await client.get(created.id)
        assert job.id == created.id and job.status in ("queued", "processing")
        for _ in range(100):
            job = await client.get(created.id)
            if job.status == "done":
                break
            await asyncio.sleep(0.02)
        assert job.status == "done"
        assert job.result.transcription.utterances is not None
        assert await client.get_file(created.id) == wav
        page: Any = await client.list({"limit": 2, "status": ["done", "error"]})
        assert len(page.items) == 2 and page.next is not None
        page2: Any = await client.list({"url": page.next})
        assert {i.id for i in page2.items}.isdisjoint({i.id for i in page.items})
        assert await client.delete(created.id) is True
        history: Any = await client.list({"limit": 100})
        assert created.id not in {i.id for i in history.items}
    finally:
        await client._http_client.close()
    only_loopback(fake)


async def test_sdk_live_session(fake: FakeGladia) -> None:
    live = sdk.GladiaClient(api_key=KEY, api_url=fake.url).live_async()
    messages: list[Any] = []
    errors: list[Exception] = []
    ended = asyncio.Event()
    session = live.start_session(
        {
            "encoding": "wav/pcm",
            "sample_rate": 16000,
            "bit_depth": 16,
            "channels": 1,
            "messages_config": {
                "receive_partial_transcripts": True,
                "receive_lifecycle_events": True,
            },
            "post_processing": {"summarization": True},
        }
    )
    session.on("message", messages.append)
    session.on("error", errors.append)
    session.on("ended", lambda _msg: ended.set())
    try:
        for _ in range(10):  # 1 s of audio in 100 ms chunks
            session.send_audio(bytes(3200))
            await asyncio.sleep(0.01)
        for _ in range(100):
            if session.status == "connected":
                break
            await asyncio.sleep(0.02)
        session.stop_recording()
        await asyncio.wait_for(ended.wait(), 10)
        job_id = await session.get_session_id()
        types = [m.type for m in messages]
        assert "transcript" in types and "post_final_transcript" in types
        assert "end_session" in types and not errors
        job: Any = await live.get(job_id)
        assert job.status == "done" and job.result.messages
        assert (await live.get_file(job_id))[:4] == b"RIFF"
        page: Any = await live.list({"limit": 1})
        assert page.items[0].id == job_id
        assert await live.delete(job_id) is True
    finally:
        await live._http_client.close()
        await _sdk_tasks_done()
    only_loopback(fake)


async def _sdk_tasks_done() -> None:
    """Wait (bounded) for the SDK's fire-and-forget tasks: the SDK's own, not the fake's."""
    async with asyncio.timeout(10):
        while pending := [t for t in other_tasks() if "aiohttp/web" not in repr(t)]:
            await asyncio.wait(pending, timeout=0.05)
