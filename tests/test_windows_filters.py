"""count() and partition() check what their probes read against the filters asked for: a server
that ignores a filter raises FilterMismatchError instead of giving a silently wrong count. The
sharded walk's probes follow the walk's ``on_mismatch``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from gladia_async import FilterMismatchError, GladiaClient

from ._servers import KEY, Server, fixture, json_response, serve

ITEM = json.loads(fixture("prerecorded_list_page.json"))["items"][0]
START = datetime(2026, 7, 14, 9, tzinfo=UTC)
JOBS = [
    {
        **ITEM,
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "status": "done" if i % 3 else "error",
        "created_at": (START - timedelta(seconds=i)).isoformat(timespec="milliseconds")[:23] + "Z",
        "custom_metadata": {"tenant_id": "acme-prod" if i % 2 else "other"},
    }
    for i in range(400)
]


async def ignores_status_and_metadata(request: web.Request, server: Server) -> web.StreamResponse:
    """Newest first; honours offset, limit and the date bounds (exclusive), ignores the rest."""
    q = request.query
    items = [
        j
        for j in JOBS
        if ("before_date" not in q or j["created_at"] < q["before_date"])
        and ("after_date" not in q or j["created_at"] > q["after_date"])
    ]
    offset, limit = int(q.get("offset", "0")), int(q.get("limit", "20"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    body: dict[str, Any] = {
        "first": f"{server.url}/v2/pre-recorded?offset=0&limit={limit}",
        "current": f"{server.url}/v2/pre-recorded?offset={offset}&limit={limit}",
        "next": f"{server.url}/v2/pre-recorded?offset={offset + limit}&limit={limit}"
        if more
        else None,
        "items": page,
    }
    return json_response(json.dumps(body).encode())


@pytest.mark.parametrize(
    ("filters", "name"),
    [
        ({"status": "done"}, "status"),
        ({"custom_metadata": {"tenant_id": "acme-prod"}}, "custom_metadata"),
    ],
)
async def test_count_and_partition_raise_on_an_ignored_filter(
    filters: dict[str, Any], name: str
) -> None:
    async with serve(ignores_status_and_metadata) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            assert await gladia.pre_recorded.count(max_depth=150) == 400  # unfiltered: fine
            with pytest.raises(FilterMismatchError) as info:
                await gladia.pre_recorded.count(max_depth=150, **filters)
            assert info.value.filter == name
            with pytest.raises(FilterMismatchError) as info:
                await gladia.pre_recorded.partition(3, max_depth=150, **filters)
            assert info.value.filter == name


async def test_a_sharded_walk_raises_with_its_checkpoint_or_drops() -> None:
    async with serve(ignores_status_and_metadata) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            stream = gladia.pre_recorded.list(status="done", shards=2, max_depth=150, lean=True)
            with pytest.raises(FilterMismatchError) as info:
                async with stream:
                    async for _ in stream:
                        pass
            assert info.value.checkpoint is not None and info.value.checkpoint.shards == 2
            async with gladia.pre_recorded.list(
                status="done", shards=2, max_depth=150, lean=True, on_mismatch="drop"
            ) as dropping:
                got = [job.id async for job in dropping]
            assert got == [j["id"] for j in JOBS if j["status"] == "done"]
