"""End to end: the real client against gladia_async.testing.FakeGladia on loopback.

Jobs move only when a test says so (`Lifecycle(auto=False)` plus a "hook" fault), and backoff
sleeps are recorded instead of slept, so nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gladia_async import GladiaClient
from gladia_async._config import RetryPolicy
from gladia_async._errors import (
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnsafeURLError,
    WaitTimeoutError,
)
from gladia_async.testing import FakeGladia, Lifecycle

from ._servers import Server, json_response, serve

KEY = "e2e-key-0123456789abcdef"
AUDIO = b"RIFF" + bytes(range(256)) * 2048  # ~512 KiB, several upload chunks


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, lifecycle=Lifecycle(auto=False)) as server:
        yield server


class Client:
    """A GladiaClient for the fake whose backoff/poll sleeps are recorded, not slept."""

    def __init__(self, fake: FakeGladia, key: str = KEY) -> None:
        self.gladia = GladiaClient(key, base_url=fake.url, retry_policy=RetryPolicy(max_retries=3))
        self.slept: list[float] = []
        self.gladia._transport.sleep = self._sleep
        self.gladia._transport.rand = lambda: 0.0

    async def _sleep(self, delay: float) -> None:
        self.slept.append(delay)
        await asyncio.sleep(0)

    async def __aenter__(self) -> Client:
        await self.gladia.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gladia.aclose()


def finish_queued_jobs(fake: FakeGladia) -> None:
    """A hook: every queued pre-recorded job becomes done (before the request is served)."""
    for job_id in fake.store.ids():
        record = fake.store.get(job_id)
        if record is not None and record.status == "queued":
            fake.store.set_status(job_id, "done")


async def test_upload_create_wait_download_delete(fake: FakeGladia, tmp_path: Path) -> None:
    path = tmp_path / "meeting.wav"
    path.write_bytes(AUDIO)
    fake.inject("pre_recorded.get", "hook", on={3}, hook=finish_queued_jobs)
    async with Client(fake) as c:
        pr = c.gladia.pre_recorded
        uploaded = await c.gladia.upload(path)
        assert uploaded.audio_url.startswith(fake.url + "/file/")
        created = await pr.create(audio_url=uploaded.audio_url, diarization=True)
        with pytest.raises(PermissionDeniedError):
            await pr.delete(created)  # still queued: 403
        job = await pr.wait(created, poll_interval=1.0, max_poll_interval=1.25)
        assert job.status == "done" and job.id == created.id
        assert c.slept == [1.0, 1.25]  # the interval grows, up to its cap
        assert (await pr.get(created.id)).status == "done"
        assert await pr.download_file(created) == AUDIO
        async with pr.stream_file(created, chunk_size=65536) as chunks:
            assert b"".join([chunk async for chunk in chunks]) == AUDIO
        assert await pr.delete(created) is None  # 202
        with pytest.raises(NotFoundError):
            await pr.get(created)
        with pytest.raises(NotFoundError):
            await pr.delete(created)
    assert fake.requests.count("pre_recorded.get") == 5  # 3 polls, get, get after delete
    assert all(r.headers.get("x-gladia-key") == KEY for r in fake.requests)


async def test_transcribe_a_path(fake: FakeGladia, tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(AUDIO)
    fake.inject("pre_recorded.get", "hook", on={2}, hook=finish_queued_jobs)
    async with Client(fake) as c:
        job = await c.gladia.pre_recorded.transcribe(path, poll_interval=0.5)
        assert job.status == "done"
        assert await c.gladia.pre_recorded.download_file(job) == AUDIO
    routes = [r.route for r in fake.requests]
    assert routes[:4] == ["upload", "pre_recorded.create", "pre_recorded.get", "pre_recorded.get"]


async def test_wait_times_out_with_the_last_job_seen(fake: FakeGladia) -> None:
    async with Client(fake) as c:
        c.gladia._transport.sleep = asyncio.sleep  # really wait, for the deadline to pass
        created = await c.gladia.pre_recorded.create(audio_url="https://a.test/x.mp3")
        with pytest.raises(WaitTimeoutError) as info:
            await c.gladia.pre_recorded.wait(created, poll_interval=0.01, timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert info.value.job is not None and info.value.job.status == "queued"


async def test_wrong_key_and_unknown_job(fake: FakeGladia) -> None:
    async with Client(fake, key="wrong-key-0123456789") as c:
        with pytest.raises(AuthenticationError) as auth:
            await c.gladia.pre_recorded.get("anything")
    async with Client(fake) as c:
        with pytest.raises(NotFoundError) as missing:
            await c.gladia.pre_recorded.get("no-such-job")
    assert auth.value.status == 401 and "wrong-key" not in str(auth.value)
    assert missing.value.status == 404 and missing.value.request_id
    assert c.slept == []  # neither is retried


async def test_get_is_retried_after_503_and_429_with_retry_after(fake: FakeGladia) -> None:
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=503, on={1})
    fake.inject("pre_recorded.get", "status", status=429, retry_after=2, on={2})
    async with Client(fake) as c:
        job = await c.gladia.pre_recorded.get(job_id)
    assert job.id == job_id
    assert c.slept == [0.5, 2.0]  # backoff, then the server's Retry-After
    assert [r.status for r in fake.requests.for_route("pre_recorded.get")] == [503, 429, 200]


async def test_create_is_never_repeated_after_a_reset_or_429(fake: FakeGladia) -> None:
    fake.inject("pre_recorded.create", "reset", on={1})
    fake.inject("pre_recorded.create", "status", status=429, retry_after=1, on={2})
    async with Client(fake) as c:
        with pytest.raises(APIConnectionError):
            await c.gladia.pre_recorded.create(audio_url="https://a.test/x.mp3")
        with pytest.raises(RateLimitError) as info:
            await c.gladia.pre_recorded.create(audio_url="https://a.test/x.mp3")
        created = await c.gladia.pre_recorded.create(audio_url="https://a.test/x.mp3")
    assert info.value.retry_after == 1.0
    assert fake.requests.count("pre_recorded.create") == 3  # one per call
    assert c.slept == []
    assert fake.store.get(created.id) is not None


async def test_cross_origin_redirect_does_not_leak_the_key(fake: FakeGladia) -> None:
    async def thief(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(b"{}")

    job_id = fake.store.add_job(status="done").id
    async with serve(thief) as other:
        fake.inject("pre_recorded.get", "redirect", foreign_origin=other.url, on={1})
        fake.inject("pre_recorded.file", "redirect", foreign_origin=other.url, on={1})
        fake.inject("pre_recorded.get", "redirect", on={2})  # http://evil.example
        async with Client(fake) as c:
            pr = c.gladia.pre_recorded
            for call in (pr.get, pr.download_file, pr.get):
                with pytest.raises(UnsafeURLError) as info:
                    await call(job_id)
                assert KEY not in str(info.value) and KEY not in repr(info.value)
            assert (await pr.get(job_id)).id == job_id  # the client is still usable
    assert other.requests == []
    assert c.slept == []
