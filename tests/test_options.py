"""Per-call options: `with_options()` copies and `extra_headers` / `extra_query` on every method."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from gladia_async import (
    APITimeoutError,
    GladiaClient,
    GladiaClientClosed,
    GladiaConfigError,
    InternalServerError,
    RetryPolicy,
)
from gladia_async.testing import FakeGladia, Lifecycle

from ._servers import KEY

EXTRA = {"X-Request-ID": "req-42"}
QUERY = {"trace": "t1"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    lifecycle = Lifecycle(queued=0.0, processing=0.0)
    async with FakeGladia(api_key=KEY, jobs=5, live_jobs=2, seed=3, lifecycle=lifecycle) as f:
        yield f


@pytest.fixture
async def gladia(fake: FakeGladia) -> AsyncIterator[GladiaClient]:
    async with GladiaClient(api_key=KEY, base_url=fake.url) as client:

        async def instant(_delay: float) -> None:
            return None

        client._transport.sleep = instant
        yield client


def done_id(fake: FakeGladia) -> str:
    return fake.store.add_job(status="done").id


# -- with_options ---------------------------------------------------------------------------------


async def test_with_options_shares_the_session_and_closes_alone(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    job_id = done_id(fake)
    child = gladia.with_options(timeout=5, max_retries=0)
    assert child is not gladia and child._transport is not gladia._transport
    assert child._transport.session is gladia._transport.session  # one pool, no new session
    assert child._transport.timeout == 5 and gladia._transport.timeout != 5
    assert child._transport.retry_policy.max_retries == 0
    assert gladia._transport.retry_policy.max_retries == 3
    assert (await child.pre_recorded.get(job_id)).id == job_id
    async with gladia.with_options(timeout=2) as scoped:
        await scoped.pre_recorded.get(job_id)
    assert scoped.closed and not gladia.closed
    with pytest.raises(GladiaClientClosed):
        await scoped.pre_recorded.get(job_id)
    assert (await gladia.pre_recorded.get(job_id)).id == job_id  # the parent lives on
    session = gladia._transport.session
    await gladia.aclose()
    assert child.closed and session.closed  # closing the parent closes every copy
    with pytest.raises(GladiaClientClosed):
        await child.pre_recorded.get(job_id)


async def test_with_options_before_first_use_creates_one_session(fake: FakeGladia) -> None:
    job_id = done_id(fake)
    gladia = GladiaClient(api_key=KEY, base_url=fake.url)
    child = gladia.with_options(timeout=3)
    await child.pre_recorded.get(job_id)  # the child opens the shared session ...
    assert gladia._transport.session is child._transport.session
    await child.aclose()
    assert not gladia._transport.session.closed
    await gladia.aclose()  # ... and the parent closes it
    assert child._transport._shared.session is None


async def test_with_options_timeout_and_retries_apply(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    job_id = done_id(fake)
    fake.inject("pre_recorded.get", "latency", delay=0.5, times=1)
    with pytest.raises(APITimeoutError):
        await gladia.with_options(timeout=0.05, max_retries=0).pre_recorded.get(job_id)
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    before = len(fake.requests)
    with pytest.raises(InternalServerError):
        await gladia.with_options(max_retries=0).pre_recorded.get(job_id)
    assert len(fake.requests) - before == 1
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    assert (await gladia.pre_recorded.get(job_id)).id == job_id  # the parent still retries


async def test_with_options_headers_are_sent_and_checked(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    job_id = done_id(fake)
    tenant = gladia.with_options(headers={"X-Tenant": "acme"})
    await tenant.with_options(headers={"X-Team": "web"}).pre_recorded.get(job_id)
    seen = fake.requests[-1].headers
    assert seen["X-Tenant"] == "acme" and seen["X-Team"] == "web" and seen["x-gladia-key"] == KEY
    await gladia.pre_recorded.get(job_id)
    assert "X-Tenant" not in fake.requests[-1].headers
    for bad in ({"X-Gladia-Key": "other"}, {"Content-Type": "text/plain"}, {"Host": "evil"}):
        with pytest.raises(GladiaConfigError):
            gladia.with_options(headers=bad)
    with pytest.raises(GladiaConfigError, match="not both"):
        gladia.with_options(max_retries=1, retry_policy=RetryPolicy())
    with pytest.raises(GladiaConfigError, match="positive"):
        gladia.with_options(timeout=0)
    with pytest.raises(GladiaConfigError, match="max_retries"):
        gladia.with_options(max_retries=-1)
    none = gladia.with_options(timeout=None)
    assert none._transport.timeout is None and gladia._transport.timeout is not None
    assert repr(tenant) == repr(gladia)


# -- extra_headers / extra_query ----------------------------------------------------------------


def _calls(fake: FakeGladia) -> dict[str, Callable[[GladiaClient, dict[str, Any]], Awaitable[Any]]]:
    async def drain(stream: Any) -> None:
        async with stream:
            async for _ in stream:
                pass

    async def live_connect(g: GladiaClient, kw: dict[str, Any]) -> None:
        async with g.live.connect(**kw) as live:
            await live.stop()
            async for _ in live:
                pass

    return {
        "get": lambda g, kw: g.pre_recorded.get(done_id(fake), **kw),
        "delete": lambda g, kw: g.pre_recorded.delete(done_id(fake), **kw),
        "create": lambda g, kw: g.pre_recorded.create(audio_url=f"{fake.url}/a.mp3", **kw),
        "list": lambda g, kw: drain(g.pre_recorded.list(page_size=2, max_items=4, **kw)),
        "list_page": lambda g, kw: g.pre_recorded.list_page(limit=2, **kw),
        "get_many": lambda g, kw: drain(g.pre_recorded.get_many([done_id(fake)], **kw)),
        "download_file": lambda g, kw: g.pre_recorded.download_file(done_id(fake), **kw),
        "stream_file": lambda g, kw: drain(g.pre_recorded.stream_file(done_id(fake), **kw)),
        "upload": lambda g, kw: g.upload(io.BytesIO(b"RIFF0000WAVE"), **kw),
        "upload_url": lambda g, kw: g.upload.upload_url("https://example.com/a.mp3", **kw),
        "wait": lambda g, kw: g.pre_recorded.wait(done_id(fake), **kw),
        "transcribe": lambda g, kw: g.pre_recorded.transcribe(b"RIFF0000WAVE", **kw),
        "live.create": lambda g, kw: g.live.create(**kw),
        "live.get": lambda g, kw: g.live.get(fake.store.ids("live")[0], **kw),
        "live.list_page": lambda g, kw: g.live.list_page(**kw),
        "live.connect": live_connect,
    }


METHODS = [
    "get",
    "delete",
    "create",
    "list",
    "list_page",
    "get_many",
    "download_file",
    "stream_file",
    "upload",
    "upload_url",
    "wait",
    "transcribe",
    "live.create",
    "live.get",
    "live.list_page",
    "live.connect",
]


@pytest.mark.parametrize("name", METHODS)
async def test_every_method_sends_extra_headers_and_query(
    fake: FakeGladia, gladia: GladiaClient, name: str
) -> None:
    call = _calls(fake)[name]
    before = len(fake.requests)
    await call(gladia, {"extra_headers": EXTRA, "extra_query": QUERY})
    sent = [r for r in fake.requests[before:] if r.route != "live.ws"]
    assert sent, name
    for request in sent:
        assert request.headers.get("X-Request-ID") == "req-42", (name, request.route)
        assert ("trace", "t1") in request.query, (name, request.route)
        assert request.headers["x-gladia-key"] == KEY


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize(
    "bad",
    [
        {"extra_headers": {"x-gladia-key": "stolen"}},
        {"extra_headers": {"Authorization": "Bearer x"}},
        {"extra_headers": {"Content-Length": "1"}},
        {"extra_headers": {"X-Evil": "a\r\nInjected: 1"}},
        {"extra_headers": {"bad name": "x"}},
        {"extra_query": {"": "x"}},
    ],
)
async def test_owned_headers_are_refused_before_any_io(
    fake: FakeGladia, gladia: GladiaClient, name: str, bad: dict[str, Any]
) -> None:
    call = _calls(fake)[name]
    before = len(fake.requests)
    with pytest.raises(GladiaConfigError):
        await call(gladia, bad)
    assert len(fake.requests) == before, name


async def test_extra_query_cannot_replace_what_the_method_sets(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    with pytest.raises(GladiaConfigError, match="offset"):
        await gladia.pre_recorded.list_page(extra_query={"offset": "50"})
    with pytest.raises(GladiaConfigError, match="status"):
        gladia.pre_recorded.list(status="done", extra_query=[("status", "error")])
    with pytest.raises(GladiaConfigError, match="region"):
        gladia.live.connect(region="eu-west", extra_query={"region": "us-west"})
    assert not fake.requests
    await gladia.pre_recorded.list_page(extra_query=[("tag", "a"), ("tag", "b")])
    assert [v for k, v in fake.requests[-1].query if k == "tag"] == ["a", "b"]


async def test_client_headers_are_checked_like_extra_headers(fake: FakeGladia) -> None:
    with pytest.raises(GladiaConfigError, match="api_key"):
        GladiaClient(api_key=KEY, base_url=fake.url, headers={"X-Gladia-Key": "k"})
    with pytest.raises(GladiaConfigError, match="set by the client"):
        GladiaClient(api_key=KEY, base_url=fake.url, headers={"Transfer-Encoding": "chunked"})


async def test_a_stream_with_extras_closes_with_its_client(
    fake: FakeGladia, gladia: GladiaClient
) -> None:
    child = gladia.with_options(timeout=5)
    stream = child.pre_recorded.list(page_size=2, extra_headers=EXTRA)
    await child.aclose()
    with pytest.raises(GladiaClientClosed):
        async with stream:
            async for _ in stream:
                pass
    assert not gladia.closed and not fake.requests
