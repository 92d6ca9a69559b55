"""Web backend: latency of examples/web_app.py page views under concurrent load (p50 / p99).

The fake API (gladia_async.testing) runs in its own process with 5 ms added latency; the example
app runs in this process on loopback, sharing one GladiaClient. Two cases, same fake, same
pages, same concurrency:
- direct: a bare aiohttp GET of the API page (no client library, no app): the floor;
- app: a page view of the example app (list_page via the shared client, HTML rendering).
Reported: p50 / p99 / max latency per request and views per second; the ratio app p50 / direct
p50 is the cost of the app and the client on top of the API call. The app listens with a backlog
of 1024: with aiohttp's default (128), 200 connections opened at once overflow it and the
dropped SYNs come back after the kernel's 1 s retransmit, which shows as a p99 of about 1 s.

    python -m benchmarks.bench_web [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType

import aiohttp
from aiohttp import web

from benchmarks import _harness as h
from benchmarks._fakeproc import API_KEY, FakeProcess

LATENCY_MS = 5.0
LIMIT = 20
EXAMPLE = Path(__file__).parent.parent / "examples" / "web_app.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def load(
    get: Callable[[int], Awaitable[int]], total: int, concurrency: int
) -> tuple[list[float], float]:
    """`total` calls of `get(i)`, `concurrency` at once; (latencies in s, wall time in s)."""
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for i in queue:
            t0 = time.perf_counter()
            status = await get(i)
            latencies.append(time.perf_counter() - t0)
            assert status == 200, status

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - t0


def record(rep: h.Report, name: str, latencies: list[float], wall: float) -> float:
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    rep.add(
        h.Case(name, [p50]),
        p99=h.fmt_seconds(p99).replace(" ", ""),
        max=h.fmt_seconds(max(latencies)).replace(" ", ""),
        mean=h.fmt_seconds(statistics.fmean(latencies)).replace(" ", ""),
        per_s=round(len(latencies) / wall),
    )
    return p50


async def amain(args: argparse.Namespace) -> int:
    total = 400 if args.quick else 2_000
    concurrency = 200
    jobs = 2_000
    rep = h.Report("web backend: page views under load", args)
    with FakeProcess(jobs=jobs, seconds=10.0, latency_ms=LATENCY_MS) as url:
        rep.note(
            f"{total} page views of {LIMIT} lean jobs, {concurrency} concurrent; fake in its own"
            f" process with {LATENCY_MS:g} ms latency; app and load generator share this process"
        )
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def direct(i: int) -> int:
                params = {"offset": str((i * LIMIT) % (jobs - LIMIT)), "limit": str(LIMIT)}
                async with http.get(
                    f"{url}/v2/pre-recorded", params=params, headers={"x-gladia-key": API_KEY}
                ) as resp:
                    await resp.read()
                    return resp.status

            await load(direct, 50, 10)  # warm-up
            floor = record(
                rep, "direct aiohttp GET (floor)", *await load(direct, total, concurrency)
            )

            app = load_example().create_app(api_key=API_KEY, base_url=url, max_connections=100)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            try:

                async def view(i: int) -> int:
                    offset = (i * LIMIT) % (jobs - LIMIT)
                    async with http.get(
                        f"http://127.0.0.1:{port}/jobs?offset={offset}&limit={LIMIT}",
                        headers={"X-Request-ID": f"bench-{i}"},
                    ) as resp:
                        await resp.read()
                        return resp.status

                await load(view, 50, 10)
                ours = record(rep, "app page view (example)", *await load(view, total, concurrency))
            finally:
                await runner.cleanup()
    rep.ratio("app p50 / direct p50", ours / floor, note="cost of app + client per view")
    return rep.finish()


def main() -> int:
    """Command-line entry point."""
    return h.run(amain(h.parser(__doc__.splitlines()[0]).parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
