"""Stores for the sync tests: every test that takes `store_url` runs on SQLite and on a real
PostgreSQL (GLADIA_TEST_POSTGRES_URL; under CI=true a missing URL fails instead of skipping),
each PostgreSQL test in a schema of its own, dropped afterwards."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gladia_async import GladiaClient
from gladia_async.testing import FakeGladia

POSTGRES_ENV = "GLADIA_TEST_POSTGRES_URL"
KEY = "test-key"


def fake(**kwargs: Any) -> FakeGladia:
    """A fake API for sync tests: transcripts off unless asked for."""
    kwargs.setdefault("transcript_seconds", 0)
    return FakeGladia(api_key=KEY, **kwargs)


def client(f: FakeGladia) -> GladiaClient:
    """A client of ``f`` that never retries (faults surface at once)."""
    return GladiaClient(api_key=KEY, base_url=f.url, max_retries=0)


def postgres_url() -> str:
    """The test server's URL, or skip (fail under CI=true: CI must run these tests)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set under CI=true: run .ci/postgres")
        pytest.skip(f"{POSTGRES_ENV} not set (export it from .ci/postgres)")
    return url


async def postgres_schema_url() -> AsyncIterator[str]:
    """A URL whose search_path is a fresh schema (asyncpg passes unknown query parameters on
    as server settings); the schema is dropped afterwards."""
    import asyncpg

    base = postgres_url()
    schema = "sync_test_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}search_path={schema}"
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def table(url: str) -> dict[str, dict[str, Any]]:
    """Every row of `jobs` as {id: {column: value}}, instants as the API's text."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        conn.row_factory = sqlite3.Row
        try:
            return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM jobs")}
        finally:
            conn.close()
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        rows = await pg.fetch("SELECT *, data::text AS data FROM jobs")
    finally:
        await pg.close()
    return {r["id"]: dict(r) for r in rows}


def live_ids(rows: dict[str, dict[str, Any]]) -> set[str]:
    return {i for i, r in rows.items() if r["deleted_at"] is None}


def truth(fake: FakeGladia, kind: str = "pre-recorded") -> dict[str, str]:
    """The API's jobs of one kind: {id: status}."""
    return {i: fake.store.jobs[i].status for i in fake.store.ids(kind)}


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh sync store: SQLite in tmp_path, or a schema of the test PostgreSQL server.
    Import it into a test module to use it."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        async for url in postgres_schema_url():
            yield url
