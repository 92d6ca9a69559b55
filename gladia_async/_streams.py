"""Auto-paginating streams: the prefetch window, ordering, dedupe, checkpoints, cancellation.

Knows no HTTP: a ListStream receives an async ``fetch(offset, limit) -> Page[T]`` callable and a
starting Checkpoint (filters, page size, offset); GetManyStream maps an async function over ids.
``fetch`` may instead return a zero-argument callable that builds the Page: the stream calls it
when it reaches that page, so pages are decoded in order and only once the next requests are out.
Both keep every task they start in an explicit, bounded queue and cancel + await it on close.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Annotated, Any, Generic, Protocol, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from ._config import RetryPolicy
from ._errors import GladiaConfigError, GladiaError, PaginationError, RateLimitError
from .types.common import Page

__all__ = [
    "Checkpoint",
    "GetManyStream",
    "ListStream",
    "StreamStats",
    "capture_errors",
    "check_int",
]

T = TypeVar("T", bound="_HasId")
K = TypeVar("K")
R = TypeVar("R")

TOKEN_PREFIX = "v1."
MAX_TOKEN_LENGTH = 8192
MAX_OFFSET = 2**53
MAX_PAGE_SIZE = 100_000
MAX_STATUSES = 16
MAX_SHARDS = 1024
MAX_METADATA_LENGTH = 1024
SKETCH_BYTES = 108 * 16
"""A sharded checkpoint's id sketch: 108 cells of 16 bytes (see ``_windows.Sketch``)."""
"""JSON text of the custom_metadata filter; bounded so that every token fits MAX_TOKEN_LENGTH."""
MAX_RATE_LIMIT_REQUESTS = 6
"""A page refused with 429 this many times in a row (after the transport's own retries) fails."""
DEDUPE_MIN_IDS = 1024
"""Ids remembered for duplicate suppression: at least this many, else a few pages' worth."""

_DATE = r"\d{4}-\d{2}-\d{2}"
DATE_RE = re.compile(_DATE)
INSTANT_RE = re.compile(_DATE + r"T\d{2}:\d{2}:\d{2}\.\d{3}Z")
PATH_RE = re.compile(r"/v2/[a-z][a-z0-9-]*")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


# -- Checkpoint ---------------------------------------------------------------------------------


_Short = Annotated[str, msgspec.Meta(max_length=64)]


class Checkpoint(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Where a listing stands: its collection, filters (as sent on the wire), page size and the
    offset of the first item not yet yielded.

    ``token`` is a compact URL-safe string; ``Checkpoint.from_token(token)`` (or
    ``list(resume=token)``) restores it. It holds no credentials. A sharded walk's checkpoint
    (``list(shards=N)``) also holds ``shards``, ``max_depth`` and, mid-window, the window.
    """

    path: Annotated[str, msgspec.Meta(max_length=64, pattern=PATH_RE.pattern)] = msgspec.field(
        name="p"
    )
    offset: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] = msgspec.field(name="o")
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE)] = msgspec.field(name="n")
    status: Annotated[tuple[_Short, ...], msgspec.Meta(max_length=MAX_STATUSES)] = msgspec.field(
        default=(), name="s"
    )
    date: _Short | None = msgspec.field(default=None, name="d")
    before_date: _Short | None = msgspec.field(default=None, name="b")
    after_date: _Short | None = msgspec.field(default=None, name="a")
    custom_metadata: Annotated[str, msgspec.Meta(max_length=MAX_METADATA_LENGTH)] | None = (
        msgspec.field(default=None, name="m")
    )
    """The JSON text of the custom_metadata filter, exactly as sent."""
    shards: Annotated[int, msgspec.Meta(ge=0, le=MAX_SHARDS)] = msgspec.field(default=0, name="sh")
    """A sharded walk's shard count (0: a plain listing); see ``_windows``."""
    max_depth: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] = msgspec.field(
        default=0, name="md"
    )
    """A sharded walk's deepest offset (0: none)."""
    edge: _Short | None = msgspec.field(default=None, name="ed")
    """Mid-window: the far bound of the window being walked (its near bound is the listing's)."""
    oldest_first: bool = msgspec.field(default=False, name="of")
    """Mid-window: the API lists oldest first, so ``edge`` is the window's ``before_date``."""
    window_count: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] | None = msgspec.field(
        default=None, name="wc"
    )
    """Mid-window: the window's count when its walk began (the resume verifies it)."""
    last: Annotated[int, msgspec.Meta(ge=-MAX_OFFSET, le=MAX_OFFSET)] | None = msgspec.field(
        default=None, name="lt"
    )
    """Mid-window: the furthest ``created_at`` (ms since the epoch) yielded from the window."""
    last_count: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] = msgspec.field(
        default=0, name="ln"
    )
    """Mid-window: how many of the jobs yielded from the window share that ``created_at``."""
    sketch: (
        Annotated[bytes, msgspec.Meta(min_length=SKETCH_BYTES, max_length=SKETCH_BYTES)] | None
    ) = msgspec.field(default=None, name="sk")
    """Mid-window: a set sketch of the ids yielded from the window, so that a resume finds
    exactly which of its jobs were not yielded yet, even after deletions (see ``_windows``)."""

    def __post_init__(self) -> None:
        _validate_checkpoint(self)

    @property
    def token(self) -> str:
        """This checkpoint as a versioned URL-safe string: ``"v1."`` + base64url(JSON)."""
        raw = _ENCODER.encode(self)
        return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def from_token(cls, token: str) -> Checkpoint:
        """Parse a token made by ``token``; anything else raises GladiaConfigError."""
        if not isinstance(token, str):
            raise GladiaConfigError("checkpoint token must be a str")
        if len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
            raise GladiaConfigError("not a gladia_async checkpoint token (expected 'v1.…')")
        body = token[len(TOKEN_PREFIX) :]
        if not re.fullmatch(r"[A-Za-z0-9_-]*", body) or len(body) % 4 == 1:
            raise GladiaConfigError("malformed checkpoint token")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return _DECODER.decode(raw)
        except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
            raise GladiaConfigError(f"invalid checkpoint token: {exc}") from None

    def with_offset(self, offset: int) -> Checkpoint:
        """The same listing at another offset."""
        return msgspec.structs.replace(self, offset=offset)

    def params(self) -> list[tuple[str, str]]:
        """The filter query parameters (without offset/limit), ``status`` repeated."""
        out = [("status", s) for s in self.status]
        for key, value in (
            ("date", self.date),
            ("before_date", self.before_date),
            ("after_date", self.after_date),
            ("custom_metadata", self.custom_metadata),
        ):
            if value is not None:
                out.append((key, value))
        return out

    def __repr__(self) -> str:
        return f"Checkpoint(path={self.path!r}, offset={self.offset}, token={self.token!r})"


def _validate_checkpoint(cp: Checkpoint) -> None:
    """The field constraints again, and shapes they cannot state: msgspec checks constraints
    only when decoding, and a listing must never hand out a checkpoint ``from_token`` refuses."""
    if not PATH_RE.fullmatch(cp.path):
        raise GladiaConfigError("invalid checkpoint path")
    check_int(cp.offset, "offset", 0, MAX_OFFSET)
    check_int(cp.page_size, "page_size", 1, MAX_PAGE_SIZE)
    if len(cp.status) > MAX_STATUSES or any(len(s) > 64 for s in cp.status):
        raise GladiaConfigError(f"at most {MAX_STATUSES} status filters of 64 characters")
    if cp.date is not None and not DATE_RE.fullmatch(cp.date):
        raise GladiaConfigError("invalid checkpoint date")
    check_int(cp.shards, "shards", 0, MAX_SHARDS)
    check_int(cp.max_depth, "max_depth", 0, MAX_OFFSET)
    if cp.window_count is not None:
        check_int(cp.window_count, "window_count", 0, MAX_OFFSET)
    if cp.last is not None:
        check_int(cp.last, "last", -MAX_OFFSET, MAX_OFFSET)
    check_int(cp.last_count, "last_count", 0, MAX_OFFSET)
    if cp.sketch is not None and (
        not isinstance(cp.sketch, bytes) or len(cp.sketch) != SKETCH_BYTES
    ):
        raise GladiaConfigError("invalid checkpoint sketch")
    if not isinstance(cp.oldest_first, bool):
        raise GladiaConfigError("invalid checkpoint oldest_first")
    for value in (cp.before_date, cp.after_date, cp.edge):
        if value is not None and not INSTANT_RE.fullmatch(value):
            raise GladiaConfigError("invalid checkpoint date bound")
    if any(not s or not s.isascii() or not s.isprintable() for s in cp.status):
        raise GladiaConfigError("invalid checkpoint status")
    if cp.custom_metadata is not None:
        if len(cp.custom_metadata) > MAX_METADATA_LENGTH:
            raise GladiaConfigError(
                f"custom_metadata filter longer than {MAX_METADATA_LENGTH} characters of JSON"
            )
        try:
            meta = msgspec.json.decode(cp.custom_metadata)
        except msgspec.DecodeError:
            raise GladiaConfigError("invalid checkpoint custom_metadata") from None
        if not isinstance(meta, dict):
            raise GladiaConfigError("checkpoint custom_metadata must be a JSON object")


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Checkpoint)


# -- Stats --------------------------------------------------------------------------------------


@dataclass(slots=True)
class StreamStats:
    """Counters of one stream, live while it runs (read ``stream.stats`` at any time)."""

    requests: int = 0
    """Page requests started (including re-requests and wasted ones)."""
    pages: int = 0
    """Pages received and used."""
    items: int = 0
    """Items handed to the caller."""
    duplicates: int = 0
    """Items skipped because their id was already yielded (the list shifted under the walk)."""
    rate_limited: int = 0
    """Pages refused with 429 after the transport's retries; each was re-requested."""
    errors: int = 0
    """Page failures that ended the stream."""
    wasted: int = 0
    """Speculative requests past the end of the list, or dropped after a short page."""
    gaps: int = 0
    """Short pages with a ``next`` link (not the last page): the rest was requested again."""
    cancelled: int = 0
    """In-flight requests cancelled by close, max_items or a cancelled consumer."""
    window: int = 1
    """Current prefetch window (shrinks on 429, grows back by one per good page)."""
    max_in_flight: int = 0
    """Largest number of page requests in flight at once."""
    page_size: int = 0
    """Effective page size (lower than asked when the server caps ``limit``)."""
    bytes: int = 0
    """Response body bytes received for pages (wasted ones too), as counted by the fetch."""
    retries: int = 0
    """Retries the transport made for this stream's page requests, in total."""
    last_headers: Mapping[str, str] | None = None
    """Response headers of the last page the stream reached (None before the first)."""


# -- ListStream ---------------------------------------------------------------------------------


class _Slot(Generic[T]):
    """One page request of the window: its offset, limit and task."""

    __slots__ = ("limit", "offset", "task")

    def __init__(
        self, offset: int, limit: int, task: asyncio.Task[Page[T] | Callable[[], Page[T]]]
    ) -> None:
        self.offset = offset
        self.limit = limit
        self.task = task


class _IdWindow:
    """The ids of the most recently yielded items: a bounded set for duplicate suppression."""

    __slots__ = ("_order", "_size", "ids")

    def __init__(self, size: int) -> None:
        self._order: deque[str] = deque()
        self._size = size
        self.ids: set[str] = set()
        """The remembered ids (read-only for callers: change it through add/remember)."""

    def add(self, item_id: str) -> bool:
        """Remember an id; False if it is already remembered (a duplicate)."""
        if item_id in self.ids:
            return False
        self.remember(item_id)
        return True

    def remember(self, item_id: str) -> None:
        """Remember an id known not to be remembered yet, forgetting the oldest if full."""
        order = self._order
        if len(order) == self._size:
            self.ids.discard(order.popleft())
        order.append(item_id)
        self.ids.add(item_id)

    def __len__(self) -> int:
        return len(self.ids)


async def _call(func: Callable[..., Awaitable[R]], *args: object) -> R:
    """Tasks run this module-level coroutine, never a bound method: a task must not keep its
    stream alive, so an abandoned stream is collected and its ``__del__`` cancels the tasks."""
    return await func(*args)


def _cancel_quietly(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel tasks from ``__del__``: retrieve finished ones' errors, never raise."""
    for task in tasks:
        try:
            if task.done():
                if not task.cancelled():
                    task.exception()
            else:
                task.cancel()
        except RuntimeError:  # the loop is closed
            pass


def check_int(value: int, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in [minimum, maximum], else GladiaConfigError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise GladiaConfigError(f"{name} must be an int {bound}")
    return value


class _Closing:
    """``async with`` support for the streams: leaving the block calls ``aclose()``."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ListStream(_Closing, Generic[T]):
    """Async iterator over every item of a listing, in offset order, each id at most once.

    Pages are requested at computed offsets (the previous offset plus the items received):
    the server's ``next`` link only says whether more follow (its origin is never contacted),
    so the outcome does not depend on ``concurrency``. With ``concurrency=W > 1`` up to W
    requests run ahead; pages are still yielded strictly in order and at most W pages are in
    flight or held at once. A short page with a ``next`` link is not the end: the rest is
    requested again from where it stopped (an empty one raises PaginationError).

    Use ``async with stream:`` or ``await stream.aclose()`` to stop early: it cancels and awaits
    every request in flight. A stream dropped without closing cancels its requests when it is
    garbage collected, which is later and less tidy. Single use: iterate it once.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], Awaitable[Page[T] | Callable[[], Page[T]]]],
        start: Checkpoint,
        *,
        concurrency: int = 4,
        max_items: int | None = None,
        stats: StreamStats | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        check_int(concurrency, "concurrency", 1)
        if max_items is not None:
            check_int(max_items, "max_items", 0)
        self._fetch = fetch
        self._start = start
        self._concurrency = concurrency
        self._max_items = max_items
        self._policy = retry_policy or RetryPolicy()  # the client's: 429 pauses and their cap
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        """The pause before re-requesting a page refused with 429; tests may replace it."""
        self.stats = stats or StreamStats()
        """Live counters; pass ``stats`` to share it with ``fetch`` (e.g. to count bytes)."""
        self.stats.window, self.stats.page_size = concurrency, start.page_size
        self._page_size = start.page_size
        self._cursor = start.offset  # position of the first item not yet yielded
        self._next_offset: int | None = start.offset  # where the next request goes
        self._slots: deque[_Slot[T]] = deque()
        self._dying: set[asyncio.Task[Any]] = set()  # cancelled, not yet finished
        self._seen = _IdWindow(max(DEDUPE_MIN_IDS, 2 * start.page_size * concurrency))
        self._page: Page[T] | None = None  # page being yielded item by item
        self._index = 0
        self._rate_limit_streak = 0
        self._end = False  # the server said there is nothing after the slots/page we hold
        self._started = False  # anext() was called
        self._claimed = False  # __aiter__() or pages() was called
        self._closed = False
        self._waiting = False  # a task is inside _next_page
        self._failure: BaseException | None = None

    # -- public surface --

    @property
    def checkpoint(self) -> Checkpoint:
        """Filters, page size and the offset of the first item not yet yielded."""
        return self._start.with_offset(self._cursor)

    @property
    def concurrency(self) -> int:
        """The largest prefetch window this stream may use."""
        return self._concurrency

    def __aiter__(self) -> ListStream[T]:
        # Single use: a second `async for` (or one after pages()) is an error; items taken
        # with anext() before a first `async for` are simply not repeated.
        if self._claimed:
            raise RuntimeError("a ListStream can be iterated only once; call list() again")
        self._claimed = True
        return self

    async def __anext__(self) -> T:
        self._started = True
        while True:
            page = self._page
            if page is not None:
                # The per-item path: `_keep` and `_IdWindow.add` inlined (most of a stream's
                # own CPU is spent here, once per item).
                items, index, offset = page.items, self._index, page.offset
                seen = self._seen
                stats = self.stats
                while index < len(items):
                    item = items[index]
                    index += 1
                    item_id = item.id
                    if item_id in seen.ids:
                        stats.duplicates += 1
                        continue
                    seen.remember(item_id)
                    stats.items += 1
                    self._index, self._cursor = index, offset + index
                    if self._max_items is not None and stats.items >= self._max_items:
                        await self.aclose()
                    return item
                self._index, self._cursor = index, offset + index
                self._page = None
            if self._quota_met():
                await self.aclose()
            nxt = await self._next_page()
            if nxt is None:
                raise StopAsyncIteration
            self._page, self._index = nxt, 0

    def pages(self) -> _PageIterator[T]:
        """An async iterator of pages (each a ``Page[T]`` with ``.offset``); duplicates removed,
        the last page cut at ``max_items``, never an empty page. Use it instead of the items.
        """
        if self._claimed or self._started:
            raise RuntimeError("a ListStream can be iterated only once; call list() again")
        self._claimed = self._started = True
        return _PageIterator(self)

    async def aclose(self) -> None:
        """Cancel and await every request in flight; later iteration ends at once. Idempotent."""
        self._closed = True
        self._page = None
        await self._cancel_all()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._started else "new")
        return (
            f"<ListStream {self._start.path} offset={self._cursor} "
            f"concurrency={self._concurrency} {state}>"
        )

    def __del__(self) -> None:
        # An abandoned stream: cancel what it started.
        _cancel_quietly([slot.task for slot in getattr(self, "_slots", ())])
        _cancel_quietly(getattr(self, "_dying", ()))

    # -- machinery --

    def _quota_met(self) -> bool:
        """True once ``max_items`` items were yielded."""
        return self._max_items is not None and self.stats.items >= self._max_items

    def _keep(self, item: T) -> bool:
        """Count ``item`` as yielded, or as a duplicate (False) if its id was yielded before."""
        if self._seen.add(item.id):
            self.stats.items += 1
            return True
        self.stats.duplicates += 1
        return False

    async def _next_page_for_pages(self) -> Page[T] | None:
        """The next non-empty page, duplicates removed and cut at max_items; for ``pages()``."""
        while True:
            if self._quota_met():
                await self.aclose()
            page = await self._next_page()
            if page is None:
                return None
            kept: list[T] = []
            consumed = 0
            for item in page.items:
                if self._quota_met():
                    break
                consumed += 1
                if self._keep(item):
                    kept.append(item)
            self._cursor = page.offset + consumed
            if kept:
                return msgspec.structs.replace(page, items=kept)

    async def _next_page(self) -> Page[T] | None:
        """The next page in offset order, or None at the end; raises failures with a checkpoint.

        One caller at a time: a second task waiting meanwhile gets RuntimeError (as an async
        generator's ``anext`` does) and takes nothing from the stream."""
        if self._failure is not None:
            raise self._failure
        if self._waiting:
            raise RuntimeError("anext(): this stream is already being iterated by another task")
        self._waiting = True
        try:
            return await self._walk()
        finally:
            self._waiting = False

    async def _walk(self) -> Page[T] | None:
        while not self._closed:
            await self._reap()
            self._fill()
            if not self._slots:
                self._closed = True
                return None
            slot = self._slots[0]
            try:
                await asyncio.wait((slot.task,))
            except asyncio.CancelledError:
                # The consumer was cancelled (e.g. a timeout around anext): stop all work now,
                # and let a later anext re-request from the first page not yet received.
                await self._rewind(slot)
                raise
            if self._closed:  # aclose() from another task meanwhile
                return None
            self._slots.popleft()
            try:
                result = slot.task.result()
                page = result if isinstance(result, Page) else result()
                return self._accept(slot, page)
            except RateLimitError as exc:
                if (
                    self._rate_limit_streak + 1 < MAX_RATE_LIMIT_REQUESTS
                    and (exc.retry_after or 0) <= self._policy.retry_after_cap  # else: fail now
                ):
                    await self._rate_limited(slot, exc)
                    continue
                await self._fail(exc)
                raise
            except BaseException as exc:
                await self._fail(exc)
                raise
        return None

    async def _fail(self, exc: BaseException) -> None:
        """End the stream on a failed page; a later anext raises the same error again (never
        StopAsyncIteration: items are missing). A GladiaError carries where to resume."""
        self.stats.errors += 1
        if isinstance(exc, GladiaError):
            exc.checkpoint = self.checkpoint
        if isinstance(exc, Exception):
            self._failure = exc
        self._closed = True
        await self._cancel_all()

    async def _rewind(self, slot: _Slot[T]) -> None:
        """Cancel all requests; the next ``_fill`` starts again at ``slot`` (not yet received)."""
        self._next_offset = slot.offset
        await self._cancel_all()

    def _accept(self, slot: _Slot[T], page: Page[T]) -> Page[T]:
        """Position a received page, decide where the walk goes on, adapt the window.

        Positions come from offsets and item counts, never from the ``next`` link, which only
        says whether more items exist: the outcome is the same at every concurrency.
        """
        self.stats.pages += 1
        self._rate_limit_streak = 0
        if self.stats.window < self._concurrency:
            self.stats.window += 1
        items = page.items
        n = len(items)
        trimmed = n > slot.limit
        if trimmed:
            # The server ignored `limit`: keep what was asked; the next page covers the rest.
            items, n = items[: slot.limit], slot.limit
        end = slot.offset + n
        nxt = _next_offset(page.next_url, slot.offset) if page.next_url else None
        if end > MAX_OFFSET:
            raise PaginationError(f"offset {end} exceeds {MAX_OFFSET}", url=page.next_url)
        page = msgspec.structs.replace(page, items=items, offset=slot.offset)
        if nxt is None and not trimmed:
            self._end = True
            self._drop_slots("wasted")
        elif n == 0:
            raise PaginationError(
                f"the page at offset {slot.offset} is empty but its next link says more items "
                "follow; stopping instead of skipping them",
                url=page.next_url,
            )
        elif n < slot.limit:
            if nxt == end:
                # The server caps `limit`: realign the window on the size it really serves.
                self._page_size = self.stats.page_size = n
            else:
                self.stats.gaps += 1  # a short page that is not the last: re-request the rest
            self._drop_slots("wasted")
            self._next_offset = end
        return page

    async def _rate_limited(self, slot: _Slot[T], exc: RateLimitError) -> None:
        """Shrink the window and re-request the refused page after a pause."""
        self.stats.rate_limited += 1
        self._rate_limit_streak += 1
        self.stats.window = max(1, self.stats.window // 2)
        try:
            await self.sleep(_rate_limit_delay(exc, self._rate_limit_streak, self._policy))
        except asyncio.CancelledError:
            await self._rewind(slot)
            raise
        self._slots.appendleft(self._spawn(slot.offset, slot.limit))

    def _fill(self) -> None:
        """Start page requests until the window is full.

        Called only once the previous page is used up, so in flight + held <= window."""
        window = self.stats.window
        while not self._end and self._next_offset is not None and len(self._slots) < window:
            offset = self._next_offset
            limit = self._page_size
            if self._max_items is not None:
                wanted = self._cursor + (self._max_items - self.stats.items) - offset
                if wanted <= 0:
                    break
                limit = min(limit, wanted)
            self._slots.append(self._spawn(offset, limit))
            self._next_offset = offset + limit
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._slots))

    def _spawn(self, offset: int, limit: int) -> _Slot[T]:
        self.stats.requests += 1
        task = asyncio.get_running_loop().create_task(
            _call(self._fetch, offset, limit), name=f"gladia-list-{offset}"
        )
        return _Slot(offset, limit, task)

    def _drop_slots(self, counter: str) -> None:
        """Cancel every request of the window, counting them under ``counter``; ``_reap``
        awaits them. Synchronous, so no state is lost if the caller is cancelled meanwhile."""
        if not self._slots:
            return
        setattr(self.stats, counter, getattr(self.stats, counter) + len(self._slots))
        for slot in self._slots:
            slot.task.cancel()
            self._dying.add(slot.task)
        self._slots.clear()

    async def _cancel_all(self) -> None:
        """Cancel every request of the window and wait until they are all finished."""
        self._drop_slots("cancelled")
        await self._reap()

    async def _reap(self) -> None:
        """Wait until every cancelled request has finished (nothing left pending)."""
        while self._dying:
            tasks = set(self._dying)
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # retrieved: no "exception was never retrieved" log
            self._dying -= tasks


class _PageIterator(Generic[T]):
    """The page view of a ListStream (``stream.pages()``)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: ListStream[T]) -> None:
        self._stream = stream

    def __aiter__(self) -> _PageIterator[T]:
        return self

    async def __anext__(self) -> Page[T]:
        page = await self._stream._next_page_for_pages()
        if page is None:
            raise StopAsyncIteration
        return page


def _next_offset(url: str, current: int) -> int:
    """The offset a ``next`` link points at; it must move forward and stay below 2**53."""
    try:
        values = parse_qs(urlsplit(url).query).get("offset", ["0"])
        nxt = int(values[-1])
    except ValueError:
        raise PaginationError("next link has no usable offset", url=url) from None
    if nxt > MAX_OFFSET:
        raise PaginationError(f"next link offset exceeds {MAX_OFFSET}", url=url)
    if nxt <= current:
        raise PaginationError(
            f"next link does not advance (offset {current} -> {nxt}); stopping instead of looping",
            url=url,
        )
    return nxt


def _rate_limit_delay(exc: RateLimitError, streak: int, policy: RetryPolicy) -> float:
    """Seconds to wait before re-requesting a page refused with 429."""
    if exc.retry_after is not None:
        return max(0.0, exc.retry_after)
    return float(min(policy.base_delay * 2 ** (streak - 1), policy.max_delay))


# -- GetManyStream ------------------------------------------------------------------------------


class GetManyStream(_Closing, Generic[K, R]):
    """Async iterator of ``func(key)`` results in input order, at most ``concurrency`` at once.

    Keys are drawn lazily from the iterable (or async iterable, closed with the stream), so the
    buffer stays bounded by ``concurrency`` whatever the input size. The first failure, in
    input order, cancels the calls in flight and raises (then again on every later ``anext``);
    wrap ``func`` with ``capture_errors`` to receive errors as values instead. An error of the
    key iterable itself is raised in its place in the order, after the results before it.
    Close early with ``aclose()`` or ``async with``.
    """

    def __init__(
        self,
        keys: Iterable[K] | AsyncIterable[K],
        func: Callable[[K], Awaitable[R]],
        *,
        concurrency: int = 8,
    ) -> None:
        check_int(concurrency, "concurrency", 1)
        if isinstance(keys, str | bytes):
            raise GladiaConfigError("pass an iterable of ids, not a single string")
        self._keys: Iterator[K] | AsyncIterator[K] | None = (
            aiter(keys) if isinstance(keys, AsyncIterable) else iter(keys)
        )
        self._func = func
        self._concurrency = concurrency
        self._tasks: deque[asyncio.Future[R]] = deque()
        self._key_task: asyncio.Task[K] | None = None  # reading the next key of an async source
        self._waiting = False  # a task is inside __anext__
        self._claimed = False
        self._closed = False
        self._failure: Exception | None = None

    def __aiter__(self) -> GetManyStream[K, R]:
        if self._claimed:
            raise RuntimeError("a GetManyStream can be iterated only once")
        self._claimed = True
        return self

    async def __anext__(self) -> R:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise StopAsyncIteration
        if self._waiting:
            raise RuntimeError("anext(): this stream is already being iterated by another task")
        self._waiting = True
        try:
            return await self._next_result()
        finally:
            self._waiting = False

    async def _next_result(self) -> R:
        await self._fill()
        if not self._tasks:
            self._closed = True
            raise StopAsyncIteration
        task = self._tasks[0]
        await asyncio.wait((task,))  # a cancelled consumer leaves the call running, in order
        if self._closed:  # aclose() from another task meanwhile
            raise StopAsyncIteration
        self._tasks.popleft()
        try:
            return task.result()
        except BaseException as exc:
            if isinstance(exc, Exception):
                self._failure = exc  # first: a consumer cancelled in aclose() must see it again
            await self.aclose()
            raise

    async def _fill(self) -> None:
        """Start calls for the next keys until ``concurrency`` are in flight or held."""
        loop = asyncio.get_running_loop()
        while (keys := self._keys) is not None and len(self._tasks) < self._concurrency:
            try:
                key = await self._next_key(keys) if isinstance(keys, AsyncIterator) else next(keys)
            except (StopIteration, StopAsyncIteration):
                self._keys = None
                break
            except Exception as exc:  # the key source failed: raise it in its place
                self._keys = None
                failed: asyncio.Future[R] = loop.create_future()
                failed.set_exception(exc)
                self._tasks.append(failed)
                break
            coro = _call(self._func, key)
            task = loop.create_task(coro, name="gladia-get-many")
            self._tasks.append(task)

    async def _next_key(self, keys: AsyncIterator[K]) -> K:
        """The next key of an async source, read in a task of its own: a consumer cancelled
        meanwhile leaves the read running (the source is not cancelled, so it does not end) and
        the next ``anext`` takes its key."""
        task = self._key_task
        if task is None:
            task = asyncio.get_running_loop().create_task(_anext(keys), name="gladia-get-many-keys")
            self._key_task = task
        await asyncio.wait((task,))
        self._key_task = None
        if task.cancelled():  # cancelled from inside the source: its end is not the ids' end
            raise GladiaError("the id source was cancelled before its end")
        return task.result()

    async def aclose(self) -> None:
        """Cancel and await every call in flight. Idempotent."""
        self._closed = True
        keys, self._keys = self._keys, None
        key_task, self._key_task = self._key_task, None
        if key_task is not None:
            key_task.cancel()
            await asyncio.wait((key_task,))
            if not key_task.cancelled():
                key_task.exception()  # retrieved
        if isinstance(keys, AsyncGenerator):
            with contextlib.suppress(RuntimeError):  # already running: its owner closes it
                await keys.aclose()
        tasks = list(self._tasks)
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def __del__(self) -> None:
        _cancel_quietly(getattr(self, "_tasks", ()))
        key_task = getattr(self, "_key_task", None)
        if key_task is not None:
            _cancel_quietly((key_task,))


async def _anext(keys: AsyncIterator[K]) -> K:
    return await anext(keys)


def capture_errors(func: Callable[[K], Awaitable[R]]) -> Callable[[K], Awaitable[R | GladiaError]]:
    """Wrap ``func`` so that a GladiaError it raises is returned instead (for get_many)."""

    async def captured(key: K) -> R | GladiaError:
        try:
            return await func(key)
        except GladiaError as exc:
            return exc

    return captured
