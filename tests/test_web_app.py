"""examples/web_app.py under load against the fake: no error, ids passed through, no socket left."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import aiohttp
import psutil
import pytest
from aiohttp.test_utils import TestServer

from gladia_async.testing import FakeGladia

from ._servers import KEY

EXAMPLE = Path(__file__).parent.parent / "examples" / "web_app.py"
CONCURRENT = 200


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, jobs=300, seed=11) as f:
        yield f


def sockets_to(port: int) -> int:
    """Open TCP connections of this process to a loopback port (client side)."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


async def test_web_app_under_load(fake: FakeGladia) -> None:
    web_app = load_example()
    fake_port = int(fake.url.rsplit(":", 1)[1])
    app = web_app.create_app(api_key=KEY, base_url=fake.url, max_connections=20)
    server = TestServer(app)
    await server.start_server()
    try:
        gladia = app[web_app.GLADIA]
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:

            async def view(i: int) -> tuple[int, str, str, str]:
                offset = (i * 7) % 280
                async with http.get(
                    f"/jobs?offset={offset}&limit=20", headers={"X-Request-ID": f"r-{i}"}
                ) as resp:
                    body = await resp.text()
                    rid = resp.headers["X-Request-ID"]
                    return resp.status, rid, resp.headers["X-Gladia-Request-ID"], body

            results = await asyncio.gather(*(view(i) for i in range(CONCURRENT)))
            assert [status for status, *_ in results] == [200] * CONCURRENT
            assert [rid for _, rid, *_ in results] == [f"r-{i}" for i in range(CONCURRENT)]
            assert all(gid.startswith("G-") for _, _, gid, _ in results)
            assert all(body.count("<tr>") == 21 for *_, body in results)  # header + 20 rows
            listed = [r for r in fake.requests if r.route == "pre_recorded.list"]
            assert len(listed) == CONCURRENT  # list_page: exactly one API request per view
            forwarded = sorted(r.headers["X-Request-ID"] for r in listed)
            assert forwarded == sorted(f"r-{i}" for i in range(CONCURRENT))
            assert 0 < sockets_to(fake_port) <= 20  # one shared pool, bounded

            async with http.get("/jobs?limit=abc") as bad:
                assert bad.status == 400 and bad.headers["X-Request-ID"]
            fake.inject("pre_recorded.list", "status", status=401, times=1)
            async with http.get("/jobs", headers={"X-Request-ID": "r-err"}) as failed:
                text = await failed.text()
                assert failed.status == 502 and "r-err" in text and KEY not in text
    finally:
        await server.close()  # runs the app's cleanup: the client closes its session
    assert gladia.closed
    for _ in range(50):  # closed sockets leave the table as the loop runs their callbacks
        if sockets_to(fake_port) == 0:
            break
        await asyncio.sleep(0.01)
    assert sockets_to(fake_port) == 0
