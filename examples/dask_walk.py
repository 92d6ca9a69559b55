"""Walk a Gladia job history on a Dask cluster: one task per time window, each with its own client.

``partition()`` cuts the pinned listing into disjoint time windows of similar size; each is a
plain checkpoint token, so any engine can ship it to a worker, which walks its window with
``list(resume=token)`` and returns the ids (or small rows). The union of the windows is exactly
the listing: no job twice, none missed. A window deeper than ``max_depth`` is walked as a
sharded walk of its own (its token says so), so no task ever sends a deep offset.

    pip install "gladia-async[dask]"
    export GLADIA_API_KEY=...                         # read by every worker's client
    python examples/dask_walk.py --parts 16           # a LocalCluster on this machine
    python examples/dask_walk.py --scheduler tcp://scheduler:8786 --parts 64 --rows

On a real cluster, install the package on every worker and give the workers the key in their
environment (never in the task: tasks and their arguments travel in the clear). The API's rate
limit, not the machine, is usually the ceiling: a few windows at once are enough.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from dask.distributed import Client, LocalCluster

from gladia_async import GladiaClient


def walk_window(token: str, rows: bool = False) -> list[Any]:
    """Runs on a worker: walk one window with a client of its own; its job ids, or rows."""

    async def walk() -> list[Any]:
        async with GladiaClient() as gladia:  # GLADIA_API_KEY (and GLADIA_API_URL) from the env
            async with gladia.pre_recorded.list(resume=token, lean=True) as stream:
                if rows:
                    return [
                        {"id": j.id, "status": j.status, "created_at": j.created_at}
                        async for j in stream
                    ]
                return [job.id async for job in stream]

    return asyncio.run(walk())


async def plan(parts: int, **filters: Any) -> list[str]:
    """The windows' tokens, newest first (a few small requests)."""
    async with GladiaClient() as gladia:
        return [cp.token for cp in await gladia.pre_recorded.partition(parts, **filters)]


def run(client: Client, parts: int, *, rows: bool = False, **filters: Any) -> list[list[Any]]:
    """Plan here, walk every window on the cluster; one result list per window, newest first."""
    tokens = asyncio.run(plan(parts, **filters))
    futures = client.map(walk_window, tokens, rows=rows, pure=False)
    return list(client.gather(futures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=8, help="time windows (tasks)")
    parser.add_argument("--workers", type=int, default=4, help="LocalCluster workers")
    parser.add_argument("--scheduler", help="address of an existing Dask scheduler")
    parser.add_argument("--after-date", help="only jobs created after this ISO date")
    parser.add_argument("--rows", action="store_true", help="print JSON rows, not ids")
    args = parser.parse_args(argv)
    filters = {"after_date": args.after_date} if args.after_date else {}
    if args.scheduler:
        with Client(args.scheduler) as client:
            windows = run(client, args.parts, rows=args.rows, **filters)
    else:
        with (
            LocalCluster(n_workers=args.workers, threads_per_worker=1) as cluster,
            Client(cluster) as client,
        ):
            windows = run(client, args.parts, rows=args.rows, **filters)
    for window in windows:
        for item in window:
            sys.stdout.write((json.dumps(item) if args.rows else item) + "\n")
    sizes = [len(w) for w in windows]
    print(f"{sum(sizes)} jobs in {len(sizes)} windows: {sizes}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
