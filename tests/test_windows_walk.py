"""The sharded walk's machinery through the public API: re-walks of a window whose count moved
(whole, or in halves), its stats adding up, closing and failing, and checkpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from gladia_async import GladiaClient, RetryPolicy
from gladia_async._errors import GladiaConfigError, GladiaError, PaginationError
from gladia_async._streams import Checkpoint
from gladia_async._windows import ShardedStream, WalkStats
from gladia_async.testing import FakeGladia

from .test_windows import EDGE, KEY


async def spaced_fake(n: int, **options: Any) -> FakeGladia:
    """``n`` jobs 10 ms apart (newest first: job i at EDGE - 10 i ms): a gap between every two
    consecutive jobs, so a window is halved exactly at its middle."""
    fake = FakeGladia(api_key=KEY, seed=1, transcript_seconds=0, **options)
    await fake.start()
    for i in range(n):
        fake.store.add_job(created_at=EDGE - timedelta(milliseconds=10 * i))
    return fake


async def take(stream: Any, n: int) -> list[str]:
    """The ids of the first ``n`` jobs of ``stream``, then the stream closed (its checkpoint
    is where a resume starts)."""
    ids: list[str] = []
    async with stream:
        async for job in stream:
            ids.append(job.id)
            if len(ids) == n:
                break
    return ids


async def walk_deleting(
    gladia: GladiaClient, fake: FakeGladia, at: int, victims: slice, **options: Any
) -> tuple[list[str], ShardedStream[Any]]:
    """One window of pages of 10 walked one page at a time; when item ``at`` (the last of its
    page) is yielded, the yielded jobs ``victims`` are deleted before the next page is asked:
    the jobs after the cursor shift back behind it, unseen."""
    seen: list[str] = []
    stream = gladia.pre_recorded.list(
        shards=1, max_depth=500, page_size=10, concurrency=1, lean=True, **options
    )
    assert isinstance(stream, ShardedStream)
    async with stream:
        async for job in stream:
            seen.append(job.id)
            if len(seen) == at + 1:
                for job_id in seen[victims]:
                    fake.store.remove(job_id)
    return seen, stream


async def test_a_rewalk_after_a_whole_page_was_deleted_starts_at_the_window_start() -> None:
    """50 jobs; after the first page, its 10 jobs are deleted: the next page skips 10 unseen
    jobs, the re-count (40) says so and the window is walked again whole from offset 0 (40 is
    not more than 4 pages: not halved), where the first of them now stands."""
    fake = await spaced_fake(50)
    try:
        ids = fake.store.ids()
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            seen, stream = await walk_deleting(gladia, fake, 9, slice(0, 10))
        assert seen[:10] == ids[:10] and sorted(seen[10:]) == sorted(ids[10:])
        assert len(seen) == 50
        st = stream.stats
        assert (st.rewalks, st.windows, st.duplicates) == (1, 1, 30)
    finally:
        await fake.close()


async def test_a_large_rewalked_window_is_halved_and_each_half_walked_from_its_start() -> None:
    """55 jobs, pages of 10; when item 29 is yielded, jobs 0-4 are deleted: the page at offset
    30 skips jobs 30-34 (now at 25-29). The re-count (50, more than 4 pages) halves the window
    at its middle, 25: job 30 is the first of the second half, walked from its start."""
    fake = await spaced_fake(55)
    try:
        ids = fake.store.ids()
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            seen, stream = await walk_deleting(gladia, fake, 29, slice(0, 5))
        assert seen[:50] == ids[:30] + ids[35:]  # the first pass skipped 30-34 ...
        assert seen[50:] == ids[30:35]  # ... the second half found them
        st = stream.stats
        assert (st.rewalks, st.windows, st.duplicates) == (1, 2, 45)
    finally:
        await fake.close()


async def test_a_window_that_changes_during_each_of_32_walks_fails_after_31_rewalks() -> None:
    """Each re-count of the window being walked deletes the newest job (a listing that keeps
    changing under the walk): 80 jobs, halved once (79 > 4 pages), then its first half (39)
    walked again and again, until its 32nd walk (the halving counts as one) fails with a
    PaginationError carrying a checkpoint; meanwhile no job comes twice."""
    fake = await spaced_fake(80)

    def delete_newest(f: FakeGladia) -> None:
        last = f.requests.last
        if last is not None and last.param("limit") == "2":  # has_count: the re-count
            f.store.remove(f.store.ids()[0])

    fake.inject("pre_recorded.list", "hook", hook=delete_newest, times=None)
    seen: list[str] = []
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=1, max_depth=500, page_size=10, concurrency=1, lean=True
            )
            with pytest.raises(PaginationError, match="changed during each of 32 walks") as info:
                async with stream:
                    async for job in stream:
                        seen.append(job.id)
        assert info.value.checkpoint is not None
        assert len(seen) == len(set(seen))
        assert (stream.stats.rewalks, stream.stats.windows) == (31, 2)
    finally:
        await fake.close()


def assert_stats_add_up(st: WalkStats) -> None:
    """Every request the walk started is a page used, a probe, a refusal re-requested, a
    request wasted past a window's end or one cancelled by close."""
    assert st.requests == st.pages + st.probes + st.rate_limited + st.wasted + st.cancelled


async def test_walk_stats_add_up_when_closed_with_requests_in_flight() -> None:
    """Three windows of 100, pages of 10, 3 in flight: closed after the first job, the head's
    two pages still in flight are cancelled and counted as such; closing again changes
    nothing (aclose is idempotent, and so are the figures)."""
    fake = await spaced_fake(300, latency_ms=1)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=3, max_depth=100, page_size=10, concurrency=3, lean=True
            )
            async with stream:
                async for _ in stream:
                    break
            st = stream.stats
            figures = (st.requests, st.pages, st.cancelled, st.bytes)
            assert st.cancelled >= 2 and st.items == 1 and st.page_size == 10
            assert 0 < st.bytes
            assert_stats_add_up(st)
            await stream.aclose()
            assert (st.requests, st.pages, st.cancelled, st.bytes) == figures
    finally:
        await fake.close()


async def test_a_resume_failing_before_its_first_job_carries_the_token_it_resumed() -> None:
    """A resume whose first request (the re-count of the interrupted window) fails: the
    error's checkpoint is the token it resumed from, so resuming from it yields the rest
    exactly once (not the interrupted window again from its start)."""
    fake = await spaced_fake(300)
    try:
        policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0)
        async with GladiaClient(api_key=KEY, base_url=fake.url, retry_policy=policy) as gladia:
            stream = gladia.pre_recorded.list(shards=2, max_depth=100, page_size=10, lean=True)
            first = await take(stream, 298)
            token = stream.checkpoint.token
            # windows of 99, 99, 99 and 3: the token is in the last, so the re-count of its
            # window is the resume's first request (no window planned after it)
            assert Checkpoint.from_token(token).edge is None
            fake.inject("pre_recorded.list", "status", status=500)
            with pytest.raises(GladiaError) as info:
                async with gladia.pre_recorded.list(resume=token, lean=True) as failed:
                    async for _ in failed:
                        raise AssertionError("nothing comes before the failure")
            assert info.value.checkpoint is not None
            assert info.value.checkpoint.token == token
            async with gladia.pre_recorded.list(
                resume=info.value.checkpoint.token, lean=True
            ) as rest:
                second = [job.id async for job in rest]
        assert first + second == fake.store.ids()
    finally:
        await fake.close()


def running() -> list[asyncio.Task[Any]]:
    """The walk's tasks still running: page requests and the primers of windows ahead."""
    return [
        t
        for t in asyncio.all_tasks()
        if not t.done()
        and (t.get_name().startswith("gladia-list") or t.get_coro().__qualname__ == "_first")
    ]


PIN = (EDGE + timedelta(seconds=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def held_ahead(gate: asyncio.Event) -> Callable[[FakeGladia], Awaitable[None]]:
    """A fake hook holding every page of 7 of a walk pinned at PIN, except the first
    window's (whose ``before_date`` is the pin), until ``gate`` is set."""

    async def hold(f: FakeGladia) -> None:
        last = f.requests.last
        assert last is not None
        if last.param("limit") == "7" and last.param("before_date") != PIN:
            await gate.wait()

    return hold


async def test_closing_cancels_the_first_page_of_each_window_ahead() -> None:
    """The first page of each window opened ahead is held by the server until the walk is
    closed: aclose cancels those requests (it does not wait for them), counts them as
    cancelled, leaves nothing running, and the stream then ends without a request."""
    fake = await spaced_fake(300)
    gate = asyncio.Event()
    fake.inject("pre_recorded.list", "hook", hook=held_ahead(gate), times=None)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                before_date=PIN, shards=3, max_depth=100, page_size=7, concurrency=2, lean=True
            )
            async with asyncio.timeout(20):  # a hang guard: aclose must not wait for them
                async with stream:
                    async for _ in stream:
                        break
                    held = [w for w in list(stream._ahead)[1:] if w.first is not None]
                    assert len(held) == 2 and not any(w.first.done() for w in held)
            cp = stream.checkpoint  # one job of the first window (of 99) yielded
            assert (cp.offset, cp.window_count) == (1, 99)
            assert running() == []
            st = stream.stats
            assert st.cancelled >= 2 + 2  # the held first pages, the head's pages in flight
            assert_stats_add_up(st)
            before = len(fake.requests)
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
            assert len(fake.requests) == before
            gate.set()
    finally:
        gate.set()
        await fake.close()


async def test_max_items_zero_yields_nothing_without_a_request_and_negative_is_refused() -> None:
    """``max_items=0`` is a valid cap: nothing is asked of the API; a negative one is a
    configuration error, raised before any request."""
    async with FakeGladia(api_key=KEY, jobs=50, seed=2, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(shards=2, max_items=0, lean=True) as stream:
                assert [job async for job in stream] == []
            with pytest.raises(GladiaConfigError, match="max_items"):
                gladia.pre_recorded.list(shards=2, max_items=-1)
        assert len(fake.requests) == 0


async def test_a_walk_that_reaches_max_items_releases_everything_by_itself() -> None:
    """Iterated to its cap without ``async with``, the walk cancels what it had in flight
    (the windows ahead, the head's next pages) when it ends, and says it is closed."""
    fake = await spaced_fake(300)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=3, max_depth=100, page_size=10, concurrency=2, max_items=5, lean=True
            )
            got = [await anext(stream) for _ in range(5)]
            assert len(got) == 5 and "closed" in repr(stream)  # as its last job is handed
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
            assert running() == []
            assert_stats_add_up(stream.stats)
            assert "closed" in repr(stream)
    finally:
        await fake.close()


async def test_a_walk_walked_to_its_end_says_it_is_closed() -> None:
    async with FakeGladia(api_key=KEY, jobs=30, seed=2, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(shards=2, max_depth=20, lean=True)
            assert "new" in repr(stream)
            assert len([job async for job in stream]) == 30
            assert "closed" in repr(stream)


async def test_a_failed_walk_raises_its_error_again_and_leaves_nothing_running() -> None:
    """A page of the head window fails while the first pages of the windows ahead are held
    by the server (no ``async with``): the error is counted, those requests are cancelled at
    once, and every later ``anext`` raises the same error (never a quiet end that would pass
    for the end of the listing)."""
    fake = await spaced_fake(300)
    gate = asyncio.Event()
    fake.inject("pre_recorded.list", "hook", hook=held_ahead(gate), times=None)
    try:
        policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0)
        async with GladiaClient(api_key=KEY, base_url=fake.url, retry_policy=policy) as gladia:
            stream = gladia.pre_recorded.list(
                before_date=PIN, shards=3, max_depth=100, page_size=7, concurrency=2, lean=True
            )
            seen: list[str] = []
            with pytest.raises(GladiaError) as info:
                async for job in stream:
                    seen.append(job.id)
                    if len(seen) == 1:  # the head's next page is the next request
                        fake.inject("pre_recorded.list", "status", status=500)
            assert running() == []
            assert stream.stats.errors == 1
            for _ in range(2):
                with pytest.raises(GladiaError) as again:
                    await anext(stream)
                assert again.value is info.value
            assert stream.stats.errors == 1
    finally:
        gate.set()
        await fake.close()


async def test_an_unexpected_error_fails_the_walk_like_an_api_error() -> None:
    """An error that is no GladiaError (here from opening a window's stream) is raised,
    counted, closes the walk, and is raised again by every later ``anext``."""
    fake = await spaced_fake(300)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=3, max_depth=100, page_size=10, concurrency=2, lean=True
            )
            opener, opened = stream._open, []

            def failing_opener(cp: Checkpoint, max_items: int | None) -> Any:
                opened.append(cp)
                if len(opened) == 4:
                    raise RuntimeError("boom")
                return opener(cp, max_items)

            stream._open = failing_opener
            seen: list[str] = []
            with pytest.raises(RuntimeError, match="boom") as info:
                async for job in stream:
                    seen.append(job.id)
            assert len(seen) == 99 and running() == []
            assert stream.stats.errors == 1
            with pytest.raises(RuntimeError) as again:
                await anext(stream)
            assert again.value is info.value
    finally:
        await fake.close()


async def test_walk_stats_add_up_over_a_window_shrunk_under_its_walk() -> None:
    """One window of 50, pages of 10, 3 in flight; after the first job its last 10 jobs are
    deleted: the page at 30 is then the last, the request at 40 already sent is wasted, the
    re-count (40) walks the window again (all duplicates). Every figure of the windows'
    streams is in the walk's stats: pages, the wasted request, the largest number in
    flight, the page size and the bytes."""
    fake = await spaced_fake(50)
    try:
        ids = fake.store.ids()
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=1, max_depth=500, page_size=10, concurrency=3, lean=True
            )
            seen: list[str] = []
            async with stream:
                async for job in stream:
                    seen.append(job.id)
                    if len(seen) == 1:
                        for job_id in ids[40:]:
                            fake.store.remove(job_id)
        assert seen == ids[:40]
        st = stream.stats
        assert (st.items, st.duplicates, st.rewalks, st.wasted, st.cancelled) == (40, 40, 1, 1, 0)
        assert (st.pages, st.max_in_flight, st.page_size) == (8, 3, 10)
        assert st.bytes > 0
        assert_stats_add_up(st)
        assert st.requests == len(fake.requests)
    finally:
        await fake.close()


class _Watched(asyncio.Event):
    """The walk's "a window was planned" event, saying each time the walk waits on it."""

    def __init__(self, waited: list[asyncio.Event]) -> None:
        super().__init__()
        self.waited = waited
        self.waits = 0

    async def wait(self) -> Any:
        self.waited[self.waits].set()
        self.waits += 1
        return await super().wait()


def planner_held(stream: ShardedStream[Any], *, fail: bool = False) -> Callable[[FakeGladia], Any]:
    """A fake hook holding each request of the background planner (the probes of 50 after
    the first two, which cut the windows planned up front with shards=1) until the walk has
    walked every window planned so far and waits for the next; then serves it, or fails the
    first with a 500."""
    waited = [asyncio.Event() for _ in range(16)]
    stream._fed = _Watched(waited)
    probes = 0

    async def hold(f: FakeGladia) -> None:
        nonlocal probes
        last = f.requests.last
        assert last is not None
        if last.param("limit") == "50":
            probes += 1
            if probes >= 3:
                await waited[probes - 3].wait()
                if fail:
                    raise web.HTTPInternalServerError()

    return hold


def held_walk(gladia: GladiaClient, fake: FakeGladia, *, fail: bool = False) -> ShardedStream[Any]:
    """A walk of windows of 99 whose background planner's requests ``planner_held`` holds."""
    stream = gladia.pre_recorded.list(shards=1, max_depth=100, page_size=20, lean=True)
    assert isinstance(stream, ShardedStream)
    hold = planner_held(stream, fail=fail)
    fake.inject("pre_recorded.list", "hook", hook=hold, times=None)
    return stream


async def test_a_walk_that_outruns_its_planner_waits_for_the_next_window() -> None:
    """500 jobs in windows of 99 (the last of 5), two planned before the first job and the
    rest by a background task, each held until the walk has walked every window before it:
    the walk waits for the next window each time instead of ending, and counts every window
    planned."""
    fake = await spaced_fake(500)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = held_walk(gladia, fake)
            async with asyncio.timeout(10), stream:
                assert [job.id async for job in stream] == fake.store.ids()
            assert stream.stats.windows == 6 and stream._fed.waits == 4
    finally:
        await fake.close()


async def test_a_planning_failure_is_raised_in_order_after_the_windows_planned_before_it() -> None:
    """The background planner's request fails (500) while the walk waits for it: the walk
    yields the two windows planned before it, then raises that error (never a quiet end)."""
    fake = await spaced_fake(500)
    try:
        policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0)
        async with GladiaClient(api_key=KEY, base_url=fake.url, retry_policy=policy) as gladia:
            stream = held_walk(gladia, fake, fail=True)
            seen: list[str] = []
            with pytest.raises(GladiaError) as info:
                async with asyncio.timeout(10), stream:
                    async for job in stream:
                        seen.append(job.id)
            assert info.value.checkpoint is not None
            assert seen == fake.store.ids()[:198]
            assert stream.stats.errors == 1
    finally:
        await fake.close()


async def test_closing_cancels_the_background_planner() -> None:
    """Closed while the background planner's request is held by the server, the walk
    cancels the planner instead of waiting for the rest of the listing to be cut."""
    fake = await spaced_fake(500)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = held_walk(gladia, fake)
            async with asyncio.timeout(10):
                async with stream:
                    async for _ in stream:
                        break
                    feeder = stream._feeder
                    assert feeder is not None and not feeder.done()
            assert feeder.cancelled() and stream.stats.windows == 2
    finally:
        await fake.close()


@pytest.mark.parametrize("stop", [50, 99, 350, 446, 497, 500])
async def test_a_plain_walk_resumed_as_a_sharded_walk_yields_the_rest_exactly(stop: int) -> None:
    """A plain walk's token (an offset into the listing) resumed with ``shards``: the
    offset is found among all the windows (five of 99 and one of 5 here; 350 is past the two
    a fresh walk plans up front), the windows before it skipped, the rest yielded exactly
    once: at a window's start or end, inside the window before the last or the last, or at
    the end of the listing."""
    fake = await spaced_fake(500)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            plain = gladia.pre_recorded.list(page_size=10, lean=True)
            first = await take(plain, stop)
            token = plain.checkpoint.token
            fake.requests.clear()
            stream = gladia.pre_recorded.list(resume=token, shards=1, max_depth=100, lean=True)
            assert isinstance(stream, ShardedStream)
            async with stream:
                rest = [job.id async for job in stream]
        assert first + rest == fake.store.ids()
        assert stream.stats.duplicates == 0
        if stop >= 99:  # the first window (jobs 0-98, after 11:59:59.011) is never asked
            assert all(r.param("after_date") != "2026-07-01T11:59:59.011Z" for r in fake.requests)
    finally:
        await fake.close()


@pytest.mark.parametrize("primer_fails", [False, True])
async def test_a_planning_failure_with_a_window_primed_ahead_resumes_at_its_first_job(
    primer_fails: bool,
) -> None:
    """Two shards, windows of 99: the background planner's first request is held until the
    second window is walked and re-counted, and fails then; the third window, opened ahead,
    holds its first job (not yielded), or the failure of its first page. The planner's error
    comes as the second window ends, and its checkpoint counts that job as not yielded: the
    resume yields it and the rest once."""
    fake = await spaced_fake(500)
    recount, planner_failed = asyncio.Event(), asyncio.Event()
    probes = firsts = 0

    async def fail_the_planner(f: FakeGladia) -> None:
        nonlocal probes, firsts
        last = f.requests.last
        assert last is not None
        if last.param("limit") == "20" and last.param("offset") == "0":
            firsts += 1
            if firsts == 3 and primer_fails:  # the third window's first page
                raise web.HTTPInternalServerError()
        if last.param("limit") == "50":
            probes += 1
            if probes == 4:  # the first three cut the windows planned up front
                await recount.wait()
                raise web.HTTPInternalServerError()
        if last.param("limit") == "2" and len(seen) == 198:  # the second window's re-count
            recount.set()
            await planner_failed.wait()

    fake.inject("pre_recorded.list", "hook", hook=fail_the_planner, times=None)
    seen: list[str] = []
    try:
        policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0)
        async with GladiaClient(api_key=KEY, base_url=fake.url, retry_policy=policy) as gladia:
            stream = gladia.pre_recorded.list(shards=2, max_depth=100, page_size=20, lean=True)
            assert isinstance(stream, ShardedStream)
            with pytest.raises(GladiaError) as info:
                async with asyncio.timeout(10), stream:
                    async for job in stream:
                        seen.append(job.id)
                        if len(seen) == 198:  # the second window's last job
                            primer, feeder = stream._ahead[1].first, stream._feeder
                            assert primer is not None and feeder is not None
                            feeder.add_done_callback(lambda _: planner_failed.set())
                            await asyncio.wait({primer})  # the third window's first job
            assert len(seen) == 198 and info.value.checkpoint is not None
            cp = info.value.checkpoint  # the primed job is not yielded: no position at all
            assert (cp.offset, cp.window_count) == (0, None)
            async with gladia.pre_recorded.list(
                resume=info.value.checkpoint.token, lean=True
            ) as rest:
                seen += [job.id async for job in rest]
        assert seen == fake.store.ids()
    finally:
        recount.set()
        planner_failed.set()
        await fake.close()


async def test_a_finished_walk_resumes_with_three_small_requests() -> None:
    """The token of a finished walk names its last window, walked whole: the resume checks
    that window's count twice (before and after reading nothing), asks no page of it, and
    verifies it: three requests of at most two jobs, nothing yielded."""
    fake = await spaced_fake(300)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(shards=2, max_depth=100, lean=True) as stream:
                assert len([job async for job in stream]) == 300
            fake.requests.clear()
            async with gladia.pre_recorded.list(resume=stream.checkpoint.token) as rest:
                assert [job async for job in rest] == []
        assert [int(r.param("limit") or 0) for r in fake.requests] == [2, 2, 2]
        assert rest.stats.requests == rest.stats.probes == 3
    finally:
        await fake.close()


async def test_a_resume_after_every_yielded_job_was_deleted_rewinds_to_the_first_unseen() -> None:
    """150 jobs of a window of 249 yielded, then all 150 deleted: too many for the sketch,
    the resume walks the window from its start, where the first job never yielded now
    stands; every job left comes once (none of them had come)."""
    fake = await spaced_fake(300)
    try:
        ids = fake.store.ids()
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(shards=1, max_depth=250, page_size=20, lean=True)
            first = await take(stream, 150)
            for job_id in first:
                fake.store.remove(job_id)
            async with gladia.pre_recorded.list(resume=stream.checkpoint.token, lean=True) as rest:
                second = [job.id async for job in rest]
        assert rest.stats.rewinds == 1
        assert first + second == ids
    finally:
        await fake.close()


async def test_a_resumed_window_that_changes_during_each_of_32_reads_fails() -> None:
    """Each re-count deletes the newest job, which is in the interrupted window: the resume
    lists that window again and again (its count moved each time) and gives up after 32
    reads with a PaginationError."""
    fake = await spaced_fake(300)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(shards=1, max_depth=100, page_size=20, lean=True)
            await take(stream, 10)

            def delete_newest(f: FakeGladia) -> None:
                last = f.requests.last
                if last is not None and last.param("limit") == "2":  # has_count
                    f.store.remove(f.store.ids()[0])

            fake.inject("pre_recorded.list", "hook", hook=delete_newest, times=None)
            with pytest.raises(PaginationError, match="changed during each of 32 reads"):
                async with gladia.pre_recorded.list(
                    resume=stream.checkpoint.token, lean=True
                ) as rest:
                    async for _ in rest:
                        pass
    finally:
        await fake.close()
