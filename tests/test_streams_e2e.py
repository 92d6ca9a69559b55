"""End-to-end tests of list / list_page / get_many against gladia_async.testing on loopback."""

from __future__ import annotations

import asyncio
import base64
import functools
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gladia_async import GladiaClient
from gladia_async._config import RetryPolicy
from gladia_async._errors import (
    APIStatusError,
    GladiaConfigError,
    GladiaError,
    NotFoundError,
    RateLimitError,
)
from gladia_async._streams import Checkpoint, ListStream
from gladia_async.testing import FakeGladia, FaultKind
from gladia_async.testing.data import DataSpec
from gladia_async.testing.store import Store, build_store
from gladia_async.types.lean import LiveJobSummary, PreRecordedJobSummary
from gladia_async.types.live import LiveJob
from gladia_async.types.pre_recorded import PreRecordedJob

KEY = "test-key"


@functools.cache
def big_store() -> Store:
    """10,007 lean jobs, built once for the module and never mutated."""
    return build_store(DataSpec.lean(10_007, seed=3))


def client(fake: FakeGladia, **kwargs: Any) -> GladiaClient:
    return GladiaClient(api_key=KEY, base_url=fake.url, **kwargs)


def no_retries() -> RetryPolicy:
    return RetryPolicy(max_retries=0, base_delay=0, max_delay=0, retry_after_cap=0)


async def ids_of(stream: ListStream[Any]) -> list[str]:
    async with stream:
        return [job.id async for job in stream]


def other_tasks() -> set[asyncio.Task[Any]]:
    """Client-side tasks still alive (the fake server's own handler tasks are not ours)."""
    return {
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and "aiohttp/web" not in repr(t)
    }


@pytest.fixture
async def fake20() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, jobs=20, live_jobs=7, seed=1) as fake:
        yield fake


# -- ordering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 6])
@pytest.mark.parametrize("full_last", [False, True])
async def test_order_small_lists_all_windows(n: int, full_last: bool) -> None:
    async with FakeGladia(api_key=KEY, jobs=n, seed=n, next_on_full_last_page=full_last) as fake:
        expected = fake.store.ids()
        async with client(fake) as gladia:
            for window in range(1, 9):
                stream = gladia.pre_recorded.list(page_size=5, concurrency=window)
                assert await ids_of(stream) == expected
                assert stream.stats.wasted <= window - 1
                assert stream.stats.max_in_flight <= window
    assert not other_tasks()


@pytest.mark.parametrize("window", range(1, 9))
async def test_order_10007_lean(window: int) -> None:
    async with FakeGladia(api_key=KEY, store=big_store()) as fake:
        expected = fake.store.ids()
        async with client(fake) as gladia:
            stream = gladia.pre_recorded.list(page_size=250, concurrency=window, lean=True)
            got = await ids_of(stream)
    assert got == expected
    assert len(got) == 10_007
    assert stream.stats.wasted <= window - 1
    assert stream.stats.requests == len(fake.requests.for_route("pre_recorded.list"))


async def test_live_listing(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        jobs = [job async for job in gladia.live.list(page_size=3, concurrency=3)]
        assert all(isinstance(j, LiveJob) for j in jobs)
        assert [j.id for j in jobs] == fake20.store.ids("live")
        lean = [j async for j in gladia.live.list(page_size=4, lean=True)]
        assert all(isinstance(j, LiveJobSummary) for j in lean)
        page = await gladia.live.list_page(limit=2)
        assert [j.id for j in page.items] == fake20.store.ids("live")[:2]


# -- the wire -----------------------------------------------------------------------------------


async def test_filters_on_the_wire(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        stream = gladia.pre_recorded.list(
            status=["done", "error"],
            after_date="2025-06-01",
            custom_metadata={"tenant": "t1"},
            page_size=7,
            concurrency=1,
        )
        await ids_of(stream)
    query = fake20.requests.for_route("pre_recorded.list")[0].query
    assert [v for k, v in query if k == "status"] == ["done", "error"]
    assert ("after_date", "2025-06-01T00:00:00.000Z") in query
    assert ("custom_metadata", '{"tenant":"t1"}') in query
    pin = dict(query)["before_date"]
    assert pin == stream.checkpoint.before_date and pin.endswith("Z")
    assert ("offset", "0") in query and ("limit", "7") in query


async def test_status_filter_results(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        done = [j async for j in gladia.pre_recorded.list(status="done", page_size=4)]
    assert done and all(j.status == "done" for j in done)


async def test_list_page_is_one_request(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        page = await gladia.pre_recorded.list_page(offset=5, limit=3)
        lean = await gladia.pre_recorded.list_page(offset=5, limit=3, lean=True)
    assert len(fake20.requests.for_route("pre_recorded.list")) == 2
    assert page.offset == 5 and [j.id for j in page.items] == fake20.store.ids()[5:8]
    assert all(isinstance(j, PreRecordedJob) for j in page.items)
    assert all(isinstance(j, PreRecordedJobSummary) for j in lean.items)
    assert page.next_url is not None


async def test_lean_decodes_on_demand(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        summaries = [j async for j in gladia.pre_recorded.list(lean=True)]
        full = [j async for j in gladia.pre_recorded.list()]
    assert [s.id for s in summaries] == [j.id for j in full]
    for summary, job in zip(summaries, full, strict=True):
        assert summary.decode_result() == job.result
        assert summary.decode_request_params() == job.request_params
        assert summary.to_job() == job
        assert summary.detach().decode_result() is None
        assert summary.detach(keep_raw=True).decode_result() == job.result


# -- snapshot pin and shifting data -------------------------------------------------------------


async def test_jobs_created_during_a_walk_are_not_part_of_it(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        for window in (1, 4):
            expected = fake20.store.ids()
            fake20.faults.clear()
            fake20.inject(
                "pre_recorded.list",
                "hook",
                on={2, 3},
                times=None,
                hook=lambda f: f.store.add_jobs(4),
            )
            stream = gladia.pre_recorded.list(page_size=3, concurrency=window)
            assert await ids_of(stream) == expected
            assert len(fake20.store.ids()) == len(expected) + 8


async def test_inserts_without_pin_are_deduplicated(fake20: FakeGladia) -> None:
    expected = fake20.store.ids()
    fake20.inject(
        "pre_recorded.list", "hook", on={2, 4, 5}, times=None, hook=lambda f: f.store.add_jobs(2)
    )
    async with client(fake20) as gladia:
        stream = gladia.pre_recorded.list(
            page_size=3, concurrency=1, before_date="2100-01-01T00:00:00Z"
        )
        got = await ids_of(stream)
    assert len(got) == len(set(got))
    assert [i for i in got if i in set(expected)] == expected
    assert stream.stats.duplicates > 0


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 3, 6])
async def test_random_page_failures_resume_exactly(window: int) -> None:
    async with FakeGladia(api_key=KEY, jobs=157, seed=window) as fake:
        expected = fake.store.ids()
        rng = random.Random(window)
        kinds: list[FaultKind] = ["status", "truncate", "malformed_json", "html"]
        got: list[str] = []
        resume: str | None = None
        failures = 0
        async with client(fake, retry_policy=no_retries()) as gladia:
            for _attempt in range(200):
                fake.faults.clear()
                fake.inject("pre_recorded.list", rng.choice(kinds), probability=0.15, times=None)
                stream = gladia.pre_recorded.list(page_size=10, concurrency=window, resume=resume)
                try:
                    async with stream:
                        async for job in stream:
                            got.append(job.id)
                    break
                except GladiaError as exc:
                    failures += 1
                    assert exc.checkpoint is not None
                    resume = exc.checkpoint.token
    assert failures > 0
    assert got == expected


async def test_transport_retries_hide_transient_faults(fake20: FakeGladia) -> None:
    fake20.inject("pre_recorded.list", "status", status=503, on={2, 3})
    policy = RetryPolicy(max_retries=3, base_delay=0, max_delay=0, retry_after_cap=0)
    async with client(fake20, retry_policy=policy) as gladia:
        stream = gladia.pre_recorded.list(page_size=4, concurrency=3)
        assert await ids_of(stream) == fake20.store.ids()
    assert stream.stats.errors == 0


async def test_rate_limit_that_escapes_shrinks_the_window(fake20: FakeGladia) -> None:
    fake20.inject(
        "pre_recorded.list", "status", status=429, retry_after=0, on={2, 3, 4}, times=None
    )
    async with client(fake20, retry_policy=no_retries()) as gladia:
        stream = gladia.pre_recorded.list(page_size=2, concurrency=4)
        assert await ids_of(stream) == fake20.store.ids()
    assert stream.stats.rate_limited == 3


async def test_foreign_next_link_is_never_contacted(fake20: FakeGladia) -> None:
    fake20.inject("pre_recorded.list", "foreign_next", times=None)
    async with client(fake20) as gladia:
        for window in (1, 4):
            stream = gladia.pre_recorded.list(page_size=6, concurrency=window)
            assert await ids_of(stream) == fake20.store.ids()


async def test_failure_checkpoint_resumes_at_the_failed_page(fake20: FakeGladia) -> None:
    fake20.inject("pre_recorded.list", "status", status=500, on={3})
    got: list[str] = []
    async with client(fake20, retry_policy=no_retries()) as gladia:
        stream = gladia.pre_recorded.list(page_size=4, concurrency=1)
        with pytest.raises(APIStatusError) as info:
            async for job in stream:
                got.append(job.id)
        await stream.aclose()
        assert info.value.checkpoint is not None
        assert info.value.checkpoint.offset == 8 == len(got)
        got += await ids_of(gladia.pre_recorded.list(resume=info.value.checkpoint))
    assert got == fake20.store.ids()


# -- max_items, resume, cancellation ------------------------------------------------------------


async def test_max_items_and_token_resume_mid_page(fake20: FakeGladia) -> None:
    got: list[str] = []
    async with client(fake20) as gladia:
        stream = gladia.pre_recorded.list(page_size=6, concurrency=3, max_items=7)
        got += await ids_of(stream)
        token = stream.checkpoint.token
        assert Checkpoint.from_token(token).offset == 7
        raw = base64.urlsafe_b64decode(token[3:] + "==")
        assert KEY.encode() not in raw and KEY not in repr(stream)
        stream = gladia.pre_recorded.list(resume=token, concurrency=2)
        got += await ids_of(stream)
    assert got == fake20.store.ids()


async def test_early_break_leaves_nothing_behind(fake20: FakeGladia) -> None:
    fake20.inject("pre_recorded.list", "latency", delay=0.05, times=None)
    async with client(fake20) as gladia:
        async with gladia.pre_recorded.list(page_size=2, concurrency=8) as stream:
            async for _job in stream:
                break
        assert stream.stats.cancelled > 0
        async for _job in gladia.pre_recorded.list(page_size=2, concurrency=8):
            break
        task = asyncio.create_task(ids_of(gladia.pre_recorded.list(page_size=2, concurrency=5)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.sleep(0)
    assert not other_tasks()


async def test_resume_rejects_conflicting_filters(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        stream = gladia.pre_recorded.list(status="done", max_items=2)
        await ids_of(stream)
        token = stream.checkpoint.token
        before = len(fake20.requests)
        with pytest.raises(GladiaConfigError):
            gladia.pre_recorded.list(resume=token, status="error")
        with pytest.raises(GladiaConfigError):
            gladia.pre_recorded.list(resume=token, start_offset=3)
        with pytest.raises(GladiaConfigError):
            gladia.live.list(resume=token)
        with pytest.raises(GladiaConfigError):
            gladia.pre_recorded.list(resume="v1.garbage!")
        gladia.pre_recorded.list(resume=token, status="done")  # same filter: fine
        assert len(fake20.requests) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 0},
        {"concurrency": 0},
        {"max_items": -1},
        {"start_offset": -1},
        {"status": []},
        {"after_date": "last tuesday"},
        {"date": 12},
        {"custom_metadata": ["a"]},
    ],
)
async def test_invalid_arguments_fail_before_io(fake20: FakeGladia, kwargs: dict[str, Any]) -> None:
    async with client(fake20) as gladia:
        with pytest.raises(GladiaConfigError):
            gladia.pre_recorded.list(**kwargs)
    assert len(fake20.requests) == 0


# -- get_many -----------------------------------------------------------------------------------


async def test_get_many_in_input_order(fake20: FakeGladia) -> None:
    ids = fake20.store.ids()[::-1]
    async with client(fake20) as gladia, gladia.pre_recorded.get_many(ids, concurrency=4) as jobs:
        assert [job.id async for job in jobs] == ids


async def test_get_many_per_id_errors(fake20: FakeGladia) -> None:
    ids = fake20.store.ids()[:5]
    ids.insert(2, "00000000-0000-0000-0000-000000000000")
    async with client(fake20) as gladia:
        out = [x async for x in gladia.pre_recorded.get_many(ids, return_exceptions=True)]
        assert isinstance(out[2], NotFoundError)
        assert [x.id for x in out if isinstance(x, PreRecordedJob)] == ids[:2] + ids[3:]
        with pytest.raises(NotFoundError):
            async with gladia.pre_recorded.get_many(ids, concurrency=2) as jobs:
                async for _ in jobs:
                    pass
    assert not other_tasks()


async def test_get_many_from_an_async_iterable_of_ids(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:

        async def ids() -> AsyncIterator[str]:
            async with gladia.pre_recorded.list(lean=True, page_size=7) as stream:
                async for summary in stream:
                    yield summary.id

        async with gladia.pre_recorded.get_many(ids(), concurrency=3) as jobs:
            got = [job async for job in jobs]
    assert [job.id for job in got] == fake20.store.ids()
    assert all(isinstance(job, PreRecordedJob) for job in got)
    assert not other_tasks()


async def test_stats_count_response_bytes(fake20: FakeGladia) -> None:
    async with client(fake20) as gladia:
        stream = gladia.pre_recorded.list(page_size=5, concurrency=1)
        assert len(await ids_of(stream)) == 20
    assert stream.stats.requests == 4
    params = stream.checkpoint.params()  # the pinned before_date: the same bytes again
    expected = 0
    async with aiohttp.ClientSession(headers={"x-gladia-key": KEY}) as http:
        for offset in range(0, 20, 5):
            query = [("offset", str(offset)), ("limit", "5"), *params]
            async with http.get(f"{fake20.url}/v2/pre-recorded", params=query) as resp:
                expected += len(await resp.read())
    assert stream.stats.bytes == expected > 0


async def test_stream_honours_the_clients_retry_after_cap() -> None:
    """A 429 asking for longer than the client's own cap ends the stream at once, resumable."""
    policy = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01, retry_after_cap=1.0)
    async with FakeGladia(api_key="k", jobs=30, seed=3) as fake:
        fake.inject("pre_recorded.list", "status", status=429, retry_after=5, on={2})
        async with GladiaClient(api_key="k", base_url=fake.url, retry_policy=policy) as gladia:
            got: list[str] = []
            with pytest.raises(RateLimitError) as info:
                async with (
                    asyncio.timeout(3),
                    gladia.pre_recorded.list(page_size=10, concurrency=1) as stream,
                ):
                    async for job in stream:
                        got.append(job.id)
            assert info.value.checkpoint is not None and info.value.checkpoint.offset == 10
            assert len(got) == 10 and fake.requests.count("pre_recorded.list") == 2
