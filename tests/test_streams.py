"""Unit tests of gladia_async._streams against in-memory fetch functions (no HTTP)."""

from __future__ import annotations

import asyncio
import gc
import random
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_async._errors import (
    GladiaConfigError,
    GladiaError,
    InternalServerError,
    NotFoundError,
    PaginationError,
    RateLimitError,
)
from gladia_async._streams import (
    Checkpoint,
    GetManyStream,
    ListStream,
    StreamStats,
    capture_errors,
)
from gladia_async.types.common import Page

from ._servers import other_tasks


class Item(msgspec.Struct, frozen=True):
    id: str


PATH = "/v2/pre-recorded"


def start(page_size: int = 10, offset: int = 0, **filters: object) -> Checkpoint:
    return Checkpoint(path=PATH, offset=offset, page_size=page_size, **filters)  # type: ignore[arg-type]


class FakeList:
    """An in-memory listing with a request log and optional behaviours per call."""

    def __init__(
        self,
        n: int,
        *,
        cap: int | None = None,
        next_on_full_last_page: bool = False,
        origin: str = "https://api.gladia.io",
    ) -> None:
        self.items = [Item(f"j{i:05d}") for i in range(n)]
        self.cap = cap
        self.next_on_full_last_page = next_on_full_last_page
        self.origin = origin
        self.calls: list[tuple[int, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults: dict[int, BaseException] = {}  # call number -> exception to raise
        self.gate: asyncio.Event | None = None
        self.before_page: list[object] = []

    async def __call__(self, offset: int, limit: int) -> Page[Item]:
        number = len(self.calls)
        self.calls.append((offset, limit))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if self.gate is not None:
                await self.gate.wait()
            if number in self.faults:
                raise self.faults[number]
            served = min(limit, self.cap) if self.cap else limit
            chunk = self.items[offset : offset + served]
            end = offset + len(chunk)
            more = end < len(self.items) or (
                self.next_on_full_last_page and chunk and len(chunk) == served
            )
            nxt = f"{self.origin}{PATH}?offset={end}&limit={served}" if more else None
            return Page(items=list(chunk), next_url=nxt)
        finally:
            self.in_flight -= 1


async def until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until condition() holds (bounded; no timing involved)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def collect(stream: ListStream[Item]) -> list[str]:
    async with stream:
        return [item.id async for item in stream]


# -- ordering and the window --------------------------------------------------------------------


@pytest.mark.parametrize("window", range(1, 9))
@pytest.mark.parametrize("n", [0, 1, 10, 11, 10_007])
@pytest.mark.parametrize("full_last", [False, True])
async def test_every_item_once_in_order(window: int, n: int, full_last: bool) -> None:
    page_size = 10 if n < 10_000 else 97
    fake = FakeList(n, next_on_full_last_page=full_last)
    stream = ListStream(fake, start(page_size), concurrency=window)
    ids = await collect(stream)
    assert ids == [i.id for i in fake.items]
    assert fake.max_in_flight <= window
    assert stream.stats.max_in_flight <= window
    assert stream.stats.wasted <= window - 1
    assert stream.stats.items == n
    assert stream.stats.requests == len(fake.calls)
    assert stream.checkpoint.offset == n
    assert not other_tasks()
    offsets = [c[0] for c in fake.calls]
    assert len(set(offsets)) == len(offsets)  # no page requested twice


async def test_sequential_mode_follows_next_offset_only() -> None:
    fake = FakeList(35, origin="https://evil.example")
    stream = ListStream(fake, start(10), concurrency=1)
    assert await collect(stream) == [i.id for i in fake.items]
    assert fake.calls == [(0, 10), (10, 10), (20, 10), (30, 10)]


async def test_next_that_does_not_advance_is_an_error() -> None:
    async def fetch(offset: int, limit: int) -> Page[Item]:
        items = [Item(f"x{offset + k}") for k in range(limit)]
        return Page(items=items, next_url=f"https://api.gladia.io{PATH}?offset=0&limit={limit}")

    for window in (1, 3):
        stream = ListStream(fetch, start(5), concurrency=window)
        seen: list[str] = []
        with pytest.raises(PaginationError) as info:
            async with stream:
                async for item in stream:
                    seen.append(item.id)
        assert isinstance(info.value, GladiaError)
        assert info.value.checkpoint is not None
        assert seen == []  # the first page's link is already invalid
        assert not other_tasks()


async def test_server_capping_the_limit_is_not_mistaken_for_the_end() -> None:
    for window in (1, 2, 5):
        fake = FakeList(103, cap=7)
        stream = ListStream(fake, start(20), concurrency=window)
        assert await collect(stream) == [i.id for i in fake.items]
        if window > 1:
            assert stream.stats.page_size == 7


async def test_window_is_bounded_while_the_consumer_is_slow() -> None:
    fake = FakeList(200)
    stream = ListStream(fake, start(10), concurrency=4)
    async with stream:
        async for item in stream:
            if item.id == "j00015":
                for _ in range(20):
                    await asyncio.sleep(0)
                # in flight + buffered, counting the page being yielded
                assert len(stream._slots) + 1 <= 4
                assert len(fake.calls) <= 5


# -- faults, resume -----------------------------------------------------------------------------


def server_error() -> InternalServerError:
    return InternalServerError("boom", status=500)


@pytest.mark.parametrize("window", [1, 3, 8])
async def test_random_failures_resume_without_loss_or_repeat(window: int) -> None:
    rng = random.Random(window)
    fake = FakeList(1003)
    got: list[str] = []
    cp: Checkpoint | str = start(13)
    failures = 0
    while True:
        base = len(fake.calls)
        fake.faults = {base + k: server_error() for k in range(60) if rng.random() < 0.1}
        stream = ListStream(
            fake,
            cp if isinstance(cp, Checkpoint) else Checkpoint.from_token(cp),
            concurrency=window,
        )
        try:
            async with stream:
                async for item in stream:
                    got.append(item.id)
            break
        except InternalServerError as exc:
            failures += 1
            assert exc.checkpoint is not None
            assert exc.checkpoint == stream.checkpoint
            cp = exc.checkpoint.token
            assert not other_tasks()
    assert failures > 0
    assert got == [i.id for i in fake.items]


async def test_failure_is_reraised_not_mistaken_for_the_end() -> None:
    fake = FakeList(50)
    fake.faults = {2: server_error()}
    stream = ListStream(fake, start(10), concurrency=1)
    seen: list[str] = []
    with pytest.raises(InternalServerError):
        async for item in stream:
            seen.append(item.id)
    assert len(seen) == 20
    with pytest.raises(InternalServerError):
        await anext(stream)
    await stream.aclose()


async def test_rate_limit_shrinks_window_and_rerequests_the_page() -> None:
    fake = FakeList(300)
    fake.faults = {k: RateLimitError("slow down", status=429, retry_after=0) for k in (3, 4, 9)}
    stream = ListStream(fake, start(10), concurrency=8)
    assert await collect(stream) == [i.id for i in fake.items]
    assert stream.stats.rate_limited == 3
    assert stream.stats.window == 8  # grew back
    assert stream.stats.requests == len(fake.calls)


async def test_persistent_rate_limit_fails_with_checkpoint() -> None:
    async def fetch(offset: int, limit: int) -> Page[Item]:
        raise RateLimitError("no", status=429, retry_after=0)

    stream = ListStream(fetch, start(10, offset=40), concurrency=2)
    with pytest.raises(RateLimitError) as info:
        await collect(stream)
    assert info.value.checkpoint is not None
    assert info.value.checkpoint.offset == 40
    assert not other_tasks()


# -- exactly once under shifting data -----------------------------------------------------------


async def test_inserts_during_a_walk_are_deduplicated() -> None:
    fake = FakeList(500)
    originals = [i.id for i in fake.items]
    counter = 0

    async def fetch(offset: int, limit: int) -> Page[Item]:
        nonlocal counter
        counter += 1
        fake.items[:0] = [Item(f"new{counter}-{k}") for k in range(3)]  # newest first
        return await fake(offset, limit)

    for window in (1, 4):
        fake.items = [Item(i) for i in originals]
        stream = ListStream(fetch, start(25), concurrency=window)
        ids = await collect(stream)
        assert len(ids) == len(set(ids))
        assert [i for i in ids if not i.startswith("new")] == originals
        assert stream.stats.duplicates > 0


async def test_max_items_and_mid_page_resume() -> None:
    fake = FakeList(95)
    got: list[str] = []
    cp = start(10)
    for _ in range(40):
        stream = ListStream(fake, cp, concurrency=3, max_items=7)
        got += await collect(stream)
        assert stream.stats.items <= 7
        cp = Checkpoint.from_token(stream.checkpoint.token)
        if stream.stats.items < 7:
            break
    assert got == [i.id for i in fake.items]
    assert not other_tasks()


async def test_max_items_does_not_overfetch() -> None:
    fake = FakeList(1000)
    stream = ListStream(fake, start(100), concurrency=8, max_items=5)
    assert len(await collect(stream)) == 5
    assert fake.calls == [(0, 5)]
    stream = ListStream(fake, start(100), concurrency=8, max_items=0)
    assert await collect(stream) == []


async def test_break_then_resume_from_checkpoint() -> None:
    fake = FakeList(64)
    stream = ListStream(fake, start(10), concurrency=4)
    got: list[str] = []
    async with stream:
        async for item in stream:
            got.append(item.id)
            if len(got) == 23:
                break
    assert not other_tasks()
    assert stream.checkpoint.offset == 23
    got += await collect(ListStream(fake, stream.checkpoint, concurrency=2))
    assert got == [i.id for i in fake.items]


# -- pages() ------------------------------------------------------------------------------------


async def test_pages_view() -> None:
    fake = FakeList(45)
    stream = ListStream(fake, start(10, offset=5), concurrency=3, max_items=33)
    pages = [p async for p in stream.pages()]
    assert [p.offset for p in pages] == [5, 15, 25, 35]
    assert [len(p.items) for p in pages] == [10, 10, 10, 3]
    assert stream.checkpoint.offset == 38
    with pytest.raises(RuntimeError):
        stream.pages()


# -- cancellation -------------------------------------------------------------------------------


async def test_single_use() -> None:
    stream = ListStream(FakeList(3), start(10))
    assert len(await collect(stream)) == 3
    with pytest.raises(RuntimeError):
        async for _ in stream:
            pass


async def test_aclose_cancels_in_flight_requests() -> None:
    fake = FakeList(100)
    fake.gate = asyncio.Event()
    stream = ListStream(fake, start(10), concurrency=5)
    consumer = asyncio.create_task(anext(stream))
    await until(lambda: fake.in_flight >= 5)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert not other_tasks()
    assert stream.stats.cancelled == 5
    # the stream survives a cancelled anext and continues where it was
    fake.gate.set()
    assert [i.id async for i in stream] == [i.id for i in fake.items]
    await stream.aclose()
    await stream.aclose()


async def test_timeout_around_anext_keeps_the_stream_usable() -> None:
    fake = FakeList(30)
    fake.gate = asyncio.Event()
    stream = ListStream(fake, start(10), concurrency=3)
    first = await anext(_pump(stream, fake.gate))
    assert first == "j00000"
    await stream.aclose()
    assert not other_tasks()


async def _pump(stream: ListStream[Item], gate: asyncio.Event):  # type: ignore[no-untyped-def]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await anext(stream)
    gate.set()
    yield (await anext(stream)).id


async def test_abandoned_stream_is_cleaned_up_by_gc() -> None:
    fake = FakeList(1000)
    fake.gate = asyncio.Event()
    stream = ListStream(fake, start(10), concurrency=4)
    task = asyncio.create_task(anext(stream))
    await until(lambda: fake.in_flight >= 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stream2 = ListStream(fake, start(10), concurrency=4)
    stream2._fill()  # start requests, then drop the stream without closing it
    assert len(other_tasks()) == 4
    del stream2, task
    gc.collect()
    for _ in range(3):
        await asyncio.sleep(0)
    assert not other_tasks()
    await stream.aclose()


async def test_break_without_aclose_on_unnamed_stream() -> None:
    fake = FakeList(1000)
    async for item in ListStream(fake, start(10), concurrency=6):
        if item.id == "j00003":
            break
    for _ in range(3):
        await asyncio.sleep(0)
    assert not other_tasks()


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"concurrency": 0}, {"concurrency": True}, {"max_items": -1}])
def test_invalid_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(GladiaConfigError):
        ListStream(FakeList(1), start(), **kwargs)  # type: ignore[arg-type]


# -- checkpoint tokens --------------------------------------------------------------------------

_status = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=12)
_instant = st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z")
_meta = st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4).map(
    lambda d: msgspec.json.encode(d).decode()
)


@given(
    offset=st.integers(0, 2**53),
    page_size=st.integers(1, 100_000),
    status=st.lists(_status, max_size=4).map(tuple),
    before=st.none() | _instant,
    after=st.none() | _instant,
    date=st.none() | st.dates().map(lambda d: d.isoformat()),
    meta=st.none() | _meta,
    path=st.sampled_from(["/v2/pre-recorded", "/v2/live"]),
)
@settings(max_examples=200, deadline=None)
def test_token_round_trip(
    offset: int,
    page_size: int,
    status: tuple[str, ...],
    before: str | None,
    after: str | None,
    date: str | None,
    meta: str | None,
    path: str,
) -> None:
    cp = Checkpoint(
        path=path,
        offset=offset,
        page_size=page_size,
        status=status,
        before_date=before,
        after_date=after,
        date=date,
        custom_metadata=meta,
    )
    token = cp.token
    assert token.startswith("v1.")
    assert set(token[3:]) <= set(string.ascii_letters + string.digits + "-_")
    assert Checkpoint.from_token(token) == cp


@given(st.text() | st.text().map(lambda s: "v1." + s))
@settings(max_examples=300, deadline=None)
def test_garbage_tokens_raise_only_config_error(text: str) -> None:
    try:
        Checkpoint.from_token(text)
    except GladiaConfigError:
        pass


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_base64_of_garbage_raises_only_config_error(raw: bytes) -> None:
    import base64

    token = "v1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    try:
        Checkpoint.from_token(token)
    except GladiaConfigError:
        pass


@pytest.mark.parametrize(
    "payload",
    [
        b'{"p":"/v2/pre-recorded","o":-1,"n":10}',
        b'{"p":"/v2/pre-recorded","o":0,"n":0}',
        b'{"p":"http://evil/","o":0,"n":10}',
        b'{"p":"/v2/pre-recorded","o":0,"n":10,"x":1}',
        b'{"p":"/v2/pre-recorded","o":0,"n":10,"b":"yesterday"}',
        b'{"p":"/v2/pre-recorded","o":0,"n":10,"m":"[1]"}',
        b"[]",
    ],
)
def test_invalid_token_contents(payload: bytes) -> None:
    import base64

    token = "v1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")
    with pytest.raises(GladiaConfigError):
        Checkpoint.from_token(token)


def test_checkpoint_params() -> None:
    cp = start(
        10,
        status=("done", "error"),
        before_date="2026-01-01T00:00:00.000Z",
        custom_metadata='{"a":1}',
    )
    assert cp.params() == [
        ("status", "done"),
        ("status", "error"),
        ("before_date", "2026-01-01T00:00:00.000Z"),
        ("custom_metadata", '{"a":1}'),
    ]


# -- get_many -----------------------------------------------------------------------------------


class Getter:
    def __init__(self, missing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.missing = missing
        self.in_flight = 0
        self.max_in_flight = 0
        self.started: list[str] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> Item:
        self.started.append(key)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(random.Random(key).randrange(4)):
                await asyncio.sleep(0)
            if self.gate is not None:
                await self.gate.wait()
            if key in self.missing:
                raise NotFoundError("no such job", status=404)
            return Item(key)
        finally:
            self.in_flight -= 1


async def test_get_many_order_and_bound() -> None:
    getter = Getter()
    consumed = 0

    def keys() -> Iterator[str]:
        nonlocal consumed
        for k in range(500):
            consumed += 1
            yield f"k{k}"

    out: list[Item] = []
    async with GetManyStream(keys(), getter, concurrency=6) as results:
        async for item in results:
            assert consumed <= len(out) + 7
            out.append(item)
    assert [i.id for i in out] == [f"k{k}" for k in range(500)]
    assert getter.max_in_flight <= 6


async def test_get_many_return_exceptions() -> None:
    getter = Getter(missing={"k3", "k7"})
    ids = [f"k{k}" for k in range(10)]
    out = [x async for x in GetManyStream(ids, capture_errors(getter), concurrency=3)]
    assert [type(x).__name__ for x in out].count("NotFoundError") == 2
    assert isinstance(out[3], NotFoundError) and isinstance(out[7], NotFoundError)
    assert [x.id for x in out if isinstance(x, Item)] == [i for i in ids if i not in {"k3", "k7"}]


async def test_get_many_raises_first_error_and_cancels_the_rest() -> None:
    getter = Getter(missing={"k2"})
    stream = GetManyStream([f"k{k}" for k in range(100)], getter, concurrency=4)
    got = []
    with pytest.raises(NotFoundError):
        async for x in stream:
            got.append(x)
    assert len(got) == 2
    assert not other_tasks()
    assert len(getter.started) <= 2 + 4 + 1


async def test_get_many_early_exit_cancels_in_flight() -> None:
    getter = Getter()
    getter.gate = asyncio.Event()
    stream = GetManyStream([f"k{k}" for k in range(100)], getter, concurrency=5)
    task = asyncio.create_task(anext(stream))
    await until(lambda: getter.in_flight >= 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stream.aclose()
    assert not other_tasks()


def test_get_many_rejects_a_single_string() -> None:
    async def f(k: str) -> str:
        return k

    with pytest.raises(GladiaConfigError):
        GetManyStream("abc", f)


# -- bounded memory -----------------------------------------------------------------------------


def generated(n: int) -> Callable[[int, int], Awaitable[Page[Item]]]:
    """A listing of n items made on demand (the source holds nothing)."""

    async def fetch(offset: int, limit: int) -> Page[Item]:
        end = min(n, offset + limit)
        items = [Item(f"{k:036d}") for k in range(offset, end)]
        nxt = f"{PATH}?offset={end}&limit={limit}" if end < n else None
        return Page(items=items, next_url=nxt)

    return fetch


async def test_memory_is_bounded_by_the_window_not_the_length() -> None:
    import tracemalloc

    peaks = {}
    for n in (10_000, 100_000):
        stream = ListStream(generated(n), start(100), concurrency=4)
        tracemalloc.start()
        try:
            count = 0
            async with stream:
                async for _ in stream:
                    count += 1
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert count == n
    # flat once the dedupe window is full (10k); a list of 100k ids alone would be ~10 MB
    assert peaks[100_000] < 1.2 * peaks[10_000]
    assert peaks[100_000] < 1_000_000


async def test_get_many_async_iterable_keys_read_lazily_and_closed() -> None:
    getter = Getter()
    consumed = 0
    closed = False

    async def keys() -> AsyncIterator[str]:
        nonlocal consumed, closed
        try:
            for k in range(100):
                consumed += 1
                yield f"k{k}"
        finally:
            closed = True

    out: list[Item] = []
    async with GetManyStream(keys(), getter, concurrency=4) as results:
        async for item in results:
            assert consumed <= len(out) + 5
            out.append(item)
            if len(out) == 10:
                break
    assert [i.id for i in out] == [f"k{k}" for k in range(10)]
    assert closed and not other_tasks()


async def test_shared_stats_object() -> None:
    fake = FakeList(12)
    stats = StreamStats()

    async def fetch(offset: int, limit: int) -> Page[Item]:
        page = await fake(offset, limit)
        stats.bytes += 100
        return page

    stream = ListStream(fetch, start(5), concurrency=1, stats=stats)
    assert stream.stats is stats and stats.window == 1 and stats.page_size == 5
    assert len(await collect(stream)) == 12
    assert stats.requests == 3 and stats.bytes == 300


@pytest.mark.parametrize("window", [2, 3, 5])
async def test_server_ignoring_limit_loses_nothing(window: int) -> None:
    items = [Item(f"j{i:05d}") for i in range(60)]

    async def overfull(offset: int, limit: int) -> Page[Item]:
        end = min(offset + 25, len(items))  # 25 items whatever `limit` asks
        nxt = f"https://api.gladia.io{PATH}?offset={end}" if end < len(items) else None
        return Page(items=items[offset:end], next_url=nxt)

    got = await collect(ListStream(overfull, start(10), concurrency=window))
    assert got == [i.id for i in items]


@pytest.mark.parametrize("window", [1, 4])
async def test_retry_after_beyond_the_cap_fails_at_once(window: int) -> None:
    fake = FakeList(30)
    fake.faults = {0: RateLimitError("wait a year", status=429, retry_after=365 * 86400.0)}
    stream = ListStream(fake, start(10), concurrency=window)
    with pytest.raises(RateLimitError) as info:
        await collect(stream)
    assert info.value.checkpoint is not None and info.value.checkpoint.offset == 0
    assert stream.stats.rate_limited == 0 and stream.stats.errors == 1
    assert not other_tasks()


class _Item(msgspec.Struct):
    id: str


async def test_deferred_pages_are_built_in_order_only_when_reached() -> None:
    built: list[int] = []

    async def fetch(offset: int, limit: int) -> Callable[[], Page[_Item]]:
        def page() -> Page[_Item]:
            built.append(offset)
            items = [_Item(id=str(i)) for i in range(offset, min(offset + limit, 35))]
            nxt = f"http://x/?offset={offset + limit}" if offset + limit < 35 else None
            return Page(items=items, next_url=nxt)

        return page

    stream = ListStream(
        fetch, Checkpoint(path="/v2/pre-recorded", offset=0, page_size=10), concurrency=4
    )
    got = [item.id async for item in stream]
    assert got == [str(i) for i in range(35)]
    assert built == [0, 10, 20, 30]  # in order; the speculative pages past the end: never built
    assert stream.stats.wasted >= 1
