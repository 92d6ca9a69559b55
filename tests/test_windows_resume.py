"""A sharded walk resumed from its token is exactly once, whatever was deleted: jobs deleted
during the walk (shifting unseen jobs behind the cursor), in the interrupted window before and
after the cursor between the interruption and the resume, interruptions during a re-walk, under
every way the fake serves a listing (bounds inclusive or exclusive, either order, ties)."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from gladia_async import GladiaClient
from gladia_async._errors import GladiaConfigError
from gladia_async._streams import MAX_TOKEN_LENGTH, SKETCH_BYTES, Checkpoint
from gladia_async._windows import ShardedStream, Sketch, id_key, to_ms
from gladia_async.testing import FakeGladia

from .test_windows import EDGE, KEY, VARIANTS, tied_fake


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_resume_is_exactly_once_whatever_is_deleted(variant: str) -> None:
    fake = await tied_fake(variant, jobs=500)
    rng = random.Random(variant)
    initial = set(fake.store.ids())
    yielded: list[str] = []
    deleted: set[str] = set()

    def delete(job_id: str) -> None:
        if job_id not in deleted and fake.store.get(job_id) is not None:
            fake.store.remove(job_id)
            deleted.add(job_id)

    def delete_behind(_: FakeGladia) -> None:  # during the walk: shifts unseen jobs back
        if yielded:
            delete(rng.choice(yielded[-60:]))

    fake.inject("pre_recorded.list", "hook", hook=delete_behind, probability=0.15, times=None)
    token: str | None = None
    rewalks = rewinds = sketched = mid_rewalk = 0
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            for round_ in range(31):
                kwargs: dict[str, Any] = (
                    {"resume": token}
                    if token
                    else {"shards": 2, "max_depth": 250, "page_size": 20, "concurrency": 2}
                )
                stream = gladia.pre_recorded.list(lean=True, **kwargs)
                assert isinstance(stream, ShardedStream)
                last = round_ == 30  # the last round walks to the end
                stop = rng.randrange(1, 90)
                n = 0
                async with stream:
                    async for job in stream:
                        yielded.append(job.id)
                        n += 1
                        if last:
                            continue
                        head = stream._ahead[0] if stream._ahead else None
                        if head is not None and head.passes and rng.random() < 0.2:
                            mid_rewalk += 1
                            break
                        if n == stop:
                            break
                rewalks += stream.stats.rewalks
                rewinds += stream.stats.rewinds
                if last:
                    break
                token = stream.checkpoint.token
                assert len(token) <= MAX_TOKEN_LENGTH
                cp = Checkpoint.from_token(token)
                sketched += cp.sketch is not None
                # between the interruption and the resume: jobs of the interrupted window, on
                # both sides of the cursor (the latter then never existed throughout)
                for _ in range(rng.randrange(0, 4)):
                    delete(rng.choice(yielded[-30:]))
                alive = [i for i in fake.store.ids() if i not in set(yielded)]
                if alive and rng.random() < 0.5:
                    nearby = alive[-20:] if VARIANTS[variant]["oldest_first"] else alive[:20]
                    delete(rng.choice(nearby))
    finally:
        await fake.close()
    counts = Counter(yielded)
    survivors = initial - deleted
    assert max(counts.values()) == 1, [i for i, c in counts.items() if c > 1][:5]
    assert survivors <= counts.keys(), len(survivors - counts.keys())
    assert rewalks > 0 and sketched > 5 and mid_rewalk > 0  # the cases were all met
    assert rewinds == 0


def test_sketch_finds_a_difference_of_a_few_dozen_exactly() -> None:
    rng = random.Random(1)
    ids = [f"job-{rng.random()}" for _ in range(5_000)]
    for gone, fresh in [(0, 0), (1, 0), (0, 1), (3, 5), (10, 10), (12, 8)]:
        yielded, listed = Sketch(), Sketch()
        for i in ids:
            yielded.add(id_key(i))
        for i in [*ids[gone:], *(f"new-{j}" for j in range(fresh))]:
            listed.add(id_key(i))
        diff = Sketch.from_bytes(yielded.to_bytes()).difference(listed)
        new = {id_key(f"new-{j}") for j in range(fresh)}
        assert diff == ({id_key(i) for i in ids[:gone]}, new)
    # far too many differences: said, never a wrong answer
    big = Sketch()
    for i in ids[:400]:
        big.add(id_key(i))
    assert big.difference(Sketch()) is None


def test_the_largest_sharded_checkpoint_fits_a_token() -> None:
    meta = '{"a":"' + '\\"' * 505 + '"}'  # escaped quotes: the longest JSON text
    cp = Checkpoint(
        path="/v2/pre-recorded",
        offset=2**53,
        page_size=100_000,
        status=tuple("x" * 63 + str(i % 10) for i in range(16)),
        date="2026-01-01",
        before_date="2026-01-01T00:00:00.000Z",
        after_date="2026-01-01T00:00:00.000Z",
        custom_metadata=meta,
        shards=1024,
        max_depth=2**53,
        edge="2026-01-01T00:00:00.000Z",
        oldest_first=True,
        window_count=2**53,
        last=-(2**53),
        last_count=2**53,
        sketch=b"\xff" * SKETCH_BYTES,
    )
    assert len(cp.token) <= MAX_TOKEN_LENGTH
    assert Checkpoint.from_token(cp.token) == cp
    with pytest.raises(GladiaConfigError):
        Checkpoint(path="/v2/pre-recorded", offset=0, page_size=1, sketch=b"short")


def test_sketch_answers_exactly_or_not_at_all() -> None:
    rng = random.Random(2)
    answered = 0
    for trial in range(200):
        d = 30
        yielded, listed = Sketch(), Sketch()
        gone = {rng.getrandbits(64) for _ in range(d // 2)}
        fresh = {rng.getrandbits(64) for _ in range(d - d // 2)}
        common = [rng.getrandbits(64) for _ in range(50)]
        for key in [*common, *gone]:
            yielded.add(key)
        for key in [*common, *fresh]:
            listed.add(key)
        diff = yielded.difference(listed)
        if diff is not None:
            assert diff == (gone, fresh), trial
            answered += 1
    assert answered >= 190  # 30 differences: about 1% unresolved with 108 cells


async def test_a_resume_inside_a_large_tie_after_a_deletion_is_exact() -> None:
    """300 jobs share one millisecond; the walk stops 100 jobs into them and a yielded one is
    deleted: the resume lists the whole tie but compares only its first 100 by sketch."""
    async with FakeGladia(api_key=KEY, jobs=200, seed=30, transcript_seconds=0) as fake:
        fake.store.add_jobs(300, created_at=EDGE)
        edge_ms = to_ms(EDGE.isoformat())
        first: list[str] = []
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(
                shards=2, max_depth=400, page_size=25, lean=True
            ) as stream:
                async for job in stream:
                    first.append(job.id)
                    if sum(to_ms(fake.store.jobs[i].created_at) == edge_ms for i in first) == 100:
                        break
            cp = stream.checkpoint
            assert cp.last == edge_ms and cp.last_count == 100
            fake.store.remove(first[-50])  # the count moves: positions cannot be trusted
            async with gladia.pre_recorded.list(resume=cp.token, lean=True) as rest:
                second = [job.id async for job in rest]
        assert rest.stats.rewinds == 0
        assert not set(first) & set(second) and len(second) == len(set(second))
        assert set(first) | set(second) == set(fake.store.ids()) | {first[-50]}


async def test_a_resumed_pass_that_sees_a_deletion_skips_what_the_first_run_yielded() -> None:
    async with FakeGladia(api_key=KEY, jobs=600, seed=31, transcript_seconds=0) as fake:
        first: list[str] = []
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(
                shards=2, max_depth=200, page_size=20, lean=True
            ) as stream:
                async for job in stream:
                    first.append(job.id)
                    if len(first) == 60:
                        break
            token = stream.checkpoint.token
            second: list[str] = []
            async with gladia.pre_recorded.list(resume=token, lean=True) as rest:
                async for job in rest:
                    second.append(job.id)
                    if len(second) == 1:  # positions were trusted; now the window changes
                        fake.store.remove(first[5])
            assert rest.stats.rewalks >= 1
        assert not set(first) & set(second) and len(second) == len(set(second))
        assert set(first) | set(second) == set(fake.store.ids()) | {first[5]}


async def test_too_many_deletions_for_the_sketch_rewind_the_window_and_miss_nothing() -> None:
    async with FakeGladia(api_key=KEY, jobs=600, seed=32, transcript_seconds=0) as fake:
        first: list[str] = []
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(
                shards=2, max_depth=250, page_size=20, lean=True
            ) as stream:
                async for job in stream:
                    first.append(job.id)
                    if len(first) == 150:
                        break
            for job_id in first[:120]:  # far more than the sketch resolves
                fake.store.remove(job_id)
            async with gladia.pre_recorded.list(resume=stream.checkpoint.token, lean=True) as rest:
                second = [job.id async for job in rest]
            assert rest.stats.rewinds == 1  # said, and at-least-once for that window
        assert set(fake.store.ids()) <= set(first) | set(second)
        assert len(second) == len(set(second))


async def test_a_finished_walk_resumed_twice_after_a_deletion_yields_nothing() -> None:
    async with FakeGladia(api_key=KEY, jobs=500, seed=33, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            async with gladia.pre_recorded.list(shards=2, max_depth=150, lean=True) as stream:
                assert len([job async for job in stream]) == 500
            async with gladia.pre_recorded.list(resume=stream.checkpoint.token) as again:
                assert [job async for job in again] == []
            fake.store.remove(fake.store.ids()[-3])  # in the last window: its count moves
            async with gladia.pre_recorded.list(resume=again.checkpoint.token) as third:
                assert [job async for job in third] == []
            assert third.stats.rewinds == 0
