"""Listings are checked against their own filters: a server that ignores one is caught.

How the real API reads some filters is not documented (the ``custom_metadata`` encoding, date
bounds, comma-joined statuses: REFERENCE section 1), so every item of a filtered listing is
checked against what was asked (``status``, ``date``/``before_date``/``after_date``,
``custom_metadata`` as a subset). An item that does not match raises FilterMismatchError naming
the filter (the stream sets ``exc.checkpoint``), or with ``on_mismatch="drop"`` is dropped and
counted in ``stream.stats.dropped``. Date bounds are accepted inclusive on both ends, as the API
does not say which it uses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

from ._errors import DecodeError, GladiaConfigError
from ._streams import Checkpoint, ListStream, StreamStats, check_int
from .types.common import Page

__all__ = [
    "FilterMismatchError",
    "ItemFilter",
    "ListingStats",
    "OnMismatch",
    "check_on_mismatch",
    "listing_stream",
]


class HasId(Protocol):
    """A listed item: a job or a job summary."""

    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)
OnMismatch = Literal["raise", "drop"]
PageOrLater = Page[T] | Callable[[], Page[T]]


class FilterMismatchError(DecodeError):
    """An item of a filtered listing does not match the listing's filters: the server ignored
    (or read differently) ``filter``. ``item_id`` is the offending job; resume from
    ``exc.checkpoint``, or list with ``on_mismatch="drop"`` to drop such items."""

    def __init__(self, message: str, *, filter: str, item_id: str | None) -> None:
        super().__init__(message, detail=f"filter {filter!r} not applied to {item_id!r}")
        self.filter = filter
        self.item_id = item_id


@dataclass(slots=True)
class ListingStats(StreamStats):
    """StreamStats of a listing, plus the items dropped for not matching its filters."""

    dropped: int = 0
    """Items the server returned that did not match the filters (``on_mismatch="drop"``)."""


def check_on_mismatch(value: Any) -> OnMismatch:
    """`value` if it is "raise" or "drop", else GladiaConfigError (before any I/O)."""
    if value not in ("raise", "drop"):
        raise GladiaConfigError(f"on_mismatch must be 'raise' or 'drop', not {value!r}")
    return value  # type: ignore[no-any-return]


class ItemFilter:
    """The filters of one listing, compiled once from its Checkpoint; ``mismatch(item)`` names
    the first filter an item breaks."""

    __slots__ = ("_after", "_before", "_day", "_metadata", "_statuses")

    def __init__(self, cp: Checkpoint) -> None:
        self._statuses = frozenset(cp.status) or None
        self._after = _Instant(cp.after_date) if cp.after_date else None
        self._before = _Instant(cp.before_date) if cp.before_date else None
        self._day = cp.date
        self._metadata = json.loads(cp.custom_metadata) if cp.custom_metadata else None

    @classmethod
    def of(cls, cp: Checkpoint) -> ItemFilter | None:
        """The filter of `cp`, or None when it has no filter to check."""
        if cp.status or cp.after_date or cp.before_date or cp.date or cp.custom_metadata:
            return cls(cp)
        return None

    def mismatch(self, item: Any) -> str | None:
        """The name of the first filter `item` (a job or summary) does not match, or None."""
        if self._statuses is not None and item.status not in self._statuses:
            return "status"
        if self._after or self._before or self._day:
            created = _Instant(item.created_at)
            if self._after is not None and created.before(self._after):
                return "after_date"
            if self._before is not None and self._before.before(created):
                return "before_date"
            if self._day is not None and created.day() != self._day:
                return "date"
        if self._metadata is not None and not _subset(self._metadata, item.custom_metadata):
            return "custom_metadata"
        return None

    def error(self, item: Any, name: str) -> FilterMismatchError:
        """The error for `item` breaking filter `name`."""
        asked = {
            "status": sorted(self._statuses or ()),
            "after_date": self._after and self._after.text,
            "before_date": self._before and self._before.text,
            "date": self._day,
            "custom_metadata": self._metadata,
        }[name]
        got = getattr(item, name if name in ("status", "custom_metadata") else "created_at", None)
        return FilterMismatchError(
            f"the server ignored the {name} filter: job {item.id!r} has "
            f"{'created_at' if 'date' in name else name} {got!r}, the listing asked for "
            f"{asked!r}; resume from exc.checkpoint, or pass on_mismatch='drop' to drop such "
            "items",
            filter=name,
            item_id=getattr(item, "id", None),
        )

    def check_page(self, page: Page[Any]) -> None:
        """Raise FilterMismatchError for the first item of `page` that breaks a filter."""
        for item in page.items:
            name = self.mismatch(item)
            if name is not None:
                raise self.error(item, name)


class _Instant:
    """An ISO 8601 instant, compared as text when both sides are in the API's own form
    (``2026-06-12T21:00:09.947Z``: fixed width, UTC), else as datetimes."""

    __slots__ = ("_when", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._when: dt.datetime | None = None

    def _canonical(self) -> bool:
        t = self.text
        return len(t) == 24 and t[10] == "T" and t[-1] == "Z"

    def when(self) -> dt.datetime:
        if self._when is None:
            try:
                value = dt.datetime.fromisoformat(self.text)
            except ValueError:
                value = dt.datetime.min  # unreadable: never inside a bound
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            self._when = value
        return self._when

    def before(self, other: _Instant) -> bool:
        """True when this instant is strictly earlier than `other`."""
        if self._canonical() and other._canonical():
            return self.text < other.text
        return self.when() < other.when()

    def day(self) -> str:
        """The UTC day, YYYY-MM-DD."""
        if self._canonical():
            return self.text[:10]
        when = self.when()
        return when.astimezone(dt.UTC).date().isoformat() if when.year > 1 else ""


def _subset(want: Any, have: Any) -> bool:
    """True when `want` is a (recursive) subset of `have`, values compared as JSON (true != 1)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and _subset(v, have[k]) for k, v in want.items()
        )
    return isinstance(want, bool) == isinstance(have, bool) and bool(want == have)


# -- hooking the checks into a listing ----------------------------------------------------------


def checked_fetch(
    fetch: Callable[[int, int], Awaitable[PageOrLater[T]]], item_filter: ItemFilter
) -> Callable[[int, int], Awaitable[Callable[[], Page[T]]]]:
    """`fetch`, whose pages are checked when the stream reaches them (so the error carries the
    checkpoint of the page's first item)."""

    async def fetch_checked(offset: int, limit: int) -> Callable[[], Page[T]]:
        got = await fetch(offset, limit)

        def page() -> Page[T]:
            decoded = got if isinstance(got, Page) else got()
            item_filter.check_page(decoded)
            return decoded

        return page

    return fetch_checked


class DroppingListStream(ListStream[T]):
    """A ListStream that drops the items breaking its filters, counted in ``stats.dropped``.

    ``max_items`` counts the items kept, so it is enforced here rather than by the base class.
    """

    def __init__(
        self,
        fetch: Callable[[int, int], Awaitable[PageOrLater[T]]],
        start: Checkpoint,
        item_filter: ItemFilter,
        *,
        stats: ListingStats,
        max_items: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fetch, start, stats=stats, **kwargs)
        self._filter = item_filter
        self._listing_stats = stats
        self._limit = max_items
        self._kept = 0

    async def __anext__(self) -> T:
        while True:
            if self._limit is not None and self._kept >= self._limit:
                await self.aclose()
                raise StopAsyncIteration
            item = await super().__anext__()
            if self._filter.mismatch(item) is None:
                self._kept += 1
                if self._limit is not None and self._kept >= self._limit:
                    await self.aclose()  # nothing more is needed: stop what is in flight now
                return item
            self._listing_stats.items -= 1
            self._listing_stats.dropped += 1

    def pages(self) -> _DroppingPages[T]:  # type: ignore[override]
        """Pages without the items that break the filters (empty pages skipped)."""
        if self._limit is not None:
            raise GladiaConfigError("pages() with on_mismatch='drop' takes no max_items")
        return _DroppingPages(super().pages(), self._filter, self._listing_stats)


class _DroppingPages(Generic[T]):
    """The pages of a DroppingListStream."""

    __slots__ = ("_filter", "_pages", "_stats")

    def __init__(self, pages: AsyncIterator[Page[T]], item_filter: ItemFilter, stats: ListingStats):
        self._pages, self._filter, self._stats = pages, item_filter, stats

    def __aiter__(self) -> _DroppingPages[T]:
        return self

    async def __anext__(self) -> Page[T]:
        async for page in self._pages:
            kept = [item for item in page.items if self._filter.mismatch(item) is None]
            dropped = len(page.items) - len(kept)
            self._stats.items -= dropped
            self._stats.dropped += dropped
            if kept:
                return msgspec.structs.replace(page, items=kept)
        raise StopAsyncIteration


def listing_stream(
    fetch: Callable[[int, int], Awaitable[PageOrLater[T]]],
    cp: Checkpoint,
    *,
    on_mismatch: OnMismatch,
    stats: ListingStats,
    max_items: int | None,
    **kwargs: Any,
) -> ListStream[T]:
    """The ListStream of a listing, its items checked against `cp`'s filters."""
    item_filter = ItemFilter.of(cp)
    if item_filter is None:
        return ListStream(fetch, cp, stats=stats, max_items=max_items, **kwargs)
    if on_mismatch == "drop":
        if max_items is not None:
            check_int(max_items, "max_items", 0)
        return DroppingListStream(
            fetch, cp, item_filter, stats=stats, max_items=max_items, **kwargs
        )
    return ListStream(
        checked_fetch(fetch, item_filter), cp, stats=stats, max_items=max_items, **kwargs
    )
