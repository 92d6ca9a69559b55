"""The API side of a sync: walks, one-page probes and gets by id, each counted (requests and
body bytes) and decoded into Rows that keep every job's JSON exactly as sent."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import NotFoundError
from ..resources import job_path
from ..resources._listing import sharded_stream
from ._errors import SyncError
from ._model import Listed, Row, Scope, decode_item, decode_page, row_of

if TYPE_CHECKING:
    from ..resources._listing import JobCollection

__all__ = ["Remote", "gather_all"]

T = TypeVar("T")


async def gather_all(*aws: Awaitable[T]) -> list[T]:
    """``asyncio.gather``, except that the first failure (or a cancel) cancels and awaits the
    others before it propagates: nothing is left running behind an error."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Remote:
    """One collection's listing as seen by a sync, with its cost so far (``requests``,
    ``bytes``). At most ``concurrency`` probe/get requests run at once."""

    def __init__(
        self,
        collection: JobCollection[Any, Any],
        scope: Scope,
        *,
        page_size: int,
        concurrency: int,
        max_depth: int,
        shards: int = 4,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._transport = collection._transport
        self.shards = shards
        self.scope = scope
        self.page_size = page_size
        self.concurrency = concurrency
        self.max_depth = max_depth
        self.requests = 0
        self.bytes = 0
        self.oldest_first: bool | None = None
        """The API's list order, learned from the first two listed jobs whose dates differ
        (None until then): newest first (ties by id ascending) or oldest first."""
        self._progress = progress
        self._gate = asyncio.Semaphore(concurrency)

    async def _get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        self.requests += 1
        resp = await self._transport.request("GET", path, params=params)
        self.bytes += len(resp.body)
        return resp

    async def page(
        self,
        lo: int | None,
        hi: int | None,
        offset: int,
        limit: int,
        *,
        statuses: tuple[str, ...] | None = None,
    ) -> list[Row]:
        """One request: the scope's jobs created in ``[lo, hi]`` at ``offset``."""
        cp = self.scope.checkpoint(lo, hi, statuses=statuses)
        params = [("offset", str(offset)), ("limit", str(limit)), *cp.params()]
        async with self._gate:
            resp = await self._get(cp.path, params)
        rows, _ = decode_page(resp.body, self.scope.kind, resp.url)
        return rows

    async def get(self, job_id: str) -> Row | None:
        """The job by id, or None when the API answers 404 (deleted, or past retention)."""
        async with self._gate:
            try:
                resp = await self._get(job_path(self.scope.path, job_id))
            except NotFoundError:
                return None
        return decode_item(resp.body, self.scope.kind, resp.url)

    async def get_many(self, ids: Iterable[str]) -> list[tuple[str, Row | None]]:
        """``get`` for many ids, ``concurrency`` at once, in input order."""
        ids = list(ids)
        rows = await gather_all(*(self.get(i) for i in ids))
        return list(zip(ids, rows, strict=True))

    async def walk(
        self, lo: int | None, hi: int, *, statuses: tuple[str, ...] | None = None
    ) -> AsyncGenerator[list[Row], None]:
        """Every job of ``[lo, hi]`` in API order, a page's worth at a time, each id once
        (``hi`` is always given: it pins the listing, as ``list()`` pins it to now).

        One request when the range fits in a page (most walks of a later run). A longer range
        is walked as time windows (``list(shards=...)``): no request deeper than ``max_depth``,
        and a job deleted during the walk never makes another one be skipped (each window is
        re-counted when walked, and walked again if its count moved).
        """
        first = await self.page(lo, hi, 0, self.page_size, statuses=statuses)
        self._learn(first)
        if first:
            yield first
            self._walked(len(first))
        if len(first) < self.page_size:
            return
        head = {r.id for r in first}
        cp = self.scope.checkpoint(lo, hi, statuses=statuses, page_size=self.page_size)
        stream = sharded_stream(
            self._transport,
            cp,
            Listed,
            shards=self.shards,
            concurrency=self.concurrency,
            max_depth=self.max_depth,
            raw_json=True,
            on_mismatch="raise",
        )
        kind, batch = self.scope.kind, list[Row]()
        try:
            async with stream:
                async for item in stream:
                    if item.id in head:
                        continue
                    raw = item.raw_json
                    if raw is None:  # pragma: no cover (raw_json=True always keeps it)
                        raise SyncError("the listing did not keep the job's JSON")
                    batch.append(row_of(item, kind, raw))
                    if len(batch) >= self.page_size:
                        self._learn(batch)
                        yield batch
                        self._walked(len(batch))
                        batch = []
            if batch:
                self._learn(batch)
                yield batch
                self._walked(len(batch))
        finally:
            self.requests += stream.stats.requests
            self.bytes += stream.stats.bytes

    def _learn(self, rows: list[Row]) -> None:
        """Learn the API's order from the first two consecutive jobs whose dates differ."""
        if self.oldest_first is not None:
            return
        for a, b in itertools.pairwise(rows):
            if a.created_ms != b.created_ms:
                self.oldest_first = b.created_ms > a.created_ms
                return

    def _walked(self, n: int) -> None:
        if self._progress is not None:
            self._progress(n)
