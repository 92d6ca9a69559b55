"""The stores themselves: what an upsert writes (decided in the database, in one statement),
SQLite's multi-row statements, and its checkpointer thread that keeps the WAL bounded."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gladia_async.sync import SyncError, _store
from gladia_async.sync import sqlite as sqlite_store
from gladia_async.sync._model import Row, format_ms
from gladia_async.sync._store import open_store
from gladia_async.sync.sqlite import SQLiteStore
from tests._sync_helpers import sqlite_url, store_url, table

__all__ = ["store_url"]  # the fixture, imported for pytest


def row(n: int, text: str = "a", size: int = 0) -> Row:
    """Job ``n`` (older as n grows) whose JSON carries ``text`` and ``size`` bytes of padding."""
    created_ms = 1_760_000_000_000 - n * 1000
    created = format_ms(created_ms)
    data = msgspec.json.encode(
        {"id": f"job-{n}", "status": "done", "created_at": created, "text": text, "pad": "x" * size}
    )
    return Row(
        id=f"job-{n}",
        kind="pre-recorded",
        status="done",
        created_at=created,
        created_ms=created_ms,
        completed_at=None,
        audio_duration=None,
        billing_time=None,
        languages=None,
        error_code=None,
        custom_metadata=f'{{"n":{n}}}',
        data=data,
    )


async def test_an_upsert_writes_only_what_changed_and_remembers_the_state_before_the_run(
    store_url: str,
) -> None:
    """Unchanged live rows are not rewritten; a changed one, a deleted one listed again and a
    new one changed twice in its run are each counted once, from the state before the run."""
    async with open_store(store_url) as st:
        await st.upsert([row(n) for n in range(5)], run=1)
        assert await st.run_counts(1) == {"new": 5, "changed": 0, "deleted": 0}
        await st.upsert([], run=1, state=("scope", {"pin": 7}))  # only the state
        assert await st.load_state("scope") == {"pin": 7}

        await st.upsert([row(n) for n in range(5)], run=2)
        assert await st.run_counts(2) == {"new": 0, "changed": 0, "deleted": 0}
        await st.upsert([row(1, "b"), row(1, "c")], run=2)  # changed twice in one run
        await st.mark_deleted(["job-3"], run=2)
        assert await st.run_counts(2) == {"new": 0, "changed": 1, "deleted": 1}

        await st.upsert([row(3), row(5)], run=3)  # listed again; new
        await st.upsert([row(5, "b")], run=3)  # the new one changed in its own run
        assert await st.run_counts(3) == {"new": 1, "changed": 1, "deleted": 0}
    rows = await table(store_url)
    assert {i: r["sync_run"] for i, r in rows.items()} == {
        "job-0": 1,
        "job-1": 2,
        "job-2": 1,
        "job-3": 3,
        "job-4": 1,
        "job-5": 3,
    }
    assert all(r["deleted_at"] is None for r in rows.values())
    assert rows["job-1"]["data"] == row(1, "c").data.decode()


async def test_a_scan_lists_live_rows_and_on_request_the_deleted_ones_whatever_their_status(
    store_url: str,
) -> None:
    """Window planning needs the instants of deleted rows too (one listed again must fall
    inside a window); every other scan sees live rows only."""
    queued = msgspec.structs.replace(row(2), status="queued")
    async with open_store(store_url) as st:
        await st.upsert([row(0), row(1), queued, row(3)], run=1)
        await st.mark_deleted(["job-1", "job-2"], run=2)
        done = ("done",)
        live = await st.scan("pre-recorded", None, None, done, None, 10)
        assert [(j.id, j.deleted) for j in live] == [("job-0", False), ("job-3", False)]
        every = await st.scan("pre-recorded", None, None, done, None, 10, deleted=True)
        assert [(j.id, j.deleted) for j in every] == [
            ("job-0", False), ("job-1", True), ("job-2", True), ("job-3", False)
        ]  # fmt: skip
        assert await st.scan("live", None, None, (), None, 10, deleted=True) == []


@pytest.mark.parametrize("most", [1, 3, 71, 1024])
async def test_sqlite_writes_many_rows_in_few_statements(tmp_path: Path, most: int) -> None:
    """Rows go in statements of up to ``most`` rows (71 is what SQLite before 3.32 allows):
    every row arrives exactly, in as few statements as that limit allows."""
    st = SQLiteStore(sqlite_url(tmp_path))
    statements: list[str] = []
    async with st:
        st._rows_per_statement = most
        conn = st._db
        await st._call(
            conn.set_trace_callback,
            lambda sql: statements.append(sql) if sql.startswith("INSERT INTO jobs") else None,
        )
        rows = [row(n) for n in range(1000)]
        await st.upsert(rows, run=1)
        await st._call(conn.set_trace_callback, None)
    assert len(statements) == -(-1000 // most)
    stored = await table(st.url)
    assert len(stored) == 1000
    assert all(stored[r.id]["data"] == r.data.decode() for r in rows)
    assert all(stored[r.id]["custom_metadata"] == r.custom_metadata for r in rows)


async def test_sqlite_reads_the_parameter_limit_of_its_library(tmp_path: Path) -> None:
    async with SQLiteStore(sqlite_url(tmp_path)) as st:
        limit = st._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        assert st._rows_per_statement == min(1024, limit // sqlite_store._ROW_PARAMS) >= 64


async def test_the_wal_stays_bounded_when_checkpoints_fall_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the background checkpoints never catching up (here: never asked), the writer
    checkpoints by itself once the WAL passes WAL_LIMIT, and a reset WAL shrinks back to it."""
    limit = 4 * 1024 * 1024
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT", limit)
    monkeypatch.setattr(sqlite_store._Checkpointer, "ask", lambda self: None)
    url = sqlite_url(tmp_path)
    wal = url[len("sqlite:///") :] + "-wal"
    sizes: list[int] = []
    checkpoints: list[str] = []
    async with SQLiteStore(url) as st:
        await st._call(st._db.set_trace_callback, checkpoints.append)
        for batch in range(40):  # 40 transactions of 300 KB of JSON each
            await st.upsert([row(batch * 10 + n, size=30_000) for n in range(10)], run=1)
            sizes.append(sqlite_store._size(wal))
        await st._call(st._db.set_trace_callback, None)
    assert max(sizes) < 2 * limit, sizes
    # About one in eight transactions: a reset WAL is truncated back to the limit (without
    # that, the file would stay past it and every commit would checkpoint).
    assert 3 <= sum("wal_checkpoint" in sql for sql in checkpoints) <= 12
    assert len(await table(url)) == 400
    assert sqlite_store._size(wal) == 0  # the last close checkpoints and removes it


async def test_the_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """The writer's own connection never checkpoints (autocheckpoint off) while the thread
    works; every row is in the database file once the store is closed, and the thread ends."""
    url = sqlite_url(tmp_path)
    async with SQLiteStore(url) as st:
        pragmas = ("wal_autocheckpoint", "page_size", "synchronous", "busy_timeout")
        got = [st._db.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas]
        assert got == [0, 65536, 1, 10000]  # 1: NORMAL, safe in WAL mode
        for batch in range(5):
            await st.upsert([row(batch * 10 + n, size=30_000) for n in range(10)], run=1)
    assert not [t for t in threading.enumerate() if t.name == "gladia-sqlite-wal"]
    assert len(await table(url)) == 50


async def test_a_failed_checkpointer_hands_checkpoints_back_to_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint thread cannot open its connection: the writer returns to SQLite's own
    checkpoints, and nothing is lost."""
    connect = sqlite3.connect

    def failing(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if threading.current_thread().name == "gladia-sqlite-wal":
            raise sqlite3.OperationalError("unable to open database file")
        conn: sqlite3.Connection = connect(*args, **kwargs)
        return conn

    monkeypatch.setattr(sqlite3, "connect", failing)
    url = sqlite_url(tmp_path)
    async with SQLiteStore(url) as st:
        assert st._wal is not None
        await st._call(st._wal._thread.join)  # the thread has failed and ended
        await st.upsert([row(n) for n in range(10)], run=1)
        assert st._wal is None
        assert st._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        await st.upsert([row(n) for n in range(10, 20)], run=1)
    assert len(await table(url)) == 20


def test_the_upsert_statements_share_one_conflict_rule() -> None:
    from gladia_async.sync import postgres

    assert _store.UPSERT_SET in sqlite_store._upsert_sql(2)
    assert _store.UPSERT_SET in postgres._UPSERT


def settle(wal: sqlite_store._Checkpointer) -> None:
    """Wait until the checkpoint thread has done what it was asked."""
    while wal._asked or wal.running.locked():
        time.sleep(0.001)


async def test_background_checkpoints_keep_the_wal_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the writer's own limit out of reach, the checkpoint thread alone keeps the WAL at
    about one transaction: each checkpoint copies every frame, and the next commit restarts
    the WAL from its beginning."""
    monkeypatch.setattr(sqlite_store, "WAL_LIMIT", 1 << 40)
    url = sqlite_url(tmp_path)
    wal_path = url[len("sqlite:///") :] + "-wal"
    sizes = []
    async with SQLiteStore(url) as st:
        wal = st._wal
        assert wal is not None
        for batch in range(30):  # 9 MB of JSON in all
            await st.upsert([row(batch * 10 + n, size=30_000) for n in range(10)], run=1)
            await asyncio.to_thread(settle, wal)
            sizes.append(sqlite_store._size(wal_path))
    assert max(sizes) < 3 * sizes[0], sizes  # not growing with the 30 transactions


async def test_an_old_sqlite_gets_statements_of_71_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite before 3.32 allows 999 parameters a statement: 71 rows of 14."""
    connect = sqlite3.connect

    def old(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return conn

    monkeypatch.setattr(sqlite3, "connect", old)
    async with SQLiteStore(sqlite_url(tmp_path)) as st:
        assert st._rows_per_statement == 71
        await st.upsert([row(n) for n in range(200)], run=1)
    assert len(await table(sqlite_url(tmp_path))) == 200


async def test_a_failed_write_leaves_nothing_of_its_batch(tmp_path: Path) -> None:
    """A batch is one transaction: a row the table refuses (no status) fails the whole batch,
    its error is raised, and the rows before it in the batch are not kept."""
    url = sqlite_url(tmp_path)
    async with SQLiteStore(url) as st:
        await st.upsert([row(0)], run=1)
        bad = msgspec.structs.replace(row(3), status=None)  # type: ignore[arg-type]
        with pytest.raises(sqlite3.IntegrityError):
            await st.upsert([row(1), row(2), bad], run=2, state=("scope", {"pin": 1}))
        assert await st.load_state("scope") is None
        await st.upsert([row(4)], run=3)  # the store still works
    assert set(await table(url)) == {"job-0", "job-4"}


def test_an_unknown_scheme_is_quoted_at_most_20_characters_long() -> None:
    """A URL without '://' may be anything (a token pasted by mistake): the error quotes at
    most its first 20 characters."""
    with pytest.raises(SyncError, match=r"unsupported store URL scheme 'a{20}' \(") as info:
        open_store("a" * 40 + ":rest")
    assert "a" * 21 not in str(info.value)
