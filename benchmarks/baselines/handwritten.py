"""What a user would hand-write instead of gladia_async: a sequential aiohttp loop.

It follows the page's ``next`` link one request at a time and parses each body with
``json.loads`` to plain dicts, the way the API docs show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp


async def walk(
    base_url: str,
    api_key: str,
    *,
    page_size: int = 100,
    on_item: Callable[[dict[str, Any]], object] | None = None,
) -> int:
    """Walk every page of ``GET /v2/pre-recorded`` sequentially; returns the number of items."""
    count = 0
    url: str | None = f"{base_url}/v2/pre-recorded?offset=0&limit={page_size}"
    async with aiohttp.ClientSession(headers={"x-gladia-key": api_key}) as session:
        while url:
            async with session.get(url) as resp:
                resp.raise_for_status()
                page = json.loads(await resp.read())
            for item in page["items"]:
                count += 1
                if on_item is not None:
                    on_item(item)
            url = page.get("next")
    return count
