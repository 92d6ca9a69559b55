"""Holes an adversarial review found in the streams (issue 16); each test failed before its fix.

Short or empty pages that still carry a ``next`` link, ``next`` links that skip or overflow, a
cancelled read of an async id source, a failure lost during close, and two tasks iterating one
stream. End-to-end against a loopback server where the server's shape matters.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from gladia_async import GladiaClient, GladiaError, InternalServerError, PaginationError
from gladia_async._streams import GetManyStream, ListStream
from gladia_async.testing import FakeGladia
from gladia_async.types.common import Page

from ._reliability_helpers import LoopbackServer, fast_retry_kwargs, job_payload, page_payload
from ._servers import other_tasks
from .test_streams import Item, start, until

KEY = "test-key-0123456789abcdef"
TOTAL = 97
IDS = [job_payload(i)["id"] for i in range(TOTAL)]

NextFor = Callable[[int, int, int], "int | None"]
"""next_for(offset, limit, served) -> the next link's offset (None: no link)."""


def list_server(served: Callable[[int, int], int], next_for: NextFor | None = None) -> Any:
    """A listing of TOTAL jobs serving ``served(offset, limit)`` items per page; ``next`` is
    offset + limit unless the page reaches the end, or what ``next_for`` says."""

    async def handler(request: web.Request) -> web.StreamResponse:
        offset = int(request.query["offset"])
        limit = int(request.query["limit"])
        count = min(served(offset, limit), max(TOTAL - offset, 0))
        items = [job_payload(i) for i in range(offset, offset + count)]
        nxt: int | None = offset + limit if offset + count < TOTAL else None
        if next_for is not None:
            nxt = next_for(offset, limit, count)
        base = f"http://{request.host}/v2/pre-recorded"
        link = None if nxt is None else f"{base}?offset={nxt}&limit={limit}"
        return web.Response(body=page_payload(items, link), content_type="application/json")

    return handler


async def walk(url: str, concurrency: int, page_size: int = 10) -> tuple[list[str], Any]:
    """(ids yielded, the error that ended the walk or None) for one listing."""
    got: list[str] = []
    async with GladiaClient(api_key=KEY, base_url=url, **fast_retry_kwargs(1)) as gladia:
        stream = gladia.pre_recorded.list(page_size=page_size, concurrency=concurrency, lean=True)
        try:
            async with stream:
                async for job in stream:
                    got.append(job.id)
        except PaginationError as exc:
            return got, exc
    return got, None


@pytest.mark.parametrize("concurrency", [1, 4, 8])
async def test_short_pages_with_a_next_link_do_not_end_the_listing(concurrency: int) -> None:
    rng = random.Random(16)
    short = {o: rng.randint(1, 10) for o in range(TOTAL)}  # fixed per offset: reproducible
    async with LoopbackServer(list_server(lambda o, n: min(n, short[o]))) as api:
        got, error = await walk(api.url, concurrency)
    assert error is None
    assert got == IDS


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_an_empty_page_with_a_next_link_is_an_error_with_a_checkpoint(
    concurrency: int,
) -> None:
    served = lambda o, n: 0 if o == 30 else n  # noqa: E731
    async with LoopbackServer(list_server(served)) as api:
        got, error = await walk(api.url, concurrency)
    assert got == IDS[:30]
    assert isinstance(error, PaginationError)
    assert error.checkpoint is not None and error.checkpoint.offset == 30


@pytest.mark.parametrize("concurrency", [1, 8])
async def test_a_next_link_skipping_forward_loses_nothing(concurrency: int) -> None:
    def skip(offset: int, limit: int, served: int) -> int | None:
        return offset + limit + 50 if offset + limit < TOTAL else None

    async with LoopbackServer(list_server(lambda o, n: n, skip)) as api:
        got, error = await walk(api.url, concurrency)
    assert error is None
    assert got == IDS


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_next_offset_beyond_2_53_is_a_pagination_error(concurrency: int) -> None:
    def huge(offset: int, limit: int, served: int) -> int | None:
        return 2**53 + 1 if offset == 20 else offset + limit

    async with LoopbackServer(list_server(lambda o, n: n, huge)) as api:
        got, error = await walk(api.url, concurrency)
    assert got == IDS[:20]
    assert isinstance(error, PaginationError)
    assert error.checkpoint is not None and error.checkpoint.offset == 20
    assert error.checkpoint.token  # a checkpoint that can be resumed


def hostile_fetch(seed: int, n: int = 60) -> Callable[[int, int], Any]:
    """A deterministic but inconsistent server: short pages, empty pages, skipping, looping and
    missing ``next`` links, pages longer than asked, all decided by (seed, offset, limit)."""
    items = [Item(f"j{i:03d}") for i in range(n)]

    async def fetch(offset: int, limit: int) -> Page[Item]:
        rng = random.Random(f"{seed}-{offset}-{limit}")
        await asyncio.sleep(0)
        kind = rng.random()
        count = limit
        if kind < 0.15:
            count = rng.randint(0, limit - 1)
        elif kind < 0.2:
            count = limit + rng.randint(1, 5)
        chunk = items[offset : offset + count]
        nxt: int | None = offset + limit if offset + len(chunk) < n else None
        draw = rng.random()
        if draw < 0.05:
            nxt = offset + limit + rng.randint(1, 30)
        elif draw < 0.08:
            nxt = max(0, offset - 1)
        elif draw < 0.1 and nxt is not None:
            nxt = offset + len(chunk)
        url = None if nxt is None else f"https://api.gladia.io/v2/pre-recorded?offset={nxt}"
        return Page(items=chunk, next_url=url)

    return fetch


@pytest.mark.parametrize("seed", range(40))
async def test_the_outcome_does_not_depend_on_concurrency(seed: int) -> None:
    outcomes = set()
    for concurrency in (1, 2, 3, 8):
        stream = ListStream(hostile_fetch(seed), start(7), concurrency=concurrency)
        got: list[str] = []
        error: BaseException | None = None
        try:
            async with stream:
                async for item in stream:
                    got.append(item.id)
        except PaginationError as exc:
            error = exc
            assert exc.checkpoint is not None and exc.checkpoint.offset == stream.checkpoint.offset
        if error is None:  # a normal end: nothing missing
            assert got == [f"j{i:03d}" for i in range(60)]
        else:
            assert got == [f"j{i:03d}" for i in range(len(got))]
        outcomes.add((tuple(got), type(error), stream.checkpoint.offset))
        assert not other_tasks()
    assert len(outcomes) == 1


# -- get_many over an async id source ---------------------------------------------------------


async def test_get_many_survives_a_cancelled_read_of_an_async_id_source() -> None:
    async with FakeGladia(api_key=KEY, jobs=20, seed=3) as fake:
        ids = fake.store.ids()
        gate = asyncio.Event()
        blocked = asyncio.Event()

        async def id_source() -> AsyncIterator[str]:
            for n, job_id in enumerate(ids):
                if n == 2 and not gate.is_set():
                    blocked.set()
                    await gate.wait()  # a consumer's timeout lands here
                yield job_id

        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.get_many(id_source(), concurrency=1)
            got = [(await anext(stream)).id, (await anext(stream)).id]
            waiter = asyncio.ensure_future(anext(stream))
            await blocked.wait()
            waiter.cancel()  # e.g. asyncio.timeout() around anext
            with pytest.raises(asyncio.CancelledError):
                await waiter
            gate.set()
            async with stream:
                got += [job.id async for job in stream]
    assert got == ids
    assert not other_tasks()


async def test_get_many_aclose_during_a_pending_key_read_leaves_nothing() -> None:
    gate = asyncio.Event()
    blocked = asyncio.Event()

    async def keys() -> AsyncIterator[int]:
        yield 1
        blocked.set()
        await gate.wait()  # a source that never yields again
        yield 2  # pragma: no cover

    async def func(key: int) -> int:
        return key

    stream = GetManyStream(keys(), func, concurrency=4)
    waiter = asyncio.ensure_future(anext(stream))
    await blocked.wait()  # the read of the second id is pending
    async with asyncio.timeout(10):  # a hang guard: aclose must cancel the read, not wait
        await stream.aclose()
    with pytest.raises((StopAsyncIteration, asyncio.CancelledError)):
        await waiter
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert not other_tasks()


async def test_get_many_failure_survives_a_consumer_cancelled_while_closing() -> None:
    release = asyncio.Event()

    async def func(key: str) -> str:
        if key == "k1":
            raise InternalServerError("boom", status=500)
        if key == "k2":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await release.wait()  # slow to stop: the close waits here
                raise
        return key

    stream = GetManyStream(["k0", "k1", "k2"], func, concurrency=3)
    assert await anext(stream) == "k0"
    consumer = asyncio.ensure_future(anext(stream))
    await until(lambda: stream._closed)
    consumer.cancel()  # the consumer is cancelled during aclose()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    with pytest.raises(InternalServerError):  # not StopAsyncIteration: k1 and k2 are missing
        await anext(stream)
    await stream.aclose()
    assert not other_tasks()


# -- two tasks on one stream ------------------------------------------------------------------


async def refused(second: Any) -> None:
    """The second concurrent anext fails at once with RuntimeError (it must not wait)."""
    task = asyncio.ensure_future(second)
    await until(task.done)
    with pytest.raises(RuntimeError, match="already being iterated"):
        await task


async def test_two_tasks_iterating_one_list_stream() -> None:
    gate = asyncio.Event()
    items = [Item(f"j{i:02d}") for i in range(25)]

    async def fetch(offset: int, limit: int) -> Page[Item]:
        await gate.wait()
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        return Page(items=chunk, next_url=f"https://x/?offset={offset + limit}" if more else None)

    for concurrency in (1, 3):
        gate.clear()
        stream = ListStream(fetch, start(10), concurrency=concurrency)
        first = asyncio.ensure_future(anext(stream))
        await until(lambda: stream.stats.requests > 0)  # noqa: B023
        await refused(anext(stream))
        gate.set()
        got = [(await first).id]
        async with stream:
            got += [item.id async for item in stream]
        assert got == [i.id for i in items]  # nothing lost


async def test_two_tasks_on_the_pages_view() -> None:
    gate = asyncio.Event()

    async def fetch(offset: int, limit: int) -> Page[Item]:
        await gate.wait()
        chunk = [Item(f"j{i}") for i in range(offset, min(offset + limit, 30))]
        return Page(
            items=chunk,
            next_url=None if offset + limit >= 30 else f"https://x/?offset={offset + limit}",
        )

    stream = ListStream(fetch, start(10), concurrency=2)
    pages = stream.pages()
    first = asyncio.ensure_future(anext(pages))
    await until(lambda: stream.stats.requests > 0)
    await refused(anext(pages))
    gate.set()
    sizes = [len((await first).items)]
    async with stream:
        sizes += [len(page.items) async for page in pages]
    assert sizes == [10, 10, 10]


async def test_two_tasks_iterating_one_get_many_stream() -> None:
    gate = asyncio.Event()

    async def func(key: int) -> int:
        await gate.wait()
        return key

    stream = GetManyStream(range(10), func, concurrency=3)
    first = asyncio.ensure_future(anext(stream))
    await until(lambda: len(stream._tasks) == 3)
    await refused(anext(stream))
    gate.set()
    got = [await first]
    async with stream:
        got += [key async for key in stream]
    assert got == list(range(10))


async def test_aclose_from_another_task_ends_a_waiting_anext() -> None:
    gate = asyncio.Event()

    async def fetch(offset: int, limit: int) -> Page[Item]:
        await gate.wait()
        return Page(items=[Item("x")], next_url=None)  # pragma: no cover

    stream = ListStream(fetch, start(10), concurrency=2)
    waiter = asyncio.ensure_future(anext(stream))
    await until(lambda: stream.stats.requests == 2)
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):  # the end the caller asked for, not IndexError
        await waiter
    assert stream.stats.errors == 0
    assert not other_tasks()


async def test_get_many_id_source_cancelled_from_inside_is_not_its_end() -> None:
    async def keys() -> AsyncIterator[int]:
        yield 1
        raise asyncio.CancelledError  # e.g. a source reading from a cancelled task

    async def func(key: int) -> int:
        return key

    stream = GetManyStream(keys(), func, concurrency=1)
    assert await anext(stream) == 1
    with pytest.raises(GladiaError, match="id source was cancelled"):
        await anext(stream)
    with pytest.raises(GladiaError):
        await anext(stream)
