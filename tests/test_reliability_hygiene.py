"""Resource hygiene: abandoned streams and a client closed mid-flight leave nothing behind.

The fake API runs on its own thread and loop, so every task of this test's loop belongs to the
client: asyncio.all_tasks() before and after measures the client alone. Sockets and file
descriptors are counted with psutil; ResourceWarnings are recorded and must be none (and the
suite runs with -W error, which turns any leak reported by a finaliser into a failure).
"""

from __future__ import annotations

import asyncio
import gc
import random
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from gladia_async import GladiaClient, GladiaError

from ._cli_helpers import FakeThread
from ._reliability_helpers import connections_to, fast_retry_kwargs, open_fds, settle
from ._servers import other_tasks

KEY = "hygiene-test-key-0000"
STREAMS = 1_000
MODES = ("aclose", "async_with", "break_then_aclose", "never_iterated", "cancel_consumer", "pages")


@pytest.fixture
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks]


def _fake(**kw: Any) -> FakeThread:
    return FakeThread(api_key=KEY, seed=11, transcript_seconds=0, **kw)


async def _walk(stream: Any, stop_after: int) -> int:
    n = 0
    async for _ in stream:
        n += 1
        if n >= stop_after:
            break
    return n


async def _one_stream(gladia: GladiaClient, rng: random.Random, total: int) -> str:
    mode = rng.choice(MODES)
    stream = gladia.pre_recorded.list(
        page_size=rng.choice([5, 20, 50]),
        concurrency=rng.randint(1, 5),
        max_items=rng.choice([None, None, rng.randint(0, 60)]),
    )
    stop_after = rng.randint(1, total + 5)
    if mode == "aclose":
        await _walk(stream, stop_after)
        await stream.aclose()
    elif mode == "async_with":
        async with stream:
            await _walk(stream, stop_after)
    elif mode == "break_then_aclose":
        try:
            await _walk(stream, stop_after)
        finally:
            await stream.aclose()
            await stream.aclose()  # twice is harmless
    elif mode == "never_iterated":
        await stream.aclose()
    elif mode == "pages":
        async with stream:
            async for page in stream.pages():
                if rng.random() < 0.3:
                    break
                assert len(page.items) <= 50
    else:  # cancel the consumer at a random await
        task = asyncio.create_task(_walk(stream, total + 5))
        for _ in range(rng.randint(0, 12)):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await stream.aclose()
    return mode


async def test_thousand_abandoned_streams_leave_no_task_socket_or_fd(
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    total = 120
    with _fake(jobs=total) as fake:
        fake_port = fake.port
        fds_before = open_fds()
        tasks_before = other_tasks()
        rng = random.Random(20260714)
        seen_modes: dict[str, int] = {}
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(3)) as gladia:
            for i in range(STREAMS):
                mode = await _one_stream(gladia, rng, total)
                seen_modes[mode] = seen_modes.get(mode, 0) + 1
                left = other_tasks() - tasks_before
                assert not left, f"stream {i} ({mode}) left tasks: {left}"
            # keep-alive connections are pooled, never more than the connection limit
            assert connections_to(fake_port) <= 100
        assert set(seen_modes) == set(MODES)
        assert await settle(lambda: connections_to(fake_port) == 0), "client sockets left open"
        gc.collect()
        assert await settle(lambda: open_fds() <= fds_before), (
            f"file descriptors: {fds_before} before, {open_fds()} after"
        )
    assert not (other_tasks() - tasks_before)


async def test_stream_dropped_without_close_is_cancelled_on_collection(
    resource_warnings: list[warnings.WarningMessage],
) -> None:
    with _fake(jobs=200) as fake:
        fake.call(
            lambda f: f.inject(
                "pre_recorded.list", "latency", delay=0.5, on=set(range(2, 50)), times=None
            )
        )
        tasks_before = other_tasks()
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(1)) as gladia:
            stream = gladia.pre_recorded.list(page_size=10, concurrency=4)
            it = aiter(stream)
            await anext(it)  # the window is now full of in-flight requests
            assert other_tasks() - tasks_before, "expected prefetch tasks in flight"
            del stream, it
            gc.collect()
            assert await settle(lambda: not (other_tasks() - tasks_before)), (
                "a dropped stream kept its requests running"
            )
        assert await settle(lambda: connections_to(fake.port) == 0)


async def _wait_for_requests(server: FakeThread, n: int) -> None:
    for _ in range(2000):
        if server.call(lambda f: len(f.requests)) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the fake never saw {n} requests")


@pytest.mark.parametrize("owned_session", [True, False], ids=["own-session", "borrowed-session"])
async def test_client_close_during_inflight_requests(
    owned_session: bool, resource_warnings: list[warnings.WarningMessage]
) -> None:
    import aiohttp

    with _fake(jobs=400) as fake:
        fake.call(lambda f: f.inject("*", "latency", delay=0.5, times=None))
        ids = fake.call(lambda f: f.store.ids())
        fds_before = open_fds()
        tasks_before = other_tasks()
        session = None if owned_session else aiohttp.ClientSession()
        gladia = GladiaClient(
            api_key=KEY, base_url=fake.url, session=session, **fast_retry_kwargs(3)
        )

        async def drain_list(concurrency: int) -> int:
            n = 0
            async with gladia.pre_recorded.list(page_size=20, concurrency=concurrency) as s:
                async for _ in s:
                    n += 1
            return n

        async def drain_many() -> int:
            n = 0
            async with gladia.pre_recorded.get_many(ids[:50], concurrency=8) as many:
                async for _ in many:
                    n += 1
            return n

        work: list[asyncio.Task[Any]] = [
            asyncio.create_task(gladia.pre_recorded.get(i)) for i in ids[:10]
        ]
        work += [asyncio.create_task(drain_list(c)) for c in (1, 4)]
        work.append(asyncio.create_task(drain_many()))
        work.append(asyncio.create_task(gladia.pre_recorded.list_page(offset=0, limit=50)))
        await _wait_for_requests(fake, 20)
        await gladia.aclose()
        async with asyncio.timeout(30):
            results = await asyncio.gather(*work, return_exceptions=True)
        if session is not None:
            assert not session.closed, "the client closed a session it did not own"
            await session.close()
        for result in results:
            if owned_session:
                assert isinstance(result, GladiaError), f"untyped outcome: {result!r}"
            else:  # a borrowed session stays open: requests already sent may complete
                assert not isinstance(result, BaseException) or isinstance(result, GladiaError), (
                    f"untyped outcome: {result!r}"
                )
        await gladia.aclose()  # closing twice is harmless
        assert not (other_tasks() - tasks_before), "tasks left after close"
        assert await settle(lambda: connections_to(fake.port) == 0), "sockets left after close"
        gc.collect()
        assert await settle(lambda: open_fds() <= fds_before), (
            f"file descriptors: {fds_before} before, {open_fds()} after"
        )
