"""Figure — a sharded walk vs a plain walk of 50,000 jobs, with and without deep-offset latency.

One FakeGladia (in process, lean jobs, 5 ms per response) serves both walks of each setting:
- plain: ``list(concurrency=8, lean=True)``: offsets up to 50,000;
- sharded: ``list(shards=4, concurrency=2, lean=True)``: windows of at most 5,000 jobs, each
  counted, walked and re-counted (the verification that makes it exactly once under deletions).
Settings: flat latency (what verification costs in requests and time), then latency growing
with offset (``offset_latency_ms=2``: +2 ms per 1,000 of offset, +100 ms at the end), as on a
database that scans past the offset. Reports both walls (medians of 3 alternating runs),
their ratio and the extra requests.

    python -m benchmarks.bench_shards [--jobs N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import platform
import statistics
import time
from typing import Any

from gladia_async import GladiaClient
from gladia_async.testing import FakeGladia, build_store
from gladia_async.testing.data import DataSpec

KEY = "bench-key"


async def walk(url: str, **kwargs: Any) -> tuple[float, int]:
    """(seconds, jobs) for one walk."""
    async with GladiaClient(api_key=KEY, base_url=url) as gladia:
        start = time.perf_counter()
        async with gladia.pre_recorded.list(lean=True, **kwargs) as stream:
            n = 0
            async for _ in stream:
                n += 1
        return time.perf_counter() - start, n


async def setting(jobs: int, offset_latency_ms: float, repeat: int) -> dict[str, float]:
    """Median wall and requests of each walk, the two walks alternating ``repeat`` times."""
    store = build_store(DataSpec.lean(jobs, seed=7))
    store.warm()
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, kwargs in (
            ("plain", {"concurrency": 8}),
            ("sharded", {"shards": 4, "concurrency": 2}),
        ):
            async with FakeGladia(
                api_key=KEY, store=store, latency_ms=5, offset_latency_ms=offset_latency_ms
            ) as fake:
                wall, n = await walk(fake.url, **kwargs)
                assert n == jobs, (name, n)
                runs.setdefault(f"{name}_s", []).append(wall)
                runs.setdefault(f"{name}_requests", []).append(fake.stats["requests"])
    return {key: statistics.median(values) for key, values in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median)")
    args = parser.parse_args()
    versions = ", ".join(
        f"{p} {importlib.metadata.version(p)}" for p in ("gladia-async", "aiohttp", "msgspec")
    )
    print(f"Python {platform.python_version()}, {versions}; {args.jobs:,} lean jobs")
    for label, slope in (("flat latency (5 ms)", 0.0), ("deep-offset latency (+2 ms/1k)", 2.0)):
        r = asyncio.run(setting(args.jobs, slope, args.repeat))
        extra = r["sharded_requests"] / r["plain_requests"] - 1
        print(
            f"{label}: plain c=8 {r['plain_s']:.2f} s, {r['plain_requests']:.0f} requests; "
            f"sharded 4x2 {r['sharded_s']:.2f} s, {r['sharded_requests']:.0f} requests; "
            f"sharded/plain time {r['sharded_s'] / r['plain_s']:.2f}x, "
            f"extra requests {extra:+.1%} (target <= +5%)"
        )


if __name__ == "__main__":
    main()
