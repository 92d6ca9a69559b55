"""Figure 3 — peak RSS of the client process streaming 2,000 then 20,000 one-minute jobs.

The fake API runs in its own process holding 20,000 jobs with one-minute transcripts. Each
run is a fresh client process (peak RSS only ever grows, so runs cannot share a process) that
streams ``list(page_size=100, concurrency=4, max_items=N)``, touches every job's transcript and
keeps nothing. Peak RSS is the kernel's ``ru_maxrss`` of that process. A streaming client's
peak should not depend on how many jobs it has seen.

    python -m benchmarks.bench_memory [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time

from benchmarks import _harness as h
from benchmarks._fakeproc import API_KEY, FakeProcess

ONE_MINUTE = 60.0
PAGE_SIZE = 100


async def child(url: str, items: int, concurrency: int) -> dict[str, float]:
    """Stream ``items`` jobs in this process; return RSS figures in MB."""
    import psutil

    from gladia_async import GladiaClient

    proc = psutil.Process()
    words = 0
    n = 0
    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        before = proc.memory_info().rss
        t0 = time.perf_counter()
        stream = gladia.pre_recorded.list(
            page_size=PAGE_SIZE, concurrency=concurrency, max_items=items
        )
        async for job in stream:
            n += 1
            if job.result is not None and job.result.transcription is not None:
                words += sum(len(u.words) for u in job.result.transcription.utterances)
        elapsed = time.perf_counter() - t0
    assert n == items, (n, items)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "items": n,
        "words": words,
        "seconds": round(elapsed, 2),
        "rss_before_mb": round(before / 2**20, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def run_child(url: str, items: int, concurrency: int) -> dict[str, float]:
    """One fresh client process; returns its figures."""
    argv = [sys.executable, "-m", "benchmarks.bench_memory", "--child", url]
    argv += ["--items", str(items), "--concurrency", str(concurrency)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Command-line entry point (parent, or ``--child URL`` for one measured client)."""
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    p.add_argument("--items", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--concurrency", type=int, default=4, help="list() concurrency")
    args = p.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.items, args.concurrency))))
        return 0

    small, large = (500, 5_000) if args.quick else (2_000, 20_000)
    repeat = args.repeat or (1 if args.quick else 2)
    rep = h.Report("figure 3: peak RSS while streaming", args)
    fake = FakeProcess(jobs=large, seconds=ONE_MINUTE)
    with fake as url:
        rep.note(
            f"fake: {large} jobs with {ONE_MINUTE:g} s transcripts in its own process"
            f" (started in {fake.startup_s:.1f} s); client: page_size {PAGE_SIZE},"
            f" concurrency {args.concurrency}"
        )
        peaks: dict[int, h.Case] = {}
        for items in (small, large):
            runs = [run_child(url, items, args.concurrency) for _ in range(repeat)]
            case = h.Case(f"ours {items} jobs peak RSS", [r["peak_rss_mb"] for r in runs], "MB")
            peaks[items] = rep.add(
                case,
                rss_before_mb=runs[-1]["rss_before_mb"],
                stream_s=runs[-1]["seconds"],
                words=runs[-1]["words"],
            )
    rep.ratio(f"peak RSS {large} / {small}", peaks[large].median / peaks[small].median, 1.2, "<=")
    return rep.finish()


if __name__ == "__main__":
    raise SystemExit(main())
