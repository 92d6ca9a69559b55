"""The fake Gladia API: REST endpoints, status codes, lists, lifecycle and the data generator."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp
import pytest

from gladia_async.testing import DataSpec, FakeGladia, Lifecycle, build_store
from gladia_async.testing.data import make_utterances, synth_wav

KEY = {"x-gladia-key": "test-key"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def get_json(s: aiohttp.ClientSession, url: str, status: int = 200, **kw: Any) -> Any:
    async with s.get(url, headers=kw.pop("headers", KEY), **kw) as r:
        assert r.status == status, await r.text()
        return await r.json()


def assert_envelope(body: dict[str, Any], status: int, path: str) -> None:
    assert body["statusCode"] == status
    assert body["path"] == path
    assert body["request_id"].startswith("G-") and len(body["request_id"]) == 10
    assert body["timestamp"].endswith("Z")
    assert isinstance(body["message"], str)


async def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeGladia(host="0.0.0.0")
    FakeGladia(host="0.0.0.0", allow_non_loopback=True)  # allowed when asked (not started)


async def test_url_is_loopback_with_free_port() -> None:
    async with FakeGladia() as a, FakeGladia() as b:
        assert a.url.startswith("http://127.0.0.1:")
        assert a.port != b.port and a.port > 0
    assert "stopped" in repr(a)


async def test_auth_401(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(api_key="secret-key", jobs=3) as fake:
        for headers in ({}, {"x-gladia-key": "wrong"}):
            body = await get_json(session, fake.url + "/v2/pre-recorded", 401, headers=headers)
            assert_envelope(body, 401, "/v2/pre-recorded")
            assert body["message"] == "gladia key not found"
        await get_json(
            session, fake.url + "/v2/pre-recorded", headers={"x-gladia-key": "secret-key"}
        )
        # headers are logged for assertions but never printed
        assert fake.requests[0].headers.get("x-gladia-key") is None
        assert fake.requests[1].headers["x-gladia-key"] == "wrong"
        assert "wrong" not in repr(list(fake.requests))


async def test_unknown_path_404(session: aiohttp.ClientSession) -> None:
    async with FakeGladia() as fake:
        body = await get_json(session, fake.url + "/v3/nothing", 404)
        assert_envelope(body, 404, "/v3/nothing")


async def test_upload_multipart_and_file_roundtrip(session: aiohttp.ClientSession) -> None:
    wav = synth_wav(2.0)
    async with FakeGladia() as fake:
        form = aiohttp.FormData()
        form.add_field(
            "audio", wav, filename="meeting.wav", content_type="application/octet-stream"
        )
        async with session.post(fake.url + "/v2/upload", data=form, headers=KEY) as r:
            assert r.status == 200
            up = await r.json()
        meta = up["audio_metadata"]
        assert up["audio_url"] == f"{fake.url}/file/{meta['id']}"
        assert meta["filename"] == "meeting.wav" and meta["extension"] == "wav"
        assert meta["size"] == len(wav) and meta["audio_duration"] == 2.0
        assert meta["number_of_channels"] == 1 and "source" not in meta
        async with session.get(up["audio_url"], headers=KEY) as r:
            assert r.status == 200 and await r.read() == wav
        # create a job from it: its file is the uploaded bytes
        async with session.post(
            fake.url + "/v2/pre-recorded", json={"audio_url": up["audio_url"]}, headers=KEY
        ) as r:
            assert r.status == 201
            job = await r.json()
        async with session.get(f"{fake.url}/v2/pre-recorded/{job['id']}/file", headers=KEY) as r:
            assert r.status == 200
            assert r.content_type == "application/octet-stream"
            assert await r.read() == wav


async def test_upload_by_url_and_errors(session: aiohttp.ClientSession) -> None:
    async with FakeGladia() as fake:
        src = "https://storage.example.com/a/call.mp3"
        async with session.post(fake.url + "/v2/upload", json={"audio_url": src}, headers=KEY) as r:
            assert r.status == 200
            up = await r.json()
        assert up["audio_metadata"]["source"] == src
        assert up["audio_metadata"]["filename"] == "call.mp3"
        async with session.post(fake.url + "/v2/upload", json={"audio_url": 3}, headers=KEY) as r:
            assert r.status == 400
            body = await r.json()
        assert_envelope(body, 400, "/v2/upload")
        assert body["validation_errors"]
        form = aiohttp.FormData()
        form.add_field("other", b"x", filename="x.wav")
        async with session.post(fake.url + "/v2/upload", data=form, headers=KEY) as r:
            assert r.status == 400
        async with session.get(fake.url + "/file/nope", headers=KEY) as r:
            assert r.status == 404


async def test_prerecorded_lifecycle_and_features(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(lifecycle=Lifecycle(queued=0.05, processing=0.05)) as fake:
        body = {
            "audio_url": "https://example.com/a.mp3",
            "diarization": True,
            "translation": True,
            "translation_config": {"target_languages": ["fr"]},
            "summarization": True,
            "subtitles": True,
            "custom_metadata": {"user": "u1"},
        }
        async with session.post(fake.url + "/v2/pre-recorded", json=body, headers=KEY) as r:
            assert r.status == 201
            created = await r.json()
        assert created["result_url"] == f"{fake.url}/v2/pre-recorded/{created['id']}"
        job = await get_json(session, created["result_url"])
        assert job["status"] == "queued" and job["result"] is None
        assert job["kind"] == "pre-recorded" and job["version"] == 2
        assert job["custom_metadata"] == {"user": "u1"}
        assert "custom_metadata" not in job["request_params"]
        assert job["request_params"]["diarization"] is True
        # 403 while not done
        async with session.delete(created["result_url"], headers=KEY) as r:
            assert r.status == 403
            assert_envelope(await r.json(), 403, urlsplit(created["result_url"]).path)
        for _ in range(100):
            job = await get_json(session, created["result_url"])
            if job["status"] == "done":
                break
            await asyncio.sleep(0.02)
        assert job["status"] == "done" and job["completed_at"]
        result = job["result"]
        assert {"metadata", "transcription", "translation", "summarization"} <= set(result)
        utts = result["transcription"]["utterances"]
        assert utts and all("speaker" in u for u in utts)
        assert [s["format"] for s in result["transcription"]["subtitles"]] == ["srt", "vtt"]
        assert result["translation"]["results"][0]["languages"] == ["fr"]
        async with session.delete(created["result_url"], headers=KEY) as r:
            assert r.status == 202 and await r.read() == b""
        await get_json(session, created["result_url"], 404)
        async with session.delete(created["result_url"], headers=KEY) as r:
            assert r.status == 404


async def test_lifecycle_manual_and_error_rate(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(lifecycle=Lifecycle(auto=False)) as fake:
        async with session.post(
            fake.url + "/v2/pre-recorded", json={"audio_url": "https://e.com/a.wav"}, headers=KEY
        ) as r:
            jid = (await r.json())["id"]
        fake.store.set_status(jid, "error", error_code=422)
        job = await get_json(session, f"{fake.url}/v2/pre-recorded/{jid}")
        assert job["status"] == "error" and job["error_code"] == 422
        assert job["result"] is None and job["file"] is None
        await get_json(session, f"{fake.url}/v2/pre-recorded/{jid}/file", 404)
    lc = Lifecycle(queued=0.01, processing=0.01, error_rate=1.0, error_code=500)
    async with FakeGladia(lifecycle=lc) as fake:
        async with session.post(
            fake.url + "/v2/pre-recorded", json={"audio_url": "https://e.com/a.wav"}, headers=KEY
        ) as r:
            jid = (await r.json())["id"]
        for _ in range(100):
            if fake.store.jobs[jid].status == "error":
                break
            await asyncio.sleep(0.01)
        assert fake.store.job_json(jid)["error_code"] == 500


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "audio_url"),
        ({"audio_url": "ftp://x"}, "audio_url"),
        ({"audio_url": "https://e.com/a", "diarization": "yes"}, "diarization"),
        ({"audio_url": "https://e.com/a", "language_config": {"languages": ["xx"]}}, "languages"),
        ({"audio_url": "https://e.com/a", "translation": True}, "target_languages"),
        ({"audio_url": "https://e.com/a", "custom_metadata": {"k": "v" * 3000}}, "2000"),
        ({"audio_url": "https://e.com/a", "language_config": {"languages": [{}]}}, "languages"),
        ({"audio_url": "https://e.com/a", "callback": True, "callback_config": "x"}, "object"),
        (
            {"audio_url": "https://e.com/a", "translation": True, "translation_config": [1]},
            "translation_config",
        ),
    ],
)
async def test_create_validation_400(
    session: aiohttp.ClientSession, body: dict[str, Any], fragment: str
) -> None:
    async with FakeGladia() as fake:
        async with session.post(fake.url + "/v2/pre-recorded", json=body, headers=KEY) as r:
            assert r.status == 400
            err = await r.json()
        assert_envelope(err, 400, "/v2/pre-recorded")
        assert any(fragment in e for e in err["validation_errors"])


@pytest.mark.parametrize(
    "body", [{"realtime_processing": "yes"}, {"post_processing": [True]}, {"language_config": 1}]
)
async def test_live_create_validation_400(
    session: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    async with FakeGladia() as fake:
        async with session.post(fake.url + "/v2/live", json=body, headers=KEY) as r:
            assert r.status == 400
            assert_envelope(await r.json(), 400, "/v2/live")


async def test_create_422_for_unknown_upload(session: aiohttp.ClientSession) -> None:
    async with FakeGladia() as fake:
        url = f"{fake.url}/file/00000000-0000-4000-a000-000000000000"
        async with session.post(
            fake.url + "/v2/pre-recorded", json={"audio_url": url}, headers=KEY
        ) as r:
            assert r.status == 422


async def test_get_404_and_kinds(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=2, live_jobs=2, seed=3) as fake:
        await get_json(
            session, fake.url + "/v2/pre-recorded/00000000-0000-0000-0000-000000000000", 404
        )
        live_id = fake.store.ids("live")[0]
        pr_id = fake.store.ids("pre-recorded")[0]
        await get_json(session, f"{fake.url}/v2/pre-recorded/{live_id}", 404)
        await get_json(session, f"{fake.url}/v2/live/{pr_id}", 404)
        live = await get_json(session, f"{fake.url}/v2/live/{live_id}")
        assert live["kind"] == "live" and "messages_config" in live["request_params"]
        # deprecated alias serves both kinds
        assert (await get_json(session, f"{fake.url}/v2/transcription/{live_id}"))["id"] == live_id


async def test_live_patch(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(live_jobs=1) as fake:
        url = f"{fake.url}/v2/live/{fake.store.ids('live')[0]}"
        async with session.patch(url, json={"debug": 1}, headers=KEY) as r:
            assert r.status == 204
        async with session.patch(url, json=[1], headers=KEY) as r:
            assert r.status == 400
        async with session.patch(url, data=b"{" + b" " * 100_001 + b"}", headers=KEY) as r:
            assert r.status == 413
        async with session.patch(fake.url + "/v2/live/nope", json={}, headers=KEY) as r:
            assert r.status == 404


# --- lists ---------------------------------------------------------------------------------


async def collect(
    s: aiohttp.ClientSession, fake: FakeGladia, query: str, path: str = "/v2/pre-recorded"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow next links from a query; return (items, pages)."""
    url: str | None = f"{fake.url}{path}?{query}"
    items: list[dict[str, Any]] = []
    pages = []
    while url:
        page = await get_json(s, url)
        pages.append(page)
        items += page["items"]
        url = page["next"]
    return items, pages


def sort_key(job: dict[str, Any]) -> tuple[str, str]:
    return job["created_at"], job["id"]


async def test_list_order_links_and_pages(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=25, seed=5, transcript_seconds=0) as fake:
        items, pages = await collect(session, fake, "limit=10")
        assert len(pages) == 3 and [len(p["items"]) for p in pages] == [10, 10, 5]
        assert len({i["id"] for i in items}) == 25
        # newest first by created_at, ties by id ascending
        expected = sorted(
            items, key=lambda j: (-datetime.fromisoformat(j["created_at"]).timestamp(), j["id"])
        )
        assert [i["id"] for i in items] == [i["id"] for i in expected]
        assert items == [fake.store.job_json(i) for i in fake.store.ids()]
        p0, p1 = pages[0], pages[1]
        assert p0["first"] == f"{fake.url}/v2/pre-recorded?offset=0&limit=10"
        assert p0["current"] == p0["first"]
        assert p0["next"] == f"{fake.url}/v2/pre-recorded?offset=10&limit=10"
        assert p1["current"] == p0["next"] and p1["first"] == p0["first"]
        assert pages[2]["next"] is None
        default = await get_json(session, fake.url + "/v2/pre-recorded")
        assert len(default["items"]) == 20
        beyond = await get_json(session, fake.url + "/v2/pre-recorded?offset=100")
        assert beyond["items"] == [] and beyond["next"] is None


@pytest.mark.parametrize("variant", [False, True])
async def test_list_exactly_full_last_page(session: aiohttp.ClientSession, variant: bool) -> None:
    async with FakeGladia(jobs=20, next_on_full_last_page=variant) as fake:
        _, pages = await collect(session, fake, "limit=10")
        assert [len(p["items"]) for p in pages] == ([10, 10, 0] if variant else [10, 10])
        assert pages[-1]["next"] is None


async def test_list_status_filter(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=300, seed=2, transcript_seconds=0) as fake:
        all_items, _ = await collect(session, fake, "limit=100")
        want = [i["id"] for i in all_items if i["status"] in ("error", "queued")]
        assert want
        for q in ("status=error&status=queued", "status=error,queued", "status=queued,error"):
            items, pages = await collect(session, fake, q + "&limit=7")
            assert [i["id"] for i in items] == want
            assert q in pages[0]["first"] and q in (pages[0]["next"] or "")
        err = await get_json(session, fake.url + "/v2/pre-recorded?status=bogus", 400)
        assert err["validation_errors"]


async def test_list_date_filters(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=400, seed=9, transcript_seconds=0) as fake:
        items, _ = await collect(session, fake, "limit=100")
        day = items[5]["created_at"][:10]
        on_day = [i["id"] for i in items if i["created_at"].startswith(day)]
        got, _ = await collect(session, fake, f"date={day}&limit=3")
        assert [i["id"] for i in got] == on_day
        pivot = items[50]["created_at"]
        before, pages = await collect(session, fake, f"before_date={pivot}&limit=40")
        assert [i["id"] for i in before] == [i["id"] for i in items if i["created_at"] < pivot]
        assert "before_date=" in pages[0]["next"]
        after, _ = await collect(session, fake, f"after_date={pivot}")
        assert [i["id"] for i in after] == [i["id"] for i in items if i["created_at"] > pivot]
        lo, hi = items[80]["created_at"], items[20]["created_at"]
        both, _ = await collect(session, fake, f"after_date={lo}&before_date={hi}&status=done")
        assert [i["id"] for i in both] == [
            i["id"] for i in items if lo < i["created_at"] < hi and i["status"] == "done"
        ]
        for bad in ("date=notadate", "before_date=yesterday", "limit=0", "offset=-1", "limit=x"):
            await get_json(session, f"{fake.url}/v2/pre-recorded?{bad}", 400)


async def test_list_custom_metadata_filter(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=100, seed=4, transcript_seconds=0) as fake:
        fake.store.add_job(custom_metadata={"tenant_id": "t-x", "deep": {"a": 1, "b": 2}})
        fake.store.add_job(custom_metadata={"tenant_id": "t-x", "deep": {"a": 2}})
        fake.store.add_job(custom_metadata=None)
        flt = json.dumps({"tenant_id": "t-x", "deep": {"a": 1}})
        items, pages = await collect(session, fake, "custom_metadata=" + quote(flt))
        assert len(items) == 1 and items[0]["custom_metadata"]["deep"] == {"a": 1, "b": 2}
        assert dict(parse_qsl(urlsplit(pages[0]["first"]).query))["custom_metadata"] == flt
        items, _ = await collect(
            session, fake, "custom_metadata=" + quote(json.dumps({"tenant_id": "tenant-1"}))
        )
        assert items and all(i["custom_metadata"]["tenant_id"] == "tenant-1" for i in items)
        await get_json(session, fake.url + "/v2/pre-recorded?custom_metadata=[1]", 400)
        await get_json(session, fake.url + "/v2/pre-recorded?custom_metadata={bad", 400)


async def test_live_list_and_store_mutation(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=5, live_jobs=7, seed=1) as fake:
        items, _ = await collect(session, fake, "limit=5", path="/v2/live")
        assert len(items) == 7 and all(i["kind"] == "live" for i in items)
        assert all("messages" in i["result"] for i in items if i["status"] == "done")
        new = fake.store.add_job("live", status="done")
        page = await get_json(session, fake.url + "/v2/live?limit=1")
        assert page["items"][0]["id"] == new.id  # created now: newest
        assert fake.store.remove(new.id) and not fake.store.remove(new.id)
        page = await get_json(session, fake.url + "/v2/live?limit=1")
        assert page["items"][0]["id"] == items[0]["id"]
        fake.store.set_status(items[0]["id"], "processing")
        page = await get_json(session, fake.url + "/v2/live?limit=1&status=processing")
        assert page["items"][0]["id"] == items[0]["id"] and page["items"][0]["result"] is None


async def test_historical_job_file(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=3, seed=1, data=DataSpec(jobs=3, statuses={"done": 1})) as fake:
        async with session.get(
            f"{fake.url}/v2/pre-recorded/{fake.store.ids()[0]}/file", headers=KEY
        ) as r:
            assert r.status == 200 and (await r.read())[:4] == b"RIFF"


# --- generator -------------------------------------------------------------------------------


def test_generator_is_deterministic() -> None:
    spec = DataSpec(jobs=60, live_jobs=10, seed=42)
    a, b = build_store(spec), build_store(spec)
    assert a.ids() == b.ids() and a.ids("live") == b.ids("live")
    assert [a.jobs[i].encoded() for i in a.ids()] == [b.jobs[i].encoded() for i in b.ids()]
    c = build_store(DataSpec(jobs=60, seed=43))
    assert c.ids() != a.ids()


def test_generator_mix_and_sizes() -> None:
    store = build_store(DataSpec(jobs=400, seed=1))
    statuses = {store.jobs[i].status for i in store.ids()}
    assert statuses == {"done", "error", "queued", "processing"}
    created = [store.job_json(i)["created_at"] for i in store.ids()[:50]]
    assert all(c < "2026-11-01" for c in created)
    fixed = build_store(DataSpec(jobs=5, seed=1, transcript_seconds=60.0, statuses={"done": 1}))
    for jid in fixed.ids():
        job = fixed.job_json(jid)
        utts = job["result"]["transcription"]["utterances"]
        assert 50 < utts[-1]["end"] <= 60.0
        words = [w for u in utts for w in u["words"]]
        assert all(w["start"] <= w["end"] for w in words)
        assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(words))
    empty = build_store(DataSpec.lean(20))
    done = [i for i in empty.ids() if empty.jobs[i].status == "done"]
    assert done
    for jid in done:
        assert empty.job_json(jid)["result"]["transcription"]["utterances"] == []


@pytest.mark.parametrize("seconds", [0.2, 0.9, 7.31, 3600.0])
def test_utterances_fit_the_audio(seconds: float) -> None:
    utts = make_utterances(random.Random(5), seconds, speakers=2, channels=2)
    assert utts == make_utterances(random.Random(5), seconds, speakers=2, channels=2)
    words = [w for u in utts for w in u["words"]]
    assert all(0 < w["start"] < w["end"] <= seconds for w in words)
    assert all(a["end"] <= b["start"] for a, b in itertools.pairwise(words))
    for u in utts:
        assert u["text"] == " ".join(w["word"] for w in u["words"]) and u["text"].endswith(".")
        assert (u["start"], u["end"]) == (u["words"][0]["start"], u["words"][-1]["end"])
        assert u["speaker"] in (0, 1) and u["channel"] in (0, 1)
    if seconds > 60:
        assert seconds - 2 < utts[-1]["end"] and len({u["text"] for u in utts}) > 100


def test_benchmark_presets_sizes() -> None:
    full = build_store(DataSpec.full_pages(3))
    size = sum(len(full.jobs[i].encoded()) for i in full.ids())
    assert 100_000 < size / 3 < 300_000  # about 16 MB per 100 jobs
    short = build_store(DataSpec.short(20))
    sizes = [len(short.jobs[i].encoded()) for i in short.ids()]
    assert all(1_000 < s < 10_000 for s in sizes)


@pytest.mark.soak
def test_generator_100k_lean_jobs() -> None:
    store = build_store(DataSpec.lean(100_000, seed=1))
    assert store.count("pre-recorded") == 100_000
    store.warm()


async def test_build_large_store_and_page_deep(session: aiohttp.ClientSession) -> None:
    store = build_store(DataSpec.lean(5_000, seed=1))
    async with FakeGladia(store=store) as fake, FakeGladia(store=store) as other:
        page = await get_json(session, fake.url + "/v2/pre-recorded?offset=4990&limit=20")
        assert len(page["items"]) == 10 and page["next"] is None
        same = await get_json(session, other.url + "/v2/pre-recorded?offset=4990&limit=20")
        assert [i["id"] for i in same["items"]] == [i["id"] for i in page["items"]]


async def test_store_add_job_created_at() -> None:
    store = build_store(DataSpec(jobs=10, seed=1))
    old = store.add_job(created_at=datetime(2020, 1, 1, tzinfo=UTC), status="queued")
    assert store.ids()[-1] == old.id and old.created_at == "2020-01-01T00:00:00.000Z"
    with pytest.raises(ValueError):
        store.add_job(status="nope")


# --- serve() for the CLI -------------------------------------------------------------------


def test_serve_refuses_non_loopback() -> None:
    from gladia_async.testing import serve

    with pytest.raises(ValueError, match="loopback"):
        serve("0.0.0.0", 0, jobs=0)


async def test_serve_subprocess(session: aiohttp.ClientSession) -> None:
    import sys

    code = "from gladia_async.testing import serve; serve('127.0.0.1', 0, jobs=5, api_key='k')"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            pytest.fail((await proc.stderr.read()).decode()[-2000:])
        url = line.split(" on ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        page = await get_json(session, url + "/v2/pre-recorded", headers={"x-gladia-key": "k"})
        assert len(page["items"]) == 5
    finally:
        proc.terminate()
        await proc.wait()
