"""A pytest fixture for users: ``fake_gladia``, a running FakeGladia per test.

Enable it in your ``conftest.py`` with ``pytest_plugins = ["gladia_async.testing.pytest_plugin"]``
(it is not auto-registered). Needs pytest-asyncio 0.24 or later: set ``asyncio_mode = "auto"``
and, so that pytest-asyncio does not warn, ``asyncio_default_fixture_loop_scope = "function"``.
The default fake is ``FakeGladia(api_key="test-key", jobs=20, seed=0)``. Configure it per test with
``@pytest.mark.fake_gladia(jobs=100, seed=3, lifecycle=Lifecycle(...))`` (any FakeGladia
keyword), or for a whole module/directory by overriding the ``fake_gladia_options`` fixture::

    @pytest.fixture
    def fake_gladia_options() -> dict[str, Any]:
        return {"api_key": "k", "jobs": 500, "seed": 1}
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .server import FakeGladia

__all__ = ["fake_gladia", "fake_gladia_options", "pytest_configure"]

DEFAULTS: dict[str, Any] = {"api_key": "test-key", "jobs": 20, "seed": 0}


def pytest_configure(config: pytest.Config) -> None:
    """Register the fake_gladia marker."""
    config.addinivalue_line(
        "markers", "fake_gladia(**kwargs): FakeGladia keyword arguments for the fake_gladia fixture"
    )


@pytest.fixture
def fake_gladia_options() -> dict[str, Any]:
    """FakeGladia keyword arguments for the fake_gladia fixture (override to change them)."""
    return dict(DEFAULTS)


@pytest_asyncio.fixture(loop_scope="function")  # the test's own loop, whatever the settings
async def fake_gladia(
    request: pytest.FixtureRequest, fake_gladia_options: dict[str, Any]
) -> AsyncIterator[FakeGladia]:
    """A started FakeGladia on a free loopback port, closed after the test."""
    kwargs = dict(fake_gladia_options)
    marker = request.node.get_closest_marker("fake_gladia")
    if marker is not None:
        kwargs.update(marker.kwargs)
    async with FakeGladia(**kwargs) as fake:
        yield fake
