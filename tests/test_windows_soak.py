"""Deletion soak: jobs deleted at random moments during a sharded walk, under the fault mix of
tests/test_reliability_soak.py. Every job that existed throughout is yielded exactly once; the
same walk without shards skips at least one (the defect shards fix).

    .venv/bin/pytest -m soak -s tests/test_windows_soak.py      # 50,000 jobs, 500 deletions
    .venv/bin/pytest -s tests/test_windows_soak.py              # the short CI version
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from gladia_async import GladiaClient
from gladia_async.testing import FakeGladia

from ._reliability_helpers import fast_retry_kwargs
from .test_reliability_soak import _inject

KEY = "soak-test-key-0000"


async def walk(
    jobs: int, deletions: int, *, seed: int, shards: int | None, max_depth: int
) -> tuple[list[str], set[str], str]:
    """(ids yielded, ids that existed throughout, a one-line report)."""
    async with FakeGladia(
        api_key=KEY,
        jobs=jobs,
        seed=seed,
        transcript_seconds=0,
        delete_rate=0.8,  # per list request: 500 deletions over a 50,000-job walk's ~600
        delete_max=deletions,
    ) as fake:
        initial = fake.store.ids()
        _inject(fake, 0.18)
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(10)) as gladia:
            start = time.perf_counter()
            if shards is None:
                stream = gladia.pre_recorded.list(concurrency=8, lean=True)
            else:
                stream = gladia.pre_recorded.list(
                    shards=shards, concurrency=2, max_depth=max_depth, lean=True
                )
            async with stream:
                got = [job.id async for job in stream]
            wall = time.perf_counter() - start
        survivors = set(initial) - set(fake.deleted)
        faults = sum(1 for r in fake.requests if r.fault not in (None, "hook", "latency"))
        line = (
            f"deletion soak: {jobs:,} jobs, {len(fake.deleted)} deleted, shards={shards}: "
            f"{fake.stats['requests']:,} requests, {faults:,} failed by faults, "
            f"{len(got):,} yielded, {len(survivors - set(got))} survivors missed, "
            f"stats {stream.stats}, wall {wall:.1f} s"
        )
        print("\n" + line)
        # the sharded walk makes more requests: all deletions land during it
        assert len(fake.deleted) == deletions or shards is None, line
        return got, survivors, line


def check_exactly_once(got: list[str], survivors: set[str], line: str) -> None:
    counts = Counter(got)
    assert max(counts.values()) == 1, f"a job was yielded twice: {line}"
    assert survivors <= counts.keys(), f"{len(survivors - counts.keys())} missed: {line}"


async def test_short_deletion_soak() -> None:
    got, survivors, line = await walk(5_000, 50, seed=77, shards=4, max_depth=500)
    check_exactly_once(got, survivors, line)
    plain, plain_survivors, _ = await walk(5_000, 50, seed=77, shards=None, max_depth=500)
    assert plain_survivors - set(plain), "the plain walk skipped nothing: the soak cannot bite"


@pytest.mark.soak
async def test_deletion_soak_50k() -> None:
    """50,000 jobs, 500 deleted at random moments, >= 10% of requests failing."""
    got, survivors, line = await walk(50_000, 500, seed=20261203, shards=4, max_depth=5_000)
    check_exactly_once(got, survivors, line)
    plain, plain_survivors, _ = await walk(50_000, 500, seed=20261203, shards=None, max_depth=5_000)
    assert plain_survivors - set(plain), "the plain walk skipped nothing: the soak cannot bite"
