"""Cross-check: what the fake serves decodes strictly into the client's own types.

The fake builds JSON from plain dicts; this proves its shapes match gladia_async.types
(and so REFERENCE.md), for jobs with every add-on, list pages, uploads, errors and every
live WebSocket message type.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import msgspec

from gladia_async import types as T
from gladia_async.testing import DataSpec, FakeGladia, build_store

KEY = {"x-gladia-key": "test-key"}


def strict(raw: bytes | str, type_: Any) -> Any:
    return msgspec.json.decode(raw, type=type_, strict=True)


def test_generated_jobs_decode() -> None:
    spec = DataSpec(jobs=40, live_jobs=15, seed=3, feature_rate=1.0, transcript_seconds=(0, 90))
    store = build_store(spec)
    for jid in store.ids():
        job = strict(store.jobs[jid].encoded(), T.PreRecordedJob)
        assert job.id == jid
    done = 0
    for jid in store.ids("live"):
        job = strict(store.jobs[jid].encoded(), T.LiveJob)
        if job.status == "done":
            done += 1
            assert job.result is not None and job.result.messages is not None
    assert done > 0


async def test_served_shapes_decode() -> None:
    async with FakeGladia(jobs=10, seed=1, transcript_seconds=5.0) as fake:
        async with aiohttp.ClientSession() as s:
            async with s.get(fake.url + "/v2/pre-recorded?limit=4", headers=KEY) as r:
                page = strict(await r.read(), T.Page[T.PreRecordedJob])
            assert len(page.items) == 4 and page.next_url is not None
            form = aiohttp.FormData()
            form.add_field("audio", b"RIFFxxxx", filename="a.wav")
            async with s.post(fake.url + "/v2/upload", data=form, headers=KEY) as r:
                up = strict(await r.read(), T.UploadResult)
            async with s.post(
                fake.url + "/v2/pre-recorded", json={"audio_url": up.audio_url}, headers=KEY
            ) as r:
                strict(await r.read(), T.CreatedJob)
            async with s.get(fake.url + "/v2/pre-recorded/nope", headers=KEY) as r:
                err = strict(await r.read(), T.ErrorResponse)
            assert err.request_id.startswith("G-")
            body = {
                "messages_config": {
                    k: True
                    for k in (
                        "receive_partial_transcripts",
                        "receive_speech_events",
                        "receive_acknowledgments",
                        "receive_lifecycle_events",
                    )
                },
                "realtime_processing": {
                    "translation": True,
                    "translation_config": {"target_languages": ["fr"]},
                    "named_entity_recognition": True,
                    "sentiment_analysis": True,
                },
                "post_processing": {"summarization": True, "chapterization": True},
            }
            async with s.post(fake.url + "/v2/live", json=body, headers=KEY) as r:
                session = strict(await r.read(), T.LiveSession)
            seen: set[str] = set()
            async with s.ws_connect(session.url) as ws:
                for _ in range(5):
                    await ws.send_bytes(bytes(32000))
                await ws.send_str('{"type": "stop_recording"}')
                async for msg in ws:
                    decoded = strict(msg.data, T.LiveMessage)
                    seen.add(json.loads(msg.data)["type"])
                    assert not isinstance(decoded, dict)
            async with s.get(f"{fake.url}/v2/live/{session.id}", headers=KEY) as r:
                job = strict(await r.read(), T.LiveJob)
            assert job.status == "done"
    assert len(seen) == 16  # every server message type of REFERENCE 8.4
