"""Time windows over a listing: exact counts, balanced partitions and the sharded walk.

A window is an ordinary Checkpoint whose ``after_date``/``before_date`` bound one slice of the
listing; it starts at offset 0, so no request goes deeper than the window holds. Edges sit in
a gap of at least 2 ms between two consecutive jobs, at an instant no job has: the windows are
then disjoint and contiguous whether the API's bounds are inclusive or exclusive and whichever
way it sorts, and ties inside one millisecond are never cut. Deletions only remove jobs from a
window closed in the past, so a window whose count did not move while it was walked was walked
whole; one whose count moved is walked again, yielding only ids not yet yielded. A resume
token names the furthest instant yielded from its window and carries a Sketch of the ids
yielded: listed again up to that instant, the window tells exactly which jobs are still due.

Knows no HTTP: it takes a ``probe(cp, offset, limit) -> Page[Probe]`` callable and a factory of
ListStreams (room 3b, above _streams).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import struct
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import msgspec

from ._errors import BadRequestError, GladiaError, PaginationError
from ._streams import SKETCH_BYTES, Checkpoint, ListStream, StreamStats, check_int
from .types.common import Page

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "MetaProbe",
    "Planner",
    "Probe",
    "ShardedStream",
    "Sketch",
    "WalkStats",
    "Window",
]

DEFAULT_MAX_DEPTH = 5_000
SPLIT_PAGE = 50
"""Jobs read around a cut to find a gap (one request, full job bodies)."""
FINAL_SPAN = 64
"""A count known within this many is finished with one page instead of more probes."""
MAX_PASSES = 32
"""Walks of one window before the walk gives up on a listing that keeps changing."""


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


class _TooDeep(Exception):
    """A gallop probe at ``offset`` was refused with 400 (an offset cap, presumably)."""

    def __init__(self, offset: int) -> None:
        self.offset = offset


class Probe(msgspec.Struct, gc=False):
    """The fields a probe decodes from a list item: enough to cut windows and to check the
    item against the listing's status and date filters."""

    id: str
    created_at: str
    status: str = ""


class MetaProbe(Probe, gc=False):
    """A probe of a listing filtered by ``custom_metadata``, which its items are checked
    against (decoded only then: metadata can be large)."""

    custom_metadata: Any = None


ProbeFn = Callable[[Checkpoint, int, int], Awaitable[Page[Probe]]]
"""One list request on a window: (window, offset, limit) -> page."""


@dataclass(slots=True)
class WalkStats(StreamStats):
    """A sharded walk's counters: the stream's, summed over its windows, plus its own."""

    probes: int = 0
    """Small requests that counted, split or verified windows (included in ``requests``)."""
    windows: int = 0
    """Windows planned."""
    rewalks: int = 0
    """Windows walked again because their count moved during their walk."""
    rewinds: int = 0
    """Resumes that could not tell which jobs of their window had been yielded (more jobs of it
    deleted than the token's sketch resolves) and walked it from its start: they may come
    twice. Zero in every run the tests know of."""


@dataclass(frozen=True, slots=True)
class Window:
    """One slice of a listing: its checkpoint (offset 0), its count when planned, and its far
    edge (the instant that separates it from the next window in API order; None for the last)."""

    cp: Checkpoint
    count: int
    far: str | None


# -- instants -----------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_ms(created_at: str) -> int:
    """Milliseconds since the epoch of an API timestamp (finer digits are floored)."""
    try:
        value = dt.datetime.fromisoformat(created_at.strip())
    except (ValueError, AttributeError):
        raise PaginationError(f"a job's created_at is not ISO 8601: {created_at!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def ms_instant(ms: int) -> str:
    """The wire form of an instant: ``2026-06-12T21:00:09.947Z``."""
    value = _EPOCH + dt.timedelta(milliseconds=ms)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def span(cp: Checkpoint, near: str | None, far: str | None, *, oldest_first: bool) -> Checkpoint:
    """The part of ``cp``'s listing between two edges in API order (None: ``cp``'s own bound)."""
    if oldest_first:
        after, before = near, far
    else:
        after, before = far, near
    return plain(
        cp,
        offset=0,
        after_date=cp.after_date if after is None else after,
        before_date=cp.before_date if before is None else before,
    )


def plain(cp: Checkpoint, **changes: Any) -> Checkpoint:
    """``cp`` (with ``changes``) as a plain listing's checkpoint: no sharded-walk fields."""
    return msgspec.structs.replace(
        cp,
        shards=0,
        max_depth=0,
        edge=None,
        oldest_first=False,
        window_count=None,
        last=None,
        last_count=0,
        sketch=None,
        **changes,
    )


def near_bound(cp: Checkpoint, *, oldest_first: bool) -> str | None:
    """The bound of ``cp`` where its listing starts in API order."""
    return cp.after_date if oldest_first else cp.before_date


# -- planning -----------------------------------------------------------------------------------


class Planner:
    """Counts, splits and verifies windows with small list requests, none deeper than
    ``max_depth``. Learns the API's sort order from the first two jobs whose dates differ."""

    def __init__(self, probe: ProbeFn, max_depth: int, stats: WalkStats | None = None) -> None:
        self._probe = probe
        self.max_depth = check_int(max_depth, "max_depth", 2)
        self.stats = stats if stats is not None else WalkStats()
        self.oldest_first: bool | None = None

    async def page(self, cp: Checkpoint, offset: int, limit: int) -> Page[Probe]:
        """One probe request (counted)."""
        self.stats.probes += 1
        self.stats.requests += 1
        return await self._probe(cp, offset, limit)

    async def has_count(self, cp: Checkpoint, count: int) -> bool:
        """True when the window holds exactly ``count`` jobs now (one request)."""
        if count == 0:
            return not (await self.page(cp, 0, 1)).items
        return len((await self.page(cp, count - 1, 2)).items) == 1

    async def count_upto(self, cp: Checkpoint, hi: int) -> int:
        """The exact count of a window known to hold at most ``hi`` jobs."""
        count = await self._count(cp, hi, gallop=False)
        assert count is not None
        return count

    async def count_below(self, cp: Checkpoint, hi: int) -> int | None:
        """The exact count of a window if it holds fewer than ``hi`` jobs, else None."""
        return await self._count(cp, hi, gallop=True)

    async def _count(self, cp: Checkpoint, hi: int, *, gallop: bool) -> int | None:
        """Gallop, then bisect on offset with ``limit=1`` probes (none at ``hi`` or deeper),
        then one small page for the last few jobs. ``gallop``: the window may hold ``hi`` or
        more, which answers None once the probe at ``hi - 1`` finds a job."""
        lo, probe_at, cap = 0, FINAL_SPAN - 1, hi
        while hi - lo > FINAL_SPAN or (gallop and probe_at < hi):
            at = min(probe_at, hi - 1)
            try:
                page = await self.page(cp, at, 1)
            except BadRequestError:
                if gallop:  # a gallop probe is at least FINAL_SPAN - 1 deep
                    raise _TooDeep(at) from None
                raise
            if page.items:
                if gallop and at == cap - 1:
                    return None
                lo, probe_at = at + 1, 2 * at + 1
            else:
                hi = at
                break
        while hi - lo > FINAL_SPAN:
            mid = (lo + hi) // 2
            if (await self.page(cp, mid, 1)).items:
                lo = mid + 1
            else:
                hi = mid
        at = lo
        while True:  # a server that serves fewer than `limit` says so with a `next` link
            page = await self.page(cp, at, hi - at + 1)
            at += len(page.items)
            if not page.items or page.next_url is None or at > hi:
                return None if gallop and at >= cap else at

    async def count(self, cp: Checkpoint) -> int:
        """The exact count of a listing: windows of at most ``max_depth``, added up."""
        return sum(w.count for w in await self.chunks(cp, shallow_first=True))

    async def chunks(self, cp: Checkpoint, *, shallow_first: bool = False) -> list[Window]:
        """The listing cut into windows of at most ``max_depth`` jobs, in API order, each cut
        at the deepest gap it can find; their counts add up to the listing's."""
        return [w async for w in self.iter_chunks(cp, shallow_first=shallow_first)]

    async def iter_chunks(
        self, cp: Checkpoint, *, shallow_first: bool = False
    ) -> AsyncIterator[Window]:
        """``chunks`` one window at a time, each as soon as it is cut. ``shallow_first``:
        gallop with ``limit=1`` probes before reading the deepest page, so that a short
        listing costs only shallow requests (else one deep page saves those probes on a
        long one)."""
        first = True
        rest, depth = span(cp, None, None, oldest_first=False), self.max_depth
        while shallow_first:
            try:
                small = await self.count_below(rest, depth)
            except _TooDeep as exc:
                # A server that caps offsets answers 400 past its cap: stay above the probe it
                # refused (the one before it, half as deep, was served). That probe was at
                # most depth - 1 and at least 63 deep: the new depth is smaller, and >= 32.
                depth = self.max_depth = (exc.offset - 1) // 2 + 1
                continue
            if small is not None:
                yield Window(rest, small, None)
                return
            break
        size = min(SPLIT_PAGE, depth)
        while True:
            # Read the deepest page a window may reach: if it ends the listing, count what is
            # left (offset probes below it when it is empty); else cut at its deepest gap.
            try:
                page = await self.page(rest, depth - size, size)
            except BadRequestError:
                if not first or depth - size <= 0:
                    raise
                # A server that caps offsets answers 400 past its cap: go shallower, once for
                # the whole walk (before any window exists), down to the page size.
                depth = self.max_depth = max(size, (depth - size) // 2)  # size stays the same
                continue
            n = len(page.items)
            if page.next_url is None:
                count = depth - size + n if n else await self.count_upto(rest, depth - size)
                yield Window(rest, count, None)
                return
            cut = await self._gap(rest, depth - size, page.items, deepest=True)
            if cut is None:
                raise PaginationError(
                    f"cannot cut the listing into windows of at most {depth} jobs: no gap of "
                    "2 ms between consecutive jobs within reach; raise max_depth"
                )
            position, instant = cut
            oldest = bool(self.oldest_first)
            first = False
            yield Window(span(rest, None, instant, oldest_first=oldest), position, instant)
            rest = span(rest, instant, None, oldest_first=oldest)

    async def _gap(
        self, cp: Checkpoint, offset: int, items: list[Probe], *, deepest: bool, target: int = 0
    ) -> tuple[int, str] | None:
        """A cut in ``cp`` at or above ``offset + len(items)``: (jobs before it, its instant).

        Looks in ``items`` (read at ``offset``) first, then in earlier pages when ``deepest``;
        otherwise picks the gap nearest ``target`` within ``items`` only."""
        while True:
            best: tuple[int, int, str] | None = None  # (distance, position, instant)
            stamps = [to_ms(p.created_at) for p in items]
            for i in range(len(stamps) - 1):
                a, b = stamps[i], stamps[i + 1]
                if abs(a - b) < 2:
                    continue
                self._learn_order(a, b)
                position = offset + i + 1
                distance = -position if deepest else abs(position - target)
                if best is None or distance < best[0]:
                    best = (distance, position, ms_instant(min(a, b) + 1))
            if best is not None:
                return best[1], best[2]
            if not deepest or offset == 0:
                return None
            size = len(items)
            offset = max(0, offset - size + 1)  # overlap one job: pairs across pages count
            items = (await self.page(cp, offset, size)).items

    def _learn_order(self, a: int, b: int) -> None:
        oldest_first = b > a
        if self.oldest_first is None:
            self.oldest_first = oldest_first
        elif self.oldest_first != oldest_first:
            raise PaginationError("the listing is not sorted by created_at; it cannot be windowed")

    async def halve(self, window: Window, count: int) -> tuple[Window, Window] | None:
        """``window`` (holding ``count`` jobs now) cut at the gap nearest its middle."""
        cp, middle = window.cp, count // 2
        offset = max(0, middle - SPLIT_PAGE // 2)
        page = await self.page(cp, offset, SPLIT_PAGE)
        cut = await self._gap(cp, offset, page.items, deepest=False, target=middle)
        if cut is None or not 0 < cut[0] < count:
            return None
        position, instant = cut
        oldest = bool(self.oldest_first)
        return (
            Window(span(cp, None, instant, oldest_first=oldest), position, instant),
            Window(span(cp, instant, None, oldest_first=oldest), count - position, window.far),
        )

    async def partition(self, cp: Checkpoint, parts: int) -> list[Window]:
        """At most ``parts`` windows of similar counts, contiguous, in API order, whose union
        is exactly the listing. A window holding more than ``max_depth`` jobs is a sharded
        checkpoint (``shards=1`` and this ``max_depth``): ``list(resume=cp)`` walks it as
        windows of its own, so no request goes deeper and every window is verified."""
        check_int(parts, "parts", 1)
        chunks = await self.chunks(cp, shallow_first=True)
        n = sum(w.count for w in chunks)
        k = max(1, min(parts, n))
        if len(chunks) == k and max(w.count for w in chunks) <= 2 * n / k:
            out = chunks
        else:
            out = await self._balance(cp, chunks, k, n)
        return [self._walkable(w) for w in out]

    def _walkable(self, window: Window) -> Window:
        """``window``, made a sharded walk of its own when a plain walk would go too deep."""
        if window.count <= self.max_depth:
            return window
        cp = msgspec.structs.replace(window.cp, shards=1, max_depth=self.max_depth)
        return Window(cp, window.count, window.far)

    async def balanced(self, cp: Checkpoint, chunks: list[Window], parts: int) -> list[Window]:
        """``chunks`` (all of ``cp``), kept if balanced enough for ``parts``, else re-cut; more
        than ``parts`` windows where one would hold over ``max_depth`` jobs (a sharded walk)."""
        n = sum(w.count for w in chunks)
        k = max(1, min(parts, n))
        mean = n / max(len(chunks), 1)
        if len(chunks) >= k and max(w.count for w in chunks) <= 2 * mean:
            return chunks
        # A cut that found no gap leaves a bigger window: split any past max_depth again.
        final: list[Window] = []
        for w in await self._balance(cp, chunks, k, n):
            if w.count > self.max_depth:
                pieces = await self.chunks(w.cp)
                final.extend(pieces[:-1])
                final.append(Window(pieces[-1].cp, pieces[-1].count, w.far))
            else:
                final.append(w)
        return final

    async def _balance(self, cp: Checkpoint, chunks: list[Window], k: int, n: int) -> list[Window]:
        """Re-cut the listing at the gaps nearest to ``n * j / k`` (one page read per cut)."""
        starts: list[int] = []
        total = 0
        for w in chunks:
            starts.append(total)
            total += w.count
        # Cuts as (jobs before, instant); chunk edges are cuts we may keep without a request.
        cuts: dict[int, str] = {}
        for j in range(1, k):
            target = round(n * j / k)
            c = max(i for i, s in enumerate(starts) if s <= target)
            chunk, local = chunks[c], target - starts[c]
            edges = [(starts[c], chunks[c - 1].far)] if c else []
            edges.append((starts[c] + chunk.count, chunk.far))
            slack = max(SPLIT_PAGE // 2, n // (20 * k))
            near = [(p, e) for p, e in edges if e is not None and abs(p - target) <= slack]
            if near:
                p, e = min(near, key=lambda pe: abs(pe[0] - target))
                cuts[p] = e
                continue
            offset = max(0, local - SPLIT_PAGE // 2)
            page = await self.page(chunk.cp, offset, SPLIT_PAGE)
            cut = await self._gap(chunk.cp, offset, page.items, deepest=False, target=local)
            if cut is not None and 0 < cut[0] < chunk.count:
                cuts[starts[c] + cut[0]] = cut[1]
        oldest = bool(self.oldest_first)
        out: list[Window] = []
        before, near_edge = 0, near_bound(cp, oldest_first=oldest)
        for p in sorted(cuts):
            far = cuts[p]
            out.append(Window(span(cp, near_edge, far, oldest_first=oldest), p - before, far))
            before, near_edge = p, far
        out.append(Window(span(cp, near_edge, None, oldest_first=oldest), n - before, None))
        return out


# -- which ids a window yielded, in a few hundred bytes -----------------------------------------

_CELL = struct.Struct("<IQI")
_CELLS = SKETCH_BYTES // _CELL.size
_SUB = _CELLS // 3
_MASK32 = 0xFFFFFFFF


def id_key(item_id: str) -> int:
    """A job id as a 64-bit key (BLAKE2b): the sketch's element."""
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=8).digest(), "little")


def _check(key: int) -> int:
    digest = hashlib.blake2b(key.to_bytes(8, "little"), digest_size=4, person=b"gladia-sk")
    return int.from_bytes(digest.digest(), "little")


class Sketch:
    """An invertible Bloom lookup table of 64-bit keys (Goodrich and Mitzenmacher, 2011).

    Each key is added to one cell of each of three sub-tables (count, xor of keys, xor of
    checks). Two sketches subtracted and peeled give the keys in one set and not the other,
    exactly, as long as they differ by a few dozen keys (else ``difference`` says None): a
    resume learns which jobs of its window were not yielded yet from a fixed-size token field.
    """

    __slots__ = ("checks", "counts", "keys")

    def __init__(self) -> None:
        self.counts = [0] * _CELLS
        self.keys = [0] * _CELLS
        self.checks = [0] * _CELLS

    def add(self, key: int, sign: int = 1) -> None:
        check = _check(key)
        for i in range(3):
            cell = i * _SUB + ((key >> (16 * i)) & 0xFFFF) % _SUB
            self.counts[cell] = (self.counts[cell] + sign) & _MASK32
            self.keys[cell] ^= key
            self.checks[cell] ^= check

    def to_bytes(self) -> bytes:
        cells = zip(self.counts, self.keys, self.checks, strict=True)
        return b"".join(_CELL.pack(*cell) for cell in cells)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Sketch:
        sketch = cls()
        for i, (count, key, check) in enumerate(_CELL.iter_unpack(raw)):
            sketch.counts[i], sketch.keys[i], sketch.checks[i] = count, key, check
        return sketch

    def difference(self, other: Sketch) -> tuple[set[int], set[int]] | None:
        """(keys only in self, keys only in other), or None when they differ too much."""
        counts = [(a - b) & _MASK32 for a, b in zip(self.counts, other.counts, strict=True)]
        keys = [a ^ b for a, b in zip(self.keys, other.keys, strict=True)]
        checks = [a ^ b for a, b in zip(self.checks, other.checks, strict=True)]
        mine: set[int] = set()
        theirs: set[int] = set()
        progress = True
        while progress:
            progress = False
            for cell in range(_CELLS):
                count = counts[cell]
                if count not in (1, _MASK32) or _check(keys[cell]) != checks[cell]:
                    continue
                key, check = keys[cell], checks[cell]
                (mine if count == 1 else theirs).add(key)
                for i in range(3):
                    at = i * _SUB + ((key >> (16 * i)) & 0xFFFF) % _SUB
                    counts[at] = (counts[at] - (1 if count == 1 else -1)) & _MASK32
                    keys[at] ^= key
                    checks[at] ^= check
                progress = True
        if any(counts) or any(keys) or mine & theirs:
            return None
        return mine, theirs


class _Yielded:
    """What a window (and the halves it was split into) yielded: ids, their sketch and the
    furthest instant."""

    __slots__ = ("far_ms", "far_n", "ids", "oldest_first", "sketch")

    def __init__(self, oldest_first: bool) -> None:
        self.ids: set[str] = set()
        self.sketch = Sketch()
        self.far_ms: int | None = None
        self.far_n = 0  # jobs yielded at far_ms (a tie the cursor may be inside)
        self.oldest_first = oldest_first

    def add(self, item_id: str, created_at: str) -> None:
        """Count a job as yielded (once)."""
        if item_id in self.ids:
            return
        self.ids.add(item_id)
        self.sketch.add(id_key(item_id))
        ms = to_ms(created_at)
        far = self.far_ms
        if far is None or (ms > far if self.oldest_first else ms < far):
            self.far_ms, self.far_n = ms, 1
        elif ms == far:
            self.far_n += 1


# -- the sharded walk ---------------------------------------------------------------------------

OpenWindow = Callable[[Checkpoint, int | None], ListStream[Any]]
"""Opens a ListStream on a window checkpoint (its offset is where to start), with max_items."""

_END: Any = object()
_SPLIT: Any = object()


async def _first(stream: ListStream[Any]) -> Any:
    """The first item of a stream, or _END: primes a window ahead of the one being yielded."""
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return _END


class _Walk:
    """One window being walked: its plan, the pass in progress and the ids it yielded."""

    __slots__ = ("done", "first", "origin", "passes", "pre", "skip", "stream", "window")

    def __init__(self, window: Window, oldest_first: bool) -> None:
        self.window = window
        self.origin = window  # the window as planned, before any split into halves
        self.pre = window.count  # the count the current pass started from
        self.done = _Yielded(oldest_first)  # shared with the halves it is split into
        self.skip = 0  # jobs of the pass's start offset already yielded (a resume)
        self.passes = 0
        self.stream: ListStream[Any] | None = None
        self.first: asyncio.Task[Any] | None = None

    def open(self, opener: OpenWindow, offset: int = 0, *, ahead: bool = False) -> None:
        """Start a pass at ``offset``; it reads no further than the count it started from
        (deletions only shrink a window), so no request goes past the window's end. A window
        opened ahead of the one being yielded fetches one page only, until it is yielded from."""
        self.stream = opener(self.window.cp.with_offset(offset), max(self.pre - offset, 0))
        if ahead:
            self.stream.stats.window = 1
        self.first = asyncio.get_running_loop().create_task(_first(self.stream))

    def position(self) -> int:
        """Jobs of the window's listing passed so far (a primed job not yet yielded excluded)."""
        if self.stream is None:
            return self.skip
        offset = self.stream.checkpoint.offset
        task = self.first
        if task is not None and task.done() and not task.cancelled():
            if task.exception() is None and task.result() is not _END:
                offset -= 1
        return offset

    async def close(self) -> None:
        """Cancel the primer and the stream (both kept: the checkpoint still reads them)."""
        task, stream = self.first, self.stream
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait((task,))
        if task is not None and task.done() and not task.cancelled():
            task.exception()
        if stream is not None:
            await stream.aclose()


class ShardedStream(Generic[T]):
    """Async iterator over a listing walked as time windows, ``shards`` of them at once.

    Items come in API order, each id once; a window is re-counted when walked and walked again
    if its count moved, so a job that exists throughout is never skipped by a deletion. At most
    ``shards x concurrency`` pages are in flight or held: each window opened ahead holds its
    first page, and the window being yielded from uses the rest of that budget.
    ``checkpoint.token`` resumes the walk; errors carry it as ``exc.checkpoint``. Use
    ``async with`` or ``aclose()`` to stop early.
    """

    def __init__(
        self,
        opener: OpenWindow,
        planner: Planner,
        start: Checkpoint,
        *,
        max_items: int | None = None,
    ) -> None:
        if max_items is not None:
            check_int(max_items, "max_items", 0)
        check_int(start.shards, "shards", 1)
        self._open = opener
        self._planner = planner
        self._start = start
        self._max_items = max_items
        self.stats: WalkStats = planner.stats
        """Live counters (page counters are added when each window's walk ends)."""
        self._oldest = start.oldest_first
        self._ahead: deque[_Walk] = deque()
        self._todo: deque[Window] = deque()
        self._last: _Walk | None = None
        self._prev: set[str] = set()
        self._feeder: asyncio.Task[None] | None = None
        self._fed = asyncio.Event()
        self._planned = self._claimed = self._closed = self._busy = False
        self._failure: Exception | None = None

    # -- public surface --

    @property
    def checkpoint(self) -> Checkpoint:
        """Where the walk stands: the listing still to walk, and the position in its first
        window with that window's count, which a resume verifies before trusting positions.
        Before its first job, where it started (a resume failing before it yields anything
        keeps its token's position)."""
        if not self.stats.items:
            return self._start
        walk = self._ahead[0] if self._ahead else self._last
        if walk is None:
            return self._start
        origin, done = walk.origin, walk.done
        near = near_bound(origin.cp, oldest_first=self._oldest)
        base = msgspec.structs.replace(
            span(self._start, near, None, oldest_first=self._oldest),
            shards=self._start.shards,
            max_depth=self._start.max_depth,
        )
        fields: dict[str, Any] = {}
        if walk.passes == 0 and origin is walk.window:  # positions say what was yielded
            offset = walk.pre if not self._ahead else walk.position()  # finished: all of it
            if offset > 0:
                fields.update(offset=offset, window_count=walk.pre)
        if done.far_ms is not None:  # else nothing of it yielded: walk it from its start
            fields.update(last=done.far_ms, last_count=done.far_n, sketch=done.sketch.to_bytes())
        if not fields:
            return base
        return msgspec.structs.replace(base, edge=origin.far, oldest_first=self._oldest, **fields)

    def __aiter__(self) -> ShardedStream[T]:
        if self._claimed:
            raise RuntimeError("a ShardedStream can be iterated only once; call list() again")
        self._claimed = True
        return self

    async def __anext__(self) -> T:
        """The next job. One caller at a time: a second task waiting meanwhile gets
        RuntimeError (as an async generator's ``anext`` does) and takes nothing."""
        if self._failure is not None:
            raise self._failure
        if self._busy:
            raise RuntimeError("anext(): this stream is already being iterated by another task")
        self._busy = True
        try:
            return await self._next()
        finally:
            self._busy = False

    async def _next(self) -> T:
        if self._closed or (self._max_items is not None and self.stats.items >= self._max_items):
            await self.aclose()
            raise StopAsyncIteration
        try:
            if not self._planned:
                await self._plan()
            while True:
                head = await self._advance()
                if head is None:
                    self._closed = True
                    raise StopAsyncIteration
                item = await self._next_in(head)
                if item is _SPLIT:
                    continue
                if item is not _END:
                    return item  # type: ignore[no-any-return]
                self._finish(head)
        except StopAsyncIteration:
            raise
        except GladiaError as exc:
            exc.checkpoint = self.checkpoint
            await self._fail(exc)
            raise
        except Exception as exc:
            await self._fail(exc)
            raise

    async def aclose(self) -> None:
        """Cancel and await every request in flight. Idempotent."""
        self._closed = True
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.cancel()
            await asyncio.wait((feeder,))
            if not feeder.cancelled():
                feeder.exception()
        for walk in list(self._ahead):
            await walk.close()  # first: the requests it cancels are counted in its stats
            self._absorb(walk)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._planned else "new")
        return f"<ShardedStream {self._start.path} shards={self._start.shards} {state}>"

    # -- machinery --

    async def _fail(self, exc: Exception) -> None:
        self.stats.errors += 1
        self._failure = exc
        await self.aclose()

    async def _plan(self) -> None:
        """Cut the listing into windows; on a mid-window resume, restore the yielded ids."""
        start, planner = self._start, self._planner
        self._planned = True
        if start.window_count is not None or start.last is not None:
            planner.oldest_first = self._oldest
            head = Window(
                span(start, None, start.edge, oldest_first=self._oldest),
                start.window_count or 0,
                start.edge,
            )
            windows = [head]
            if start.edge is not None:
                rest = span(start, start.edge, None, oldest_first=self._oldest)
                windows += await self._windows(rest, lazy=True)
            skip, count = start.offset, start.window_count or 0
        else:
            # A start offset is found among all the windows; a fresh walk starts at once.
            windows = await self._windows(start, lazy=not start.offset)
            self._oldest = bool(planner.oldest_first)
            skip = start.offset
            while len(windows) > 1 and skip >= windows[0].count:
                skip -= windows.pop(0).count
            count = windows[0].count
        # Queue the windows before anything else awaits: the planning task appends after them.
        self.stats.windows += len(windows)
        self._todo.extend(windows[1:])
        walk = _Walk(windows[0], self._oldest)
        self._ahead.append(walk)
        if start.window_count is not None or start.last is not None:
            await self._restore(walk, start)
        elif skip:
            await self._restore(
                walk, msgspec.structs.replace(start, offset=skip, window_count=count)
            )
        else:
            walk.open(self._open)

    async def _windows(self, cp: Checkpoint, *, lazy: bool) -> list[Window]:
        """The first windows of ``cp``: balanced when the listing is short; else (``lazy``)
        the first ``shards + 1`` cut at ``max_depth``, the rest cut by a task as the walk goes."""
        planner, shards = self._planner, self._start.shards
        chunks = planner.iter_chunks(cp)
        first: list[Window] = []
        async for window in chunks:
            first.append(window)
            if lazy and len(first) > shards:
                self._feeder = asyncio.get_running_loop().create_task(self._feed(chunks))
                return first
        return await planner.balanced(cp, first, shards)

    async def _feed(self, chunks: AsyncIterator[Window]) -> None:
        """Append the windows still to cut to the queue, waking the walk at each one."""
        try:
            async for window in chunks:
                self._todo.append(window)
                self.stats.windows += 1
                self._fed.set()
        finally:
            self._fed.set()

    async def _restore(self, walk: _Walk, start: Checkpoint) -> None:
        """Resume a window mid-way. If its count is still the token's (nothing deleted, so
        positions did not move), the first ``offset`` jobs were yielded: read their ids. Else
        re-read the jobs up to the furthest instant yielded and let the token's sketch say
        exactly which of them were not yielded yet; the walk yields those and the rest."""
        planner, cp = self._planner, walk.window.cp
        offset, count = start.offset, start.window_count
        if count is not None and await planner.has_count(cp, count):
            read: list[Probe] = []
            size = self._start.page_size
            # A finished window needs no ids: nothing in it is left to yield.
            for at in range(0, offset if offset < count else 0, size):
                read += (await planner.page(cp, at, min(size, offset - at))).items
            if await planner.has_count(cp, count):
                for p in read:
                    walk.done.add(p.id, p.created_at)
                if offset >= count and start.sketch is not None:
                    walk.done.sketch = Sketch.from_bytes(start.sketch)
                    walk.done.far_ms, walk.done.far_n = start.last, start.last_count
                walk.skip, walk.pre = offset, count
                walk.open(self._open, offset)
                return
        count = await planner.count_upto(cp, max(planner.max_depth, count or 0))
        walk.pre, walk.passes, walk.skip = count, 1, 0
        if start.sketch is not None and start.last is not None:
            sketch = Sketch.from_bytes(start.sketch)
            for _ in range(MAX_PASSES):
                listed = await self._listed(cp, start.last)
                if await planner.has_count(cp, walk.pre):
                    break  # nothing deleted while reading: what is not listed is gone
                walk.pre = await planner.count_upto(cp, max(planner.max_depth, walk.pre))
            else:
                raise PaginationError(
                    f"a window changed during each of {MAX_PASSES} reads; the listing keeps "
                    "changing under the walk"
                )
            recovered = self._recover(listed, sketch, start.last, start.last_count)
            if recovered is not None:
                walk.done, walk.skip = recovered
                walk.open(self._open, walk.skip)
                return
        if start.last is not None:
            self.stats.rewinds += 1
        walk.open(self._open, 0)

    async def _listed(self, cp: Checkpoint, last: int) -> list[Probe]:
        """The jobs of window ``cp`` up to instant ``last``, those at ``last`` included."""
        planner, oldest, size = self._planner, self._oldest, self._start.page_size
        listed: dict[str, Probe] = {}
        at = 0
        while True:
            page = await planner.page(cp, at, size)
            for p in page.items:
                ms = to_ms(p.created_at)
                if ms > last if oldest else ms < last:
                    return list(listed.values())
                listed.setdefault(p.id, p)
            at += len(page.items)
            if not page.items or page.next_url is None:
                return list(listed.values())

    def _recover(
        self, listed: list[Probe], sketch: Sketch, last: int, tie: int
    ) -> tuple[_Yielded, int] | None:
        """Which ``listed`` jobs were yielded, per ``sketch`` (of the ids yielded up to instant
        ``last``, ``tie`` of them at it), and the position of the first that was not. None
        when they differ by too many to tell. A yielded job not listed was deleted (no count
        moved while listing)."""
        # The jobs of a tie come in the API's order: the first ``tie`` were yielded (give or
        # take what deletions shifted, which the sketch tells apart); the rest of the tie is
        # compared by id, so that a tie straddling the cursor costs the sketch nothing.
        keys = [id_key(p.id) for p in listed]
        at_last = [i for i, p in enumerate(listed) if to_ms(p.created_at) == last]
        cut = at_last[tie] if tie < len(at_last) else len(listed)
        mine = Sketch()
        for key in keys[:cut]:
            mine.add(key)
        diff = sketch.difference(mine)
        if diff is None or not diff[1] <= set(keys[:cut]):
            return None
        gone, fresh = diff  # yielded but not listed before the cut; listed, not yielded
        done = _Yielded(self._oldest)
        first = len(listed)
        for i, (p, key) in enumerate(zip(listed, keys, strict=True)):
            if key in fresh or (i >= cut and key not in gone):
                first = min(first, i)
            else:
                done.add(p.id, p.created_at)
        ties = sum(1 for i in at_last if listed[i].id in done.ids)
        done.far_ms, done.far_n = last, ties
        return done, first

    async def _advance(self) -> _Walk | None:
        """The window to yield from, with up to ``shards`` windows opened (primed)."""
        feeder = self._feeder
        while not self._ahead and not self._todo and feeder is not None and not feeder.done():
            self._fed.clear()
            await self._fed.wait()
        if feeder is not None and feeder.done() and not self._todo:
            self._feeder = None
            feeder.result()  # a planning failure surfaces here, in order
        while self._todo and len(self._ahead) < self._start.shards:
            walk = _Walk(self._todo.popleft(), self._oldest)
            walk.open(self._open, ahead=bool(self._ahead))
            self._ahead.append(walk)
        head = self._ahead[0] if self._ahead else None
        if head is not None:
            if head.stream is None:
                head.open(self._open, head.skip)
            else:  # a window opened ahead: its full share of the budget at once
                head.stream.stats.window = head.stream.concurrency
        return head

    async def _next_in(self, walk: _Walk) -> Any:
        """The next new item of the window, or _END once the window is walked and verified."""
        while True:
            if walk.first is not None:
                task, walk.first = walk.first, None
                item = await task
            else:
                assert walk.stream is not None
                try:
                    item = await anext(walk.stream)
                except StopAsyncIteration:
                    item = _END
            if item is _END:
                state = await self._verified(walk)
                if state is not None:
                    return state
                continue
            done = walk.done
            if item.id in done.ids or item.id in self._prev:
                done.add(item.id, item.created_at)  # an edge both windows listed counts in both
                self.stats.duplicates += 1
                continue
            done.add(item.id, item.created_at)
            self.stats.items += 1
            if self._max_items is not None and self.stats.items >= self._max_items:
                self._closed = True
            return item

    async def _verified(self, walk: _Walk) -> Any:
        """Re-count a walked window: unchanged means nothing was skipped (_END). Else walk it
        again from the count just taken, yielding only ids not yet yielded (None), in two
        halves when it is large (_SPLIT), so that a pass is short enough to see no deletion."""
        planner, cp = self._planner, walk.window.cp
        if await planner.has_count(cp, walk.pre):
            return _END
        if walk.passes + 1 >= MAX_PASSES:
            raise PaginationError(
                f"a window changed during each of {MAX_PASSES} walks; the listing keeps "
                "changing under the walk"
            )
        stream = walk.stream
        walk.stream = None
        if stream is not None:
            self._absorb_stats(stream.stats)
        count = await planner.count_upto(cp, max(planner.max_depth, walk.pre))
        self.stats.rewalks += 1
        halves = None
        if count > 4 * self._start.page_size:
            halves = await planner.halve(walk.window, count)
        if halves is None:
            walk.pre, walk.passes, walk.skip = count, walk.passes + 1, 0
            walk.open(self._open, 0)
            return None
        first, second = _Walk(halves[0], self._oldest), _Walk(halves[1], self._oldest)
        for half in (first, second):
            half.done, half.origin, half.passes = walk.done, walk.origin, walk.passes + 1
        self._ahead[0] = first
        self._ahead.insert(1, second)
        self.stats.windows += 1
        return _SPLIT

    def _finish(self, walk: _Walk) -> None:
        """A verified window: keep its ids for one more window (an edge the API saw
        differently), forget the one before."""
        self._ahead.popleft()
        self._absorb(walk)
        walk.stream = None
        self._prev = walk.done.ids
        self._last = walk

    def _absorb(self, walk: _Walk) -> None:
        if walk.stream is not None:
            self._absorb_stats(walk.stream.stats)

    def _absorb_stats(self, s: StreamStats) -> None:
        st = self.stats
        st.requests += s.requests
        st.pages += s.pages
        st.rate_limited += s.rate_limited
        st.wasted += s.wasted
        st.cancelled += s.cancelled
        st.bytes += s.bytes
        st.max_in_flight = max(st.max_in_flight, s.max_in_flight)
        st.page_size = s.page_size
        s.requests = s.pages = s.rate_limited = s.wasted = s.cancelled = s.bytes = 0
