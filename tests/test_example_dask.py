"""examples/dask_walk.py against the fake on a LocalCluster: the windows' ids, put together,
are exactly a plain walk's, with no duplicates (the `dask` extra; skipped without it)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gladia_async import GladiaClient
from gladia_async.testing import FakeGladia

pytest.importorskip("distributed")

EXAMPLE = Path(__file__).parent.parent / "examples" / "dask_walk.py"
KEY = "test-key"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dask_walk", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dask_walk"] = module  # workers unpickle walk_window by module name
    spec.loader.exec_module(module)
    return module


async def test_dask_windows_union_equals_a_plain_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    example = load_example()
    from distributed import Client, LocalCluster

    async with FakeGladia(api_key=KEY, jobs=1_500, seed=12, transcript_seconds=0) as fake:
        monkeypatch.setenv("GLADIA_API_KEY", KEY)
        monkeypatch.setenv("GLADIA_API_URL", fake.url)
        async with GladiaClient() as gladia:
            plain = [job.id async for job in gladia.pre_recorded.list(lean=True)]

        def on_cluster() -> list[list[str]]:
            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                return example.run(client, 6)  # type: ignore[no-any-return]

        windows = await asyncio.to_thread(on_cluster)
    ids = [i for w in windows for i in w]
    assert len(ids) == len(set(ids)) == 1_500
    assert ids == plain  # windows newest first, each in API order
    assert len(windows) == 6 and min(len(w) for w in windows) > 0
