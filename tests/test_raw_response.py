"""`with_raw_response`: status, headers, request id, elapsed, retries, `.parse()`; stream stats."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from gladia_async import DecodeError, GladiaClient, NotFoundError, RawResponse
from gladia_async.testing import FakeGladia
from gladia_async.types import CreatedJob, Page, PreRecordedJob, UploadResult

from ._servers import KEY


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, jobs=7, seed=4) as f:
        yield f


@pytest.fixture
async def gladia(fake: FakeGladia) -> AsyncIterator[GladiaClient]:
    async with GladiaClient(api_key=KEY, base_url=fake.url) as client:

        async def instant(_delay: float) -> None:
            return None

        client._transport.sleep = instant
        yield client


async def test_raw_get_reports_the_response_and_parses(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    raw = await gladia.with_raw_response.pre_recorded.get(job_id)
    assert isinstance(raw, RawResponse)
    assert raw.status == 200 and raw.method == "GET" and raw.url.endswith(job_id)
    assert raw.retries == 1
    assert raw.headers["Content-Type"].startswith("application/json")
    assert raw.request_id is not None and raw.request_id == raw.headers["X-Aipi-Call-Id"]
    assert isinstance(raw.elapsed, dt.timedelta) and raw.elapsed > dt.timedelta(0)
    job = raw.parse()
    assert isinstance(job, PreRecordedJob) and job == await gladia.pre_recorded.get(job_id)
    assert raw.content and KEY not in repr(raw)
    plain = await gladia.pre_recorded.get(job_id)  # the usual method is untouched
    assert isinstance(plain, PreRecordedJob)


async def test_raw_other_methods(fake: FakeGladia, gladia: GladiaClient) -> None:
    raw_pr = gladia.with_raw_response.pre_recorded
    created = await raw_pr.create(audio_url=f"{fake.url}/a.mp3")
    assert created.status == 201 and isinstance(created.parse(), CreatedJob)
    assert created.retries == 0
    page = await raw_pr.list_page(limit=3)
    assert isinstance(page.parse(), Page) and len(page.parse().items) == 3
    deleted = await raw_pr.delete(fake.store.add_job(status="done").id)
    assert deleted.status in (200, 202, 204) and deleted.parse() is None
    uploaded = await gladia.with_raw_response.upload(b"RIFF0000WAVE")
    assert isinstance(uploaded.parse(), UploadResult) and uploaded.request_id
    live_page = await gladia.with_raw_response.live.list_page()
    assert live_page.status == 200
    assert gladia.with_raw_response is gladia.with_raw_response  # built once


async def test_raw_wait_reports_the_final_poll(fake: FakeGladia, gladia: GladiaClient) -> None:
    job_id = fake.store.add_job(status="processing").id
    polls = 0

    async def sleep(_delay: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 2:
            fake.store.set_status(job_id, "done")

    gladia._transport.sleep = sleep
    raw = await gladia.with_raw_response.pre_recorded.wait(job_id, poll_interval=0.01)
    assert raw.parse().status == "done"
    last_id = fake.requests[-1]
    assert last_id.path.endswith(job_id) and raw.request_id is not None


async def test_raw_errors_still_raise_and_bad_bodies_keep_their_headers(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    with pytest.raises(NotFoundError) as info:
        await gladia.with_raw_response.pre_recorded.get("missing-job")
    assert info.value.request_id  # status errors carry the request id themselves
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "malformed_json", times=1)
    raw = await gladia.with_raw_response.pre_recorded.get(job_id)
    assert raw.status == 200 and raw.content.startswith(b'{"first"')
    with pytest.raises(DecodeError):
        raw.parse()


async def test_list_stream_stats_report_retries_and_last_headers(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    fake.inject("pre_recorded.list", "status", status=503, on={2}, times=1)
    stream = gladia.pre_recorded.list(page_size=3, concurrency=1)
    assert stream.stats.last_headers is None and stream.stats.retries == 0
    async with stream:
        items = [job async for job in stream]
    assert len(items) == 7
    assert stream.stats.retries == 1
    headers = stream.stats.last_headers
    assert headers is not None and headers["X-Aipi-Call-Id"].startswith("G-")
    last = [r for r in fake.requests if r.route == "pre_recorded.list"][-1]
    assert ("offset", "6") in last.query
    number = fake.requests.index(last) + 1  # the fake names its n-th answer G-<n in hex>
    assert headers["X-Aipi-Call-Id"] == f"G-{number:08x}"  # the last page's headers


async def test_stream_file_exposes_its_response(fake: FakeGladia, gladia: GladiaClient) -> None:
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.file", "status", status=502, times=1)
    async with gladia.pre_recorded.stream_file(job_id) as chunks:
        assert chunks.response is None  # nothing sent yet
        data = b"".join([chunk async for chunk in chunks])
    response = chunks.response
    assert response is not None and response.status == 200 and response.retries == 1
    assert response.headers["X-Aipi-Call-Id"].startswith("G-")
    assert response.content_length == len(data)
