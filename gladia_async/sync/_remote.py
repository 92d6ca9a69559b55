"""The API side of a sync: walks, one-page probes and gets by id, each counted (requests and
body bytes) and decoded into Rows that keep every job's JSON exactly as sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import NotFoundError
from .._streams import Checkpoint, ListStream
from ..resources import job_path
from ..types.common import Page
from ._errors import SyncError
from ._model import Row, Scope, decode_item, decode_page

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
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._transport = collection._transport
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
        self, lo: int | None, hi: int | None, *, statuses: tuple[str, ...] | None = None
    ) -> AsyncGenerator[list[Row], None]:
        """Every job of ``[lo, hi]``, newest first, one list per page, each id once.

        Offsets never pass ``max_depth``: the walk goes on below the oldest instant reached
        (jobs of that same millisecond are read again and skipped).
        """
        bottom, top, skip = lo, hi, set[str]()
        while True:
            cp = self.scope.checkpoint(bottom, top, statuses=statuses, page_size=self.page_size)
            seen = 0
            edge_ms: int | None = None  # the last millisecond reached in API order, its ids
            edge_ids: set[str] = set()
            async for items in self._segment(cp):
                seen += len(items)
                for r in items:
                    if r.created_ms != edge_ms:
                        if edge_ms is not None and self.oldest_first is None:
                            self.oldest_first = r.created_ms > edge_ms
                        edge_ms, edge_ids = r.created_ms, set()
                    edge_ids.add(r.id)
                rows = [r for r in items if r.id not in skip]
                if rows:
                    yield rows
                    if self._progress is not None:
                        self._progress(len(rows))
            if seen < self.max_depth or edge_ms is None:
                return
            # Go on past the last millisecond reached (its jobs are read again, and skipped).
            if edge_ms == (bottom if self.oldest_first else top) or self.oldest_first is None:
                raise SyncError(f"more than max_depth={self.max_depth} jobs in one millisecond")
            if self.oldest_first:
                bottom = edge_ms
            else:
                top = edge_ms
            skip = edge_ids

    async def _segment(self, cp: Checkpoint) -> AsyncIterator[list[Row]]:
        """The pages of one listing, at most ``max_depth`` jobs deep: the first page alone
        (most walks of a later run fit in it), then the rest with ``concurrency`` pages ahead."""
        fetch = self._fetcher(cp.path, cp.params())
        first = min(cp.page_size, self.max_depth)
        page = (await fetch(0, first))()
        yield page.items
        if len(page.items) < first or first == self.max_depth:
            return
        stream = ListStream(
            fetch,
            cp.with_offset(first),
            concurrency=self.concurrency,
            max_items=self.max_depth - first,
            retry_policy=self._transport.retry_policy,
        )
        async with stream:
            async for rest in stream.pages():
                yield rest.items

    def _fetcher(self, path: str, filters: list[tuple[str, str]]) -> Callable[[int, int], Any]:
        kind = self.scope.kind

        async def fetch(offset: int, limit: int) -> Callable[[], Page[Row]]:
            params = [("offset", str(offset)), ("limit", str(limit)), *filters]
            resp = await self._get(path, params)

            def page() -> Page[Row]:
                rows, nxt = decode_page(resp.body, kind, resp.url)
                return Page(items=rows, next_url=nxt, offset=offset)

            return page

        return fetch
