"""The sync algorithm: ``sync(collection, store, **filters) -> SyncReport``.

A run, in order of cost: (1) walk the jobs created since the last run's pin (all of them on
the first run), minus a small lookback for clock skew; (2) refresh the jobs stored as queued or
processing (one status-filtered listing, then a get by id for those it no longer lists); a
scope filtered to finished statuses also lists the unfinished jobs it leaves out, to fetch
those that finished since the last run (they enter the scope anywhere in the history);
(3) check every time window of the history by count: one ``limit=2`` request at offset n-1
proves a window still holds the n jobs stored for it. A window whose count moved is searched:
offset probes against the stored order find each deletion in about log2(n/d) one-job answers,
each then confirmed by a get by id (a small window, or a window that gained jobs, is walked
again). Every batch is one transaction, and the state saved with it lets the next run finish
an interrupted one.
A count cannot see a deleted job listed again while another job of the same window (or of
the same searched segment) is deleted: that one is found when the window's count next moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import GladiaConfigError
from .._streams import check_int
from ..resources._listing import DateLike, StatusFilter
from ._model import UNFINISHED, Row, Scope
from ._remote import Remote, gather_all
from ._store import JobStore, StoredJob, open_store

if TYPE_CHECKING:
    from ..resources._listing import JobCollection

__all__ = ["SyncReport", "sync"]

SMALL_WINDOW = 32
"""Windows of at most this many jobs are walked again rather than searched by probes."""
_SCAN = 5000
_GROUP = 1000  # jobs written in one transaction, unless _GROUP_BYTES of JSON come first
_GROUP_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync run changed in the table, and what it cost.

    ``new``, ``changed`` (status or content, or a deleted job listed again), ``deleted`` (now
    carry ``deleted_at``) and ``unchanged`` count jobs; ``requests`` and ``bytes`` (response
    bodies) are this call's API cost; ``seconds`` its wall time; ``windows`` how many time
    windows were checked, ``searched`` how many of them had to be searched.
    """

    new: int
    changed: int
    deleted: int
    unchanged: int
    requests: int
    bytes: int
    seconds: float
    windows: int = 0
    searched: int = 0
    first: bool = False

    def __str__(self) -> str:
        return (
            f"new {self.new}, changed {self.changed}, deleted {self.deleted}, unchanged "
            f"{self.unchanged}; {self.requests} requests, {self.bytes / 1e6:.2f} MB, "
            f"{self.seconds:.1f} s"
        )


@dataclass(slots=True)
class _Window:
    lo: int | None
    hi: int
    count: int
    newest_id: str | None = None
    oldest_id: str | None = None


class _Mismatch(Exception):
    """The API's listing of a window is not the stored one minus deletions."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


async def sync(
    collection: JobCollection[Any, Any],
    store: str | JobStore,
    *,
    status: StatusFilter | None = None,
    date: DateLike | None = None,
    before_date: DateLike | None = None,
    after_date: DateLike | None = None,
    custom_metadata: Mapping[str, Any] | None = None,
    page_size: int = 100,
    concurrency: int = 4,
    max_depth: int = 5000,
    window_size: int | None = None,
    lookback: float = 300.0,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Bring the store's ``jobs`` table to the API's truth for ``collection`` (and filters).

    ``store`` is a URL (``sqlite:///PATH``, ``postgresql://...``) or a JobStore (left open).
    ``window_size`` jobs per checked window (default 2,000; less than ``max_depth``, the
    deepest offset any request uses); ``lookback`` seconds of jobs before the last pin are
    read again (clock skew); ``progress(n)`` is called with the number of jobs each walked
    page brought.
    Raises StoreLockedError at once when another sync holds the store.
    """
    check_int(page_size, "page_size", 1)
    check_int(concurrency, "concurrency", 1)
    check_int(max_depth, "max_depth", 2)
    if window_size is None:
        window_size = min(2000, max_depth - 1)
    check_int(window_size, "window_size", 1, max_depth - 1)
    if not 0 <= lookback < math.inf:  # also refuses NaN
        raise GladiaConfigError(f"lookback must be a finite number of seconds >= 0, not {lookback}")
    path: str = collection._path
    scope = Scope(
        path,
        "live" if path.endswith("/live") else "pre-recorded",
        status=status,
        date=date,
        before_date=before_date,
        after_date=after_date,
        custom_metadata=custom_metadata,
    )
    remote = Remote(
        collection,
        scope,
        page_size=page_size,
        concurrency=concurrency,
        max_depth=max_depth,
        progress=progress,
    )
    if isinstance(store, JobStore):
        await store.open()
        return await _Run(remote, store, window_size, int(lookback * 1000)).run()
    async with open_store(store) as opened:
        return await _Run(remote, opened, window_size, int(lookback * 1000)).run()


class _Run:
    def __init__(self, remote: Remote, store: JobStore, window_size: int, lookback_ms: int):
        self.remote, self.store, self.scope = remote, store, remote.scope
        self.window_size, self.lookback_ms = window_size, lookback_ms
        self.started = time.monotonic()
        self.run_id = 0
        self.searched = 0
        self._live = self._touched = 0  # counted by the final _plan

    async def run(self) -> SyncReport:
        store, scope = self.store, self.scope
        await store.lock()
        state = await store.load_state(scope.key) or {}
        first = state.get("pin") is None
        pin = _now_ms() + 1  # this run covers jobs created up to the millisecond it started
        if state.get("run") is None:
            since = scope.lo if first else _max(scope.lo, int(state["pin"]) - self.lookback_ms)
            state.update(run=time.time_ns() // 1000, todo=[[since, pin - 1]])
        else:  # finish an interrupted run, and take in what was created since it began
            since = _max(scope.lo, int(state["run_pin"]) - self.lookback_ms)
            state["todo"].append([since, pin - 1])
        state["run_pin"] = pin
        await store.save_state(scope.key, state)
        self.run_id = int(state["run"])
        self.remote.oldest_first = state.get("oldest_first")
        top = pin - 1 if scope.hi is None else min(scope.hi, pin - 1)

        # 1. Walk what is new: each range's top moves down as its batches are written.
        todo: list[list[int | None]] = state["todo"]
        while todo:
            lo, hi = todo[0]
            hi = top if hi is None else min(top, hi)
            if lo is None or lo <= hi:
                await self._write_behind(self.remote.walk(lo, hi), state)
            todo.pop(0)
            await store.save_state(scope.key, state)

        await self._refresh_unfinished(top)
        watch = await self._watch_hidden(top, state.get("watch") or [])
        windows = [w async for w in self._plan(scope.lo, top)]
        await gather_all(*(self._check(w) for w in windows))

        final = [(w.lo, w.hi, w.count) async for w in self._plan(scope.lo, top, final=True)]
        live, touched = self._live, self._touched
        await store.save_windows(scope.key, final)
        counts = await store.run_counts(self.run_id)
        final_state = {"pin": pin, "oldest_first": self.remote.oldest_first}
        if watch:
            final_state["watch"] = watch
        await store.save_state(scope.key, final_state)
        return SyncReport(
            new=counts["new"],
            changed=counts["changed"],
            deleted=counts["deleted"],
            unchanged=live - touched,
            requests=self.remote.requests,
            bytes=self.remote.bytes,
            seconds=time.monotonic() - self.started,
            windows=len(windows),
            searched=self.searched,
            first=first,
        )

    async def _write_behind(
        self, batches: AsyncGenerator[list[Row], None], state: dict[str, Any]
    ) -> None:
        """Write each batch with the state that resumes after it, while the walk goes on
        (at most a few batches queued): the walk and the database work overlap."""
        queue: asyncio.Queue[tuple[list[Row], dict[str, Any]] | None] = asyncio.Queue(8)
        todo = state["todo"]

        async def writer() -> None:
            done = False
            while not done:
                item = await queue.get()
                if item is None:
                    return
                rows, saved = list(item[0]), item[1]
                size = sum(len(r.data) for r in rows)
                # Batches go into the same transaction until it holds _GROUP jobs or
                # _GROUP_BYTES: each transaction costs the database thread a few waits for the
                # GIL (up to the switch interval each while the walk decodes pages), so few
                # large ones keep the writer ahead of the walk.
                while len(rows) < _GROUP and size < _GROUP_BYTES:
                    more = await queue.get()
                    if more is None:
                        done = True
                        break
                    rows += more[0]
                    size += sum(len(r.data) for r in more[0])
                    saved = more[1]
                await self.store.upsert(rows, self.run_id, (self.scope.key, saved))

        task = asyncio.create_task(writer())

        async def put(item: tuple[list[Row], dict[str, Any]] | None) -> None:
            putter = asyncio.ensure_future(queue.put(item))
            await asyncio.wait((putter, task), return_when=asyncio.FIRST_COMPLETED)
            if not putter.done():
                putter.cancel()
                task.result()  # the writer failed: its error

        try:
            try:
                async with contextlib.aclosing(batches):
                    async for rows in batches:
                        order = self.remote.oldest_first
                        if order is not None:  # what is left of the range
                            todo[0][0 if order else 1] = rows[-1].created_ms
                        state["oldest_first"] = order
                        await put((rows, {**state, "todo": [list(r) for r in todo]}))
            except Exception:
                if not task.done():  # keep the pages already fetched, then fail
                    await put(None)
                    with contextlib.suppress(Exception):
                        await task
                raise
            await put(None)
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- stored jobs --

    async def _stored(
        self, lo: int | None, hi: int, statuses: tuple[str, ...] = (), deleted: bool = False
    ) -> AsyncIterator[StoredJob]:
        """Live stored jobs of the scope in ``[lo, hi]``, in the API's order; ``deleted``
        adds the jobs of the collection marked deleted there (any status or metadata)."""
        after: tuple[int, str] | None = None
        scope = self.scope
        statuses = statuses or scope.statuses
        while True:
            chunk = await self.store.scan(scope.kind, lo, hi, statuses, after, _SCAN, deleted)
            for job in chunk:
                if job.deleted or scope.matches_metadata(job.custom_metadata):
                    yield job
            if len(chunk) < _SCAN:
                return
            after = (chunk[-1].created_ms, chunk[-1].id)

    async def _plan(self, lo: int | None, hi: int, final: bool = False) -> AsyncIterator[_Window]:
        """Windows of about ``window_size`` stored jobs tiling ``[lo, hi]``, newest first.

        A window ends where an empty millisecond separates two jobs: both windows' bounds are
        that instant, so a window holds the same jobs whether the API's date bounds are
        inclusive or exclusive. Jobs marked deleted count as occupying their millisecond
        (never counted): one listed again must fall inside a window, where its count sees
        it. Without such a gap, a window is cut anyway before it would need a request
        deeper than ``max_depth``. ``final`` also counts live and touched jobs.
        """
        self._live = self._touched = 0
        cap = self.remote.max_depth - 1
        cur = _Window(lo=None, hi=hi, count=0)
        last_ms: int | None = None
        async for job in self._stored(lo, hi, deleted=True):
            if last_ms is not None and job.created_ms != last_ms:
                gap = job.created_ms <= last_ms - 2
                if (cur.count >= self.window_size and gap) or cur.count >= cap:
                    cur.lo = last_ms
                    yield cur
                    cur = _Window(lo=None, hi=last_ms - (2 if gap else 1), count=0)
            last_ms = job.created_ms
            if job.deleted:
                continue
            if cur.count == 0:
                cur.newest_id = job.id
            cur.count += 1
            cur.oldest_id = job.id
            if final:
                self._live += 1
                self._touched += job.sync_run == self.run_id
        cur.lo = lo
        yield cur

    # -- phase 2: unfinished jobs --

    async def _refresh_unfinished(self, top: int) -> None:
        statuses = self.scope.statuses_with(UNFINISHED)
        if not statuses:
            return
        stored = [(j.id, j.created_ms) async for j in self._stored(self.scope.lo, top, statuses)]
        if not stored:
            return
        listed: set[str] = set()
        walk = self.remote.walk(min(ms for _, ms in stored), top, statuses=statuses)
        async with contextlib.aclosing(walk):
            async for rows in walk:
                listed.update(r.id for r in rows)
                await self.store.upsert(rows, self.run_id)
        await self._confirm_missing([i for i, _ in stored if i not in listed], always_get=True)

    async def _watch_hidden(self, top: int, watched: list[str]) -> list[str]:
        """A status-filtered scope that leaves out unfinished statuses: jobs finishing enter
        the scope anywhere in the history, where a window's count can miss them (a deletion in
        the same window cancels them out). So each run lists those unfinished jobs and fetches
        by id the ones the last run listed and this one does not (they finished): those now in
        scope are written. Returns the ids to watch next time."""
        scope = self.scope
        hidden = tuple(s for s in UNFINISHED if scope.statuses and s not in scope.statuses)
        if not hidden:
            return []
        now: list[str] = []
        walk = self.remote.walk(scope.lo, top, statuses=hidden)
        async with contextlib.aclosing(walk):
            async for rows in walk:
                now.extend(r.id for r in rows)
        listed = set(now)
        finished = [i for i in watched if i not in listed]
        found = [
            row
            for _, row in await self.remote.get_many(finished)
            if row is not None and row.status in scope.statuses
        ]
        if found:
            await self.store.upsert(found, self.run_id)
        return now

    async def _confirm_missing(self, ids: list[str], *, always_get: bool = False) -> None:
        """Jobs a listing no longer shows: deleted, unless a status filter hid them (then the
        job is fetched by id, and a 404 means deleted)."""
        if not ids:
            return
        if not (always_get or self.scope.statuses):
            await self.store.mark_deleted(ids, self.run_id)
            return
        found, gone = [], []
        for job_id, row in await self.remote.get_many(ids):
            if row is None:
                gone.append(job_id)
            else:
                found.append(row)
        if found:
            await self.store.upsert(found, self.run_id)
        if gone:
            await self.store.mark_deleted(gone, self.run_id)

    # -- phase 3: windows --

    async def _check(self, w: _Window) -> None:
        for _ in range(3):
            probe = await self._probe_end(w)
            if probe is None:
                return
            self.searched += 1
            await self._search(w, probe)
            w = await self._recount(w)
        await self._rewalk(w)

    async def _probe_end(self, w: _Window) -> int | None:
        """None when the API's window matches the stored one; else how many items the probe
        at offset n-1 returned (0: fewer jobs; 2: more; 1: a different last job)."""
        n = w.count
        rows = await self.remote.page(w.lo, w.hi, max(n - 1, 0), 2 if n else 1)
        if n == 0:
            return None if not rows else 2
        last = w.newest_id if self.remote.oldest_first else w.oldest_id
        if len(rows) == 1 and rows[0].id == last:
            return None
        return len(rows)

    async def _recount(self, w: _Window) -> _Window:
        out = _Window(w.lo, w.hi, 0)
        async for job in self._stored(w.lo, w.hi):
            if out.count == 0:
                out.newest_id = job.id
            out.count += 1
            out.oldest_id = job.id
        return out

    async def _search(self, w: _Window, probe: int) -> None:
        ids = [j.id async for j in self._stored(w.lo, w.hi)]
        if self.remote.oldest_first:
            ids.reverse()  # the API's order: oldest first, ties by id descending
        if probe != 0 or len(ids) <= SMALL_WINDOW:
            await self._rewalk(w, ids)
            return
        try:
            gone = await _find_deletions(self.remote, w, ids)
        except _Mismatch:
            await self._rewalk(w, ids)
            return
        # Its probes are made one after another: a deletion between two of them can make the
        # search name a live job (and miss the deleted one, leaving count and last job equal).
        # So each job it names is fetched by id: a 404 (a few bytes) marks it deleted; a live
        # one is kept, and the window's next check (count off by one) searches it again.
        await self._confirm_missing(gone, always_get=True)

    async def _rewalk(self, w: _Window, ids: list[str] | None = None) -> None:
        if ids is None:
            ids = [j.id async for j in self._stored(w.lo, w.hi)]
        listed: set[str] = set()
        walk = self.remote.walk(w.lo, w.hi)
        async with contextlib.aclosing(walk):
            async for rows in walk:
                listed.update(r.id for r in rows)
                await self.store.upsert(rows, self.run_id)
        await self._confirm_missing([i for i in ids if i not in listed])


async def _find_deletions(remote: Remote, w: _Window, ids: list[str]) -> list[str]:
    """The stored ids of window ``w`` that the API no longer lists, found by one-job probes.

    The API's listing A must be the stored order S minus deletions: A[k] is S[p] with p >= k.
    A binary search finds len(A); then each segment of A whose ends are known is split at a
    probe until its length equals that of its S segment (no deletion) or it is empty (all
    deleted). Anything else raises _Mismatch.
    """
    pos = {job_id: i for i, job_id in enumerate(ids)}
    anchors: dict[int, int] = {}

    async def probe(k: int) -> int | None:
        rows = await remote.page(w.lo, w.hi, k, 1)
        if not rows:
            return None
        p = pos.get(rows[0].id)
        if p is None or p < k:
            raise _Mismatch
        anchors[k] = p
        return p

    lo, hi = 0, len(ids) - 1  # len(A) is in [lo, hi]: the probe at n-1 found nothing
    while lo < hi:
        mid = (lo + hi) // 2
        if await probe(mid) is None:
            hi = mid
        else:
            lo = mid + 1
    gone: list[str] = []

    async def segment(a0: int, a1: int, s0: int, s1: int) -> None:
        if a1 - a0 == s1 - s0:
            return
        if a1 == a0:
            gone.extend(ids[s0:s1])
            return
        mid = (a0 + a1) // 2
        known = [k for k in anchors if a0 <= k < a1]
        k = min(known, key=lambda k: abs(k - mid)) if known else mid
        p = anchors[k] if k in anchors else await probe(k)
        if p is None or not s0 + (k - a0) <= p <= s1 - (a1 - k):
            raise _Mismatch
        await gather_all(segment(a0, k, s0, p), segment(k + 1, a1, p + 1, s1))

    await segment(0, lo, 0, len(ids))
    return gone
