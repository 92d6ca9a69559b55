"""Unit tests of resources/_listing.py: filter normalisation and the page fetch, with a stub
transport (no network)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_async._config import RetryPolicy
from gladia_async._errors import DecodeError, GladiaConfigError, NotFoundError
from gladia_async._streams import (
    MAX_METADATA_LENGTH,
    MAX_PAGE_SIZE,
    MAX_STATUSES,
    Checkpoint,
)
from gladia_async._transport import Response
from gladia_async.resources._listing import JobCollection, build_checkpoint, utc_now_iso
from gladia_async.types.common import UnknownStatus
from gladia_async.types.lean import PreRecordedJobSummary
from gladia_async.types.pre_recorded import PreRecordedJob

from ._servers import fixture

PAGE = fixture("prerecorded_list_page.json")
LAST = fixture("prerecorded_list_last_page.json")


class StubTransport:
    retry_policy = RetryPolicy()
    hooks = ()

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[tuple[str, str]]]] = []

    def scoped(self, extra_headers: object, extra_query: object) -> StubTransport:
        return self

    async def request(
        self, method: str, path: str, *, params: Sequence[tuple[str, str]] | None = None
    ) -> Response:
        params = list(params or [])
        self.calls.append((method, path, params))
        offset = int(dict(params)["offset"])
        body = PAGE if offset == 0 else LAST
        return Response(200, {}, body, "http://127.0.0.1/v2/pre-recorded")


class Resource(JobCollection[PreRecordedJob, PreRecordedJobSummary]):
    _path: ClassVar[str] = "/v2/pre-recorded"
    _item_type: ClassVar[type[Any]] = PreRecordedJob
    _lean_type: ClassVar[type[Any]] = PreRecordedJobSummary

    def __init__(self) -> None:
        self._transport = StubTransport()  # type: ignore[assignment]

    async def get(self, job_id: str, /) -> PreRecordedJob:
        if job_id == "missing":
            raise NotFoundError("no", status=404)
        return msgspec.json.decode(PAGE, type=dict)["items"] and PreRecordedJob(
            id=job_id, request_id="G-1", version=2, status="done", created_at="x", kind="k"
        )


def test_filters_normalised() -> None:
    cp = build_checkpoint(
        "/v2/pre-recorded",
        status=("done", "error", "done"),
        date=dt.datetime(2026, 1, 2, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2))),
        before_date=dt.date(2026, 3, 4),
        after_date="2026-01-01T10:00:00+02:00",
        custom_metadata={"tenant": "acme", "n": 1},
    )
    assert cp.status == ("done", "error")
    assert cp.date == "2026-01-03"
    assert cp.before_date == "2026-03-04T00:00:00.000Z"
    assert cp.after_date == "2026-01-01T08:00:00.000Z"
    assert cp.custom_metadata == '{"tenant":"acme","n":1}'
    naive = build_checkpoint("/v2/live", after_date=dt.datetime(2026, 1, 1, 12, 0, 0, 123456))
    assert naive.after_date == "2026-01-01T12:00:00.123Z"
    assert build_checkpoint("/v2/live", status="queued").status == ("queued",)
    assert build_checkpoint("/v2/live", date="2026-05-06").date == "2026-05-06"


def test_now_format() -> None:
    now = utc_now_iso()
    assert now.endswith("Z") and len(now) == 24
    Checkpoint(path="/v2/live", offset=0, page_size=1, before_date=now)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": ""},
        {"status": [1]},
        {"status": []},
        {"before_date": "soon"},
        {"date": "2026-13-01"},
        {"custom_metadata": {"a": object()}},
        {"page_size": 0},
        {"offset": -1},
        {"page_size": True},
    ],
)
def test_invalid_filters(kwargs: dict[str, Any]) -> None:
    with pytest.raises(GladiaConfigError):
        build_checkpoint("/v2/pre-recorded", **kwargs)


async def test_list_pins_and_fetches() -> None:
    res = Resource()
    stream = res.list(status=["done", "processing"], page_size=2, concurrency=2)
    assert stream.checkpoint.before_date is not None
    jobs = [job async for job in stream]
    assert [j.id for j in jobs] == [
        "c2d9e4f1-8a37-4b6e-b5d0-3f1a7e9c2b64",
        "7f3c2a1e-5b8d-4c2f-9e6a-1d4b8c0f2a93",
        *[j["id"] for j in msgspec.json.decode(LAST)["items"]],
    ]
    calls = res._transport.calls  # type: ignore[attr-defined]
    method, path, params = calls[0]
    assert (method, path) == ("GET", "/v2/pre-recorded")
    assert params[:2] == [("offset", "0"), ("limit", "2")]
    assert ("status", "done") in params and ("status", "processing") in params
    assert dict(params)["before_date"] == stream.checkpoint.before_date


async def test_explicit_before_date_is_not_replaced() -> None:
    stream = Resource().list(before_date="2026-01-01")
    assert stream.checkpoint.before_date == "2026-01-01T00:00:00.000Z"


async def test_lean_list_page() -> None:
    page = await Resource().list_page(offset=0, limit=2, lean=True)
    assert all(isinstance(j, PreRecordedJobSummary) for j in page.items)
    assert page.offset == 0 and page.next_url is not None
    full = msgspec.json.decode(PAGE)["items"]
    assert page.items[1].to_job() == msgspec.convert(full[1], PreRecordedJob)


async def test_resume_carries_filters_and_pin() -> None:
    res = Resource()
    # The stub serves the same page whatever the filter: drop what does not match.
    stream = res.list(status="done", page_size=2, max_items=1, on_mismatch="drop")
    _ = [j async for j in stream]
    token = stream.checkpoint.token
    resumed = res.list(resume=token)
    assert resumed.checkpoint == stream.checkpoint
    assert res.list(resume=token, page_size=50).checkpoint.page_size == 50
    with pytest.raises(GladiaConfigError):
        res.list(resume=token, status=["done", "error"])
    with pytest.raises(GladiaConfigError):
        res.list(resume=token, before_date="2026-01-01")
    with pytest.raises(GladiaConfigError):
        res.list(resume=12)  # type: ignore[call-overload]


async def test_get_many_return_exceptions() -> None:
    res = Resource()
    out = [x async for x in res.get_many(["a", "missing", "b"], return_exceptions=True)]
    assert isinstance(out[1], NotFoundError)
    assert [getattr(x, "id", None) for x in out] == ["a", None, "b"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 100_001},
        {"offset": 2**53 + 1},
        {"status": [f"s{i}" for i in range(17)]},
        {"status": "x" * 65},
        {"custom_metadata": {"k": "é" * 1100}},
    ],
)
def test_a_listing_whose_checkpoint_could_not_resume_is_refused_before_io(
    kwargs: dict[str, Any],
) -> None:
    """Every checkpoint a listing hands out must parse back from its token."""
    with pytest.raises(GladiaConfigError):
        build_checkpoint("/v2/pre-recorded", **kwargs)
    if "offset" in kwargs:
        kwargs = {"start_offset": kwargs["offset"]}
    with pytest.raises(GladiaConfigError):
        Resource().list(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    status=st.lists(
        st.sampled_from(["done", "error", "queued"]) | st.text(min_size=1, max_size=70),
        max_size=18,
    ),
    metadata=st.dictionaries(st.text(max_size=40), st.text(max_size=300), max_size=6),
    page_size=st.integers(1, 200_000),
)
def test_every_checkpoint_built_round_trips(
    status: list[str], metadata: dict[str, str], page_size: int
) -> None:
    """Filters within the documented limits build a checkpoint that round-trips; any beyond
    them are refused with GladiaConfigError (never a token from_token would refuse)."""
    distinct = list(dict.fromkeys(status))
    within = (
        page_size <= MAX_PAGE_SIZE
        and len(distinct) <= MAX_STATUSES
        and all(s.strip() and s.isascii() and s.isprintable() and len(s) <= 64 for s in distinct)
        and len(msgspec.json.encode(metadata).decode()) <= MAX_METADATA_LENGTH
    )
    try:
        statuses = [UnknownStatus(s) for s in status]  # any text: the escape hatch
        cp = build_checkpoint(
            "/v2/live", status=statuses or None, custom_metadata=metadata, page_size=page_size
        )
    except GladiaConfigError:
        assert not within, "filters within the limits were refused"
        return
    assert within, "filters beyond the limits were accepted"
    assert Checkpoint.from_token(cp.token) == cp


def test_lean_decode_of_hostile_raw_json_raises_decode_error() -> None:
    summary = msgspec.convert(
        {"id": "a", "request_id": "G", "version": 2, "status": "done", "created_at": "x",
         "kind": "pre-recorded"},
        PreRecordedJobSummary,
    )  # fmt: skip
    for raw in (b"[" * 100_000, b'{"x":' + b"[" * 100_000, b'{"metadata":"\x80"}', b"{"):
        hostile = msgspec.structs.replace(summary, result=msgspec.Raw(raw))
        with pytest.raises(DecodeError):
            hostile.decode_result()
