"""The window planner's decisions, branch by branch (found by mutation testing: the seeded
listings of the other tests never reach them): an offset cap met while galloping or cutting,
a server serving fewer than ``limit``, ties at a cut, a gap of exactly 2 ms, a chunk edge
within the slack of a target, windows at exactly ``max_depth`` or twice the mean.

Most tests drive ``Planner`` over ``Listing``, an in-memory listing whose every instant, tie,
cap and refusal is chosen, and pin exact outcomes: windows as (count, far edge) and every
request as (offset, limit). A few go through the public API against the fake."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterable

import msgspec
import pytest

from gladia_async import GladiaClient, PaginationError
from gladia_async._errors import BadRequestError, GladiaConfigError
from gladia_async._streams import Checkpoint
from gladia_async._windows import (
    MetaProbe,
    Planner,
    Probe,
    Sketch,
    WalkStats,
    Window,
    id_key,
    ms_instant,
    to_ms,
)
from gladia_async.testing import FakeGladia
from gladia_async.types.common import Page

KEY = "test-key"
T0 = 1_780_000_000_000  # 2026-05-28T20:26:40.000Z


class Listing:
    """A listing served newest first (or oldest first), date bounds exclusive, ties by id.

    ``max_offset``: 400 past it; ``refuse``: 400 on these requests (1-based);
    ``page_cap``: at most this many items a page, with a next link when more remain;
    ``as_given``: serve the jobs in the order given (unsorted). ``log``: (offset, limit)."""

    def __init__(
        self,
        stamps: Iterable[int],
        *,
        oldest_first: bool = False,
        max_offset: int | None = None,
        page_cap: int | None = None,
        refuse: Iterable[int] = (),
        as_given: bool = False,
    ) -> None:
        jobs = [(ms, f"j{i:05d}") for i, ms in enumerate(stamps)]
        self.jobs = jobs if as_given else sorted(jobs, key=lambda j: (-j[0], j[1]))
        self.oldest_first = oldest_first
        self.max_offset = max_offset
        self.page_cap = page_cap
        self.refuse = set(refuse)
        self.log: list[tuple[int, int]] = []

    async def __call__(self, cp: Checkpoint, offset: int, limit: int) -> Page[Probe]:
        self.log.append((offset, limit))
        assert len(self.log) <= 500, "runaway planner"
        assert offset >= 0 and limit >= 1
        if len(self.log) in self.refuse or (
            self.max_offset is not None and offset > self.max_offset
        ):
            raise BadRequestError("offset must not be greater than the cap", status=400)
        lo = None if cp.after_date is None else to_ms(cp.after_date)
        hi = None if cp.before_date is None else to_ms(cp.before_date)
        sel = [j for j in self.jobs if (lo is None or j[0] > lo) and (hi is None or j[0] < hi)]
        if self.oldest_first:
            sel.reverse()
        n = limit if self.page_cap is None else min(limit, self.page_cap)
        items = [Probe(id=i, created_at=ms_instant(ms)) for ms, i in sel[offset : offset + n]]
        more = offset + n < len(sel)
        return Page(items=items, next_url="next" if more else None, offset=offset)

    def ids(self, cp: Checkpoint) -> list[str]:
        lo = None if cp.after_date is None else to_ms(cp.after_date)
        hi = None if cp.before_date is None else to_ms(cp.before_date)
        return [i for ms, i in self.jobs if (lo is None or ms > lo) and (hi is None or ms < hi)]


def cp0() -> Checkpoint:
    return Checkpoint(path="/v2/pre-recorded", offset=0, page_size=20)


def spaced(n: int, step: int = 10) -> list[int]:
    """``n`` jobs ``step`` ms apart."""
    return [T0 + step * i for i in range(n)]


def groups(sizes: list[int]) -> list[int]:
    """Jobs in ties of these sizes, newest tie first, ties 10 ms apart."""
    out: list[int] = []
    for k, size in enumerate(sizes):
        out += [T0 + 10 * (len(sizes) - k)] * size
    return out


def at(k: int, sizes: list[int]) -> str:
    """The cut instant after the first ``k`` ties of ``groups(sizes)`` (1 ms past the older)."""
    return ms_instant(T0 + 10 * (len(sizes) - k) + 1)


def shape(windows: Iterable[Window]) -> list[tuple[int, str | None]]:
    return [(w.count, w.far) for w in windows]


def exact(listing: Listing, windows: list[Window]) -> None:
    """The windows are disjoint, contiguous and hold exactly the listing, each its count."""
    walked = [listing.ids(w.cp) for w in windows]
    assert [len(w) for w in walked] == [w.count for w in windows]
    assert [i for w in walked for i in w] == listing.ids(cp0())


async def chunked(listing: Listing, max_depth: int) -> tuple[Planner, list[Window]]:
    """A planner of ``listing`` and its chunks, the requests that cut them forgotten."""
    planner = Planner(listing, max_depth)
    chunks = await planner.chunks(cp0())
    listing.log.clear()
    return planner, chunks


GALLOP = [(63, 1), (127, 1), (255, 1), (511, 1)]


# -- counting -------------------------------------------------------------------------------------


async def test_has_count_asks_one_tiny_page() -> None:
    """has_count(0) reads (0, 1) and says False when a job is there; has_count(n) reads
    (n - 1, 2): the n-th job and whether another follows."""
    listing = Listing(spaced(1))
    planner = Planner(listing, 100)
    assert not await planner.has_count(cp0(), 0)
    assert await planner.has_count(cp0(), 1)
    assert not await planner.has_count(cp0(), 2)
    empty = Listing([])
    assert await Planner(empty, 100).has_count(cp0(), 0)
    assert listing.log == [(0, 1), (0, 2), (1, 2)] and empty.log == [(0, 1)]


async def test_count_upto_skips_the_gallop_and_stops_bisecting_at_64() -> None:
    """A window known to hold at most 128: one probe at 63 leaves 64 to go, read in one page
    (no gallop past its bound, no bisection of a span of exactly 64)."""
    listing = Listing(spaced(100))
    assert await Planner(listing, 5000).count_upto(cp0(), 128) == 100
    assert listing.log == [(63, 1), (64, 65)]


async def test_count_upto_follows_next_links_of_a_server_serving_less() -> None:
    """A server that serves at most 20 a page says so with a next link: read on."""
    listing = Listing(spaced(100), page_cap=20)
    assert await Planner(listing, 5000).count_upto(cp0(), 128) == 100
    assert listing.log == [(63, 1), (64, 65), (84, 45)]


async def test_count_below_answers_none_at_its_bound_exactly() -> None:
    """count_below(hi) is the count when fewer than hi, else None: 100 of 100 is None, 100 of
    127 is 100 (one probe: the gallop's next probe, at 127, is past the bound)."""
    listing = Listing(spaced(100))
    planner = Planner(listing, 5000)
    assert await planner.count_below(cp0(), 100) is None
    assert listing.log == [(63, 1), (64, 37)]
    listing.log.clear()
    assert await planner.count_below(cp0(), 127) == 100
    assert listing.log == [(63, 1), (64, 64)]


async def test_count_below_reads_on_to_its_bound_when_pages_come_short() -> None:
    """Pages of at most 18: after 100 jobs read the bound is reached but not passed, so one
    more probe tells whether the window holds more (it does: None)."""
    listing = Listing(spaced(150), page_cap=18)
    assert await Planner(listing, 5000).count_below(cp0(), 100) is None
    assert listing.log == [(63, 1), (64, 37), (82, 19), (100, 1)]


async def test_a_refused_probe_of_a_bounded_count_is_the_servers_error() -> None:
    """A 400 while counting a window known to be short is no offset cap to adapt to: the
    BadRequestError itself comes out."""
    listing = Listing(spaced(100), max_offset=10)
    with pytest.raises(BadRequestError):
        await Planner(listing, 5000).count_upto(cp0(), 128)
    assert listing.log == [(63, 1)]


async def test_count_adapts_to_an_offset_cap_met_while_galloping() -> None:
    """The probe at 127 is refused (cap 100): max_depth becomes 64, half the refused depth,
    and the listing is cut into windows of at most 64."""
    listing = Listing(spaced(300), max_offset=100)
    planner = Planner(listing, 5000)
    assert await planner.count(cp0()) == 300
    assert planner.max_depth == 64
    assert listing.log == [(63, 1), (127, 1), (63, 1), *[(14, 50)] * 5]


async def test_the_default_max_depth_is_5000() -> None:
    """Documented default: a listing of 5,001 jobs is deeper than max_depth, so count() cuts
    it in two windows (a probe at 4,999, never at 5,000)."""
    async with FakeGladia(api_key=KEY, jobs=5_001, seed=3, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            assert await gladia.pre_recorded.count() == 5_001
    sent = [(int(r.param("offset") or 0), int(r.param("limit") or 0)) for r in fake.requests]
    assert sent[:9] == [*GALLOP, (1023, 1), (2047, 1), (4095, 1), (4999, 1), (4950, 50)]
    assert max(offset for offset, _ in sent) == 4999


# -- cutting ---------------------------------------------------------------------------------------


async def test_chunks_reads_the_deepest_page_first_unless_told_shallow_first() -> None:
    """chunks() (the sharded walk's) reads the page at max_depth - 50 first; count() and
    partition() gallop first (shallow_first)."""
    listing = Listing(spaced(100))
    planner = Planner(listing, 5000)
    assert shape(await planner.chunks(cp0())) == [(100, None)]
    assert listing.log == [(4950, 50), (63, 1), (127, 1), (64, 64)]


async def test_an_offset_cap_on_the_first_deep_page_halves_the_depth_until_served() -> None:
    """Cap 100, max_depth 1000: pages at 950, 425 and 162 are refused (depth 475, 212, 81),
    then windows of at most 81 are cut."""
    listing = Listing(spaced(300), max_offset=100)
    planner = Planner(listing, 1000)
    windows = await planner.chunks(cp0())
    assert [w.count for w in windows] == [80, 80, 80, 60] and planner.max_depth == 81
    assert listing.log == [(950, 50), (425, 50), (162, 50), *[(31, 50)] * 4]
    exact(listing, windows)


async def test_an_offset_cap_one_past_the_page_goes_down_to_one_page() -> None:
    """max_depth 51 under a cap of 0: the page at 1 is refused, depth becomes 50 (one page)."""
    listing = Listing(spaced(60), max_offset=0)
    planner = Planner(listing, 51)
    windows = await planner.chunks(cp0())
    assert [w.count for w in windows] == [49, 11] and planner.max_depth == 50
    assert listing.log == [(1, 50), (0, 50), (0, 50)]


async def test_a_refused_first_page_at_offset_zero_is_the_servers_error() -> None:
    """max_depth 50: the first page is at offset 0; a 400 there cannot be an offset cap."""
    listing = Listing(spaced(60), refuse={1})
    with pytest.raises(BadRequestError):
        await Planner(listing, 50).chunks(cp0())
    assert listing.log == [(0, 50)]


async def test_a_refusal_after_the_first_window_is_the_servers_error() -> None:
    """The cap is learnt before any window exists; a 400 later is raised, not adapted to."""
    listing = Listing(spaced(300), refuse={2})
    with pytest.raises(BadRequestError):
        await Planner(listing, 100).chunks(cp0())
    assert listing.log == [(50, 50), (50, 50)]


async def test_a_tie_deeper_than_max_depth_cannot_be_cut() -> None:
    """200 jobs in one millisecond under max_depth 100: every page back to offset 0 is read,
    then a PaginationError says to raise max_depth."""
    listing = Listing([T0] * 200)
    with pytest.raises(PaginationError, match="no gap of 2 ms"):
        await Planner(listing, 100).chunks(cp0())
    assert listing.log == [(50, 50), (1, 50), (0, 50)]


async def test_the_cut_is_found_in_earlier_pages_overlapping_by_one_job() -> None:
    """No gap in the deepest page: earlier pages are read, each overlapping the next by one
    job, so a gap between two pages counts (here, exactly at the page boundary)."""
    sizes = [50, 50, 20]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 100).chunks(cp0())
    assert shape(windows) == [(50, at(1, sizes)), (70, None)]
    assert listing.log == [(50, 50), (1, 50), (50, 50)]
    exact(listing, windows)
    sizes = [1] * 30 + [90, 5]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 100).chunks(cp0())
    assert shape(windows) == [(30, at(30, sizes)), (95, None)]
    assert listing.log == [(50, 50), (1, 50), (50, 50)]
    exact(listing, windows)


async def test_a_gap_right_after_the_first_job_is_found() -> None:
    """max_depth 80: the deepest page (30..79) is one tie; the page read before it starts at
    0 and finds the only gap, after the first job."""
    sizes = [1, 79, 10]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 80).chunks(cp0())
    assert shape(windows) == [(1, at(1, sizes)), (79, at(2, sizes)), (10, None)]
    assert listing.log == [(30, 50), (0, 50), (30, 50), (30, 50), (0, 31)]
    exact(listing, windows)


async def test_jobs_2_ms_apart_are_cut_between_them() -> None:
    """A gap of 2 ms is enough: the edge is the millisecond between the two jobs, which
    neither holds, so both windows are exact however the bounds are read."""
    listing = Listing(spaced(150, step=2))
    windows = await Planner(listing, 100).chunks(cp0())
    assert shape(windows) == [(99, ms_instant(T0 + 2 * 50 + 1)), (51, None)]
    exact(listing, windows)


async def test_a_listing_not_sorted_by_date_cannot_be_windowed() -> None:
    listing = Listing([T0 + 30, T0 + 20, T0 + 40, T0 + 10, T0], as_given=True)
    with pytest.raises(PaginationError, match="not sorted"):
        await Planner(listing, 3).chunks(cp0())


# -- halving a window walked again -----------------------------------------------------------------


async def test_halve_cuts_at_the_gap_nearest_the_middle() -> None:
    """One page of 50 centred on the middle (offset 25 for 100 jobs); the halves' counts add
    up and the second keeps the window's far edge."""
    listing = Listing(spaced(100))
    far = ms_instant(T0 - 5)
    halves = await Planner(listing, 5000).halve(Window(cp0(), 100, far), 100)
    assert halves is not None
    assert shape(halves) == [(50, ms_instant(T0 + 10 * 49 + 1)), (50, far)]
    assert listing.log == [(25, 50)]
    exact(listing, list(halves))


async def test_halve_between_two_equally_near_gaps_takes_the_first() -> None:
    """Ties of 4: gaps at 48 and 52 are both 2 from the middle; the first (48) wins."""
    sizes = [4] * 25
    listing = Listing(groups(sizes))
    halves = await Planner(listing, 5000).halve(Window(cp0(), 100, None), 100)
    assert halves is not None and shape(halves) == [(48, at(12, sizes)), (52, None)]


async def test_halve_finds_a_gap_after_the_first_job() -> None:
    """A window of 4 (middle 2): the page starts at 0, where the only gap is."""
    sizes = [1, 3]
    listing = Listing(groups(sizes))
    halves = await Planner(listing, 5000).halve(Window(cp0(), 4, None), 4)
    assert halves is not None and shape(halves) == [(1, at(1, sizes)), (3, None)]
    assert listing.log == [(0, 50)]


async def test_halve_gives_up_when_its_page_is_one_tie() -> None:
    """No gap in the page around the middle: no halves (the window is walked whole), and no
    more pages are read."""
    listing = Listing(groups([1] * 10 + [90]))
    assert await Planner(listing, 5000).halve(Window(cp0(), 100, None), 100) is None
    assert listing.log == [(25, 50)]


# -- partition and balance ------------------------------------------------------------------------


async def test_partition_checks_parts_and_one_part_is_the_whole_listing() -> None:
    listing = Listing(spaced(100))
    planner = Planner(listing, 100)
    with pytest.raises(GladiaConfigError):
        await planner.partition(cp0(), 0)
    assert listing.log == []
    windows = await planner.partition(cp0(), 1)
    assert shape(windows) == [(100, None)] and windows[0].cp.shards == 0


async def test_a_window_of_exactly_max_depth_stays_plain() -> None:
    """100 jobs, max_depth 100: one plain window (a sharded one only past max_depth)."""
    async with FakeGladia(api_key=KEY, jobs=100, seed=6, transcript_seconds=0) as fake:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            (window,) = await gladia.pre_recorded.partition(1, max_depth=100)
            assert window.shards == 0 and window.max_depth == 0
            # an ordinary checkpoint: path, offset, page size, bounds; no sharded-walk field
            raw = msgspec.json.decode(msgspec.json.encode(window))
            assert set(raw) == {"p", "o", "n", "b"}, raw


async def test_partition_keeps_chunks_at_exactly_twice_the_mean() -> None:
    """Chunks 30, 112, 26: the largest is exactly 2 x 168 / 3, balanced enough: kept as cut,
    without a request (re-cutting them would find no gap near either target)."""
    sizes = [1] * 30 + [112, 26]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 120).partition(cp0(), 3)
    assert shape(windows) == [(30, at(30, sizes)), (112, at(31, sizes)), (26, None)]
    cuts = [(70, 50), (21, 50), (70, 50), (70, 50)]
    assert listing.log == [(63, 1), (64, 57), *cuts, (63, 1), (0, 64)]


async def test_partition_recuts_chunks_past_twice_the_mean() -> None:
    """Chunks 20, 90, 5 (the 90 one tie): 90 > 2 x 115 / 3, so targets 38 and 77 are cut:
    38 keeps the chunk edge at 20 (within 25), 77 finds no gap in the tie: two windows, the
    second (95 > max_depth 92) a sharded checkpoint."""
    sizes = [1] * 20 + [90, 5]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 92).partition(cp0(), 3)
    assert shape(windows) == [(20, at(20, sizes)), (95, None)]
    assert [w.cp.shards for w in windows] == [0, 1]
    assert listing.log[-1] == (32, 50)
    exact(listing, windows)


async def test_partition_keeps_a_chunk_edge_at_exactly_the_slack() -> None:
    """Chunks 51, 500, 499 under max_depth 520, 2 parts: the edge at 551 is 26 from the
    target 525, and the slack is 1050 // 40 = 26: kept, no page read; 551 > 520 is sharded."""
    sizes = [1] * 51 + [500, 499]
    listing = Listing(groups(sizes))
    windows = await Planner(listing, 520).partition(cp0(), 2)
    assert shape(windows) == [(551, at(52, sizes)), (499, None)]
    assert [w.cp.shards for w in windows] == [1, 0]
    assert listing.log[-1] == (470, 50) and len(listing.log) == 17
    exact(listing, windows)


async def test_partition_keeps_the_nearer_of_two_chunk_edges() -> None:
    """Chunks of 29 (max_depth 30), 290 jobs in 3: target 97 is 10 from the edge at 87 and 19
    from 116; target 193 is 19 from 174 and 10 from 203. The nearer edge wins each time."""
    listing = Listing(spaced(290))
    windows = await Planner(listing, 30).partition(cp0(), 3)
    assert [w.count for w in windows] == [87, 116, 87]
    assert len(listing.log) == 11  # the count and the chunks only: no page read for the cuts
    exact(listing, windows)


async def test_partition_of_a_short_listing_reads_one_page_per_target() -> None:
    """60 jobs in 3: targets 20 and 40, pages at max(0, target - 25) (0 and 15)."""
    listing = Listing(spaced(60))
    windows = await Planner(listing, 5000).partition(cp0(), 3)
    assert [w.count for w in windows] == [20, 20, 20]
    assert listing.log == [(63, 1), (0, 64), (0, 50), (15, 50)]
    exact(listing, windows)


async def test_balanced_keeps_balanced_chunks_without_a_request() -> None:
    """The sharded walk's check: as many chunks as parts, none over twice the mean: kept.
    One chunk for one shard too."""
    listing = Listing(spaced(290))
    planner, chunks = await chunked(listing, 100)
    assert [w.count for w in chunks] == [99, 99, 92]
    assert await planner.balanced(cp0(), chunks, 3) == chunks
    one = Listing(spaced(100))
    planner, chunks = await chunked(one, 5000)
    assert await planner.balanced(cp0(), chunks, 1) == chunks
    assert listing.log == one.log == []


async def test_balanced_keeps_chunks_at_exactly_twice_the_mean() -> None:
    sizes = [1] * 30 + [112, 26]
    listing = Listing(groups(sizes))
    planner, chunks = await chunked(listing, 120)
    assert await planner.balanced(cp0(), chunks, 3) == chunks
    assert listing.log == []


async def test_balanced_splits_again_a_recut_window_past_max_depth() -> None:
    """Chunks 20, 90, 5 for 3 shards: re-cut at the edge 20 only (95 left), then the 95 past
    max_depth 92 is cut again into windows of at most 92 (90 and 5; the last keeps the far
    edge of the window it came from)."""
    sizes = [1] * 20 + [90, 5]
    listing = Listing(groups(sizes))
    planner, chunks = await chunked(listing, 92)
    windows = await planner.balanced(cp0(), chunks, 3)
    assert shape(windows) == [(20, at(20, sizes)), (90, at(21, sizes)), (5, None)]
    assert listing.log == [(32, 50), (42, 50), (42, 50), (0, 43)]
    exact(listing, windows)


async def test_balanced_keeps_a_recut_window_of_exactly_max_depth() -> None:
    """Chunks 10, 90, 20: target 80 keeps the edge at 100 (20 away, within the slack of 25),
    target 40 finds no gap in the tie: windows 100 and 20, the first exactly max_depth,
    kept as it is."""
    sizes = [1] * 10 + [90, 20]
    listing = Listing(groups(sizes))
    planner, chunks = await chunked(listing, 100)
    windows = await planner.balanced(cp0(), chunks, 3)
    assert shape(windows) == [(100, at(11, sizes)), (20, None)]
    assert listing.log == [(5, 50)]
    exact(listing, windows)


# -- records ------------------------------------------------------------------------------------


def test_planner_records_are_light_and_fixed() -> None:
    """Probes are not tracked by the GC (a walk decodes thousands); windows are immutable and
    hashable; WalkStats, like StreamStats, refuses a misspelt counter."""
    assert not gc.is_tracked(Probe(id="a", created_at="x"))
    assert not gc.is_tracked(MetaProbe(id="a", created_at="x", custom_metadata={"k": [1]}))
    window = Window(cp0(), 1, None)
    with pytest.raises(AttributeError):
        window.count = 2  # type: ignore[misc]
    assert hash(window) == hash(Window(cp0(), 1, None))
    assert not hasattr(window, "__dict__")
    stats = WalkStats()
    with pytest.raises(AttributeError):
        stats.probe = 1  # type: ignore[attr-defined]


def test_the_sketch_layout_is_stable() -> None:
    """A token carries its sketch's bytes: the same ids make the same bytes in every version
    (three sub-tables of 36 cells), or a token written by one release misleads the next."""
    sketch = Sketch()
    for i in range(40):
        sketch.add(id_key(f"job-{i}"))
    raw = sketch.to_bytes()
    assert len(raw) == 108 * 16
    assert (
        hashlib.sha256(raw).hexdigest()
        == "4a65295c472c40eb30a79b85edcea136b57e6d2eadf392fa48452f701ecbf73f"
    )
    used = [i for i, count in enumerate(sketch.counts) if count]
    assert max(used) >= 72


async def test_a_window_that_changes_during_every_walk_fails_after_32_walks() -> None:
    """One job of the window is deleted as each walk of it starts: its count moves every
    time, and after MAX_PASSES (32) walks, each one job shorter, the sharded walk gives up with
    a PaginationError rather than walking forever."""
    async with FakeGladia(api_key=KEY, jobs=100, seed=9, transcript_seconds=0) as fake:
        deleted: list[str] = []

        def delete_one(fake: FakeGladia) -> None:
            query = dict(fake.requests[-1].query)
            if query.get("offset", "0") == "0" and query.get("limit") == "40":
                deleted.append(fake.store.ids()[-1])
                fake.store.remove(deleted[-1])

        fake.inject("pre_recorded.list", "hook", hook=delete_one, times=None)
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            stream = gladia.pre_recorded.list(
                shards=1, max_depth=100, page_size=40, concurrency=1, lean=True
            )
            got: list[str] = []
            with pytest.raises(PaginationError, match="each of 32 walks"):
                async with stream:
                    async for job in stream:
                        got.append(job.id)
        assert len(deleted) == 32 and stream.stats.rewalks == 31
        assert len(got) == len(set(got)) == 99
