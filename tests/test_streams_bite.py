"""Behaviours the README documents that mutation testing found unpinned (issue 16): the 429
window and pauses, the rewind of a cancelled pause, cancelling the window after a failure, the
refusal limit, trimming pages longer than ``limit`` and the duplicate window."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from typing import Any

import pytest

from gladia_async._config import RetryPolicy
from gladia_async._errors import InternalServerError, PaginationError, RateLimitError
from gladia_async._streams import (
    DEDUPE_MIN_IDS,
    MAX_RATE_LIMIT_REQUESTS,
    GetManyStream,
    ListStream,
    StreamStats,
    _IdWindow,
)
from gladia_async.types.common import Page

from ._servers import other_tasks
from .test_streams import FakeList, Item, collect, start, until

POLICY = RetryPolicy(max_retries=0, base_delay=0.5, max_delay=2.0, retry_after_cap=60.0)


def refusal(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("slow down", status=429, retry_after=retry_after)


def recording(stream: ListStream[Item]) -> list[float]:
    """Replace the stream's 429 pause with one that records its length and returns at once."""
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    stream.sleep = sleep
    return slept


async def test_the_documented_limits() -> None:
    assert MAX_RATE_LIMIT_REQUESTS == 6  # the README's "6 refusals in a row"
    assert DEDUPE_MIN_IDS == 1024


async def test_a_429_halves_the_window_and_good_pages_grow_it_back() -> None:
    fake = FakeList(400)
    stats = StreamStats()
    windows: list[int] = []

    async def fetch(offset: int, limit: int) -> Page[Item]:
        windows.append(stats.window)
        return await fake(offset, limit)

    fake.faults = {8: refusal(0), 9: refusal(0)}
    stream = ListStream(fetch, start(10), concurrency=8, stats=stats)
    recording(stream)
    assert await collect(stream) == [i.id for i in fake.items]
    assert windows[:8] == [8] * 8
    # Call 8 is refused: 4; its re-request (call 9, or a later one) is refused again: 2.
    assert min(windows) == 2
    assert stream.stats.max_in_flight == 8
    assert stream.stats.window == 8  # one more per good page, up to concurrency
    assert stream.stats.rate_limited == 2


async def test_the_pause_honours_retry_after_else_backs_off() -> None:
    fake = FakeList(30)
    fake.faults = {0: refusal(7.0), 1: refusal(None), 2: refusal(None), 3: refusal(None)}
    stream = ListStream(fake, start(10), concurrency=1, retry_policy=POLICY)
    slept = recording(stream)
    assert await collect(stream) == [i.id for i in fake.items]
    assert slept == [7.0, 1.0, 2.0, 2.0]  # Retry-After; then 0.5 * 2**(streak-1), capped at 2
    assert fake.calls[:5] == [(0, 10)] * 5  # the same page each time


async def test_a_negative_retry_after_pauses_zero_seconds() -> None:
    fake = FakeList(10)
    fake.faults = {0: refusal(-5.0)}
    stream = ListStream(fake, start(10), concurrency=1, retry_policy=POLICY)
    slept = recording(stream)
    assert len(await collect(stream)) == 10
    assert slept == [0.0]


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_refusals_in_a_row_up_to_the_limit(concurrency: int) -> None:
    for refusals in (MAX_RATE_LIMIT_REQUESTS - 1, MAX_RATE_LIMIT_REQUESTS):
        fake = FakeList(30)
        left = refusals

        async def fetch(offset: int, limit: int, fake: FakeList = fake) -> Page[Item]:
            nonlocal left
            if offset == 10 and left:  # only this page is refused, `refusals` times
                left -= 1
                raise refusal(0)
            return await fake(offset, limit)

        stream = ListStream(fetch, start(10, offset=10), concurrency=concurrency)
        recording(stream)
        if refusals < MAX_RATE_LIMIT_REQUESTS:
            assert await collect(stream) == [i.id for i in fake.items[10:]]
            assert stream.stats.rate_limited == refusals
        else:
            with pytest.raises(RateLimitError) as info:
                await collect(stream)
            assert info.value.checkpoint is not None and info.value.checkpoint.offset == 10
            assert stream.stats.rate_limited == refusals - 1
        assert not other_tasks()


async def test_a_consumer_cancelled_during_the_pause_loses_nothing() -> None:
    fake = FakeList(50)
    fake.faults = {2: refusal(0)}
    stream = ListStream(fake, start(10), concurrency=4)
    paused = asyncio.Event()

    async def sleep(delay: float) -> None:
        paused.set()
        await asyncio.Event().wait()  # until cancelled

    stream.sleep = sleep
    got = [(await anext(stream)).id for _ in range(20)]
    waiter = asyncio.ensure_future(anext(stream))
    await paused.wait()
    waiter.cancel()  # e.g. a timeout around anext, during the 429 pause
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not other_tasks()  # the window was cancelled too
    recording(stream)
    async with stream:
        got += [item.id async for item in stream]
    assert got == [i.id for i in fake.items]


@pytest.mark.parametrize("concurrency", [2, 5])
async def test_a_failed_page_cancels_the_rest_of_the_window(concurrency: int) -> None:
    gate = asyncio.Event()
    fake = FakeList(100)
    fake.gate = gate

    async def fetch(offset: int, limit: int) -> Page[Item]:
        if offset == 0:
            await until(lambda: len(fake.calls) == concurrency - 1)
            raise InternalServerError("boom", status=500)
        return await fake(offset, limit)

    stream = ListStream(fetch, start(10), concurrency=concurrency)
    with pytest.raises(InternalServerError):
        await anext(stream)
    assert not other_tasks()  # without aclose(): the failure itself cancelled them
    assert stream.stats.cancelled == concurrency - 1
    assert stream.stats.errors == 1


async def test_get_many_failure_cancels_the_calls_in_flight() -> None:
    started: list[int] = []

    async def func(key: int) -> int:
        started.append(key)
        if key == 0:
            await until(lambda: len(started) == 4)
            raise InternalServerError("boom", status=500)
        await asyncio.Event().wait()
        raise AssertionError("never finishes")  # pragma: no cover

    stream = GetManyStream(range(100), func, concurrency=4)
    with pytest.raises(InternalServerError):
        await anext(stream)
    assert not other_tasks()  # without aclose()
    assert started == [0, 1, 2, 3]
    with pytest.raises(InternalServerError):
        await anext(stream)


@pytest.mark.parametrize("concurrency", [1, 2, 4])
async def test_pages_longer_than_limit_are_trimmed_to_it(concurrency: int) -> None:
    items = [Item(f"j{i:03d}") for i in range(60)]

    async def overfull(offset: int, limit: int) -> Page[Item]:
        end = min(offset + 25, len(items))  # 25 items whatever `limit` asks
        nxt = f"https://api.gladia.io/v2/pre-recorded?offset={end}" if end < len(items) else None
        return Page(items=items[offset:end], next_url=nxt)

    stream = ListStream(overfull, start(10), concurrency=concurrency)
    async with stream:
        pages = [page async for page in stream.pages()]
    assert [(p.offset, len(p.items)) for p in pages] == [(o, 10) for o in range(0, 60, 10)]
    assert [i for p in pages for i in p.items] == items
    assert stream.stats.duplicates == 0


async def test_the_duplicate_window_remembers_and_forgets_in_order() -> None:
    window = _IdWindow(3)
    assert [window.add(x) for x in "abca"] == [True, True, True, False]
    assert window.add("d") and len(window) == 3
    assert window.ids == {"b", "c", "d"}  # "a" forgotten first
    assert window.add("a") and not window.add("d")


async def test_pages_view_drops_duplicates_and_cuts_at_max_items() -> None:
    fake = FakeList(50)
    calls = 0

    async def shifting(offset: int, limit: int) -> Page[Item]:
        nonlocal calls
        calls += 1
        if calls == 2:  # two new items pushed the list down: the page repeats two
            return await fake(offset - 2, limit)
        return await fake(offset, limit)

    stream = ListStream(shifting, start(10), concurrency=1, max_items=25)
    async with stream:
        pages = [page async for page in stream.pages()]
    ids = [i.id for p in pages for i in p.items]
    assert len(ids) == 25 and len(set(ids)) == 25
    assert [len(p.items) for p in pages] == [10, 8, 7]
    assert stream.stats.duplicates == 2 and stream.stats.items == 25
    assert stream.checkpoint.offset == 27


def test_stream_stats_start_empty() -> None:
    values = dataclasses.asdict(StreamStats())
    assert values.pop("window") == 1
    assert values.pop("last_headers", None) is None
    assert set(values.values()) == {0}


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_stream_stats_count_exactly(concurrency: int) -> None:
    fake = FakeList(35)
    short_once = True

    async def fetch(offset: int, limit: int) -> Page[Item]:
        nonlocal short_once
        page = await fake(offset, limit)
        if offset == 10 and short_once:  # one short page that is not the last: a gap
            short_once = False
            return Page(items=page.items[:4], next_url=page.next_url)
        return page

    stream = ListStream(fetch, start(10), concurrency=concurrency)
    assert await collect(stream) == [i.id for i in fake.items]
    stats = stream.stats
    assert (stats.pages, stats.items, stats.duplicates, stats.gaps) == (5, 35, 0, 1)
    assert stats.page_size == 10 and stats.window == concurrency
    assert stats.max_in_flight == concurrency and stats.errors == 0


async def test_an_abandoned_stream_retrieves_its_failed_requests() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:

        async def fetch(offset: int, limit: int) -> Page[Item]:
            if offset:
                raise InternalServerError("boom", status=500)
            return Page(items=[Item(str(k)) for k in range(10)], next_url="https://x/?offset=10")

        stream = ListStream(fetch, start(10), concurrency=3)
        assert (await anext(stream)).id == "0"
        for _ in range(100):  # let the two failing requests finish
            await asyncio.sleep(0)
        assert all(slot.task.done() for slot in stream._slots)
        del stream  # never closed: its __del__ must retrieve the failures
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert reported == []


def test_defaults_and_the_duplicate_window_size() -> None:
    fake = FakeList(0)
    assert ListStream(fake, start(10)).concurrency == 4
    assert ListStream(fake, start(10), concurrency=2)._seen._size == DEDUPE_MIN_IDS
    assert ListStream(fake, start(100), concurrency=8)._seen._size == 1600  # 2 x 100 x 8
    assert GetManyStream([], fake)._concurrency == 8


async def test_items_view_counts_duplicates_and_claims_the_stream() -> None:
    fake = FakeList(30)
    calls = 0

    async def shifting(offset: int, limit: int) -> Page[Item]:
        nonlocal calls
        calls += 1
        return await fake(offset - 2 if calls == 2 else offset, limit)

    stream = ListStream(shifting, start(10), concurrency=1)
    first = await anext(stream)
    with pytest.raises(RuntimeError, match="only once"):
        stream.pages()  # items were taken already
    async with stream:
        ids = [first.id] + [item.id async for item in stream]
    expected = [i.id for i in fake.items]
    assert ids == expected[:18] + expected[20:]  # the page served 8-17 for 10-19
    assert stream.stats.duplicates == 2


async def test_max_items_closes_the_window_at_the_last_item() -> None:
    fake = FakeList(100)
    stream = ListStream(fake, start(10), concurrency=3, max_items=10)
    got = [(await anext(stream)).id for _ in range(10)]
    assert got == [i.id for i in fake.items[:10]]
    assert not other_tasks()  # closed with the 10th item, not at the next anext
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_aclose_mid_page_ends_the_iteration() -> None:
    stream = ListStream(FakeList(30), start(10), concurrency=1)
    assert [(await anext(stream)).id for _ in range(3)] == ["j00000", "j00001", "j00002"]
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):  # not the rest of the page it held
        await anext(stream)
    claimed = ListStream(FakeList(30), start(10))
    aiter(claimed)
    with pytest.raises(RuntimeError, match="only once"):
        claimed.pages()


async def test_a_page_ending_in_duplicates_still_moves_the_checkpoint() -> None:
    items = [Item(f"j{i:02d}") for i in range(20)]

    async def fetch(offset: int, limit: int) -> Page[Item]:
        if offset == 10:  # the last page ends with two ids already yielded
            return Page(items=items[10:18] + items[:2], next_url=None)
        return Page(items=items[:10], next_url="https://x/?offset=10")

    stream = ListStream(fetch, start(10), concurrency=1)
    assert len(await collect(stream)) == 18
    assert stream.checkpoint.offset == 20 and stream.stats.duplicates == 2


async def test_a_retry_after_at_the_cap_pauses_and_the_backoff_needs_no_header() -> None:
    for policy, exc, pause in (
        (POLICY, refusal(60.0), 60.0),  # exactly the cap: honoured, not a failure
        (RetryPolicy(base_delay=0.25, retry_after_cap=0.0), refusal(None), 0.25),
    ):
        fake = FakeList(10)
        fake.faults = {0: exc}
        stream = ListStream(fake, start(10), concurrency=1, retry_policy=policy)
        slept = recording(stream)
        assert len(await collect(stream)) == 10
        assert slept == [pause]


async def test_the_stream_closes_with_its_last_item_and_stats_have_slots() -> None:
    stream = ListStream(FakeList(100), start(10), concurrency=3, max_items=10)
    for _ in range(10):
        await anext(stream)
    assert "closed" in repr(stream)
    assert not hasattr(StreamStats(), "__dict__")


async def test_a_good_page_resets_the_refusal_streak() -> None:
    fake = FakeList(30)
    refused = {0: 5, 10: 5}  # 5 refusals of page 0, then 5 of page 10: never 6 in a row

    async def fetch(offset: int, limit: int) -> Page[Item]:
        if refused.get(offset):
            refused[offset] -= 1
            raise refusal(None)
        return await fake(offset, limit)

    stream = ListStream(fetch, start(10), concurrency=1, retry_policy=POLICY)
    slept = recording(stream)
    assert await collect(stream) == [i.id for i in fake.items]
    assert slept == [0.5, 1.0, 2.0, 2.0, 2.0] * 2  # the backoff starts again after a good page


async def test_offsets_stay_below_2_53() -> None:
    items = [Item(f"j{i}") for i in range(10)]

    async def fetch(offset: int, limit: int) -> Page[Item]:
        return Page(items=items[:limit], next_url=None)

    exact = ListStream(fetch, start(10, offset=2**53 - 10), concurrency=1)
    assert len(await collect(exact)) == 10 and exact.checkpoint.offset == 2**53
    beyond = ListStream(fetch, start(10, offset=2**53 - 5), concurrency=1)
    with pytest.raises(PaginationError, match="exceeds") as info:
        await collect(beyond)
    assert info.value.checkpoint is not None and info.value.checkpoint.offset == 2**53 - 5


async def test_max_items_one_past_a_page_boundary() -> None:
    fake = FakeList(100)
    stream = ListStream(fake, start(10), concurrency=2, max_items=11)
    assert await collect(stream) == [i.id for i in fake.items[:11]]
    assert (20, 1) not in fake.calls and (10, 1) in fake.calls  # the last page asks for one


async def test_failed_wasted_requests_are_retrieved() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:

        async def fetch(offset: int, limit: int) -> Page[Item]:
            if offset >= 20:  # speculative requests past the end fail at once
                raise InternalServerError("boom", status=500)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            n = 10 if offset == 0 else 5
            nxt = "https://x/?offset=10" if offset == 0 else None
            return Page(items=[Item(f"{offset}-{k}") for k in range(n)], next_url=nxt)

        stream = ListStream(fetch, start(10), concurrency=4)
        assert len(await collect(stream)) == 15
        assert stream.stats.wasted >= 1
        del stream
        gc.collect()
        for _ in range(5):
            await asyncio.sleep(0)
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert reported == []


async def test_next_link_offsets_parsed_and_bounded() -> None:
    def fetcher(link: str) -> Any:
        async def fetch(offset: int, limit: int) -> Page[Item]:
            if offset == 0:
                return Page(items=[Item(f"a{k}") for k in range(10)], next_url=link)
            return Page(items=[Item(f"b{k}") for k in range(5)], next_url=None)

        return fetch

    ok = ListStream(fetcher(f"https://x/?offset={2**53}"), start(10), concurrency=1)
    assert len(await collect(ok)) == 15  # 2**53 itself is a valid offset
    for link, match in (
        ("https://x/?offset=abc", "no usable offset"),
        (f"https://x/?offset={2**53 + 1}", "exceeds"),
    ):
        bad = ListStream(fetcher(link), start(10), concurrency=1)
        with pytest.raises(PaginationError, match=match):
            await collect(bad)


async def test_get_many_is_single_use() -> None:
    async def func(key: int) -> int:
        return key

    stream = GetManyStream([1, 2], func)
    aiter(stream)
    with pytest.raises(RuntimeError, match="only once"):
        aiter(stream)
    await stream.aclose()
