"""Regression tests for defects found in review of the streams (each failed before its fix)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from gladia_async._streams import GetManyStream, ListStream

from ._servers import other_tasks
from .test_streams import FakeList, start


async def test_unexpected_fetch_error_never_looks_like_the_end() -> None:
    fake = FakeList(30)
    fake.faults = {1: KeyError("a bug below the stream")}
    stream = ListStream(fake, start(10), concurrency=1)
    seen = []
    with pytest.raises(KeyError):
        async for item in stream:
            seen.append(item.id)
    assert len(seen) == 10
    with pytest.raises(KeyError):  # not StopAsyncIteration: items are missing
        await anext(stream)
    await stream.aclose()
    assert not other_tasks()


@pytest.mark.parametrize("window", [1, 3])
async def test_pages_never_yields_an_empty_page(window: int) -> None:
    for n in (0, 20):
        fake = FakeList(n, next_on_full_last_page=True)
        stream = ListStream(fake, start(10), concurrency=window)
        async with stream:
            sizes = [len(p.items) async for p in stream.pages()]
        assert sizes == [10] * (n // 10)


def _failing_keys() -> Iterator[str]:
    yield from ("k0", "k1", "k2")
    raise ValueError("the id source failed")


async def _failing_async_keys() -> AsyncIterator[str]:
    for key in _failing_keys():
        yield key


@pytest.mark.parametrize("keys", [_failing_keys, _failing_async_keys])
async def test_get_many_key_source_failure_comes_in_order(keys: object) -> None:
    async def get(key: str) -> str:
        await asyncio.sleep(0)
        return key

    stream = GetManyStream(keys(), get, concurrency=8)  # type: ignore[operator]
    got = []
    with pytest.raises(ValueError, match="id source"):
        async for key in stream:
            got.append(key)
    assert got == ["k0", "k1", "k2"]  # the calls started before the failure are delivered
    assert not other_tasks()
    with pytest.raises(ValueError, match="id source"):  # not StopAsyncIteration
        await anext(stream)


async def test_get_many_failure_is_reraised_not_mistaken_for_the_end() -> None:
    async def get(key: str) -> str:
        if key == "k1":
            raise KeyError(key)
        return key

    stream = GetManyStream(["k0", "k1", "k2"], get, concurrency=2)
    assert await anext(stream) == "k0"
    for _ in range(2):
        with pytest.raises(KeyError):
            await anext(stream)
    assert not other_tasks()
