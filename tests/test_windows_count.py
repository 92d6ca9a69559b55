"""count(): exact at its pin, about log2(n) limit=1 probes, none deeper than max_depth, under
every way the fake can serve a listing (bounds inclusive or not, either sort order, ties)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gladia_async import GladiaClient
from gladia_async._errors import APIStatusError, GladiaConfigError
from gladia_async.testing import FakeGladia
from gladia_async.types import UnknownStatus

KEY = "test-key"

VARIANTS: dict[str, dict[str, Any]] = {
    "exclusive-newest": {},
    "inclusive-newest": {"before_inclusive": True, "after_inclusive": True},
    "mixed-oldest": {"before_inclusive": True, "oldest_first": True},
    "inclusive-oldest-ties": {
        "before_inclusive": True,
        "after_inclusive": True,
        "oldest_first": True,
        "ties": 8,
    },
    "exclusive-ties": {"ties": 30},
}


def depths(fake: FakeGladia) -> list[int]:
    return [int(r.param("offset") or 0) for r in fake.requests.for_route("*.list")]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_count_is_exact_under_every_variant(variant: str) -> None:
    async with FakeGladia(
        api_key=KEY, jobs=1_500, live_jobs=70, seed=5, transcript_seconds=0, **VARIANTS[variant]
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count(max_depth=400) == 1_500
            assert max(depths(fake)) <= 400
            assert await gladia.live.count() == 70
            done = sum(
                1
                for r in fake.store.jobs.values()
                if r.status == "done" and r.kind == "pre-recorded"
            )
            assert await gladia.pre_recorded.count(status="done", max_depth=300) == done
            middle = datetime(2026, 5, 1, tzinfo=UTC)
            plain = [j.id async for j in gladia.pre_recorded.list(after_date=middle, lean=True)]
            assert await gladia.pre_recorded.count(after_date=middle, max_depth=250) == len(plain)


@pytest.mark.parametrize("n", [0, 1, 2, 63, 64, 65, 100, 777])
async def test_count_small_listings_cost_about_log2_n(n: int) -> None:
    async with FakeGladia(api_key=KEY, jobs=n, seed=n, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            before = fake.stats["requests"]
            assert await gladia.pre_recorded.count() == n
            used = fake.stats["requests"] - before
            assert used <= 2 * math.log2(n + 2) + 3
            limits = [int(r.param("limit") or 0) for r in fake.requests.for_route("*.list")]
            assert sum(limits) <= 64 + 2 * 50 + used  # probes, never full pages


GALLOP = [(63, 1), (127, 1), (255, 1), (511, 1), (1023, 1)]
CUTS = [(350, 50)] * 4


@pytest.mark.parametrize(
    ("n", "depth", "probes"),
    [
        (0, 5000, [(63, 1), (0, 64)]),
        (1, 5000, [(63, 1), (0, 64)]),
        (64, 5000, [(63, 1), (127, 1), (64, 64)]),
        (65, 5000, [(63, 1), (127, 1), (64, 64)]),
        (777, 5000, [*GALLOP, (767, 1), (895, 1), (831, 1), (768, 64)]),
        # Deeper than max_depth: the gallop stops at its cap, the deepest pages of 50 cut the
        # listing at gaps, and the last window is counted like a short listing.
        (1500, 400, [*GALLOP[:3], (399, 1), *CUTS, *GALLOP[:3], (349, 1), (302, 1), (303, 47)]),
    ],
)  # fmt: skip
async def test_count_probes_are_exactly_these(
    n: int, depth: int, probes: list[tuple[int, int]]
) -> None:
    """The cost pinned request by request, as (offset, limit): gallop with limit=1 probes at
    2^k - 1 from 63, bisect down to 64 jobs, then one page of at most 64 for the rest."""
    async with FakeGladia(api_key=KEY, jobs=n, seed=n, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count(max_depth=depth) == n
    sent = [(int(r.param("offset") or 0), int(r.param("limit") or 0)) for r in fake.requests]
    assert sent == probes


async def test_count_beyond_max_depth_splits_by_time_and_adds() -> None:
    async with FakeGladia(api_key=KEY, jobs=3_000, seed=2, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count(max_depth=200) == 3_000
            assert max(depths(fake)) <= 200
            windows = {(r.param("after_date"), r.param("before_date")) for r in fake.requests}
            assert len(windows) >= 3_000 // 200


async def test_count_is_pinned_and_ties_at_the_edge_are_not_cut() -> None:
    async with FakeGladia(api_key=KEY, jobs=500, seed=9, transcript_seconds=0) as fake:
        # 300 jobs sharing one millisecond right where a 200-deep window would be cut.
        edge = datetime(2026, 10, 1, tzinfo=UTC)
        newer = sum(1 for r in fake.store.jobs.values() if r.created_at > "2026-10-01")
        fake.store.add_jobs(300, created_at=edge)
        fake.store.add_jobs(5, created_at=edge + timedelta(milliseconds=1))
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert newer < 150
            assert await gladia.pre_recorded.count(max_depth=400) == 805
            assert await gladia.pre_recorded.count(before_date=edge) == 500 - newer
            fake.store.add_jobs(3, created_at=datetime.now(UTC) - timedelta(seconds=1))
            assert await gladia.pre_recorded.count(max_depth=400) == 808


async def test_count_refuses_bad_max_depth() -> None:
    async with FakeGladia(api_key=KEY, jobs=5, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            with pytest.raises(GladiaConfigError):
                await gladia.pre_recorded.count(max_depth=1)
            assert fake.stats["requests"] == 0
            assert await gladia.pre_recorded.count(max_depth=2) == 5  # the smallest allowed
            assert max(int(r.param("offset") or 0) for r in fake.requests) < 2


async def test_count_finds_an_offset_cap_and_a_bad_request_still_fails() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=1_000, seed=3, transcript_seconds=0, max_offset=300
    ) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count() == 1_000
            assert 0 < sum(r.status == 400 for r in fake.requests) <= 3
            with pytest.raises(APIStatusError):
                await gladia.pre_recorded.count(status=UnknownStatus("nope"))
