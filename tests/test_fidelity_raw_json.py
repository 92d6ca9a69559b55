"""`job.raw_json`: the exact JSON the API sent for each job, unknown fields included, from get,
get_many, wait, and (opt-in) list/list_page, lean or not."""

from __future__ import annotations

import json

import msgspec
from aiohttp import web

from gladia_async import GladiaClient
from gladia_async.types import PreRecordedJob

from ._servers import KEY, Server, fixture, json_response, serve


def job_bytes(i: int) -> bytes:
    """A done job with a field no Struct models, in a key order of its own."""
    job = json.loads(fixture("prerecorded_job_done.json"))
    job["id"] = f"00000000-0000-4000-a000-{i:012d}"
    job["created_at"] = f"2026-06-12T21:00:{59 - i:02d}.000Z"
    job["new_api_field"] = {"added": "later", "n": i}
    return json.dumps({"new_api_field": job.pop("new_api_field"), **job}, indent=1).encode()


JOBS = [job_bytes(i) for i in range(5)]


async def api(request: web.Request, server: Server) -> web.StreamResponse:
    if request.path == "/v2/pre-recorded":
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        items = b",\n  ".join(JOBS[offset : offset + limit])
        more = offset + limit < len(JOBS)
        nxt = f'"{server.url}/v2/pre-recorded?offset={offset + limit}&limit={limit}"'
        body = b'{"first": null, "current": null, "next": %s, "items": [\n  %s]}' % (
            nxt.encode() if more else b"null",
            items,
        )
        return json_response(body)
    job_id = request.path.rsplit("/", 1)[-1]
    return json_response(next(j for j in JOBS if json.loads(j)["id"] == job_id))


async def test_get_get_many_and_wait_keep_the_exact_json() -> None:
    ids = [json.loads(j)["id"] for j in JOBS]
    async with serve(api) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            job = await gladia.pre_recorded.get(ids[0])
            many = [j async for j in gladia.pre_recorded.get_many(ids[:3])]
            waited = await gladia.pre_recorded.wait(ids[4])
    assert job.raw_json == JOBS[0]
    assert json.loads(job.raw_json)["new_api_field"] == {"added": "later", "n": 0}
    assert [j.raw_json for j in many] == JOBS[:3]
    assert waited.raw_json == JOBS[4]


async def test_listings_keep_the_exact_json_when_asked() -> None:
    async with serve(api) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            pr = gladia.pre_recorded
            full = [j async for j in pr.list(page_size=2, raw_json=True)]
            lean = [j async for j in pr.list(page_size=2, lean=True, raw_json=True)]
            plain = [j async for j in pr.list(page_size=2)]
            page = await pr.list_page(0, 3, raw_json=True)
            lean_page = await pr.list_page(0, 3, lean=True, raw_json=True)
    assert [j.raw_json for j in full] == JOBS
    assert [j.raw_json for j in lean] == JOBS
    assert [type(j.raw_json) for j in lean] == [bytes] * 5  # copies: no page buffer pinned
    assert all(j.raw_json is None for j in plain)
    assert [j.raw_json for j in page.items] == JOBS[:3]
    assert [j.raw_json for j in lean_page.items] == JOBS[:3]
    summary = lean[1]
    assert summary.to_job().raw_json == JOBS[1]
    assert summary.to_job() == full[1]
    assert summary.detach(keep_raw=True).raw_json == JOBS[1]
    assert summary.detach().raw_json is None


def test_built_or_replaced_jobs_have_no_raw_json() -> None:
    job = msgspec.json.decode(JOBS[0], type=PreRecordedJob)
    assert job.raw_json is None
    job.__dict__["_raw_json"] = JOBS[0]
    assert msgspec.structs.replace(job, status="error").raw_json is None
    assert msgspec.json.encode(job).count(b"_raw_json") == 0  # never encoded
    assert job == msgspec.json.decode(JOBS[0], type=PreRecordedJob)  # not part of equality
