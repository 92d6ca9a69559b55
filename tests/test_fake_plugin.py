"""The user-facing pytest plugin of the fake API (gladia_async.testing.pytest_plugin)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from gladia_async.testing import FakeGladia


async def test_default_fixture(fake_gladia: FakeGladia) -> None:
    assert fake_gladia.url.startswith("http://127.0.0.1:")
    assert fake_gladia.api_key == "test-key" and len(fake_gladia.store) == 20
    async with aiohttp.ClientSession() as s:
        async with s.get(
            fake_gladia.url + "/v2/pre-recorded", headers={"x-gladia-key": "test-key"}
        ) as r:
            assert r.status == 200


class TestOptionsOverride:
    @pytest.fixture
    def fake_gladia_options(self) -> dict[str, Any]:
        return {"jobs": 3, "live_jobs": 2, "seed": 5, "api_key": "k2"}

    async def test_override(self, fake_gladia: FakeGladia) -> None:
        assert fake_gladia.api_key == "k2"
        assert fake_gladia.store.count("pre-recorded") == 3
        assert fake_gladia.store.count("live") == 2


@pytest.mark.fake_gladia(jobs=4, seed=9, api_key="marker-key")
async def test_marker_configures_the_fake(fake_gladia: FakeGladia) -> None:
    assert fake_gladia.api_key == "marker-key"
    assert fake_gladia.store.count("pre-recorded") == 4
