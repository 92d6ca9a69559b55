"""sync/_engine.py, pinned where the other sync tests left it loose: the run's pin and the
lookback to the millisecond (a clock fixed by monkeypatch), the resume of an interrupted run
(it walks only what is left), window cuts and their table, the writer's transactions (at most
1,000 jobs or 16 MiB, each with the state of its last batch, none lost or left running), the
report's figures, and the cost of a check (exact requests where the docs give one)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sqlite3
import time
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gladia_async import BadRequestError, GladiaConfigError
from gladia_async.sync import SyncError, SyncReport, _engine, open_store, sync
from gladia_async.sync._model import Row, Scope
from gladia_async.sync.sqlite import SQLiteStore
from gladia_async.testing import FakeGladia
from tests._sync_helpers import client, fake, live_ids, sqlite_url, table, truth

T0 = 1_794_700_800_000  # 2026-11-15T00:00:00Z: after the fake's history (it ends 2026-11-01)
LOOKBACK_MS = 300_000


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def all_done(f: FakeGladia) -> FakeGladia:
    """Finish every job: no unfinished refresh listing, so the requests are only the walk's
    and the checks'."""
    for job_id in f.store.ids():
        if f.store.jobs[job_id].status not in ("done", "error"):
            f.store.set_status(job_id, "done")
    return f


def clock(monkeypatch: pytest.MonkeyPatch, ms: int) -> None:
    """The next run starts at this millisecond (its pin is ms + 1)."""
    monkeypatch.setattr(_engine, "_now_ms", lambda: ms)


def state(tmp_path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(tmp_path / "jobs.db")
    try:
        ((text,),) = conn.execute("SELECT state FROM gladia_sync_state").fetchall()
    finally:
        conn.close()
    out: dict[str, Any] = json.loads(text)
    return out


def windows_table(tmp_path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(tmp_path / "jobs.db")
    try:
        return conn.execute("SELECT * FROM gladia_sync_windows").fetchall()
    finally:
        conn.close()


def limits(f: FakeGladia) -> list[int]:
    return [int(r.param("limit") or 0) for r in f.requests.for_route("pre_recorded.list")]


# -- the pin, the lookback and the walked ranges (a fixed clock) --


@pytest.mark.parametrize("before_date", [None, "2030-01-01T00:00:00Z"])
async def test_a_run_covers_jobs_up_to_the_millisecond_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before_date: str | None
) -> None:
    """The run starting at T stores a job created at T, not one created at T+1 (also when the
    scope's before_date is later than T), saves the pin T+1, and walks T in phase 1 (no
    window had to be searched for it)."""
    async with fake(jobs=40, seed=50) as f, client(f) as g:
        all_done(f)
        inside = f.store.add_job(created_at=at(T0)).id
        later = f.store.add_job(created_at=at(T0 + 1)).id
        clock(monkeypatch, T0)
        report = await sync(g.pre_recorded, sqlite_url(tmp_path), before_date=before_date)
        assert (report.new, report.searched) == (41, 0)
        live = live_ids(await table(sqlite_url(tmp_path)))
        assert inside in live and later not in live
        assert state(tmp_path)["pin"] == T0 + 1


@pytest.mark.parametrize("how", ["url", "store"])
async def test_the_lookback_is_300_seconds_before_the_last_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A job that shows up late (clock skew) 299.9 s before the last pin is walked again by
    the next run; one 300.1 s before it is not (the window check finds it instead: searched)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=40, seed=51) as f, client(f) as g:
        all_done(f)
        store = open_store(url)
        target: Any = url if how == "url" else store
        try:
            clock(monkeypatch, T0)
            assert (await sync(g.pre_recorded, target)).new == 40
            pin = T0 + 1
            f.store.add_job(created_at=at(pin - LOOKBACK_MS + 100))
            clock(monkeypatch, T0 + 10)
            report = await sync(g.pre_recorded, target)
            assert (report.new, report.searched) == (1, 0)
            pin = T0 + 11
            f.store.add_job(created_at=at(pin - LOOKBACK_MS - 100))
            clock(monkeypatch, T0 + 20)
            report = await sync(g.pre_recorded, target)
            assert (report.new, report.searched) == (1, 1)
            assert live_ids(await table(url)) == set(truth(f))
        finally:
            await store.close()


async def test_a_one_millisecond_range_is_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lookback=0 and the next run one millisecond later: the range [T+1, T+1] is walked, so
    a job created in it is new without a search."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=30, seed=52) as f, client(f) as g:
        all_done(f)
        clock(monkeypatch, T0)
        await sync(g.pre_recorded, url, lookback=0)
        f.store.add_job(created_at=at(T0 + 1))
        clock(monkeypatch, T0 + 1)
        report = await sync(g.pre_recorded, url, lookback=0)
        assert (report.new, report.searched) == (1, 0)


async def test_a_resumed_run_walks_only_what_is_left_and_what_came_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run fails in the middle of its walk; the next one walks the rest of that
    range (not what was written), plus the jobs created since the failed run began, up to
    its own start (a job created at that very millisecond included): no search needed."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=500, seed=53) as f, client(f) as g:
        all_done(f)
        f.inject("pre_recorded.list", "status", status=400, on={3})
        clock(monkeypatch, T0)
        with pytest.raises(BadRequestError):
            await sync(g.pre_recorded, url, page_size=50, concurrency=1)
        written = len(await table(url))
        assert 0 < written < 500
        f.store.add_job(created_at=at(T0 + 10))
        clock(monkeypatch, T0 + 10)
        walked: list[int] = []
        report = await sync(g.pre_recorded, url, page_size=50, progress=walked.append)
        assert (report.new, report.searched, report.deleted) == (501, 0, 0)
        # the rest of the range, its last written job again (the range ends at its instant),
        # and the new job
        assert sum(walked) == 500 - written + 1 + 1
        assert live_ids(await table(url)) == set(truth(f))


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_a_run_that_failed_after_its_walk_is_finished_without_walking_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oldest_first: bool
) -> None:
    """The run fails at its very end (saving the windows): the next one walks nothing (its
    range of new jobs is empty) and, knowing the API's order from the saved state, finds
    every window unchanged without a search."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=54, oldest_first=oldest_first) as f, client(f) as g:
        all_done(f)
        real = SQLiteStore.save_windows
        calls: list[int] = []

        async def failing_once(self: Any, *args: Any) -> None:
            calls.append(1)
            if len(calls) == 1:
                raise SyncError("disk full")
            await real(self, *args)

        monkeypatch.setattr(SQLiteStore, "save_windows", failing_once)
        with pytest.raises(SyncError, match="disk full"):
            await sync(g.pre_recorded, url, window_size=50)
        walked: list[int] = []
        report = await sync(g.pre_recorded, url, window_size=50, progress=walked.append)
        assert sum(walked) == 0
        assert (report.new, report.unchanged, report.windows, report.searched) == (200, 0, 4, 0)


async def test_a_resync_knows_the_apis_order_without_walking(tmp_path: Path) -> None:
    """An oldest-first API, every job finished, nothing new: the second run lists no job at
    all (so cannot learn the order again), yet finds every window unchanged."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=150, seed=55, oldest_first=True) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url, window_size=50)
        again = await sync(g.pre_recorded, url, window_size=50)
        assert (again.unchanged, again.windows, again.searched) == (150, 3, 0)


# -- exact costs of a re-sync --


async def test_a_resync_with_nothing_changed_costs_one_walk_request_and_one_probe_per_window(
    tmp_path: Path,
) -> None:
    """Every job finished, nothing changed: one (empty) request for the new jobs, then one
    limit=2 probe per window; nothing else (no listing of the whole history)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=300, seed=56) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url, window_size=100)
        f.requests.clear()
        again = await sync(g.pre_recorded, url, window_size=100)
        assert again.windows == 3
        assert again.requests == len(f.requests) == 1 + 3
        assert sorted(limits(f)) == [2, 2, 2, 100]


async def test_a_resync_of_an_after_date_scope_walks_only_the_lookback(tmp_path: Path) -> None:
    """after_date scope: the second run walks from the last pin minus the lookback, not from
    the scope's start (no job listed again)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=57) as f, client(f) as g:
        all_done(f)
        ids = f.store.ids()
        cut = f.store.jobs[ids[150]].created_at
        assert (await sync(g.pre_recorded, url, after_date=cut)).new == 150
        walked: list[int] = []
        again = await sync(g.pre_recorded, url, after_date=cut, progress=walked.append)
        assert (again.unchanged, again.searched, sum(walked)) == (150, 0, 0)


async def test_the_first_walk_asks_for_pages_of_100_by_default(tmp_path: Path) -> None:
    async with fake(jobs=30, seed=58) as f, client(f) as g:
        await sync(g.pre_recorded, sqlite_url(tmp_path))
        assert limits(f)[0] == 100


@pytest.mark.parametrize(("size", "walked_again"), [(32, True), (33, False)])
async def test_a_small_window_is_walked_again_a_larger_one_searched_by_probes(
    tmp_path: Path, size: int, walked_again: bool
) -> None:
    """SMALL_WINDOW = 32: a window of 32 jobs that lost one is walked again (a request of a
    whole page); one of 33 is searched by one-job probes only."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=3 * size, seed=59) as f, client(f) as g:
        all_done(f)
        first = await sync(g.pre_recorded, url, window_size=size)
        assert first.windows == 3
        f.store.remove(f.store.ids()[size + size // 2])
        f.requests.clear()
        report = await sync(g.pre_recorded, url, window_size=size)
        assert (report.deleted, report.searched) == (1, 1)
        pages = [n for n in limits(f) if n > 2]
        assert len(pages) == (2 if walked_again else 1)
        assert live_ids(await table(url)) == set(truth(f))


async def test_a_window_of_one_job_that_was_deleted_is_seen(tmp_path: Path) -> None:
    """Windows of one job each: the one whose job was deleted answers its probe with nothing."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=4, seed=60) as f, client(f) as g:
        assert (await sync(g.pre_recorded, url, window_size=1)).windows == 4
        f.store.remove(f.store.ids()[2])
        report = await sync(g.pre_recorded, url, window_size=1)
        assert (report.deleted, report.unchanged) == (1, 3)
        assert live_ids(await table(url)) == set(truth(f))


# -- windows: cuts and the saved table --


async def test_windows_are_cut_at_one_empty_millisecond(tmp_path: Path) -> None:
    """Jobs 2 ms apart (one empty millisecond between two): windows of exactly window_size."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=0, seed=61) as f, client(f) as g:
        for k in range(100):
            f.store.add_job(created_at=at(T0 - 1_000_000 + 2 * k))
        report = await sync(g.pre_recorded, url, window_size=10)
        assert (report.new, report.windows) == (100, 10)
        saved = windows_table(tmp_path)
        assert len(saved) == 10 and [n for *_, n in saved] == [10] * 10


async def test_windows_without_an_empty_millisecond_are_cut_just_under_max_depth(
    tmp_path: Path,
) -> None:
    """Jobs 1 ms apart, first synced with max_depth=200 (a walk needs a 2 ms gap within
    max_depth jobs), then checked under max_depth=20: windows are cut at max_depth - 1 = 19
    jobs, and every job stays in a window: deleting jobs on both sides of cuts is seen."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=0, seed=62) as f, client(f) as g:
        for k in range(100):
            f.store.add_job(created_at=at(T0 - 1_000_000 + k))
        opts: dict[str, Any] = {"window_size": 10, "max_depth": 20}
        assert (await sync(g.pre_recorded, url, window_size=10, max_depth=200)).new == 100
        again = await sync(g.pre_recorded, url, **opts)
        assert (again.windows, again.searched, again.unchanged) == (6, 0, 100)
        ids = f.store.ids()  # newest first: cuts after the 19th, 38th, ... job
        for victim in (ids[18], ids[19], ids[38]):
            f.store.remove(victim)
        f.requests.clear()
        report = await sync(g.pre_recorded, url, **opts)
        assert (report.deleted, report.unchanged) == (3, 97)
        assert all(int(r.param("offset") or 0) < 20 for r in f.requests.for_route("*.list"))
        assert live_ids(await table(url)) == set(truth(f))


# -- arguments and the report --


async def test_max_depth_below_two_is_refused_by_name(tmp_path: Path) -> None:
    async with fake(jobs=3, seed=63) as f, client(f) as g:
        with pytest.raises(GladiaConfigError, match="max_depth must be"):
            await sync(g.pre_recorded, sqlite_url(tmp_path), max_depth=1, window_size=1)


async def test_the_report_seconds_are_the_calls_wall_time(tmp_path: Path) -> None:
    async with fake(jobs=20, seed=64) as f, client(f) as g:
        start = time.monotonic()
        report = await sync(g.pre_recorded, sqlite_url(tmp_path))
        assert 0 <= report.seconds <= time.monotonic() - start


def test_the_report_prints_megabytes_of_10_to_the_6_bytes() -> None:
    report = SyncReport(0, 0, 0, 0, requests=1, bytes=12_345_678_900, seconds=0.0)
    assert "12345.68 MB" in str(report)


def test_a_report_is_an_immutable_hashable_value() -> None:
    report = SyncReport(1, 2, 3, 4, requests=5, bytes=6, seconds=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.new = 7  # type: ignore[misc]
    assert hash(report) == hash(SyncReport(1, 2, 3, 4, requests=5, bytes=6, seconds=0.5))
    assert not hasattr(report, "__dict__")


# -- the writer: transactions of the first walk --


def rows(first: int, n: int, size: int, *, step: int = -1) -> list[Row]:
    data = b"x" * size
    return [
        Row(f"job-{i}", "pre-recorded", "done", "", T0 + step * i, None, None, None, None, None,
            None, data)
        for i in range(first, first + n)
    ]  # fmt: skip


class Recorder:
    """A store that records each upsert (after yielding to the loop twice, as a database
    would), or raises once ``fail`` is set."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, dict[str, Any]]] = []
        self.fail: asyncio.Event | None = None

    async def upsert(
        self, batch: list[Row], run: int, state: tuple[str, dict[str, Any]] | None = None
    ) -> None:
        if self.fail is not None:
            await self.fail.wait()
            raise SyncError("disk full")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert state is not None
        self.calls.append((len(batch), sum(len(r.data) for r in batch), state[1]))


def engine_run(store: Recorder, oldest_first: bool | None = False) -> Any:
    scope = Scope("/v2/pre-recorded", "pre-recorded")
    remote = SimpleNamespace(scope=scope, oldest_first=oldest_first)
    return _engine._Run(remote, store, 100, 0)  # type: ignore[arg-type]


async def batches_of(parts: list[list[Row]], fail: Exception | None = None) -> AsyncIterator[Any]:
    for part in parts:
        yield part
    if fail is not None:
        raise fail


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_a_transaction_holds_at_most_1000_jobs_with_the_state_after_its_last_batch(
    oldest_first: bool,
) -> None:
    """25 pages of 100 jobs: transactions of 1,000, 1,000 and 500 jobs, each saving the state
    that resumes after its last page (the walked end of the range moved to its last job)."""
    store = Recorder()
    step = 1 if oldest_first else -1
    parts = [rows(100 * k, 100, 10, step=step) for k in range(25)]
    state: dict[str, Any] = {"run": 1, "todo": [[T0 - 10_000, T0 + 10_000]]}
    await engine_run(store, oldest_first)._write_behind(batches_of(parts), state)
    assert [(n, size) for n, size, _ in store.calls] == [(1000, 10_000)] * 2 + [(500, 5_000)]
    for (_, _, saved), last in zip(store.calls, (parts[9], parts[19], parts[24]), strict=True):
        end = last[-1].created_ms
        want = [end, T0 + 10_000] if oldest_first else [T0 - 10_000, end]
        assert saved["todo"] == [want]
        assert saved["oldest_first"] is oldest_first


async def test_a_transaction_closes_at_exactly_16_mib() -> None:
    """Pages of one 1 MiB job: transactions of 16, 16 and 8 jobs (16 MiB reached exactly)."""
    store = Recorder()
    mib = 1024 * 1024
    parts = [rows(k, 1, mib) for k in range(40)]
    state: dict[str, Any] = {"run": 1, "todo": [[None, T0]]}
    await engine_run(store)._write_behind(batches_of(parts), state)
    assert [(n, size) for n, size, _ in store.calls] == [(16, 16 * mib)] * 2 + [(8, 8 * mib)]


async def test_every_page_is_written_before_the_walk_returns_or_fails() -> None:
    """The walk ends (or fails) while the writer is still busy: _write_behind waits for the
    last transaction before it returns (or re-raises the walk's error)."""
    for fail in (None, RuntimeError("walk failed")):
        store = Recorder()
        parts = [rows(10 * k, 10, 10) for k in range(3)]
        state: dict[str, Any] = {"run": 1, "todo": [[None, T0]]}
        run = engine_run(store)
        if fail is None:
            await run._write_behind(batches_of(parts), state)
        else:
            with pytest.raises(RuntimeError, match="walk failed"):
                await run._write_behind(batches_of(parts, fail), state)
        assert [n for n, _, _ in store.calls] == [30]


def pending_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]


async def test_a_failing_writer_stops_a_walk_blocked_on_a_full_queue() -> None:
    """The writer fails while the walk waits for room in the full queue: the walk gets the
    writer's error, and its pending put is cancelled (nothing left running)."""
    store = Recorder()
    store.fail = asyncio.Event()
    asked: list[int] = []

    async def walk() -> AsyncGenerator[list[Row], None]:
        for k in range(20):
            asked.append(k)
            if k == 9:  # the writer holds page 0, the queue pages 1-8: this put will block
                store.fail.set()  # type: ignore[union-attr]
            yield rows(1000 * k, 1000, 1)

    with pytest.raises(SyncError, match="disk full"):
        await engine_run(store)._write_behind(walk(), {"run": 1, "todo": [[None, T0]]})
    assert len(asked) == 10
    for _ in range(3):  # let the cancelled put finish
        await asyncio.sleep(0)
    assert pending_tasks() == []


async def test_a_cancelled_walk_leaves_no_writer_behind() -> None:
    """The run is cancelled while its walk waits for a page: the writer task is cancelled and
    awaited before the cancel propagates."""
    store = Recorder()
    waiting = asyncio.Event()

    async def walk() -> AsyncGenerator[list[Row], None]:
        yield rows(0, 10, 1)
        waiting.set()
        await asyncio.Event().wait()
        yield []  # pragma: no cover

    task = asyncio.create_task(
        engine_run(store)._write_behind(walk(), {"run": 1, "todo": [[None, T0]]})
    )
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pending_tasks() == []


# -- the search: exact one-job probes --

SEARCHES = {
    "six": (
        [40, 41, 120, 170, 171, 172],
        [24, 37, 39, 40, 43, 49, 99, 112, 115, 117, 118, 124, 149, 162, 165, 166, 167, 168, 174,
         187, 193, 194, 195, 196],
    ),
    "thirty-four": (
        [*range(130, 191, 2), 10, 11, 60],
        [6, 9, 10, 11, 12, 24, 49, 56, 57, 58, 59, 62, 74, 99, 124, *range(126, 160), 162, 165,
         166, 167, 168, 174],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SEARCHES))
async def test_deletions_are_found_by_these_one_job_probes(tmp_path: Path, case: str) -> None:
    """One window of 200 jobs loses some: its probe at offset 199 finds it shorter, a binary
    search of one-job probes finds the listing's length, then each segment whose two ends do
    not match is split at the probe already made nearest its middle (else at its middle).
    Exact offsets (a probe is never made twice), one get by id per job it names (each a 404),
    then one limit=2 probe of the recounted window; nothing is walked again."""
    gone, offsets = SEARCHES[case]
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=70) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url)
        ids = f.store.ids()
        for k in gone:
            f.store.remove(ids[k])
        f.requests.clear()
        report = await sync(g.pre_recorded, url)
        assert (report.deleted, report.searched) == (len(gone), 1)
        assert report.unchanged == 200 - len(gone)
        sent = [
            (int(r.param("offset") or 0), int(r.param("limit") or 0))
            for r in f.requests.for_route("pre_recorded.list")
        ]
        assert sorted(o for o, n in sent if n == 1) == offsets
        assert sorted(x for x in sent if x[1] != 1) == [(0, 100), (199 - len(gone), 2), (199, 2)]
        gets = [r.path.rsplit("/", 1)[-1] for r in f.requests.for_route("pre_recorded.get")]
        assert sorted(gets) == sorted(ids[k] for k in gone)
        assert report.requests == len(sent) + len(gets)
        assert live_ids(await table(url)) == set(truth(f))


@pytest.mark.parametrize(("gone", "nth", "during"), [([50, 104], 3, 39), ([154, 157], 7, -157)])
async def test_a_window_changing_during_its_search_is_walked_not_guessed(
    tmp_path: Path, gone: list[int], nth: int, during: int
) -> None:
    """A job is deleted (or a deleted one listed again: negative index) just before the nth
    one-job probe of a search: the probes no longer fit the stored order, so the search gives
    up and walks the window. Guessing from them would mark live jobs deleted (then restore
    them: reported as changed)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=70) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url)
        ids = f.store.ids()
        records = {k: f.store.jobs[ids[k]] for k in gone}
        for k in gone:
            f.store.remove(ids[k])
        probes: list[int] = []

        def hook(fk: FakeGladia) -> None:
            if fk.requests[-1].param("limit") == "1":
                probes.append(1)
                if len(probes) == nth:
                    if during >= 0:
                        fk.store.remove(ids[during])
                    else:
                        fk.store.insert(records[-during])

        f.inject("pre_recorded.list", "hook", hook=hook, times=None)
        report = await sync(g.pre_recorded, url)
        assert len(probes) >= nth
        changed = {ids[k] for k in gone} ^ ({ids[during]} if during >= 0 else {ids[-during]})
        assert (report.deleted, report.changed, report.new) == (len(changed), 0, 0)
        assert live_ids(await table(url)) == set(truth(f))


async def test_a_window_that_keeps_changing_during_three_searches_is_walked_at_last(
    tmp_path: Path,
) -> None:
    """A job of the window is deleted before each of its first three limit=2 probes, and
    another during the third search (which then cannot tell which job went): after three
    searches the window is walked, so the table ends exact."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=70) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url)
        ids = f.store.ids()
        seen = {"2": 0, "1": 0}

        def hook(fk: FakeGladia) -> None:
            limit = fk.requests[-1].param("limit")
            if limit not in seen:
                return
            seen[limit] += 1
            if limit == "2" and seen["2"] <= 3:
                fk.store.remove(ids[50 * seen["2"]])
                seen["1"] = 0
            elif limit == "1" and seen["2"] == 3 and seen["1"] == 2:
                fk.store.remove(ids[0])

        f.inject("pre_recorded.list", "hook", hook=hook, times=None)
        f.requests.clear()
        report = await sync(g.pre_recorded, url)
        assert live_ids(await table(url)) == set(truth(f))
        assert (report.deleted, report.searched) == (4, 3)


async def test_a_deletion_during_a_search_marks_no_live_job_deleted(tmp_path: Path) -> None:
    """One job of a 200-job window was deleted, and the newest one is deleted between the
    first two one-job probes of its search. The search, trusting a probe made before that
    deletion, names a live job; its get by id finds it live, so it is kept, and the window's
    next check finds the job really deleted (before the fix: the live job was marked deleted
    and, count and last job then matching, no later run corrected it)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=200, seed=70) as f, client(f) as g:
        all_done(f)
        await sync(g.pre_recorded, url)
        ids = f.store.ids()
        f.store.remove(ids[120])
        probes: list[int] = []

        def hook(fk: FakeGladia) -> None:
            if fk.requests[-1].param("limit") == "1":
                probes.append(1)
                if len(probes) == 2:
                    fk.store.remove(ids[0])

        f.inject("pre_recorded.list", "hook", hook=hook, times=None)
        await sync(g.pre_recorded, url)
        f.faults.clear()
        await sync(g.pre_recorded, url)
        assert live_ids(await table(url)) == set(truth(f))


async def test_gets_run_at_most_4_at_once_by_default(tmp_path: Path) -> None:
    """Five stored queued jobs finished: the next run gets each by id, at most concurrency=4
    at a time (the fake holds each get until five are in flight, or 0.3 s)."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=40, seed=71) as f, client(f) as g:
        all_done(f)
        queued = f.store.ids()[10:15]
        for job_id in queued:
            f.store.set_status(job_id, "queued")
        await sync(g.pre_recorded, url)
        for job_id in queued:
            f.store.set_status(job_id, "done")
        inflight = [0, 0]
        five = asyncio.Event()

        async def hold(fk: FakeGladia) -> None:
            inflight[0] += 1
            inflight[1] = max(inflight[1], inflight[0])
            if inflight[0] >= 5:
                five.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(five.wait(), 0.3)
            inflight[0] -= 1

        f.inject("pre_recorded.get", "hook", hook=hold, times=None)
        report = await sync(g.pre_recorded, url)
        assert report.changed == 5
        assert 1 <= inflight[1] <= 4
        assert len(f.requests.for_route("pre_recorded.get")) == 5


async def test_windows_default_to_just_under_5000_jobs_without_a_gap(tmp_path: Path) -> None:
    """5,001 jobs one millisecond apart (first synced with max_depth=6000): under the default
    max_depth=5000 the history is cut into windows of 4,999 and 2 jobs."""
    url = sqlite_url(tmp_path)
    async with fake(jobs=0, seed=72) as f, client(f) as g:
        for k in range(5_001):
            f.store.add_job(created_at=at(T0 - 1_000_000 + k), transcript_seconds=0)
        assert (await sync(g.pre_recorded, url, max_depth=6_000)).new == 5_001
        again = await sync(g.pre_recorded, url)
        assert (again.windows, again.searched, again.unchanged) == (2, 0, 5_001)
        assert sorted(n for *_, n in windows_table(tmp_path)) == [2, 4_999]
