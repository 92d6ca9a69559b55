"""Figure 4 — batch gets: jobs per second fetching jobs with one-minute transcripts by id.

The fake API (gladia_async.testing) runs in its own process, no added latency; the same ids of
the same fake for both clients:
- ours: ``gladia.pre_recorded.get_many(ids, concurrency=32)`` over 5,000 ids;
- official SDK: ``PreRecordedV2AsyncClient.get(id)`` under ``asyncio.gather`` and
  ``asyncio.Semaphore(32)``, on the first 500 ids (one run: it is slow).
Throughputs are compared (jobs/s), so the different sample sizes do not matter.

    python -m benchmarks.bench_get_many [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse

from benchmarks import _harness as h
from benchmarks._fakeproc import API_KEY, FakeProcess
from benchmarks.baselines import official_sdk

CONCURRENCY = 32
ONE_MINUTE = 60.0


async def list_ids(url: str) -> list[str]:
    """Every job id of the fake, in list order (untimed setup)."""
    from gladia_async import GladiaClient

    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        return [job.id async for job in gladia.pre_recorded.list(page_size=500, concurrency=4)]


async def ours(url: str, ids: list[str]) -> None:
    """Fetch every id through ``get_many``; checks order and count."""
    from gladia_async import GladiaClient

    n = 0
    async with GladiaClient(api_key=API_KEY, base_url=url) as gladia:
        async for job in gladia.pre_recorded.get_many(ids, concurrency=CONCURRENCY):
            assert job.id == ids[n]
            n += 1
    assert n == len(ids)


async def amain(args: argparse.Namespace) -> int:
    """Run figure 4 and print its ratios."""
    jobs = 1_000 if args.quick else 5_000
    sdk_jobs = 100 if args.quick else 500
    repeat = args.repeat or (2 if args.quick else 3)
    rep = h.Report("figure 4: batch gets", args)
    fake = FakeProcess(jobs=jobs, seconds=ONE_MINUTE)
    with fake as url:
        ids = await list_ids(url)
        assert len(ids) == jobs
        rep.note(
            f"{jobs} jobs with {ONE_MINUTE:g} s transcripts, concurrency {CONCURRENCY};"
            f" fake in its own process (started in {fake.startup_s:.1f} s)"
        )
        mine = rep.add(
            await h.ameasure(lambda: ours(url, ids), repeat=repeat, name=f"ours get_many x{jobs}")
        )
        mine.extra["jobs_per_s"] = round(jobs / mine.median)

        async def sdk_run() -> None:
            sample = ids[:sdk_jobs]
            got = await official_sdk.get_all(url, API_KEY, sample, concurrency=CONCURRENCY)
            assert got == len(sample)

        # Warm the SDK's dataclasses-json caches with a few gets, then one timed run.
        await official_sdk.get_all(url, API_KEY, ids[:5], concurrency=CONCURRENCY)
        sdk = rep.add(
            await h.ameasure(sdk_run, repeat=1, warmup=0, name=f"official SDK gather x{sdk_jobs}")
        )
        sdk.extra["jobs_per_s"] = round(sdk_jobs / sdk.median)

    ours_jps = jobs / mine.median
    sdk_jps = sdk_jobs / sdk.median
    rep.note(f"throughput: ours {ours_jps:.0f} jobs/s, official SDK {sdk_jps:.0f} jobs/s")
    rep.ratio("ours jobs/s / official SDK jobs/s", ours_jps / sdk_jps, 10)
    return rep.finish()


def main() -> int:
    """Command-line entry point."""
    return h.run(amain(h.parser(__doc__.splitlines()[0]).parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
