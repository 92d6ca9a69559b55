"""The official SDK (PyPI ``gladiaio-sdk`` 2.x) used the way its docs show, for comparison.

``GladiaClient(api_key=..., api_url=...).pre_recorded_async()`` returns a
``PreRecordedV2AsyncClient`` (httpx + dataclasses-json). Its ``list(params)`` fetches one page
and decodes it with ``PreRecordedV2ListResponse.from_dict(resp.json())``; ``list({"url": next})``
follows a page link. It has no auto-paginating iterator and no public ``close()``: we close its
httpx client through the private ``_http_client`` attribute so no socket leaks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from gladiaio_sdk import GladiaClient
from gladiaio_sdk.v2.prerecorded import PreRecordedV2ListResponse


def decode_page(body: bytes) -> Any:
    """What the SDK does with a list body: ``json.loads`` (httpx ``resp.json()``) + from_dict."""
    return PreRecordedV2ListResponse.from_dict(json.loads(body))


def async_client(base_url: str, api_key: str) -> Any:
    """The SDK's async pre-recorded client pointed at ``base_url`` (no retries changed)."""
    return GladiaClient(api_key=api_key, api_url=base_url).pre_recorded_async()


async def close(client: Any) -> None:
    """Close the SDK client's httpx pool (private attribute: the SDK has no public close)."""
    await client._http_client.close()


async def walk(base_url: str, api_key: str, *, page_size: int = 100, max_pages: int = 0) -> int:
    """Walk pages with ``list()`` one page at a time, following ``next``; returns items seen."""
    client = async_client(base_url, api_key)
    count = 0
    pages = 0
    try:
        page = await client.list({"offset": 0, "limit": page_size})
        while True:
            count += len(page.items)
            pages += 1
            if not page.next or (max_pages and pages >= max_pages):
                break
            page = await client.list({"url": page.next})
    finally:
        await close(client)
    return count


async def get_all(base_url: str, api_key: str, ids: Iterable[str], *, concurrency: int) -> int:
    """``asyncio.gather`` of ``client.get(id)`` under ``Semaphore(concurrency)``; -> count."""
    client = async_client(base_url, api_key)
    sem = asyncio.Semaphore(concurrency)

    async def one(job_id: str) -> Any:
        async with sem:
            return await client.get(job_id)

    try:
        jobs = await asyncio.gather(*(one(i) for i in ids))
    finally:
        await close(client)
    return len(jobs)
