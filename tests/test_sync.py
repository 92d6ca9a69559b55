"""sync(): the mirror equals the API after every run, on SQLite and PostgreSQL, and reports
exactly what changed; later runs cost a fraction of the first."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import msgspec
import pytest

from gladia_async.sync import StoreLockedError, SyncReport, open_store, sync
from gladia_async.testing import FakeGladia, Fault
from tests._sync_helpers import client, fake, live_ids, store_url, table, truth

__all__ = ["store_url"]


async def assert_mirrors(url: str, f: FakeGladia, kind: str = "pre-recorded") -> None:
    rows = await table(url)
    want = truth(f, kind)
    assert live_ids(rows) == set(want)
    assert {i: rows[i]["status"] for i in want} == want
    assert all(rows[i]["deleted_at"] is not None for i in set(rows) - set(want))


async def test_first_sync_copies_every_job_with_its_exact_json(store_url: str) -> None:
    async with fake(jobs=250, seed=3, transcript_seconds=5) as f, client(f) as g:
        report = await sync(g.pre_recorded, store_url, window_size=60)
        assert (report.new, report.changed, report.deleted, report.unchanged) == (250, 0, 0, 0)
        assert report.first and report.requests > 0 and report.bytes > 0
        rows = await table(store_url)
        assert set(rows) == set(f.store.ids())
        for job_id, row in rows.items():
            assert row["data"] == f.store.jobs[job_id].encoded().decode()
            api = f.store.job_json(job_id)
            assert row["kind"] == "pre-recorded"
            assert msgspec.json.decode(row["custom_metadata"] or "null") == api["custom_metadata"]
            if api["status"] == "done":
                meta = api["result"]["metadata"]
                assert row["billing_time"] == meta["billing_time"]
                assert row["audio_duration"] == meta["audio_duration"]
                langs = api["result"]["transcription"]["languages"]
                assert msgspec.json.decode(row["languages"]) == langs
            assert row["error_code"] == api["error_code"]


async def test_resync_with_nothing_changed_costs_a_few_small_requests(store_url: str) -> None:
    async with fake(jobs=400, seed=4) as f, client(f) as g:
        first = await sync(g.pre_recorded, store_url, window_size=100)
        again = await sync(g.pre_recorded, store_url, window_size=100)
        assert (again.new, again.changed, again.deleted, again.unchanged) == (0, 0, 0, 400)
        assert not again.first and again.searched == 0
        assert again.windows == 4
        assert again.requests <= first.requests // 2
        assert again.bytes * 10 < first.bytes


def mutate(f: FakeGladia, rng: random.Random, kind: str = "pre-recorded") -> None:
    """Random creates, status changes and deletions anywhere in the history."""
    ids = f.store.ids(kind)
    for job_id in rng.sample(ids, min(len(ids), rng.randint(0, 25))):
        f.store.remove(job_id)
    f.store.add_jobs(rng.randint(0, 15), kind, status=rng.choice(["done", "queued"]))
    jobs = f.store.jobs
    unfinished = [i for i in f.store.ids(kind) if jobs[i].status in ("queued", "processing")]
    for job_id in rng.sample(unfinished, min(len(unfinished), rng.randint(0, 10))):
        f.store.set_status(job_id, rng.choice(["processing", "done", "error"]))


def expected(before: dict[str, str], after: dict[str, str]) -> tuple[int, int, int, int]:
    new = len(after.keys() - before.keys())
    gone = len(before.keys() - after.keys())
    changed = sum(1 for i in after.keys() & before.keys() if after[i] != before[i])
    return new, changed, gone, len(after) - new - changed


@pytest.mark.parametrize("seed", [1, 2])
async def test_property_random_histories(store_url: str, seed: int) -> None:
    """Seeded random creates, status changes and deletions between syncs: after each sync the
    table equals the API and the report's counts are exact."""
    rng = random.Random(seed)
    async with fake(jobs=300, seed=seed) as f, client(f) as g:
        before: dict[str, str] = {}
        for _ in range(4):
            report = await sync(g.pre_recorded, store_url, window_size=rng.choice([20, 50, 200]))
            now = truth(f)
            got = (report.new, report.changed, report.deleted, report.unchanged)
            assert got == expected(before, now)
            await assert_mirrors(store_url, f)
            before = now
            mutate(f, rng)


async def test_deletions_deep_in_history_are_found_by_probes_not_rewalks(store_url: str) -> None:
    async with fake(jobs=600, seed=5, data=None) as f, client(f) as g:
        await sync(g.pre_recorded, store_url, window_size=150)
        ids = f.store.ids()
        gone = [ids[100], ids[101], ids[350], ids[590]]
        for job_id in gone:
            f.store.remove(job_id)
        f.requests.clear()
        report = await sync(g.pre_recorded, store_url, window_size=150)
        assert (report.deleted, report.new, report.changed) == (4, 0, 0)
        await assert_mirrors(store_url, f)
        limits = [int(r.param("limit") or 0) for r in f.requests.for_route("pre_recorded.list")]
        assert max(limits[2:]) <= 2, "no window was walked again"
        assert report.requests < 60


async def test_a_deleted_job_listed_again_is_restored(store_url: str) -> None:
    async with fake(jobs=120, seed=6) as f, client(f) as g:
        await sync(g.pre_recorded, store_url, window_size=30)
        rec = f.store.jobs[f.store.ids()[60]]
        f.store.remove(rec.id)
        assert (await sync(g.pre_recorded, store_url, window_size=30)).deleted == 1
        f.store.insert(rec)
        report = await sync(g.pre_recorded, store_url, window_size=30)
        assert (report.changed, report.deleted, report.new) == (1, 0, 0)
        await assert_mirrors(store_url, f)


async def test_interrupted_run_leaves_a_consistent_table_and_the_next_one_finishes(
    store_url: str,
) -> None:
    async with fake(jobs=500, seed=7) as f, client(f) as g:
        f.inject("pre_recorded.list", "status", status=400, on={3})
        with pytest.raises(Exception) as info:
            await sync(g.pre_recorded, store_url, page_size=50, concurrency=1)
        assert "400" in str(info.value) or "BadRequest" in type(info.value).__name__
        rows = await table(store_url)
        assert 0 < len(rows) < 500  # whole batches only
        assert all(r["data"] == f.store.jobs[i].encoded().decode() for i, r in rows.items())
        report = await sync(g.pre_recorded, store_url, page_size=50)
        assert (report.new, report.changed, report.deleted, report.unchanged) == (500, 0, 0, 0)
        await assert_mirrors(store_url, f)


async def test_cancelled_run_is_finished_by_the_next(store_url: str) -> None:
    async with fake(jobs=300, seed=8) as f, client(f) as g:
        f.faults.add(Fault(route="pre_recorded.list", kind="latency", delay=0.05, times=None))
        task = asyncio.create_task(sync(g.pre_recorded, store_url, page_size=20, concurrency=1))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        f.faults.clear()
        report = await sync(g.pre_recorded, store_url)
        assert report.new == 300
        await assert_mirrors(store_url, f)


async def test_two_syncs_into_one_store_refuse_the_second(store_url: str) -> None:
    async with fake(jobs=50, seed=9) as f, client(f) as g:
        async with open_store(store_url) as holder:
            await holder.lock()
            with pytest.raises(StoreLockedError):
                await sync(g.pre_recorded, store_url)
        assert (await sync(g.pre_recorded, store_url)).new == 50


async def test_filtered_scope_follows_jobs_leaving_and_entering_it(store_url: str) -> None:
    async with fake(jobs=200, seed=10) as f, client(f) as g:
        r1 = await sync(g.pre_recorded, store_url, status="done", window_size=40)
        done = {i for i, s in truth(f).items() if s == "done"}
        rows = await table(store_url)
        assert live_ids(rows) == done and r1.new == len(done)
        pending = [i for i, s in truth(f).items() if s in ("queued", "processing")]
        f.store.set_status(pending[0], "done")  # enters the scope deep in the history
        victim = sorted(done)[0]
        f.store.remove(victim)
        r2 = await sync(g.pre_recorded, store_url, status="done", window_size=40)
        assert (r2.new, r2.deleted) == (1, 1)
        rows = await table(store_url)
        assert live_ids(rows) == (done - {victim}) | {pending[0]}


async def test_metadata_scope_and_live_jobs(store_url: str) -> None:
    async with fake(jobs=30, live_jobs=90, seed=11) as f, client(f) as g:
        meta = {"tenant_id": "tenant-1"}
        report = await sync(g.live, store_url, custom_metadata=meta, window_size=10)
        jobs = f.store.jobs
        want = {i for i in f.store.ids("live") if jobs[i].custom_metadata == meta | {"batch": 7}}
        rows = await table(store_url)
        assert live_ids(rows) == want and report.new == len(want)
        assert {r["kind"] for r in rows.values()} == {"live"}
        f.store.remove(sorted(want)[0])
        again = await sync(g.live, store_url, custom_metadata=meta, window_size=10)
        assert (again.deleted, again.unchanged) == (1, len(want) - 1)


async def test_no_request_goes_deeper_than_max_depth(store_url: str) -> None:
    async with fake(jobs=260, seed=12) as f, client(f) as g:
        report = await sync(g.pre_recorded, store_url, max_depth=40, page_size=15, window_size=30)
        assert report.new == 260
        for r in f.requests.for_route("pre_recorded.list"):
            assert int(r.param("offset") or 0) + int(r.param("limit") or 0) <= 40 + 15
            assert int(r.param("offset") or 0) < 40
        await assert_mirrors(store_url, f)


async def test_new_jobs_within_the_lookback_are_not_counted_twice(store_url: str) -> None:
    async with fake(jobs=40, seed=13) as f, client(f) as g:
        f.store.add_jobs(5)  # created now: inside the next run's lookback
        assert (await sync(g.pre_recorded, store_url)).new == 45
        f.store.add_jobs(3)
        report = await sync(g.pre_recorded, store_url)
        assert (report.new, report.unchanged) == (3, 45)


def test_report_prints_counts_and_cost() -> None:
    report = SyncReport(1, 2, 3, 4, requests=5, bytes=2_500_000, seconds=1.25)
    assert str(report) == "new 1, changed 2, deleted 3, unchanged 4; 5 requests, 2.50 MB, 1.2 s"


def test_store_urls_are_checked_without_leaking_them() -> None:
    from gladia_async.sync import SyncError
    from gladia_async.sync.sqlite import SQLiteStore

    with pytest.raises(SyncError, match="unsupported store URL scheme 'mysql'") as info:
        open_store("mysql://user:secret@db/x")
    assert "secret" not in str(info.value)
    with pytest.raises(SyncError, match="a database URL or a JobStore"):
        open_store(42)  # type: ignore[arg-type]
    with pytest.raises(SyncError):
        SQLiteStore("sqlite://host/x.db")
    assert SQLiteStore("sqlite:///rel/j.db").path == "rel/j.db"
    assert SQLiteStore("sqlite:////abs/j.db").path == "/abs/j.db"
    assert "secret" not in repr(open_store("postgresql://u:secret@127.0.0.1/db"))


async def test_an_open_store_is_used_and_left_open(tmp_path: Any) -> None:
    async with fake(jobs=30, seed=14) as f, client(f) as g:
        async with open_store(f"sqlite:///{tmp_path / 'j.db'}") as st:
            assert (await sync(g.pre_recorded, st)).new == 30
            assert (await sync(g.pre_recorded, st)).unchanged == 30  # same process, same lock
            rows = await st.export_rows("pre-recorded", None, None, (), None, 100)
            assert len(rows) == 30


async def test_export_refuses_unknown_formats_and_kinds(tmp_path: Any) -> None:
    from gladia_async import GladiaConfigError
    from gladia_async.sync import export

    db = f"sqlite:///{tmp_path / 'j.db'}"
    with pytest.raises(GladiaConfigError):
        await export(db, tmp_path / "x", format="xml")  # type: ignore[arg-type]
    with pytest.raises(GladiaConfigError):
        await export(db, tmp_path / "x", format="csv", kind="video")


VARIANTS = {
    "inclusive-bounds": {"before_inclusive": True, "after_inclusive": True},
    "oldest-first": {"oldest_first": True},
    "ties": {"ties": 4},
    "offset-cap": {"max_offset": 60},
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_every_undocumented_listing_behaviour(variant: str, tmp_path: Any) -> None:
    """The API's bounds, order, ties and offset cap are undocumented: under each way the fake
    can behave, the mirror is exact, and a re-sync with nothing changed searches nothing."""
    url = f"sqlite:///{tmp_path / 'j.db'}"
    opts = {"window_size": 40, "max_depth": 60, "page_size": 25}
    async with fake(jobs=400, seed=15, **VARIANTS[variant]) as f, client(f) as g:
        first = await sync(g.pre_recorded, url, **opts)
        assert first.new == 400
        await assert_mirrors(url, f)
        again = await sync(g.pre_recorded, url, **opts)
        assert (again.unchanged, again.searched) == (400, 0)
        rng = random.Random(15)
        gone = rng.sample(f.store.ids(), 12)
        for job_id in gone:
            f.store.remove(job_id)
        f.requests.clear()
        report = await sync(g.pre_recorded, url, **opts)
        assert (report.deleted, report.unchanged) == (12, 388)
        await assert_mirrors(url, f)
        assert report.bytes < first.bytes / 2, "deletions found by probes, not re-walks"


async def test_a_failing_window_check_leaves_nothing_running(tmp_path: Any) -> None:
    """One window's probe fails for good: the run fails with that error, and no other check
    is left running behind it (pytest -W error would report a pending task)."""
    from gladia_async import BadRequestError

    url = f"sqlite:///{tmp_path / 'j.db'}"
    async with fake(jobs=300, seed=16) as f, client(f) as g:
        await sync(g.pre_recorded, url, window_size=30)
        f.faults.add(Fault(route="pre_recorded.list", kind="latency", delay=0.05, times=None))
        f.inject("pre_recorded.list", "status", status=400, on={4})
        with pytest.raises(BadRequestError):
            await sync(g.pre_recorded, url, window_size=30)
        sent = len(f.requests)
        await asyncio.sleep(0.2)  # four probe delays: a check still running would send more
        assert len(f.requests) == sent
        f.faults.clear()
        assert (await sync(g.pre_recorded, url, window_size=30)).unchanged == 300


async def test_export_reads_the_same_table_from_both_stores(store_url: str, tmp_path: Any) -> None:
    from gladia_async.sync import export

    async with fake(jobs=60, seed=17, transcript_seconds=2) as f, client(f) as g:
        await sync(g.pre_recorded, store_url)
        f.store.remove(f.store.ids()[5])
        await sync(g.pre_recorded, store_url)
        want = [f.store.job_json(i) for i in f.store.ids()]
    out = tmp_path / "jobs.jsonl"
    assert await export(store_url, out, format="jsonl", row_group=7) == 59
    rows = [msgspec.json.decode(line) for line in out.read_bytes().splitlines()]
    assert [r["id"] for r in rows] == [j["id"] for j in want]
    for row, job in zip(rows, want, strict=True):
        assert row["created_at"] == job["created_at"]
        assert row["completed_at"] == job["completed_at"]
        assert msgspec.json.decode(row["custom_metadata"]) == job["custom_metadata"]
        if job["status"] == "done":
            assert row["languages"] == job["result"]["transcription"]["languages"]


async def test_postgres_lock_is_per_schema() -> None:
    """Two mirrors in two schemas of one database sync at once (CI runs several suites against
    one server); a second sync into the same schema is refused."""
    from tests._sync_helpers import postgres_schema_url, postgres_url

    postgres_url()
    async with fake(jobs=20, seed=18) as f, client(f) as g:
        async for one in postgres_schema_url():
            async for two in postgres_schema_url():
                async with open_store(one) as holder:
                    await holder.lock()
                    assert (await sync(g.pre_recorded, two)).new == 20
                    with pytest.raises(StoreLockedError):
                        await sync(g.pre_recorded, one)


async def test_export_of_a_missing_sqlite_file_is_an_error(tmp_path: Any) -> None:
    from gladia_async.sync import SyncError, export

    with pytest.raises(SyncError, match="run a sync first"):
        await export(f"sqlite:///{tmp_path / 'nothing.db'}", tmp_path / "x.csv", format="csv")
    assert not (tmp_path / "nothing.db").exists() and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("seed", [21, 22, 23])
async def test_deletions_during_the_first_walk_never_hide_another_job(
    seed: int, tmp_path: Any
) -> None:
    """Jobs deleted while the first sync walks (offset paging would skip the job that moves
    into each gap): every job that still exists is in the table after the run, and the next
    run marks the deleted ones."""
    url = f"sqlite:///{tmp_path / 'j.db'}"
    async with fake(jobs=800, seed=seed, delete_rate=0.6, delete_max=25) as f, client(f) as g:
        await sync(g.pre_recorded, url, page_size=20, concurrency=2, window_size=300)
        assert f.deleted, "the fake deleted jobs during the walk"
        rows = await table(url)
        assert set(truth(f)) <= live_ids(rows)
        await sync(g.pre_recorded, url, page_size=20, window_size=300)
        await assert_mirrors(url, f)
