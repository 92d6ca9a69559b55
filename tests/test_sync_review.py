"""sync() review: cases where a window's count alone cannot see a change (a job entering a
status-filtered scope while another one leaves the same window), and exact report counts."""

from __future__ import annotations

from typing import Any

import pytest

from gladia_async import GladiaConfigError
from gladia_async.sync import sync
from tests._sync_helpers import client, fake, live_ids, sqlite_url, store_url, table, truth

__all__ = ["store_url"]


async def test_a_job_entering_a_status_scope_is_seen_when_a_deletion_hides_it_from_the_count(
    store_url: str,
) -> None:
    """status="done": an unfinished job finishes (enters the scope deep in the history) while
    another done job of the same window is deleted. The window's count is unchanged and so is
    its oldest job: only watching the unfinished jobs finds the newcomer."""
    async with fake(jobs=200, seed=10) as f, client(f) as g:
        first = await sync(g.pre_recorded, store_url, status="done")
        assert first.windows == 1
        ids = f.store.ids()  # newest first
        middle = ids[20:-20]
        entering = next(i for i in middle if f.store.jobs[i].status in ("queued", "processing"))
        victim = next(i for i in middle if f.store.jobs[i].status == "done")
        f.store.set_status(entering, "done")
        f.store.remove(victim)
        jobs = f.store.jobs
        others = [i for i in middle if i in jobs and jobs[i].status in ("queued", "processing")]
        f.store.set_status(others[0], "error")  # finished, but not into the scope
        f.store.remove(others[1])  # gone while unfinished
        report = await sync(g.pre_recorded, store_url, status="done")
        done = {i for i, s in truth(f).items() if s == "done"}
        assert live_ids(await table(store_url)) == done
        assert (report.new, report.deleted, report.changed) == (1, 1, 0)
        assert report.unchanged == len(done) - 1
        assert (report.windows, report.searched) == (1, 1)  # the newcomer made the count move


@pytest.mark.parametrize("at", [99, 160])
async def test_a_restored_job_among_deletions_of_a_searched_window_is_restored(
    store_url: str, at: int
) -> None:
    """A window of 200 jobs loses three and gets back one deleted earlier: its count fell, so
    it is searched by offset probes, and a probe lands on the restored job, which is not in
    the stored order. The search must give up (re-walk), not take it for the end of the
    listing (that marks live jobs deleted, then counts them as changed)."""
    async with fake(jobs=200, seed=14) as f, client(f) as g:
        await sync(g.pre_recorded, store_url)
        ids = f.store.ids()
        back = f.store.jobs[ids[at]]  # 99: the first probe of the search lands on it
        f.store.remove(back.id)
        assert (await sync(g.pre_recorded, store_url)).deleted == 1
        f.store.insert(back)
        for job_id in (ids[150], ids[151], ids[180]):
            f.store.remove(job_id)
        report = await sync(g.pre_recorded, store_url)
        assert (report.new, report.changed, report.deleted) == (0, 1, 3)
        assert (report.windows, report.searched) == (1, 1)
        rows = await table(store_url)
        assert live_ids(rows) == set(truth(f))
        assert rows[back.id]["deleted_at"] is None


@pytest.mark.parametrize("lookback", [-1.0, float("nan"), float("inf")])
async def test_a_lookback_that_is_not_a_finite_positive_number_is_refused(
    tmp_path: Any, lookback: float
) -> None:
    """A negative lookback would skip the jobs created just after the last pin; NaN raised a
    bare ValueError after the store was opened."""
    async with fake(jobs=5, seed=15) as f, client(f) as g:
        with pytest.raises(GladiaConfigError, match="lookback"):
            await sync(g.pre_recorded, sqlite_url(tmp_path), lookback=lookback)
        assert not f.requests.for_route("pre_recorded.list")
        assert not (tmp_path / "jobs.db").exists()


async def test_deletions_found_by_probes_are_confirmed_by_one_small_get_each(
    store_url: str,
) -> None:
    """Without a status filter, the probe search names the three deleted jobs; each is then
    fetched by id once (a 404: a search's probes are not one snapshot, so a job it names may
    be live), and no other job is (the refresh of unfinished jobs gets its own)."""
    async with fake(jobs=300, seed=16) as f, client(f) as g:
        await sync(g.pre_recorded, store_url, window_size=100)
        done = [i for i in f.store.ids() if f.store.jobs[i].status == "done"]
        gone = [done[50], done[51], done[200]]
        for job_id in gone:
            f.store.remove(job_id)
        f.requests.clear()
        report = await sync(g.pre_recorded, store_url, window_size=100)
        assert report.deleted == 3
        gets = [r.path.rsplit("/", 1)[-1] for r in f.requests.for_route("pre_recorded.get")]
        assert sorted(g for g in gets if g in gone) == sorted(gone)  # once each


async def test_a_job_restored_into_an_empty_scope_is_restored(store_url: str) -> None:
    """Every stored job of the scope was deleted, so the one window holds none: a job listed
    there again must still be seen (the probe of an empty window finds it)."""
    async with fake(jobs=3, seed=17) as f, client(f) as g:
        await sync(g.pre_recorded, store_url)
        records = [f.store.jobs[i] for i in f.store.ids()]
        for rec in records:
            f.store.remove(rec.id)
        assert (await sync(g.pre_recorded, store_url)).deleted == 3
        f.store.insert(records[1])
        report = await sync(g.pre_recorded, store_url)
        assert (report.new, report.changed, report.deleted, report.unchanged) == (0, 1, 0, 0)
        assert live_ids(await table(store_url)) == {records[1].id}


@pytest.mark.parametrize(
    "bad",
    [
        {"page_size": 0},
        {"concurrency": 0},
        {"max_depth": 1},
        {"window_size": 0},
        {"window_size": 100, "max_depth": 100},  # a window must fit above max_depth
        {"lookback": -0.001},
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    tmp_path: Any, bad: dict[str, Any]
) -> None:
    async with fake(jobs=5, seed=30) as f, client(f) as g:
        with pytest.raises(GladiaConfigError):
            await sync(g.pre_recorded, sqlite_url(tmp_path), **bad)
        assert len(f.requests) == 0


async def test_the_smallest_arguments_allowed_work(tmp_path: Any) -> None:
    """page_size=1, concurrency=1, max_depth=2, window_size=1 and lookback=0 are valid."""
    async with fake(jobs=7, seed=31) as f, client(f) as g:
        args = {"page_size": 1, "concurrency": 1, "max_depth": 2, "window_size": 1, "lookback": 0}
        report = await sync(g.pre_recorded, sqlite_url(tmp_path), **args)
        assert (report.new, report.windows) == (7, 7)
        assert live_ids(await table(sqlite_url(tmp_path))) == set(truth(f))


async def test_an_unopened_store_is_opened_and_left_open(tmp_path: Any) -> None:
    from gladia_async.sync import open_store

    async with fake(jobs=12, seed=32) as f, client(f) as g:
        store = open_store(sqlite_url(tmp_path))
        try:
            assert (await sync(g.pre_recorded, store)).new == 12
            assert len(await store.export_rows("pre-recorded", None, None, (), None, 50)) == 12
        finally:
            await store.close()


async def test_a_scope_with_a_before_date_never_stores_a_later_job(store_url: str) -> None:
    async with fake(jobs=120, seed=33) as f, client(f) as g:
        ids = f.store.ids()  # newest first
        cut = f.store.jobs[ids[40]].created_at  # jobs strictly before it: ids[41:] (no ties)
        report = await sync(g.pre_recorded, store_url, before_date=cut)
        assert report.new == len(ids) - 41
        assert live_ids(await table(store_url)) == set(ids[41:])
        again = await sync(g.pre_recorded, store_url, before_date=cut)
        assert (again.new, again.unchanged) == (0, len(ids) - 41)


def test_a_report_counts_nothing_it_was_not_told() -> None:
    from gladia_async.sync import SyncReport

    report = SyncReport(1, 2, 3, 4, requests=5, bytes=6, seconds=0.5)
    assert (report.windows, report.searched, report.first) == (0, 0, False)


@pytest.mark.parametrize(("jobs", "max_depth", "windows"), [(98, 50, 2), (4_001, 5000, 3)])
async def test_windows_default_to_2000_jobs_or_just_under_max_depth(
    tmp_path: Any, jobs: int, max_depth: int, windows: int
) -> None:
    """98 jobs under max_depth=50: two windows of 49; 4,001 jobs by default: windows of
    2,000 (2,000 + 2,000 + 1)."""
    async with fake(jobs=jobs, seed=34) as f, client(f) as g:
        report = await sync(g.pre_recorded, sqlite_url(tmp_path), max_depth=max_depth)
        assert (report.new, report.windows) == (jobs, windows)


async def test_a_failing_walk_keeps_every_page_it_fetched(tmp_path: Any) -> None:
    """The API fails for good in the middle of the first walk: the run raises that error, and
    every job the walk had brought (as reported to ``progress``) is in the table."""
    from gladia_async import InternalServerError

    async with fake(jobs=2_000, seed=35) as f, client(f) as g:
        f.inject("pre_recorded.list", "status", status=500, on={12}, times=None)
        walked: list[int] = []
        with pytest.raises(InternalServerError):
            await sync(g.pre_recorded, sqlite_url(tmp_path), page_size=50, progress=walked.append)
        assert sum(walked) > 0
        assert len(await table(sqlite_url(tmp_path))) == sum(walked)


async def test_a_failing_database_stops_the_walk_at_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first write (a transaction of 1,000 jobs) fails: the run raises that error without
    walking the rest of the 10,000 jobs."""
    from gladia_async.sync import SyncError
    from gladia_async.sync.sqlite import SQLiteStore

    async def full(self: Any, *args: Any, **kwargs: Any) -> None:
        raise SyncError("disk full")

    monkeypatch.setattr(SQLiteStore, "upsert", full)
    async with fake(jobs=10_000, seed=36) as f, client(f) as g:
        with pytest.raises(SyncError, match="disk full"):
            await sync(g.pre_recorded, sqlite_url(tmp_path))
        assert len(f.requests.for_route("*.list")) < 50  # of 100 pages


async def test_a_history_longer_than_one_scan_of_the_table(tmp_path: Any) -> None:
    """5,100 stored jobs: the table is read in scans of 5,000; windows and counts still tile
    the whole history, so a re-sync finds every job unchanged and one deletion deep in it."""
    async with fake(jobs=5_100, seed=38) as f, client(f) as g:
        url = sqlite_url(tmp_path)
        assert (await sync(g.pre_recorded, url)).new == 5_100
        again = await sync(g.pre_recorded, url)
        assert (again.unchanged, again.windows, again.searched) == (5_100, 3, 0)
        f.store.remove(f.store.ids()[5_050])
        last = await sync(g.pre_recorded, url)
        assert (last.deleted, last.unchanged, last.searched) == (1, 5_099, 1)


async def test_a_filtered_scope_ignores_rows_stored_by_another_scope(tmp_path: Any) -> None:
    """One database, an unfiltered mirror first, then a status="done" one: the second plans
    its windows from done rows only, so it finds nothing to change and deletes nothing."""
    async with fake(jobs=300, seed=39) as f, client(f) as g:
        url = sqlite_url(tmp_path)
        await sync(g.pre_recorded, url)
        done = sum(1 for s in truth(f).values() if s == "done")
        first = await sync(g.pre_recorded, url, status="done")
        again = await sync(g.pre_recorded, url, status="done")
        for report in (first, again):
            assert (report.new, report.changed, report.deleted) == (0, 0, 0)
            assert report.unchanged == done
        assert again.searched == 0
        assert live_ids(await table(url)) == set(truth(f))


async def test_an_after_date_scope_checks_its_oldest_window_within_the_scope(
    tmp_path: Any,
) -> None:
    async with fake(jobs=200, seed=40) as f, client(f) as g:
        url = sqlite_url(tmp_path)
        ids = f.store.ids()  # newest first
        cut = f.store.jobs[ids[120]].created_at  # the scope: ids[:120]
        assert (await sync(g.pre_recorded, url, after_date=cut, window_size=50)).new == 120
        again = await sync(g.pre_recorded, url, after_date=cut, window_size=50)
        assert (again.unchanged, again.searched, again.new) == (120, 0, 0)
        assert live_ids(await table(url)) == set(ids[:120])


async def test_windows_never_lose_jobs_one_millisecond_apart(tmp_path: Any) -> None:
    """100 jobs in 100 consecutive milliseconds: no empty millisecond to cut at, so one window
    grows past window_size (10) to hold them all (a cut there would leave a job in no window).
    Deleting the jobs on either side of where a cut would be is found."""
    max_depth, windows, cut = 200, 1, 10
    from datetime import UTC, datetime, timedelta

    async with fake(jobs=0, seed=41) as f, client(f) as g:
        base = datetime(2026, 5, 1, tzinfo=UTC)
        for k in range(100):
            f.store.add_jobs(1, created_at=base + timedelta(milliseconds=k))
        url = sqlite_url(tmp_path)
        opts = {"window_size": 10, "max_depth": max_depth}
        assert (await sync(g.pre_recorded, url, **opts)).windows == windows
        for victim in (f.store.ids()[cut], f.store.ids()[cut - 1]):
            f.store.remove(victim)
            report = await sync(g.pre_recorded, url, **opts)
            assert (report.deleted, report.unchanged) == (1, len(f.store.ids()))
        assert live_ids(await table(url)) == set(f.store.ids())


async def test_the_report_counts_every_request_and_the_progress_every_job(tmp_path: Any) -> None:
    async with fake(jobs=665, seed=42) as f, client(f) as g:
        url = sqlite_url(tmp_path)
        walked: list[int] = []
        first = await sync(g.pre_recorded, url, page_size=50, progress=walked.append)
        assert first.requests == len(f.requests)
        unfinished = sum(1 for s in truth(f).values() if s in ("queued", "processing"))
        assert first.new == 665
        assert sum(walked) == 665 + unfinished  # the walk, then the unfinished jobs' listing
        f.requests.clear()
        f.store.remove(f.store.ids()[300])
        again = await sync(g.pre_recorded, url, page_size=50)  # probes and gets only
        assert again.requests == len(f.requests) > 0
        assert 0 < again.bytes < first.bytes / 10


@pytest.mark.parametrize("inclusive", [False, True])
async def test_a_job_listed_again_at_a_window_edge_is_restored(
    store_url: str, inclusive: bool
) -> None:
    """X (1 ms older than B) is deleted, so the next plan would end a window between B and C
    in X's millisecond, the instant two windows share as their bound: with exclusive API
    bounds neither window's count would see X listed again. Jobs marked deleted occupy their
    millisecond when windows are planned, so X falls inside a window and is restored."""
    from datetime import UTC, datetime, timedelta

    base = datetime(2026, 5, 1, tzinfo=UTC)
    bounds = {"before_inclusive": inclusive, "after_inclusive": inclusive}
    async with fake(jobs=0, seed=43, **bounds) as f, client(f) as g:
        ids = {
            name: f.store.add_jobs(1, created_at=base + timedelta(milliseconds=ms))[0].id
            for name, ms in (("A", 50), ("B", 40), ("X", 39), ("C", 20), ("D", 10))
        }
        opts = {"window_size": 2}
        await sync(g.pre_recorded, store_url, **opts)
        x = f.store.jobs[ids["X"]]
        f.store.remove(x.id)
        assert (await sync(g.pre_recorded, store_url, **opts)).deleted == 1
        f.store.insert(x)
        report = await sync(g.pre_recorded, store_url, **opts)
        assert (report.changed, report.unchanged) == (1, 4)
        assert live_ids(await table(store_url)) == set(ids.values())
