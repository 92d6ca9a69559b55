"""What a sync leaves to read, on both stores: ``export`` (kinds, filters, ties at a row-group
edge) and the ``gladia_sync_windows`` table."""

from __future__ import annotations

import csv
import itertools
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gladia_async.sync import SyncError, export, open_store, sync
from tests._sync_helpers import client, fake, store_url

__all__ = ["store_url"]

BASE = datetime(2026, 5, 1, tzinfo=UTC)


def jsonl_ids(path: Path) -> list[str]:
    return [msgspec.json.decode(line)["id"] for line in path.read_bytes().splitlines()]


async def test_export_kind_picks_one_collection_or_both(store_url: str, tmp_path: Path) -> None:
    """A store mirroring both collections: ``kind`` picks one, None writes both."""
    async with fake(jobs=12, live_jobs=9, seed=31) as f, client(f) as g:
        await sync(g.pre_recorded, store_url)
        await sync(g.live, store_url)
        pre, live = set(f.store.ids("pre-recorded")), set(f.store.ids("live"))
    out = tmp_path / "x.jsonl"
    assert await export(store_url, out, format="jsonl", kind="live") == 9
    assert set(jsonl_ids(out)) == live
    assert await export(store_url, out, format="jsonl", kind="pre-recorded") == 12
    assert set(jsonl_ids(out)) == pre
    assert await export(store_url, out, format="jsonl", kind=None) == 21
    assert set(jsonl_ids(out)) == pre | live


async def test_a_tie_across_row_groups_is_written_once_each(store_url: str, tmp_path: Path) -> None:
    """Ten jobs in one millisecond, read three at a time: the row groups resume inside the tie
    (by id), so every job is written exactly once, in the stored order."""
    async with fake(jobs=0, seed=32) as f, client(f) as g:
        f.store.add_jobs(2, created_at=BASE + timedelta(seconds=1))
        f.store.add_jobs(10, created_at=BASE)
        f.store.add_jobs(2, created_at=BASE - timedelta(seconds=1))
        await sync(g.pre_recorded, store_url)
        want = f.store.ids()
    out = tmp_path / "x.jsonl"
    for row_group in (1, 3, 14, 15):
        assert await export(store_url, out, format="jsonl", row_group=row_group) == 14
        assert jsonl_ids(out) == want


async def test_a_row_group_that_the_metadata_filter_empties_does_not_end_the_export(
    store_url: str, tmp_path: Path
) -> None:
    """custom_metadata is matched on the stored rows: a whole row group of other jobs is
    skipped, and the export goes on to the matching jobs after it."""
    async with fake(jobs=0, seed=33) as f, client(f) as g:
        f.store.add_jobs(4, created_at=BASE, custom_metadata={"team": "a"})
        f.store.add_jobs(9, created_at=BASE + timedelta(seconds=1), custom_metadata={"team": "b"})
        await sync(g.pre_recorded, store_url)
        want = [i for i in f.store.ids() if f.store.jobs[i].custom_metadata == {"team": "a"}]
    out = tmp_path / "a.csv"
    n = await export(store_url, out, format="csv", custom_metadata={"team": "a"}, row_group=3)
    with out.open() as fh:
        assert [r["id"] for r in csv.DictReader(fh)] == want and n == 4


async def test_date_filters_and_an_open_store(store_url: str, tmp_path: Path) -> None:
    """after_date/before_date select by creation instant (exclusive, as the API's filters);
    an already opened JobStore is exported as well as a URL."""
    async with fake(jobs=0, seed=34) as f, client(f) as g:
        days = [f.store.add_jobs(2, created_at=BASE + timedelta(days=d)) for d in range(5)]
        await sync(g.pre_recorded, store_url)
    lo, hi = BASE + timedelta(days=1), BASE + timedelta(days=3)
    want = {job.id for job in days[2]}
    out = tmp_path / "d.jsonl"
    async with open_store(store_url) as store:
        opts: dict[str, Any] = {"after_date": lo.isoformat(), "before_date": hi.isoformat()}
        assert await export(store, out, format="jsonl", **opts) == 2
    assert set(jsonl_ids(out)) == want


async def windows_table(url: str) -> list[tuple[int | None, int, int]]:
    """``gladia_sync_windows`` as (lo_ms, hi_ms, count), oldest window first."""
    sql = "SELECT lo_ms, hi_ms, count FROM gladia_sync_windows ORDER BY hi_ms"
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            return [tuple(r) for r in conn.execute(sql)]
        finally:
            conn.close()
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await pg.fetch(sql)]
    finally:
        await pg.close()


async def test_the_windows_table_holds_the_last_runs_windows_and_counts(store_url: str) -> None:
    """As README says: one row per window of the last run, from the oldest job (open below)
    up, each counting the live jobs it holds; rewritten by each run. Neighbours share an
    empty millisecond as their bound (the same jobs whether the API's bounds are inclusive
    or exclusive)."""
    async with fake(jobs=0, seed=35) as f, client(f) as g:
        for k in range(45):
            f.store.add_jobs(1, created_at=BASE + timedelta(seconds=k))
        first = await sync(g.pre_recorded, store_url, window_size=10)
        f.store.remove(f.store.ids()[7])
        second = await sync(g.pre_recorded, store_url, window_size=10)
        created = sorted(f.store.jobs[i].created_us // 1000 for i in f.store.ids())
    rows = await windows_table(store_url)
    assert len(rows) == second.windows == first.windows > 1
    assert rows[0][0] is None and all(b[0] == a[1] + 2 for a, b in itertools.pairwise(rows))
    for lo, hi, count in rows:
        assert count == sum(1 for ms in created if (lo is None or lo <= ms) and ms <= hi)
    assert sum(count for _, _, count in rows) == 44


async def test_an_unopened_store_is_opened_and_csv_columns_line_up(
    store_url: str, tmp_path: Path
) -> None:
    """export opens a JobStore it is given (the caller closes it). In CSV, languages become
    one comma-separated cell and every later column stays in place."""
    async with fake(jobs=0, seed=36, transcript_seconds=1) as f, client(f) as g:
        f.store.add_jobs(3, status="done", custom_metadata={"k": 1})
        f.store.add_jobs(2, status="error")
        await sync(g.pre_recorded, store_url)
        want = {i: f.store.job_json(i) for i in f.store.ids()}
    store = open_store(store_url)
    try:
        assert await export(store, tmp_path / "x.csv", format="csv") == 5
    finally:
        await store.close()
    with (tmp_path / "x.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "kind", "status", "created_at", "completed_at", "audio_duration",
                       "billing_time", "languages", "error_code", "custom_metadata"]  # fmt: skip
    for cells in rows[1:]:
        assert len(cells) == 10
        row, job = dict(zip(rows[0], cells, strict=True)), want[cells[0]]
        if job["status"] == "done":
            langs = job["result"]["transcription"]["languages"]
            assert row["languages"] == ",".join(langs) and row["error_code"] == ""
        else:
            assert row["languages"] == "" and row["error_code"] == str(job["error_code"])
        meta = row["custom_metadata"]  # empty for a job without metadata
        assert (msgspec.json.decode(meta) if meta else None) == job["custom_metadata"]


async def test_parquet_without_pyarrow_is_a_sync_error_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fake(jobs=2, seed=37) as f, client(f) as g:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        await sync(g.pre_recorded, url)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    with pytest.raises(SyncError, match=r"pip install 'gladia-async\[export\]'"):
        await export(url, tmp_path / "x.parquet")
