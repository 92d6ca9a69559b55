"""Sync: what a re-sync costs against the first sync, and the first against list().

The fake API runs in its own process (``benchmarks._fakeproc``) with 20,000 jobs with
one-minute transcripts (97% done, 3% error). In one run, on the same fake:

1. a plain ``list()`` walk (page_size 100, concurrency 4, full jobs): the baseline time;
2. the first ``sync`` into a fresh SQLite file: time within 1.3x of (1);
3. a re-sync with nothing changed: at most 2% of (2)'s bytes and 25% of its requests;
4. 1% of the jobs deleted at random across the whole history, then a sync: at most 20% of
   (2)'s bytes (the limit to approach: d x log2(n/d) one-job answers, about 7% here);
5. peak RSS of a first sync of 2,000 then 20,000 jobs, each in a fresh process: flat.

    python -m benchmarks.bench_sync [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _harness as h
from benchmarks._fakeproc import API_KEY, FakeProcess

ONE_MINUTE = 60.0


# -- measured clients --------------------------------------------------------------------------


async def plain_list(url: str) -> dict[str, Any]:
    from gladia_async import GladiaClient

    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        t0 = time.perf_counter()
        stream = gladia.pre_recorded.list(page_size=100, concurrency=4)
        n = 0
        async with stream:
            async for _job in stream:
                n += 1
        seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "jobs": n,
        "requests": stream.stats.requests,
        "bytes": stream.stats.bytes,
    }


async def one_sync(url: str, db: str, **filters: Any) -> dict[str, Any]:
    from gladia_async import GladiaClient
    from gladia_async.sync import sync

    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        report = await sync(gladia.pre_recorded, db, **filters)
    return {
        "seconds": report.seconds,
        "requests": report.requests,
        "bytes": report.bytes,
        "new": report.new,
        "changed": report.changed,
        "deleted": report.deleted,
        "unchanged": report.unchanged,
        "searched": report.searched,
        "windows": report.windows,
    }


def rss_child(url: str, after: str | None) -> dict[str, Any]:
    """A first sync in a fresh process (peak RSS only grows): its figures and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            sys.executable,
            "-m",
            "benchmarks.bench_sync",
            "--child",
            url,
            "--db",
            f"sqlite:///{Path(tmp) / 'j.db'}",
        ]
        if after:
            argv += ["--after", after]
        out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=900)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def child(url: str, db: str, after: str | None) -> dict[str, Any]:
    result = await one_sync(url, db, **({"after_date": after} if after else {}))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


async def newest_instant(url: str, n: int) -> str:
    """created_at of the n-th newest job, minus nothing: jobs after it are the n-1 newest."""
    from gladia_async import GladiaClient

    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        page = await gladia.pre_recorded.list_page(offset=n, limit=1, lean=True)
    return page.items[0].created_at


def database_alone(src: str, tmp: str) -> float:
    """Seconds to write the first sync's rows into a fresh SQLite file through the store, in
    transactions of 1,000 jobs, with no network: the database's share."""
    import sqlite3

    from gladia_async.sync._model import Row
    from gladia_async.sync.sqlite import SQLiteStore

    cols = (
        "id, kind, status, created_at, created_ms, completed_at, audio_duration, billing_time, "
        "languages, error_code, custom_metadata, CAST(data AS BLOB)"
    )
    rows = [Row(*r) for r in sqlite3.connect(src).execute(f"SELECT {cols} FROM jobs")]

    async def write() -> float:
        t0 = time.perf_counter()
        async with SQLiteStore(f"sqlite:///{Path(tmp) / 'alone.db'}") as store:
            for i in range(0, len(rows), 1000):
                await store.upsert(rows[i : i + 1000], run=1)
        return time.perf_counter() - t0  # opening and closing (the last checkpoint) included

    return asyncio.run(write())


def main() -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--after", help=argparse.SUPPRESS)
    p.add_argument("--alone", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.alone:
        with tempfile.TemporaryDirectory() as tmp:
            print(database_alone(args.alone, tmp))
        return 0
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.db, args.after))))
        return 0

    small, large = (500, 5_000) if args.quick else (2_000, 20_000)
    rep = h.Report("sync: cost of a mirror", args)
    fake = FakeProcess(jobs=large, seconds=ONE_MINUTE, error_rate=0.03)
    with fake as url, tempfile.TemporaryDirectory() as tmp:
        rep.note(
            f"fake: {large} jobs, {ONE_MINUTE:g} s transcripts, own process "
            f"(started in {fake.startup_s:.1f} s)"
        )
        asyncio.run(plain_list(url))  # warm-up (connections, caches)
        walks, firsts = [], []
        for i in range(args.repeat or (1 if args.quick else 2)):  # interleaved rounds
            walks.append(asyncio.run(plain_list(url)))
            firsts.append(asyncio.run(one_sync(url, f"sqlite:///{Path(tmp) / f'r{i}.db'}")))
        walk = h.Case("list() walk", [w["seconds"] for w in walks])
        rep.add(walk, requests=walks[-1]["requests"], mb=round(walks[-1]["bytes"] / 1e6, 1))
        first = h.Case("first sync (SQLite)", [f["seconds"] for f in firsts])
        rep.add(first, **firsts[-1])
        db = f"sqlite:///{Path(tmp) / 'r0.db'}"
        f0 = firsts[0]
        same = asyncio.run(one_sync(url, db))
        rep.add(h.Case("re-sync, nothing changed", [same["seconds"]]), **same)
        fake.delete(large // 100, seed=11)
        dels = asyncio.run(one_sync(url, db))
        rep.add(h.Case("sync after 1% deleted", [dels["seconds"]]), **dels)
        assert dels["deleted"] == large // 100, dels
        after = asyncio.run(newest_instant(url, small))
        # In a child process: the rows it holds must not inflate later peak RSS figures.
        argv = [sys.executable, "-m", "benchmarks.bench_sync", "--alone", str(Path(tmp) / "r0.db")]
        out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=900)
        alone = float(out.stdout.split()[-1])
        rep.add(h.Case("the first sync's rows into SQLite, no network", [alone]))
    rep.ratio("first sync time / list() walk", first.median / walk.median, 1.3, "<=")
    rep.ratio("database alone / list() walk (context)", alone / walk.median, None, "<=")
    rep.ratio("re-sync bytes / first sync bytes", same["bytes"] / f0["bytes"], 0.02, "<=")
    rep.ratio(
        "re-sync requests / first sync requests", same["requests"] / f0["requests"], 0.25, "<="
    )
    rep.ratio("1%-deleted sync bytes / first sync bytes", dels["bytes"] / f0["bytes"], 0.20, "<=")
    with FakeProcess(jobs=large, seconds=ONE_MINUTE, error_rate=0.03) as url:
        peaks = {}
        for n, cut in ((small, after), (large, None)):
            r = rss_child(url, cut)
            peaks[n] = rep.add(
                h.Case(f"first sync of {r['new']} jobs: peak RSS", [r["peak_rss_mb"]], "MB"),
                seconds=round(r["seconds"], 2),
            )
    rep.ratio(
        f"peak RSS {large} / {small} jobs", peaks[large].median / peaks[small].median, 1.2, "<="
    )
    return rep.finish()


if __name__ == "__main__":
    raise SystemExit(main())
