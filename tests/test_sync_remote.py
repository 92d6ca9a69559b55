"""The API side of a sync (``sync/_remote.py``): what it counts, the order it learns, and
``gather_all`` leaving nothing running behind an error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gladia_async.sync._model import Scope
from gladia_async.sync._remote import Remote, gather_all
from tests._sync_helpers import client, fake

PATH = "/v2/pre-recorded"
BASE = datetime(2026, 5, 1, tzinfo=UTC)


def remote(g: Any, page_size: int = 100) -> Remote:
    scope = Scope(PATH, "pre-recorded")
    return Remote(g.pre_recorded, scope, page_size=page_size, concurrency=2, max_depth=5_000)


async def test_gather_all_cancels_and_awaits_the_others_before_raising() -> None:
    """The first failure cancels the other awaitables and waits for them to finish, however
    long their cleanup takes: when the error reaches the caller, nothing it started runs."""
    ended: list[str] = []

    async def fail() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            for _ in range(3):  # a cleanup that takes a few turns of the loop
                await asyncio.sleep(0)
            ended.append("hang")

    with pytest.raises(ValueError, match="boom"):
        await gather_all(hang(), fail(), hang())
    assert ended == ["hang", "hang"]


async def test_gather_all_returns_results_in_order() -> None:
    async def value(x: int) -> int:
        await asyncio.sleep(0)
        return x

    assert await gather_all(value(3), value(1), value(2)) == [3, 1, 2]


async def test_get_many_takes_any_iterable_and_answers_in_input_order() -> None:
    """Ids from a generator (read once) come back paired with their job, or None when gone."""
    async with fake(jobs=5, seed=3) as f, client(f) as g:
        ids = f.store.ids()
        f.store.remove(ids[1])
        pairs = await remote(g).get_many(i for i in ids)
        assert [i for i, _ in pairs] == ids
        assert [i for i, row in pairs if row is None] == [ids[1]]
        assert all(row.id == i for i, row in pairs if row is not None)


async def test_bytes_count_exactly_the_bodies_received() -> None:
    """Two identical requests cost exactly twice one: the counter starts at zero and adds each
    body's length, nothing else."""
    async with fake(jobs=7, seed=4) as f, client(f) as g:
        once, twice = remote(g), remote(g)
        await once.page(None, None, 0, 5)
        await twice.page(None, None, 0, 5)
        await twice.page(None, None, 0, 5)
        assert (once.requests, twice.requests) == (1, 2)
        assert once.bytes > 0 and twice.bytes == 2 * once.bytes


async def walk_all(r: Remote) -> list[str]:
    ids: list[str] = []
    async for batch in r.walk(None, int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)):
        ids += [row.id for row in batch]
    return ids


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_the_order_is_learned_from_a_walk_that_fits_in_one_page(oldest_first: bool) -> None:
    async with fake(jobs=4, seed=5, oldest_first=oldest_first) as f, client(f) as g:
        r = remote(g)
        assert r.oldest_first is None
        assert sorted(await walk_all(r)) == sorted(f.store.ids())
        assert r.oldest_first is oldest_first


@pytest.mark.parametrize("later", [[1, 2, 3], [1, 1, 1, 2, 3]], ids=["full-batch", "last-batch"])
async def test_the_order_is_learned_from_later_batches_when_the_first_page_is_one_tie(
    later: list[int],
) -> None:
    """The first page (3 jobs in one millisecond) cannot teach the order; the walk learns it
    from the first batch whose jobs' dates differ (a full one, or the last, partial one)."""
    async with fake(jobs=0, seed=6, oldest_first=True) as f, client(f) as g:
        for ms in [0, 0, 0, *later]:
            f.store.add_jobs(1, created_at=BASE + timedelta(milliseconds=ms))
        r = remote(g, page_size=3)
        assert sorted(await walk_all(r)) == sorted(f.store.ids())
        assert r.oldest_first is True
