"""partition() and list(shards=N) against the fake, under every way it can serve a listing:
both date bounds inclusive or exclusive, newest or oldest first, timestamp ties at the edges;
plus resumes, the offset cap and deletions during a walk."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gladia_async import GladiaClient, RetryPolicy
from gladia_async._errors import APIStatusError, GladiaConfigError, GladiaError
from gladia_async._streams import Checkpoint
from gladia_async._windows import ShardedStream, to_ms
from gladia_async.testing import FakeGladia
from gladia_async.types import UnknownStatus

KEY = "test-key"

VARIANTS: dict[str, dict[str, Any]] = {
    f"{b}-{a}-{order}": {
        "before_inclusive": b == "incl",
        "after_inclusive": a == "incl",
        "oldest_first": order == "oldest",
    }
    for b in ("excl", "incl")
    for a in ("excl", "incl")
    for order in ("newest", "oldest")
}
EDGE = datetime(2026, 7, 1, 12, tzinfo=UTC)


async def tied_fake(variant: str, jobs: int = 1_200) -> FakeGladia:
    """A fake whose jobs include 150 in one millisecond and 20 in the next (a cut would fall
    among them), plus runs of ties everywhere."""
    fake = FakeGladia(
        api_key=KEY, jobs=jobs, seed=11, transcript_seconds=0, ties=6, **VARIANTS[variant]
    )
    await fake.start()
    fake.store.add_jobs(150, created_at=EDGE)
    fake.store.add_jobs(20, created_at=EDGE + timedelta(milliseconds=1))
    fake.store.add_jobs(20, created_at=EDGE - timedelta(milliseconds=1))
    return fake


def list_depths(fake: FakeGladia) -> list[int]:
    return [int(r.param("offset") or 0) for r in fake.requests.for_route("*.list")]


async def plain_ids(gladia: GladiaClient, **filters: Any) -> list[str]:
    async with gladia.pre_recorded.list(lean=True, **filters) as stream:
        return [job.id async for job in stream]


# -- partition ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_partition_windows_are_disjoint_balanced_and_exact(variant: str) -> None:
    fake = await tied_fake(variant)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            pin = datetime.now(UTC)
            after = datetime(2026, 3, 1, tzinfo=UTC)
            parts = await gladia.pre_recorded.partition(
                5, before_date=pin, after_date=after, max_depth=400
            )
            assert max(list_depths(fake)) <= 400
            expected = await plain_ids(gladia, before_date=pin, after_date=after)
            assert 3 <= len(parts) <= 5
            walked: list[list[str]] = []
            async with GladiaClient(api_key=KEY, base_url=fake.url) as other:  # "another process"
                for cp in parts:
                    walked.append(await plain_ids(other, resume=Checkpoint.from_token(cp.token)))
        ids = [i for w in walked for i in w]
        assert len(ids) == len(set(ids)), "windows overlap"
        assert set(ids) == set(expected), "windows miss jobs"
        sizes = [len(w) for w in walked]
        assert max(sizes) <= 2 * len(ids) / len(sizes), sizes
        # newest first, contiguous from the pin down to after_date
        assert parts[0].before_date == pin.isoformat(timespec="milliseconds")[:23] + "Z"
        assert parts[-1].after_date == "2026-03-01T00:00:00.000Z"
        for newer, older in itertools.pairwise(parts):
            assert newer.after_date == older.before_date
        stamps = [[to_ms(fake.store.jobs[i].created_at) for i in w] for w in walked]
        for newer_w, older_w in itertools.pairwise(stamps):
            assert min(newer_w) > max(older_w)
    finally:
        await fake.close()


async def test_partition_small_and_empty_listings() -> None:
    async with FakeGladia(api_key=KEY, jobs=3, seed=1, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            parts = await gladia.pre_recorded.partition(8)
            assert 1 <= len(parts) <= 3
            walked = [i for cp in parts for i in await plain_ids(gladia, resume=cp)]
            assert sorted(walked) == sorted(fake.store.ids())
            empty = await gladia.pre_recorded.partition(
                4, after_date="2030-01-01", before_date="2030-02-01"
            )
            assert len(empty) == 1 and await plain_ids(gladia, resume=empty[0]) == []
            with pytest.raises(GladiaConfigError):
                await gladia.pre_recorded.partition(0)


@pytest.mark.parametrize("variant", ["excl-excl-newest", "incl-incl-oldest"])
async def test_partition_returns_at_most_parts_and_deep_windows_walk_sharded(
    variant: str,
) -> None:
    fake = await tied_fake(variant, jobs=2_500)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            parts = await gladia.pre_recorded.partition(2, max_depth=300)
            assert len(parts) == 2
            assert all(cp.shards == 1 and cp.max_depth == 300 for cp in parts)
            walked: list[list[str]] = []
            for cp in parts:
                stream = gladia.pre_recorded.list(resume=cp.token, lean=True)
                assert isinstance(stream, ShardedStream)  # verified windows, none too deep
                async with stream:
                    walked.append([job.id async for job in stream])
            assert max(list_depths(fake)) <= 300
        ids = [i for w in walked for i in w]
        assert sorted(ids) == sorted(fake.store.ids()) and len(ids) == 2_690
        assert max(len(w) for w in walked) <= 2 * len(ids) / 2
    finally:
        await fake.close()


async def test_partition_keeps_shallow_windows_plain() -> None:
    async with FakeGladia(api_key=KEY, jobs=900, seed=4, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            parts = await gladia.pre_recorded.partition(3, max_depth=400)
            assert len(parts) == 3 and all(cp.shards == 0 for cp in parts)
            sizes = [len(await plain_ids(gladia, resume=cp)) for cp in parts]
            assert sum(sizes) == 900 and max(sizes) <= 400


GALLOP = [(63, 1), (127, 1), (255, 1), (511, 1), (1023, 1)]
PARTITIONS = [
    # (jobs, parts, max_depth): window sizes, then every list request as (offset, limit)
    ((1_000, 4, 5_000), [250] * 4, [*GALLOP, (767, 1), (895, 1), (959, 1), (960, 64),
                                    (225, 50), (475, 50), (725, 50)]),
    ((1_000, 3, 300), [333, 334, 333], [*GALLOP[:3], (256, 45), *[(250, 50)] * 4,
                                        *GALLOP[:2], (64, 64), (9, 50), (44, 50)]),
    ((3_000, 5, 400), [600, 597, 603, 594, 606], [*GALLOP[:3], (399, 1), *[(350, 50)] * 8,
                                                  *GALLOP[:3], (191, 1), (192, 64), (176, 50),
                                                  (179, 50)]),
    ((500, 7, 5_000), [71, 72] * 3 + [71], [*GALLOP[:4], (383, 1), (447, 1), (448, 64),
                                            (46, 50), (118, 50), (189, 50), (261, 50),
                                            (332, 50), (404, 50)]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "sizes", "probes"), PARTITIONS)
async def test_partition_cuts_and_requests_are_exactly_these(
    args: tuple[int, int, int], sizes: list[int], probes: list[tuple[int, int]]
) -> None:
    """Pinned request by request: count the listing (cut at max_depth when deeper), then one
    page of 50 around each target n*j/k unless a chunk edge is near enough. Windows past
    max_depth (1,000 in 3 under 300) come back as sharded checkpoints."""
    jobs, parts, max_depth = args
    async with FakeGladia(api_key=KEY, jobs=jobs, seed=jobs, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            windows = await gladia.pre_recorded.partition(parts, max_depth=max_depth)
            sent = [
                (int(r.param("offset") or 0), int(r.param("limit") or 0)) for r in fake.requests
            ]
            got = [len(await plain_ids(gladia, resume=cp)) for cp in windows]
    assert (got, sent) == (sizes, probes)
    assert [cp.shards for cp in windows] == [1 if n > max_depth else 0 for n in sizes]


# -- the sharded walk ---------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_sharded_walk_equals_the_plain_walk(variant: str) -> None:
    fake = await tied_fake(variant)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            pin = datetime.now(UTC)
            expected = await plain_ids(gladia, before_date=pin)
            fake.requests.clear()
            stream = gladia.pre_recorded.list(
                before_date=pin, shards=3, max_depth=250, concurrency=2, page_size=40, lean=True
            )
            assert isinstance(stream, ShardedStream)
            got = []
            async with stream:
                async for job in stream:
                    got.append(job.id)
                    assert len(stream._ahead) <= 3  # windows open at once
                    held = sum(  # pages in flight or held, all windows together
                        len(w.stream._slots) + (w.stream._page is not None)
                        for w in stream._ahead
                        if w.stream is not None
                    )
                    assert held <= 3 * 2
        assert got == expected  # API order, each once
        assert max(list_depths(fake)) <= 250
        st = stream.stats
        assert st.requests == len(fake.requests.for_route("*.list"))
        assert st.probes == st.requests - st.pages
        assert st.windows >= len(expected) // 250
        assert st.rewalks == st.rewinds == 0
        assert stream.stats.max_in_flight <= 3 * 2 - 2  # the head's share of the budget
    finally:
        await fake.close()


async def test_walk_stats_count_every_request_once() -> None:
    """30 jobs, 2 shards: two windows of 15 (pages of 10 and 5 each), each re-counted by one
    probe after its walk, after four planning probes."""
    async with FakeGladia(api_key=KEY, jobs=30, seed=8, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            fake.requests.clear()
            stream = gladia.pre_recorded.list(shards=2, max_depth=250, page_size=10, lean=True)
            async with stream:
                assert len([job async for job in stream]) == 30
        st = stream.stats
        assert (st.windows, st.pages, st.probes, st.rewalks, st.rewinds) == (2, 4, 6, 0, 0)
        assert st.requests == len(fake.requests) == 10


async def test_walk_stats_add_up_the_windows_streams() -> None:
    """Refused pages (429) are re-requested by the window's stream: the walk's stats add up
    every window's requests, pages and refusals, and match the requests the server saw."""
    async with FakeGladia(api_key=KEY, jobs=400, seed=8, transcript_seconds=0) as fake:
        refuse = {"status": 429, "headers": {"Retry-After": "0"}}
        fake.inject("pre_recorded.list", "status", on={8, 9, 15}, times=None, **refuse)
        policy = RetryPolicy(max_retries=0, base_delay=0, max_delay=0)
        async with GladiaClient(api_key=KEY, base_url=fake.url, retry_policy=policy) as gladia:
            stream = gladia.pre_recorded.list(
                shards=1, max_depth=150, page_size=20, concurrency=1, lean=True
            )
            async with stream:
                assert [job.id async for job in stream] == fake.store.ids()
        st = stream.stats
        assert st.rate_limited == sum(r.status == 429 for r in fake.requests) == 3
        assert st.requests == st.pages + st.probes + st.rate_limited == len(fake.requests)
        assert (st.items, st.duplicates, st.wasted, st.cancelled) == (400, 0, 0, 0)


async def test_sharded_walk_filters_live_and_max_items() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=900, live_jobs=300, seed=8, transcript_seconds=0
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            expected = await plain_ids(gladia, status=["done", "error"])
            async with gladia.pre_recorded.list(
                status=["done", "error"], shards=4, max_depth=200, lean=True
            ) as stream:
                assert [j.id async for j in stream] == expected
            live = [j.id async for j in gladia.live.list(shards=2, max_depth=100)]
            assert live == fake.store.ids("live")
            async with gladia.pre_recorded.list(shards=2, max_items=7, max_depth=100) as capped:
                assert [j.id async for j in capped] == fake.store.ids()[:7]
            with pytest.raises(GladiaConfigError):
                gladia.pre_recorded.list(max_depth=10)
            with pytest.raises(GladiaConfigError):
                gladia.pre_recorded.list(shards=0)


@pytest.mark.parametrize("seed", range(4))
async def test_resume_from_any_point_yields_the_rest_exactly_once(seed: int) -> None:
    rng = random.Random(seed)
    async with FakeGladia(
        api_key=KEY, jobs=1_000, seed=seed, transcript_seconds=0, oldest_first=seed % 2 == 1
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            expected = await plain_ids(gladia)
            got: list[str] = []
            token: str | None = None
            for _ in range(4):
                stop = rng.randrange(1, 400)
                stream = gladia.pre_recorded.list(
                    shards=3,
                    max_depth=150,
                    page_size=30,
                    lean=True,
                    **({"resume": token} if token else {}),
                )
                async with stream:
                    async for job in stream:
                        got.append(job.id)
                        if len(got) % 1000 == stop:
                            break
                token = stream.checkpoint.token
                # a deletion in a later window after the interruption changes nothing
                victim = expected[-1 - len(got) % 50]
                if victim not in got:
                    fake.store.remove(victim)
                    expected.remove(victim)
            async with gladia.pre_recorded.list(resume=token, lean=True) as rest:
                assert isinstance(rest, ShardedStream)  # the token remembers the shards
                got += [job.id async for job in rest]
        assert got == expected


async def test_a_failure_carries_a_checkpoint_that_resumes_exactly() -> None:
    async with FakeGladia(api_key=KEY, jobs=800, seed=3, transcript_seconds=0) as fake:
        fake.inject("pre_recorded.list", "status", status=500, on={9, 30, 31, 52}, times=None)
        policy = {"retry_policy": RetryPolicy(max_retries=0, base_delay=0, max_delay=0)}
        got: list[str] = []
        token: str | None = None
        failures = 0
        async with GladiaClient(api_key=KEY, base_url=fake.url, **policy) as gladia:
            for _ in range(5):
                kwargs: dict[str, Any] = {"resume": token} if token else {"shards": 2}
                try:
                    async with gladia.pre_recorded.list(
                        max_depth=120, page_size=25, lean=True, **kwargs
                    ) as stream:
                        async for job in stream:
                            got.append(job.id)
                    break
                except GladiaError as exc:
                    assert exc.checkpoint is not None and exc.checkpoint.shards == 2
                    token = exc.checkpoint.token
                    failures += 1
        assert failures >= 2
        assert got == fake.store.ids()


async def test_a_window_emptied_during_its_walk_ends_after_a_recount_of_zero() -> None:
    """Every job of the window being walked is deleted after its first item: the re-count
    finds 0, the empty pass is verified as empty, and the other windows come exactly once."""
    async with FakeGladia(api_key=KEY, jobs=300, seed=22, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            seen: list[str] = []
            async with gladia.pre_recorded.list(
                shards=1, max_depth=100, page_size=20, concurrency=1, lean=True
            ) as stream:
                async for job in stream:
                    if not seen:
                        for job_id in fake.store.ids()[: stream._ahead[0].pre]:
                            fake.store.remove(job_id)
                    seen.append(job.id)
        assert len(seen) == len(set(seen))
        assert set(fake.store.ids()) <= set(seen)
        assert stream.stats.rewalks >= 1


async def test_deleting_in_the_window_being_walked_never_loses_a_job() -> None:
    """Deletions behind the cursor, during the walk and between an interruption and its
    resume: every job that existed throughout comes at least once, and exactly once in-run."""
    async with FakeGladia(api_key=KEY, jobs=1_500, seed=21, transcript_seconds=0) as fake:
        rng = random.Random(5)
        initial = fake.store.ids()
        seen: list[str] = []

        def delete_behind(f: FakeGladia) -> None:
            done = [i for i in seen if f.store.get(i) is not None]
            if done:
                f.store.remove(rng.choice(done))

        fake.inject("pre_recorded.list", "hook", hook=delete_behind, probability=0.5, times=60)
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(
                shards=2, max_depth=300, page_size=20, lean=True
            ) as stream:
                async for job in stream:
                    seen.append(job.id)
            survivors = set(fake.store.ids())
            assert survivors < set(initial)
            assert len(seen) == len(set(seen))
            assert survivors <= set(seen)
            assert stream.stats.rewalks > 0


async def test_offset_cap_shards_yield_all_plain_walk_fails_with_a_checkpoint() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=20_000, seed=6, transcript_seconds=0, max_offset=2_000
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(
                shards=4, max_depth=2_000, concurrency=2, lean=True
            ) as stream:
                got = [job.id async for job in stream]
            assert len(got) == 20_000 and got == fake.store.ids()
            with pytest.raises(APIStatusError) as info:
                async with gladia.pre_recorded.list(concurrency=1, lean=True) as plain:
                    async for _ in plain:
                        pass
            assert info.value.status == 400
            assert "offset must not be greater than 2000" in str(info.value)
            cp = info.value.checkpoint
            assert cp is not None and cp.offset > 2_000


async def test_sharded_stream_closes_cleanly_midway() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=600, seed=2, transcript_seconds=0, latency_ms=2
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(shards=4, max_depth=100, page_size=20, lean=True)
            async with stream:
                async for _ in stream:
                    if stream.stats.items == 150:
                        break
            pending = [t for t in asyncio.all_tasks() if "gladia" in t.get_name()]
            assert pending == []
            with pytest.raises(RuntimeError):
                stream.__aiter__()
            assert stream.checkpoint.offset > 0


async def test_resume_after_a_deletion_in_the_interrupted_window_misses_nothing() -> None:
    async with FakeGladia(api_key=KEY, jobs=900, seed=13, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            expected = await plain_ids(gladia)
            first: list[str] = []
            async with gladia.pre_recorded.list(
                shards=2, max_depth=200, page_size=25, lean=True
            ) as stream:
                async for job in stream:
                    first.append(job.id)
                    if len(first) == 260:  # inside the second window
                        break
            token = stream.checkpoint.token
            assert Checkpoint.from_token(token).window_count is not None
            fake.store.remove(first[-30])  # yielded, in the window being walked: positions move
            async with gladia.pre_recorded.list(resume=token, lean=True) as rest:
                second = [job.id async for job in rest]
        survivors = set(expected) - {first[-30]}
        assert survivors <= set(first) | set(second)  # never missed
        assert not set(first) & set(second) and len(second) == len(set(second))  # nor twice
        assert rest.stats.rewinds == 0


async def test_a_finished_walk_resumes_to_nothing_cheaply() -> None:
    async with FakeGladia(api_key=KEY, jobs=500, seed=14, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(shards=2, max_depth=120, lean=True) as stream:
                assert len([job async for job in stream]) == 500
            before = fake.stats["requests"]
            async with gladia.pre_recorded.list(resume=stream.checkpoint.token) as rest:
                assert [job async for job in rest] == []
            assert fake.stats["requests"] - before <= 4


async def test_partition_balances_where_a_huge_tie_allows() -> None:
    async with FakeGladia(api_key=KEY, jobs=600, seed=15, transcript_seconds=0) as fake:
        fake.store.add_jobs(400, created_at=EDGE)  # 40% of the listing in one millisecond
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            parts = await gladia.pre_recorded.partition(4, max_depth=600)
            sizes = [len(await plain_ids(gladia, resume=cp)) for cp in parts]
        assert sum(sizes) == 1_000
        assert max(sizes) >= 400  # the tie cannot be cut ...
        others = [n for n in sizes if n < 400]
        assert others and max(others) <= 2 * 600 / max(len(parts) - 1, 1)  # ... the rest balance


async def test_an_offset_cap_below_max_depth_is_found_and_respected() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=3_000, seed=16, transcript_seconds=0, max_offset=700
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count() == 3_000  # default max_depth 5,000
            async with gladia.pre_recorded.list(shards=3, lean=True) as stream:
                assert [job.id async for job in stream] == fake.store.ids()
            refused = [r for r in fake.requests if r.status == 400]
            assert 0 < len(refused) <= 8
            with pytest.raises(APIStatusError):  # a 400 that is not about depth is raised
                await gladia.pre_recorded.count(
                    custom_metadata={"a": 1}, status=UnknownStatus("nope")
                )


async def test_max_items_batches_chain_through_tokens() -> None:
    async with FakeGladia(api_key=KEY, jobs=700, seed=3, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            got: list[str] = []
            token: str | None = None
            for _ in range(8):
                kwargs: dict[str, Any] = (
                    {"resume": token} if token else {"shards": 2, "max_depth": 150}
                )
                async with gladia.pre_recorded.list(max_items=130, lean=True, **kwargs) as stream:
                    batch = [job.id async for job in stream]
                got += batch
                token = stream.checkpoint.token
                if not batch:
                    break
        assert got == fake.store.ids()


async def test_a_second_concurrent_anext_is_refused() -> None:
    async with FakeGladia(api_key=KEY, jobs=300, seed=17, transcript_seconds=0, latency_ms=5) as f:
        async with GladiaClient(api_key=KEY, base_url=f.url) as gladia:
            async with gladia.pre_recorded.list(shards=2, max_depth=100, lean=True) as stream:
                first = asyncio.ensure_future(anext(stream))
                await asyncio.sleep(0)
                with pytest.raises(RuntimeError, match="already being iterated"):
                    await anext(stream)
                job = await first
                rest = [j.id async for j in stream]
            assert [job.id, *rest] == f.store.ids()
