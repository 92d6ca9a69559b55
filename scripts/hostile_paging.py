"""Walk N seeded hostile listings at concurrency 1, 2, 3 and 8 (the README's paging figure).

    python scripts/hostile_paging.py 1000

Each server (tests/test_streams_holes.py: hostile_fetch) serves short, empty and overlong
pages with skipping, looping and missing ``next`` links. Prints how many servers gave the same
outcome at every concurrency and how many walks ended normally with items missing.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gladia_async import PaginationError
from gladia_async._streams import ListStream
from tests.test_streams import start
from tests.test_streams_holes import hostile_fetch

CONCURRENCIES = (1, 2, 3, 8)


async def main(servers: int) -> None:
    same = missing = 0
    ends: collections.Counter[str] = collections.Counter()
    for seed in range(servers):
        outcomes = set()
        for concurrency in CONCURRENCIES:
            stream = ListStream(hostile_fetch(seed), start(7), concurrency=concurrency)
            got: list[str] = []
            error: PaginationError | None = None
            try:
                async with stream:
                    async for item in stream:
                        got.append(item.id)
            except PaginationError as exc:
                error = exc
            missing += error is None and len(got) != 60
            ends["PaginationError" if error else "complete"] += 1
            outcomes.add((tuple(got), error is None, stream.checkpoint.offset))
        same += len(outcomes) == 1
    walks = servers * len(CONCURRENCIES)
    print(
        f"{servers} hostile servers x concurrency {CONCURRENCIES}: same outcome on {same}; "
        f"{walks} walks: {dict(ends)}; normal ends with items missing: {missing}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
