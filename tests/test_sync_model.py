"""What sync keeps of a job (Row) and how a sync's filters become a time range (Scope): the
small pieces mutation testing found no sync test pinned."""

from __future__ import annotations

from typing import Any

import pytest

from gladia_async import DecodeError, GladiaClient, GladiaConfigError
from gladia_async.sync import sync
from gladia_async.sync._model import Scope, decode_item, decode_page, parse_ms
from gladia_async.testing import FakeGladia
from tests._sync_helpers import live_ids, sqlite_url, table

PATH = "/v2/pre-recorded"
DAY_MS = 86_400_000


def job(**fields: Any) -> bytes:
    import msgspec

    base = {"id": "j1", "status": "done", "created_at": "2026-05-01T10:00:00.000Z"}
    return msgspec.json.encode(base | fields)


def test_instants_without_offset_are_utc() -> None:
    assert parse_ms("2026-05-01T10:00:00") == parse_ms("2026-05-01T10:00:00Z")
    assert parse_ms("1970-01-01T00:00:00.001Z") == 1


def test_a_row_takes_audio_duration_from_the_result_else_from_the_file() -> None:
    meta = {"metadata": {"audio_duration": 61.5, "billing_time": 62.0}}
    both = job(result=meta, file={"audio_duration": 60.0})
    assert decode_item(both, "pre-recorded").audio_duration == 61.5
    no_result = job(file={"audio_duration": 60.0})
    assert decode_item(no_result, "pre-recorded").audio_duration == 60.0
    null_duration = job(result={"metadata": {"audio_duration": None}}, file={"audio_duration": 7})
    assert decode_item(null_duration, "pre-recorded").audio_duration == 7
    assert decode_item(job(), "pre-recorded").audio_duration is None


def test_a_row_keeps_the_kind_the_job_says_else_the_collections() -> None:
    assert decode_item(job(kind="live"), "pre-recorded").kind == "live"
    assert decode_item(job(), "pre-recorded").kind == "pre-recorded"


@pytest.mark.parametrize(
    "body", [b"{", job(created_at="yesterday"), b'{"id": 1, "status": "done"}']
)
def test_a_job_that_is_no_job_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match="unexpected job JSON from http://x"):
        decode_item(body, "pre-recorded", "http://x")


def test_a_page_that_is_no_page_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="unexpected list page from http://x"):
        decode_page(b'{"items": 3}', "pre-recorded", "http://x")


def test_a_date_scope_is_that_utc_day_within_the_other_bounds() -> None:
    day = parse_ms("2026-05-01T00:00:00Z")
    scope = Scope(PATH, "pre-recorded", date="2026-05-01")
    assert (scope.lo, scope.hi) == (day, day + DAY_MS - 1)
    narrower = Scope(
        PATH,
        "pre-recorded",
        date="2026-05-01",
        after_date="2026-05-01T06:00:00Z",
        before_date="2026-05-01T18:00:00Z",
    )
    assert (narrower.lo, narrower.hi) == (day + 6 * 3_600_000 + 1, day + 18 * 3_600_000 - 1)
    wider = Scope(
        PATH,
        "pre-recorded",
        date="2026-05-01",
        after_date="2026-04-01T00:00:00Z",
        before_date="2026-06-01T00:00:00Z",
    )
    assert (wider.lo, wider.hi) == (day, day + DAY_MS - 1)


def test_exclusive_date_bounds_become_an_inclusive_range_and_back() -> None:
    after, before = "2026-05-01T00:00:00.000Z", "2026-05-02T00:00:00.000Z"
    scope = Scope(PATH, "pre-recorded", after_date=after, before_date=before)
    assert scope.lo == parse_ms("2026-05-01T00:00:00.001Z")
    assert scope.hi == parse_ms("2026-05-01T23:59:59.999Z")
    cp = scope.checkpoint(scope.lo, scope.hi)
    assert (cp.after_date, cp.before_date) == (after, before)
    assert scope.checkpoint(5, 5).after_date == "1970-01-01T00:00:00.004Z"  # one millisecond
    with pytest.raises(GladiaConfigError, match="empty time range"):
        scope.checkpoint(6, 5)


def test_a_scope_knows_which_statuses_it_includes() -> None:
    assert Scope(PATH, "pre-recorded").statuses_with(("queued", "done")) == ("queued", "done")
    done = Scope(PATH, "pre-recorded", status=["done", "error"])
    assert done.statuses_with(("queued", "processing", "done")) == ("done",)


@pytest.mark.parametrize(
    ("have", "matches"),
    [
        ('{"team": "a", "n": 1}', True),
        ('{"team": "a", "nested": {"x": 1, "y": 2}}', True),
        ('{"team": "b"}', False),
        ('{"n": 1}', False),
        ('{"team": "a", "nested": {"x": 2}}', False),
        ('{"team": "a", "nested": 3}', False),
        ('["team"]', False),
        (None, False),
    ],
)
def test_stored_metadata_matches_as_a_recursive_subset(have: str | None, matches: bool) -> None:
    scope = Scope(PATH, "pre-recorded", custom_metadata={"team": "a"})
    nested = Scope(PATH, "pre-recorded", custom_metadata={"team": "a", "nested": {"x": 1}})
    if "nested" in (have or ""):
        assert nested.matches_metadata(have) is matches
    else:
        assert scope.matches_metadata(have) is matches
    assert Scope(PATH, "pre-recorded").matches_metadata(have)


async def test_a_sync_of_one_day_stores_that_day_only(tmp_path: Any) -> None:
    async with (
        FakeGladia(api_key="k", jobs=300, seed=37, transcript_seconds=0) as fake,
        GladiaClient(api_key="k", base_url=fake.url, max_retries=0) as gladia,
    ):
        day = fake.store.jobs[fake.store.ids()[150]].created_at[:10]
        want = {i for i in fake.store.ids() if fake.store.jobs[i].created_at.startswith(day)}
        report = await sync(gladia.pre_recorded, sqlite_url(tmp_path), date=day)
        assert report.new == len(want) > 0
        assert live_ids(await table(sqlite_url(tmp_path))) == want
