"""Fault injection of the fake API: every kind, selection by number / count / probability."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gladia_async.testing import FakeGladia, Fault

KEY = {"x-gladia-key": "test-key"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(jobs=30, seed=1, transcript_seconds=5.0) as f:
        yield f


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def status_of(s: aiohttp.ClientSession, url: str) -> int:
    async with s.get(url, headers=KEY) as r:
        await r.read()
        return r.status


async def test_status_times_then_ok(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    f = fake.inject("pre_recorded.list", "status", status=503, times=2)
    url = fake.url + "/v2/pre-recorded"
    assert [await status_of(session, url) for _ in range(3)] == [503, 503, 200]
    assert (f.seen, f.fired) == (3, 2) and f.exhausted
    assert fake.stats["faults_injected"] == 2
    assert [r.fault for r in fake.requests] == ["status", "status", None]
    assert [r.status for r in fake.requests] == [503, 503, 200]


async def test_rate_limit_retry_after(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.faults.add(Fault.rate_limit("pre_recorded.get", retry_after=2))
    jid = fake.store.ids()[0]
    async with session.get(f"{fake.url}/v2/pre-recorded/{jid}", headers=KEY) as r:
        assert r.status == 429 and r.headers["Retry-After"] == "2"
        body = await r.json()
    assert body["statusCode"] == 429 and body["request_id"].startswith("G-")
    fake.inject("*", "status", status=429, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    async with session.get(f"{fake.url}/v2/pre-recorded/{jid}", headers=KEY) as r:
        assert r.headers["Retry-After"].startswith("Wed")


async def test_on_request_numbers_and_route_patterns(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    fake.inject("*.list", "status", status=500, on={2, 4}, times=None)
    url = fake.url + "/v2/pre-recorded"
    got = [await status_of(session, url) for _ in range(5)]
    assert got == [200, 500, 200, 500, 200]
    assert await status_of(session, fake.url + "/v2/live") == 200  # 6th match: not in `on`
    assert fake.requests.count("pre_recorded.*") == 5
    assert fake.requests.count("live.list") == 1


async def test_probability_is_seeded(session: aiohttp.ClientSession) -> None:
    async def run() -> list[int]:
        async with FakeGladia(jobs=2, seed=11) as f:
            f.inject("pre_recorded.list", "status", status=502, probability=0.5, times=None)
            return [await status_of(session, f.url + "/v2/pre-recorded") for _ in range(20)]

    first, second = await run(), await run()
    assert first == second and {200, 502} == set(first)


async def test_latency(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    f = fake.faults.add(Fault(route="pre_recorded.list", kind="latency", delay=0.05, times=None))
    assert await status_of(session, fake.url + "/v2/pre-recorded") == 200
    assert f.fired == 1 and fake.requests.last is not None
    assert fake.requests.last.fault == "latency"
    fake.faults.remove(f)
    assert len(fake.faults) == 0


async def test_reset(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.inject("pre_recorded.list", "reset", times=2)  # aiohttp retries a GET once by itself
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await status_of(session, fake.url + "/v2/pre-recorded")
    assert [r.status for r in fake.requests] == [None, None]
    assert [r.fault for r in fake.requests] == ["reset", "reset"]
    assert await status_of(session, fake.url + "/v2/pre-recorded") == 200


async def test_truncate(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.inject("pre_recorded.list", "truncate")
    with pytest.raises(aiohttp.ClientPayloadError):
        async with session.get(fake.url + "/v2/pre-recorded", headers=KEY) as r:
            assert r.status == 200 and r.content_length and r.content_length > 100
            await r.read()
    assert await status_of(session, fake.url + "/v2/pre-recorded") == 200


async def test_malformed_json_and_html(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.inject("pre_recorded.list", "malformed_json")
    fake.inject("pre_recorded.list", "html", on={2})
    async with session.get(fake.url + "/v2/pre-recorded", headers=KEY) as r:
        assert r.status == 200 and r.content_type == "application/json"
        with pytest.raises(ValueError):
            json.loads(await r.read())
    async with session.get(fake.url + "/v2/pre-recorded", headers=KEY) as r:
        assert r.status == 200 and r.content_type == "text/html"


async def test_huge_body(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.inject("pre_recorded.get", "huge", size=3 * 1024 * 1024 + 5)
    jid = fake.store.ids()[0]
    async with session.get(f"{fake.url}/v2/pre-recorded/{jid}", headers=KEY) as r:
        assert r.content_length == 3 * 1024 * 1024 + 5
        body = await r.read()
    assert len(body) == 3 * 1024 * 1024 + 5 and json.loads(body)["items"] == []
    # a client that gives up early does not break the server
    fake.inject("pre_recorded.get", "huge", size=50 * 1024 * 1024)
    async with session.get(f"{fake.url}/v2/pre-recorded/{jid}", headers=KEY) as r:
        await r.content.read(1024)
        r.close()
    assert await status_of(session, f"{fake.url}/v2/pre-recorded/{jid}") == 200


async def test_foreign_next_and_redirect(fake: FakeGladia, session: aiohttp.ClientSession) -> None:
    fake.inject("pre_recorded.list", "foreign_next", foreign_origin="https://evil.example:8443")
    async with session.get(fake.url + "/v2/pre-recorded?limit=5&status=done", headers=KEY) as r:
        page = await r.json()
    assert page["next"] == "https://evil.example:8443/v2/pre-recorded?offset=5&limit=5&status=done"
    assert page["first"].startswith(fake.url) and len(page["items"]) == 5
    fake.inject("pre_recorded.get", "redirect")
    async with session.get(
        fake.url + "/v2/pre-recorded/x?a=1", headers=KEY, allow_redirects=False
    ) as r:
        assert (
            r.status == 307 and r.headers["Location"] == "http://evil.example/v2/pre-recorded/x?a=1"
        )


async def test_hook_inserts_and_deletes_while_paging(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    calls: list[int] = []

    def insert(f: Any) -> None:
        calls.append(len(f.store))
        f.store.add_jobs(3)

    async def delete(f: Any) -> None:
        await asyncio.sleep(0)
        f.store.remove(f.store.ids()[-1])

    fake.inject("pre_recorded.list", "hook", on={2}, hook=insert)
    fake.inject("pre_recorded.list", "hook", on={3}, hook=delete)
    url: str | None = fake.url + "/v2/pre-recorded?limit=10"
    ids: list[str] = []
    while url:
        async with session.get(url, headers=KEY) as r:
            page = await r.json()
        ids += [i["id"] for i in page["items"]]
        url = page["next"]
    assert calls == [30]
    assert len(fake.store) == 32
    assert len(ids) == 32 and len(set(ids)) < 32  # inserted jobs shifted the pages: duplicates


async def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault(kind="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(kind="hook")
    with pytest.raises(ValueError):
        Fault(probability=2)


async def test_global_latency_ms(session: aiohttp.ClientSession) -> None:
    async with FakeGladia(jobs=1, latency_ms=5) as f:
        assert await status_of(session, f.url + "/v2/pre-recorded") == 200
        assert f.stats["requests"] == 1


async def test_request_log_records_query_multi(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    await status_of(session, fake.url + "/v2/pre-recorded?status=done&status=error&limit=3")
    rec = fake.requests.last
    assert rec is not None
    assert rec.query == [("status", "done"), ("status", "error"), ("limit", "3")]
    assert rec.param("limit") == "3" and rec.route == "pre_recorded.list"
    assert rec.headers["x-gladia-key"] == "test-key"
    assert "test-key" not in repr(rec)
    fake.requests.clear()
    assert len(fake.requests) == 0 and fake.requests.last is None
