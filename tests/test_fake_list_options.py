"""The fake's listing options (what the API leaves undocumented, each way) behave as documented,
and the defaults are unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from gladia_async.testing import FakeGladia

KEY = "test-key"
AT = datetime(2026, 8, 1, 12, tzinfo=UTC)
AT_TEXT = "2026-08-01T12:00:00.000Z"


async def ids(fake: FakeGladia, **params: str) -> list[str]:
    async with aiohttp.ClientSession(headers={"x-gladia-key": KEY}) as session:
        query = {"limit": "1000", **params}
        async with session.get(f"{fake.url}/v2/pre-recorded", params=query) as resp:
            body = await resp.json()
            assert resp.status == 200, body
            return [item["id"] for item in body["items"]]


@pytest.mark.parametrize(("before_inclusive", "after_inclusive"), [(False, False), (True, True)])
async def test_date_bounds_inclusive_or_exclusive(
    before_inclusive: bool, after_inclusive: bool
) -> None:
    async with FakeGladia(
        api_key=KEY, before_inclusive=before_inclusive, after_inclusive=after_inclusive
    ) as fake:
        on = fake.store.add_job(created_at=AT).id
        fake.store.add_job(created_at=AT + timedelta(milliseconds=1))
        fake.store.add_job(created_at=AT - timedelta(milliseconds=1))
        assert (on in await ids(fake, before_date=AT_TEXT)) is before_inclusive
        assert (on in await ids(fake, after_date=AT_TEXT)) is after_inclusive
        assert on in await ids(fake, date="2026-08-01")  # the day filter is unchanged


async def test_oldest_first_ties_and_the_offset_cap() -> None:
    async with FakeGladia(
        api_key=KEY, jobs=300, seed=2, ties=5, oldest_first=True, max_offset=250
    ) as fake:
        listed = await ids(fake)
        assert listed == fake.store.ids()[::-1]
        stamps = [fake.store.jobs[i].created_us for i in listed]
        assert stamps == sorted(stamps) and len(set(stamps)) < 200  # ties: shared milliseconds
        assert await ids(fake, offset="250", limit="10") == listed[250:260]
        async with aiohttp.ClientSession(headers={"x-gladia-key": KEY}) as session:
            url = f"{fake.url}/v2/pre-recorded?offset=251"
            async with session.get(url) as resp:
                assert resp.status == 400
                assert "offset must not be greater than 250" in await resp.text()


async def test_deletions_at_a_seeded_rate_are_recorded_and_capped() -> None:
    runs = []
    for _ in range(2):
        async with FakeGladia(api_key=KEY, jobs=200, seed=3, delete_rate=1.5, delete_max=7) as fake:
            for _ in range(6):
                await ids(fake, limit="5")
            assert len(fake.deleted) == 7 and len(fake.store) == 193
            assert not set(fake.deleted) & set(fake.store.ids())
            runs.append(list(fake.deleted))
    assert runs[0] == runs[1]  # seeded


async def test_defaults_are_unchanged() -> None:
    async with FakeGladia(api_key=KEY, jobs=50, seed=4) as fake:
        assert await ids(fake) == fake.store.ids()
        assert len(set(fake.store.jobs[i].created_us for i in fake.store.ids())) == 50
        assert await ids(fake, offset="100000") == []
        assert fake.deleted == []
