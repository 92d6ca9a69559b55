"""The PostgreSQL store's failures before any SQL: a missing driver, a server it cannot reach,
calls before open (none of these needs a server)."""

from __future__ import annotations

import sys

import pytest

from gladia_async.sync import SyncError
from gladia_async.sync.postgres import PostgresStore

URL = "postgresql://user:secret@127.0.0.1:9/db"  # port 9 (discard): nothing listens there


async def test_without_asyncpg_opening_is_a_sync_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg raises ImportError
    with pytest.raises(SyncError, match=r"pip install 'gladia-async\[postgres\]'"):
        await PostgresStore(URL).open()


async def test_a_server_it_cannot_reach_is_a_sync_error_without_the_url() -> None:
    """The error names the cause, never the URL (it may hold a password)."""
    pytest.importorskip("asyncpg")
    store = PostgresStore(URL)
    with pytest.raises(SyncError, match="cannot connect to PostgreSQL") as info:
        await store.open()
    assert "secret" not in str(info.value) and info.value.__cause__ is None
    with pytest.raises(SyncError, match="not open"):
        await store.lock()


async def test_calls_before_open_are_refused() -> None:
    store = PostgresStore(URL)
    with pytest.raises(SyncError, match="not open"):
        await store.lock()
    await store.close()  # closing a store never opened is allowed
