"""JobCollection: the calls ``/v2/pre-recorded`` and ``/v2/live`` share (``get``, ``delete``,
``download_file``, ``stream_file``, ``list``, ``list_page``, ``count``, ``partition`` and
``get_many``).

Turns keyword filters into a Checkpoint (the wire form of every filter, validated before any
I/O), builds the page-fetch function the stream calls, and picks full or lean item types.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, overload

import msgspec

from .._errors import GladiaConfigError, GladiaError
from .._filters import ItemFilter, ListingStats, OnMismatch, check_on_mismatch, listing_stream
from .._hooks import PageEvent, emit, request_id_of
from .._streams import (
    Checkpoint,
    GetManyStream,
    ListStream,
    StreamStats,
    capture_errors,
    check_int,
)
from .._transport import Response, check_headers, merge_query
from .._windows import DEFAULT_MAX_DEPTH, MetaProbe, Planner, Probe, ShardedStream, plain
from ..types.common import KNOWN_STATUSES, BaseJob, Page, UnknownStatus, suggest_status
from ..types.lean import JobSummary
from . import JobRef, decode_job, decode_page, job_path

if TYPE_CHECKING:
    from .._transport import ByteStream, Headers, Query, Transport

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_GET_MANY_CONCURRENCY",
    "DEFAULT_PAGE_SIZE",
    "DateLike",
    "JobCollection",
    "StatusFilter",
    "build_checkpoint",
]

DEFAULT_PAGE_SIZE = 100
DEFAULT_CONCURRENCY = 4
DEFAULT_GET_MANY_CONCURRENCY = 8

JobT = TypeVar("JobT", bound=BaseJob)
SummaryT = TypeVar("SummaryT", bound=JobSummary)
ItemT = TypeVar("ItemT")

DateLike = str | dt.date | dt.datetime
StatusFilter = str | Iterable[str]


# -- filters ------------------------------------------------------------------------------------


def _instant(value: DateLike, name: str) -> str:
    """An ISO instant in UTC with milliseconds and 'Z' (naive datetimes and bare dates are UTC)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise GladiaConfigError(f"{name} is not an ISO date or date-time: {value!r}") from None
    elif not isinstance(value, dt.datetime):
        if not isinstance(value, dt.date):
            raise GladiaConfigError(f"{name} must be a str, date or datetime")
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def _day(value: DateLike) -> str:
    """A YYYY-MM-DD day for the ``date`` filter (a datetime counts in UTC)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise GladiaConfigError(f"date is not an ISO date: {value!r}") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise GladiaConfigError("date must be a str, date or datetime")


def _statuses(status: StatusFilter) -> tuple[str, ...]:
    """One status or several, deduplicated in order. A value outside JobStatus is refused
    before any I/O (a typo would list nothing), unless wrapped in UnknownStatus."""
    values = (status,) if isinstance(status, str) else tuple(status)
    if not values:
        raise GladiaConfigError("status filter is empty; pass None for no status filter")
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise GladiaConfigError(f"invalid status filter value: {value!r}")
        if value not in KNOWN_STATUSES and not isinstance(value, UnknownStatus):
            guess = suggest_status(value)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise GladiaConfigError(
                f"unknown job status {value!r}{hint}; known: {', '.join(KNOWN_STATUSES)}. "
                f"For a status the API added later, pass UnknownStatus({value!r})"
            )
        value = str(value)
        if value not in out:
            out.append(value)
    return tuple(out)


def _metadata(value: Mapping[str, Any]) -> str:
    """The custom_metadata filter as the JSON object text the API documents."""
    if not isinstance(value, Mapping):
        raise GladiaConfigError("custom_metadata must be a mapping")
    try:
        return msgspec.json.encode(dict(value)).decode()
    except (TypeError, msgspec.EncodeError) as exc:
        raise GladiaConfigError(f"custom_metadata is not JSON-serialisable: {exc}") from None


def _page_params(cp: Checkpoint) -> list[tuple[str, str]]:
    """The query names a page request sets itself (for the ``extra_query`` check)."""
    return [("offset", ""), ("limit", ""), *cp.params()]


def utc_now_iso() -> str:
    """The current instant as the API writes it: ``2026-06-12T21:00:09.947Z``."""
    return _instant(dt.datetime.now(dt.UTC), "now")


def build_checkpoint(
    path: str,
    *,
    status: StatusFilter | None = None,
    date: DateLike | None = None,
    before_date: DateLike | None = None,
    after_date: DateLike | None = None,
    custom_metadata: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> Checkpoint:
    """The Checkpoint of a listing's start: every filter in its wire form, validated."""
    return Checkpoint(
        path=path,
        offset=check_int(offset, "offset", 0),
        page_size=check_int(page_size, "page_size", 1),
        status=() if status is None else _statuses(status),
        date=None if date is None else _day(date),
        before_date=None if before_date is None else _instant(before_date, "before_date"),
        after_date=None if after_date is None else _instant(after_date, "after_date"),
        custom_metadata=None if custom_metadata is None else _metadata(custom_metadata),
    )


def _resume_point(
    path: str, resume: Checkpoint | str, filters: dict[str, Any], page_size: int | None
) -> Checkpoint:
    """The checkpoint to resume from; filters given again must match the token's."""
    cp = Checkpoint.from_token(resume) if isinstance(resume, str) else resume
    if not isinstance(cp, Checkpoint):
        raise GladiaConfigError("resume must be a Checkpoint or a checkpoint token")
    if cp.path != path:
        raise GladiaConfigError(f"this checkpoint belongs to {cp.path}, not {path}")
    given = build_checkpoint(path, **filters)
    for name, value in filters.items():
        if value is not None and getattr(given, name) != getattr(cp, name):
            raise GladiaConfigError(
                f"{name} conflicts with the resumed listing's filter; a resume token carries "
                "its filters, so pass them only to start a new listing"
            )
    if page_size is not None:
        cp = msgspec.structs.replace(cp, page_size=check_int(page_size, "page_size", 1))
    return cp


# -- the mixin ----------------------------------------------------------------------------------


def _page_fetcher(
    transport: Transport,
    cp: Checkpoint,
    item_type: type[ItemT],
    stats: StreamStats | None = None,
    raw_json: bool = False,
) -> Callable[[int, int], Awaitable[Page[ItemT]]]:
    """fetch(offset, limit) -> Page for a stream, adding body sizes to ``stats.bytes``.

    It holds the transport and the stats, never the stream (tasks must not keep it alive).
    """
    path, filters = cp.path, cp.params()

    async def fetch(offset: int, limit: int) -> Page[ItemT]:
        params = [("offset", str(offset)), ("limit", str(limit)), *filters]
        resp = await transport.request("GET", path, params=params)
        _count_retries(stats, resp)
        if stats is not None:
            stats.bytes += len(resp.body)
        page = decode_page(resp.body, item_type, url=resp.url, raw_json=raw_json)
        page.offset = offset
        _page_reached(transport, stats, path, page, resp)
        return page

    return fetch


def _deferred_page_fetcher(
    transport: Transport,
    cp: Checkpoint,
    item_type: type[ItemT],
    stats: StreamStats,
    raw_json: bool = False,
) -> Callable[[int, int], Awaitable[Callable[[], Page[ItemT]]]]:
    """fetch(offset, limit) for a ListStream: the body now, its decoding when the stream
    reaches the page. Decoding in page order, after the next requests went out, keeps the
    window's requests in flight instead of queueing them behind pages not yet needed."""
    path, filters = cp.path, cp.params()

    async def fetch(offset: int, limit: int) -> Callable[[], Page[ItemT]]:
        params = [("offset", str(offset)), ("limit", str(limit)), *filters]
        resp = await transport.request("GET", path, params=params)
        stats.bytes += len(resp.body)
        _count_retries(stats, resp)

        def page() -> Page[ItemT]:
            decoded = decode_page(resp.body, item_type, url=resp.url, raw_json=raw_json)
            decoded.offset = offset
            _page_reached(transport, stats, path, decoded, resp)
            return decoded

        return page

    return fetch


def _count_retries(stats: StreamStats | None, resp: Response) -> None:
    """Add a page request's transport retries to the stream's stats."""
    if stats is not None:
        stats.retries += resp.retries


def _page_reached(
    transport: Transport, stats: StreamStats | None, path: str, page: Page[Any], resp: Response
) -> None:
    """A page was decoded: its headers become ``stats.last_headers``; ``on_page`` hooks run."""
    if stats is not None:
        stats.last_headers = resp.headers
    if transport.hooks:
        rid = request_id_of(resp.headers)
        event = PageEvent(path, page.offset, len(page.items), len(resp.body), rid)
        emit(transport.hooks, "on_page", event)


def _prober(
    transport: Transport, *, check: bool = True
) -> Callable[[Checkpoint, int, int], Awaitable[Page[Probe]]]:
    """probe(window, offset, limit): one list request decoding only what a window needs.
    ``check``: every item is checked against the window's filters (FilterMismatchError), so a
    server that ignores a filter never yields a silently wrong count or partition."""

    async def probe(cp: Checkpoint, offset: int, limit: int) -> Page[Probe]:
        item_filter = ItemFilter.of(cp) if check else None
        kind = MetaProbe if item_filter is not None and cp.custom_metadata else Probe
        page: Page[Probe] = await _page_fetcher(transport, cp, kind)(offset, limit)
        if item_filter is not None:
            item_filter.check_page(page)
        return page

    return probe


def _window_opener(
    transport: Transport,
    item_type: type[Any],
    concurrency: int,
    raw_json: bool,
    on_mismatch: OnMismatch,
) -> Callable[[Checkpoint, int | None], ListStream[Any]]:
    """Opens a plain ListStream on one window (for the sharded walk), its items checked
    against the window's filters like any listing's."""
    policy = transport.retry_policy

    def open_window(cp: Checkpoint, max_items: int | None) -> ListStream[Any]:
        stats = ListingStats()
        fetch = _deferred_page_fetcher(transport, cp, item_type, stats, raw_json)
        return listing_stream(
            fetch,
            cp,
            on_mismatch=on_mismatch,
            concurrency=concurrency,
            max_items=max_items,
            stats=stats,
            retry_policy=policy,
        )

    return open_window


def sharded_stream(
    transport: Transport,
    cp: Checkpoint,
    item_type: type[Any],
    *,
    shards: int,
    concurrency: int,
    max_depth: int | None,
    raw_json: bool,
    on_mismatch: OnMismatch,
    max_items: int | None = None,
) -> ShardedStream[Any]:
    """The ShardedStream of ``list(shards=...)`` over ``cp``, yielding ``item_type`` items
    (sync decodes its own lean type, once per job)."""
    depth = check_int(DEFAULT_MAX_DEPTH if max_depth is None else max_depth, "max_depth", 2)
    check_int(shards, "shards", 1, 1024)
    check_int(concurrency, "concurrency", 1)
    cp = msgspec.structs.replace(cp, shards=shards, max_depth=depth)
    # Windows opened ahead hold one page each; the one being yielded from gets the rest of the
    # shards x concurrency budget.
    head = shards * concurrency - (shards - 1)
    return ShardedStream(
        _window_opener(transport, item_type, head, raw_json, on_mismatch),
        Planner(_prober(transport, check=on_mismatch == "raise"), depth),
        cp,
        max_items=max_items,
    )


class JobCollection(Generic[JobT, SummaryT]):
    """The per-job calls and the listing of one job collection.

    Subclasses set ``_path`` ("/v2/pre-recorded" or "/v2/live"), ``_item_type`` (the job Struct)
    and ``_lean_type`` (its summary), and provide ``self._transport``.
    """

    _path: ClassVar[str]
    _item_type: ClassVar[type[Any]]
    _lean_type: ClassVar[type[Any]]
    _transport: Transport

    async def get(
        self,
        job_id: JobRef,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> JobT:
        """The job with this id (or the id of a CreatedJob, LiveSession or job)."""
        resp = await self._transport.request(
            "GET",
            job_path(self._path, job_id),
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        result: JobT = decode_job(resp.body, self._item_type, url=resp.url)
        return result

    async def delete(
        self,
        job_id: JobRef,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> None:
        """Delete a finished job (the API answers 403 while it is queued or processing)."""
        await self._transport.request(
            "DELETE",
            job_path(self._path, job_id),
            extra_headers=extra_headers,
            extra_query=extra_query,
        )

    async def download_file(
        self,
        job_id: JobRef,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> bytes:
        """The job's audio (a live session's recording) as bytes, bounded by max_response_size."""
        resp = await self._transport.request(
            "GET",
            job_path(self._path, job_id, "/file"),
            timeout=self._transport.file_timeout,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        return resp.body

    def stream_file(
        self,
        job_id: JobRef,
        *,
        chunk_size: int = 256 * 1024,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> ByteStream:
        """The job's audio as an async iterator of byte chunks, for large files.

        Use ``async with gladia.pre_recorded.stream_file(id) as chunks:`` to release the
        connection even when leaving the loop early (it is released when exhausted).
        ``chunks.response`` (status, headers, retries) is set once the first chunk is asked for.
        """
        check_headers(extra_headers)
        merge_query(None, extra_query)
        return self._transport.byte_stream(
            "GET",
            job_path(self._path, job_id, "/file"),
            chunk_size=chunk_size,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )

    @overload
    def list(
        self,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        page_size: int | None = ...,
        max_items: int | None = ...,
        concurrency: int = ...,
        start_offset: int | None = ...,
        resume: Checkpoint | str | None = ...,
        lean: Literal[False] = ...,
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
        shards: None = ...,
        max_depth: int | None = ...,
    ) -> ListStream[JobT]: ...

    @overload
    def list(
        self,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        page_size: int | None = ...,
        max_items: int | None = ...,
        concurrency: int = ...,
        start_offset: int | None = ...,
        resume: Checkpoint | str | None = ...,
        lean: Literal[True],
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
        shards: None = ...,
        max_depth: int | None = ...,
    ) -> ListStream[SummaryT]: ...

    @overload
    def list(
        self,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        page_size: int | None = ...,
        max_items: int | None = ...,
        concurrency: int = ...,
        start_offset: int | None = ...,
        resume: Checkpoint | str | None = ...,
        lean: Literal[False] = ...,
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
        shards: int,
        max_depth: int | None = ...,
    ) -> ShardedStream[JobT]: ...

    @overload
    def list(
        self,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        page_size: int | None = ...,
        max_items: int | None = ...,
        concurrency: int = ...,
        start_offset: int | None = ...,
        resume: Checkpoint | str | None = ...,
        lean: Literal[True],
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
        shards: int,
        max_depth: int | None = ...,
    ) -> ShardedStream[SummaryT]: ...

    @overload
    def list(
        self,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        page_size: int | None = ...,
        max_items: int | None = ...,
        concurrency: int = ...,
        start_offset: int | None = ...,
        resume: Checkpoint | str | None = ...,
        lean: bool = ...,
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
        shards: int | None = ...,
        max_depth: int | None = ...,
    ) -> Any: ...

    def list(
        self,
        *,
        status: StatusFilter | None = None,
        date: DateLike | None = None,
        before_date: DateLike | None = None,
        after_date: DateLike | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        start_offset: int | None = None,
        resume: Checkpoint | str | None = None,
        lean: bool = False,
        raw_json: bool = False,
        on_mismatch: OnMismatch = "raise",
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        shards: int | None = None,
        max_depth: int | None = None,
    ) -> Any:
        """Stream every job matching the filters, newest first, each exactly once.

        Not a coroutine: returns a ListStream at once; nothing is sent until you iterate.
        ``page_size`` is the wire ``limit`` (default 100); ``concurrency`` page requests run
        ahead (1 = sequential, following ``next``); ``max_items`` caps the items yielded;
        ``start_offset`` skips that many; ``resume`` (a Checkpoint or its token) continues a
        listing where it stopped, with its filters. Unless you pass ``before_date``, the listing
        is pinned to now: jobs created later are not part of it. ``lean=True`` yields
        PreRecordedJobSummary/LiveJobSummary: ``result``/``request_params`` left undecoded.
        ``shards=N`` walks the listing as time windows of at most ``max_depth`` jobs (default
        5,000), N at once, each re-counted when walked: every job that exists throughout is
        yielded exactly once even while others are deleted (a ShardedStream; see partition).
        ``raw_json=True`` keeps each item's exact JSON as ``item.raw_json`` (a second pass
        over each page). Every item is checked against the filters: one the server did not
        apply raises FilterMismatchError naming the filter, or with ``on_mismatch="drop"`` is
        dropped and counted in ``stream.stats.dropped``. ``extra_headers``/``extra_query`` go
        with every page request. Invalid arguments raise
        GladiaConfigError here, before any I/O.
        """
        filters: dict[str, Any] = {
            "status": status,
            "date": date,
            "before_date": before_date,
            "after_date": after_date,
            "custom_metadata": custom_metadata,
        }
        if resume is not None:
            if start_offset is not None:
                raise GladiaConfigError("pass start_offset or resume, not both")
            cp = _resume_point(self._path, resume, filters, page_size)
        else:
            if before_date is None:
                filters["before_date"] = utc_now_iso()
            cp = build_checkpoint(
                self._path,
                page_size=DEFAULT_PAGE_SIZE if page_size is None else page_size,
                offset=0 if start_offset is None else start_offset,
                **filters,
            )
        check_headers(extra_headers)
        merge_query(_page_params(cp), extra_query)
        item_type = self._lean_type if lean else self._item_type
        transport = self._transport.scoped(extra_headers, extra_query)
        mismatch = check_on_mismatch(on_mismatch)
        if shards is None and resume is not None and cp.shards:
            shards = cp.shards
        if max_depth is None and cp.max_depth:
            max_depth = cp.max_depth
        if shards is not None:
            return sharded_stream(
                transport,
                cp,
                item_type,
                shards=shards,
                concurrency=concurrency,
                max_depth=max_depth,
                raw_json=raw_json,
                on_mismatch=mismatch,
                max_items=max_items,
            )
        if max_depth is not None:
            raise GladiaConfigError("max_depth applies to a sharded walk: pass shards too")
        if cp.window_count is not None or cp.shards or cp.last is not None:
            cp = plain(cp)
        stats = ListingStats()
        fetch = _deferred_page_fetcher(transport, cp, item_type, stats, raw_json)
        return listing_stream(
            fetch,
            cp,
            on_mismatch=mismatch,
            concurrency=concurrency,
            max_items=max_items,
            stats=stats,
            retry_policy=self._transport.retry_policy,
        )

    def _pinned(self, filters: dict[str, Any], page_size: int | None = None) -> Checkpoint:
        """The checkpoint of a new listing, pinned to now unless ``before_date`` is given."""
        if filters.get("before_date") is None:
            filters["before_date"] = utc_now_iso()
        return build_checkpoint(
            self._path,
            page_size=DEFAULT_PAGE_SIZE if page_size is None else page_size,
            **filters,
        )

    async def count(
        self,
        *,
        status: StatusFilter | None = None,
        date: DateLike | None = None,
        before_date: DateLike | None = None,
        after_date: DateLike | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> int:
        """How many jobs match the filters, pinned like ``list()`` (``before_date`` defaults
        to now). About 2 x log2(n) tiny ``limit=1`` probes (gallop, then bisect), none deeper
        than ``max_depth``; a listing holding more is cut into time windows and added up."""
        cp = self._pinned(
            {
                "status": status,
                "date": date,
                "before_date": before_date,
                "after_date": after_date,
                "custom_metadata": custom_metadata,
            }
        )
        return await Planner(_prober(self._transport), max_depth).count(cp)

    async def partition(
        self,
        parts: int,
        *,
        status: StatusFilter | None = None,
        date: DateLike | None = None,
        before_date: DateLike | None = None,
        after_date: DateLike | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> builtins.list[Checkpoint]:
        """The pinned listing as at most ``parts`` disjoint time windows of similar job counts,
        newest first. Each is a Checkpoint: ``list(resume=cp)`` or ``list(resume=cp.token)``
        walks it, here or in another process. A window holding more than ``max_depth`` jobs
        carries ``shards=1`` and ``max_depth``, so that walk is itself a sharded walk (windows
        of at most ``max_depth``, each verified). Edges fall in gaps between jobs, so the
        windows' union is exactly the listing however the API treats its date bounds. Every
        job a probe reads is checked against the filters (FilterMismatchError)."""
        check_int(parts, "parts", 1)
        cp = self._pinned(
            {
                "status": status,
                "date": date,
                "before_date": before_date,
                "after_date": after_date,
                "custom_metadata": custom_metadata,
            },
            page_size,
        )
        planner = Planner(_prober(self._transport), max_depth)
        windows = await planner.partition(cp, parts)
        out = [w.cp for w in windows]
        return out[::-1] if planner.oldest_first else out

    @overload
    async def list_page(
        self,
        offset: int = ...,
        limit: int = ...,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        lean: Literal[False] = ...,
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
    ) -> Page[JobT]: ...

    @overload
    async def list_page(
        self,
        offset: int = ...,
        limit: int = ...,
        *,
        status: StatusFilter | None = ...,
        date: DateLike | None = ...,
        before_date: DateLike | None = ...,
        after_date: DateLike | None = ...,
        custom_metadata: Mapping[str, Any] | None = ...,
        lean: Literal[True],
        raw_json: bool = ...,
        on_mismatch: OnMismatch = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
    ) -> Page[SummaryT]: ...

    async def list_page(
        self,
        offset: int = 0,
        limit: int = 20,
        *,
        status: StatusFilter | None = None,
        date: DateLike | None = None,
        before_date: DateLike | None = None,
        after_date: DateLike | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
        lean: bool = False,
        raw_json: bool = False,
        on_mismatch: OnMismatch = "raise",
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> Page[JobT] | Page[SummaryT]:
        """Exactly one request: the page at ``offset`` (``page.offset`` set, ``page.next_url``
        as the server sent it). No snapshot pin, no retries beyond the transport's.
        ``raw_json`` and ``on_mismatch`` (items checked against the filters): as for
        ``list()``; dropped items leave the page shorter."""
        cp = build_checkpoint(
            self._path,
            status=status,
            date=date,
            before_date=before_date,
            after_date=after_date,
            custom_metadata=custom_metadata,
            page_size=limit,
            offset=offset,
        )
        item_type = self._lean_type if lean else self._item_type
        check_on_mismatch(on_mismatch)
        transport = self._transport.scoped(extra_headers, extra_query)
        fetch = _page_fetcher(transport, cp, item_type, raw_json=raw_json)
        page: Page[Any] = await fetch(offset, limit)
        item_filter = ItemFilter.of(cp)
        if item_filter is not None:
            if on_mismatch == "drop":
                kept = [item for item in page.items if item_filter.mismatch(item) is None]
                page = msgspec.structs.replace(page, items=kept)
            else:
                item_filter.check_page(page)
        return page

    @overload
    def get_many(
        self,
        job_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = ...,
        return_exceptions: Literal[False] = ...,
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
    ) -> GetManyStream[str, JobT]: ...

    @overload
    def get_many(
        self,
        job_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = ...,
        return_exceptions: Literal[True],
        extra_headers: Headers | None = ...,
        extra_query: Query | None = ...,
    ) -> GetManyStream[str, JobT | GladiaError]: ...

    def get_many(
        self,
        job_ids: Iterable[str] | AsyncIterable[str],
        *,
        concurrency: int = DEFAULT_GET_MANY_CONCURRENCY,
        return_exceptions: bool = False,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> GetManyStream[str, JobT] | GetManyStream[str, JobT | GladiaError]:
        """Fetch many jobs, at most ``concurrency`` at once, yielding them in input order.

        Ids (an iterable or an async iterable) are read lazily, at most ``concurrency`` ahead:
        a generator of a million ids is fine. By default the first failure (in input order)
        cancels the rest and raises; with ``return_exceptions=True`` each failed id yields its
        GladiaError (e.g. NotFoundError) in its place and the batch goes on.
        Use ``async with`` (or ``aclose()``) to stop early without leftovers.
        """
        check_headers(extra_headers)
        merge_query(None, extra_query)
        get: Callable[[str], Awaitable[JobT]] = self.get
        if extra_headers or extra_query:
            get = functools.partial(self.get, extra_headers=extra_headers, extra_query=extra_query)
        if return_exceptions:
            return GetManyStream(job_ids, capture_errors(get), concurrency=concurrency)
        return GetManyStream(job_ids, get, concurrency=concurrency)
