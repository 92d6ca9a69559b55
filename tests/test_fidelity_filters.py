"""A filtered listing is never silently unfiltered: every item is checked against the filters
asked for. The fake honours both custom_metadata encodings (the docs' JSON object and the
official SDK's bracketed pairs)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gladia_async import FilterMismatchError, GladiaClient
from gladia_async.testing import FakeGladia

from ._servers import KEY, Server, fixture, json_response, serve

PAGE = json.loads(fixture("prerecorded_list_page.json"))  # processing, done (acme-prod, 48215/3)
LAST = json.loads(fixture("prerecorded_list_last_page.json"))  # done (acme-prod, 48213)


async def ignores_filters(request: web.Request, server: Server) -> web.StreamResponse:
    """A server that ignores every filter: the same two pages whatever was asked."""
    offset = int(request.query.get("offset", "0"))
    page = dict(PAGE) if offset == 0 else dict(LAST)
    if offset == 0:
        page["next"] = f"{server.url}/v2/pre-recorded?offset=2&limit=2"
    return json_response(json.dumps(page).encode())


@pytest.mark.parametrize(
    ("filters", "name", "yielded"),
    [
        ({"status": "done"}, "status", 0),
        ({"status": ["processing"]}, "status", 0),
        ({"custom_metadata": {"meeting_id": 48215}}, "custom_metadata", 0),
        ({"custom_metadata": {"tenant_id": "acme-prod", "x": {"y": 1}}}, "custom_metadata", 0),
        ({"after_date": "2026-07-14T00:00:00Z"}, "after_date", 2),
        ({"before_date": "2026-07-14T09:15:00Z"}, "before_date", 0),
        ({"date": "2026-07-14"}, "date", 2),
    ],
)
async def test_an_ignored_filter_raises_with_checkpoint(
    filters: dict[str, Any], name: str, yielded: int
) -> None:
    got = []
    async with serve(ignores_filters) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            stream = gladia.pre_recorded.list(page_size=2, concurrency=1, **filters)
            with pytest.raises(FilterMismatchError) as info:
                async for job in stream:
                    got.append(job.id)
    exc = info.value
    assert exc.filter == name and name in str(exc) and exc.item_id
    assert len(got) == yielded  # pages are checked whole: none of the bad page is yielded
    assert exc.checkpoint is not None and exc.checkpoint.offset == len(got)
    assert exc.checkpoint == stream.checkpoint


async def test_drop_mode_drops_and_counts() -> None:
    async with serve(ignores_filters) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            pr = gladia.pre_recorded
            stream = pr.list(status="done", page_size=2, on_mismatch="drop")
            done = [job.id async for job in stream]
            capped = pr.list(status="done", page_size=2, on_mismatch="drop", max_items=1)
            first = [job.id async for job in capped]
            lean = pr.list(status="done", page_size=2, lean=True, on_mismatch="drop")
            pages = [[j.status for j in page.items] async for page in lean.pages()]
            page = await pr.list_page(0, 2, status="done", on_mismatch="drop")
            with pytest.raises(FilterMismatchError):
                await pr.list_page(0, 2, status="done")
    assert done == [PAGE["items"][1]["id"], LAST["items"][0]["id"]]
    assert stream.stats.dropped == 1 and stream.stats.items == 2
    assert first == done[:1] and capped.stats.dropped == 1
    assert capped.checkpoint.offset == 2  # just after the item yielded last
    assert pages == [["done"], ["done"]] and lean.stats.dropped == 1
    assert [j.status for j in page.items] == ["done"]


async def test_filters_are_checked_before_io() -> None:
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    from gladia_async import GladiaConfigError

    with pytest.raises(GladiaConfigError, match="on_mismatch"):
        gladia.pre_recorded.list(status="done", on_mismatch="ignore")  # type: ignore[call-overload]
    with pytest.raises(GladiaConfigError, match="on_mismatch"):
        await gladia.pre_recorded.list_page(on_mismatch="skip")  # type: ignore[call-overload]
    await gladia.aclose()


async def test_the_fake_honours_both_metadata_encodings() -> None:
    async with FakeGladia(api_key="k", jobs=120, seed=3) as fake:
        async with aiohttp.ClientSession(headers={"x-gladia-key": "k"}) as session:

            async def ids(query: list[tuple[str, str]]) -> list[str]:
                url = f"{fake.url}/v2/pre-recorded"
                async with session.get(url, params=[("limit", "1000"), *query]) as r:
                    assert r.status == 200, await r.text()
                    return [job["id"] for job in (await r.json())["items"]]

            everything = await ids([])
            as_json = await ids([("custom_metadata", '{"tenant_id": "tenant-2"}')])
            as_pairs = await ids([("custom_metadata[tenant_id]", "tenant-2")])
            typed = await ids(
                [("custom_metadata[tenant_id]", "tenant-2"), ("custom_metadata[batch]", "4")]
            )
            as_json_typed = await ids([("custom_metadata", '{"tenant_id":"tenant-2","batch":4}')])
            nothing = await ids([("custom_metadata[tenant_id]", "nobody")])
            wrong_batch = await ids(
                [("custom_metadata[tenant_id]", "tenant-2"), ("custom_metadata[batch]", "5")]
            )
    assert 0 < len(as_json) < len(everything)
    assert as_pairs == as_json
    # The fake makes batch a function of the tenant (tenant-2 -> 4): "4" is read as the number.
    assert typed == as_json_typed == as_json
    assert nothing == [] and wrong_batch == []


async def test_a_filtered_listing_against_the_fake_checks_clean() -> None:
    """No false alarm: the fake applies every filter, so the checked listing completes."""
    async with FakeGladia(api_key="k", jobs=300, seed=5) as fake:
        async with GladiaClient("k", base_url=fake.url) as gladia:
            jobs = [job async for job in gladia.pre_recorded.list(page_size=7)]
            middle = jobs[len(jobs) // 2].created_at
            stream = gladia.pre_recorded.list(
                status=["done", "error"],
                custom_metadata={"tenant_id": "tenant-1"},
                after_date=middle,
                page_size=7,
            )
            got = [job async for job in stream]
    assert got and stream.stats.dropped == 0
    assert all(j.status in ("done", "error") and j.created_at > middle for j in got)
