"""SQLiteStore: the embedded default store, standard library only.

One dedicated thread owns the connection, so database work never blocks the event loop. WAL
journal, one transaction per batch, checkpoints by a second thread with its own connection.
The sync lock is an OS file lock next to the database (``PATH.lock``): released by the kernel
when the process ends, even on SIGKILL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from ._errors import StoreLockedError, SyncError
from ._model import Row
from ._store import (
    EXPORT_COLUMNS,
    UPSERT_SET,
    JobStore,
    StoredJob,
    change_of,
)

__all__ = ["SQLiteStore"]

T = TypeVar("T")

PAGE_SIZE = 65536
WAL_LIMIT = 64 * 1024 * 1024
"""A WAL file larger than this after a commit is checkpointed by the writer (_Checkpointer),
and one that is reset is truncated to it."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    audio_duration REAL,
    billing_time REAL,
    languages TEXT,
    error_code INTEGER,
    custom_metadata TEXT,
    data TEXT NOT NULL,
    deleted_at TEXT,
    synced_at TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    sync_run INTEGER,
    sync_base TEXT
);
-- Covers the scans (window planning, checks, export paging): no visit to the large rows.
CREATE INDEX IF NOT EXISTS jobs_scan ON jobs
    (kind, created_ms DESC, id, deleted_at, status, sync_run, custom_metadata);
CREATE INDEX IF NOT EXISTS jobs_run ON jobs (sync_run);
CREATE TABLE IF NOT EXISTS gladia_sync_state (scope TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gladia_sync_windows (
    scope TEXT NOT NULL, lo_ms INTEGER, hi_ms INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (scope, hi_ms)
);
"""

_COLUMNS = """INSERT INTO jobs (id, kind, status, created_at, completed_at, audio_duration,
    billing_time, languages, error_code, custom_metadata, data, deleted_at, synced_at, created_ms,
    sync_run, sync_base)"""
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), NULL, ?, ?, ?, 'absent')"
_ROW_PARAMS = _ROW.count("?")
_ON_CONFLICT = f"""ON CONFLICT (id) DO UPDATE SET {UPSERT_SET}
    WHERE jobs.deleted_at IS NOT NULL OR jobs.data IS NOT excluded.data"""


@functools.lru_cache(maxsize=64)
def _upsert_sql(n: int) -> str:
    """The upsert of ``n`` rows in one statement."""
    return f"{_COLUMNS} VALUES {', '.join([_ROW] * n)} {_ON_CONFLICT}"


def _upsert_rows(c: sqlite3.Connection, most: int, rows: Sequence[tuple[Any, ...]]) -> None:
    """Upsert ``rows`` in as few statements as SQLite's parameter limit allows.

    Why not ``executemany``: it takes the GIL back after every row, and while the event loop's
    thread decodes pages each of those waits can last up to the interpreter's switch interval;
    one statement for many rows waits once (measured: the first sync of 20,000 jobs 25% faster).
    Batches are mostly whole pages, so the few statement sizes stay in sqlite3's cache.
    """
    if not rows:
        return
    parts = -(-len(rows) // most)
    size = -(-len(rows) // parts)
    for i in range(0, len(rows), size):
        chunk = rows[i : i + size]
        c.execute(_upsert_sql(len(chunk)), [v for row in chunk for v in row])


def now_iso() -> str:
    """The current UTC instant, as the API writes instants."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _range_sql(
    kind: str | None,
    lo: int | None,
    hi: int | None,
    statuses: Sequence[str],
    after: tuple[int, str] | None,
    deleted: bool = False,
) -> tuple[str, list[Any]]:
    """WHERE clause and arguments of a scan; ``deleted`` adds the rows marked deleted,
    whatever their status."""
    where, args = ([] if deleted else ["deleted_at IS NULL"]), list[Any]()
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    if lo is not None:
        where.append("created_ms >= ?")
        args.append(lo)
    if hi is not None:
        where.append("created_ms <= ?")
        args.append(hi)
    if statuses:
        clause = f"status IN ({','.join('?' * len(statuses))})"
        where.append(f"(deleted_at IS NOT NULL OR {clause})" if deleted else clause)
        args.extend(statuses)
    if after is not None:
        where.append("(created_ms < ? OR (created_ms = ? AND id > ?))")
        args.extend((after[0], after[0], after[1]))
    return " AND ".join(where), args


class _Checkpointer:
    """Copies the WAL into the database from its own thread and connection, so that commits
    do not wait for it: a checkpoint copies and syncs megabytes (measured: a third of the
    database's share of a first sync when the committing thread ran it).

    The writer asks after each commit; asks made during a checkpoint are merged into the next
    one. ``running`` is held during each checkpoint.
    """

    def __init__(self, path: str) -> None:
        self.failed = False
        self.running = threading.Lock()
        self._path = path
        self._cond = threading.Condition()
        self._asked = self._stopping = False
        self._thread = threading.Thread(target=self._run, name="gladia-sqlite-wal", daemon=True)
        self._thread.start()

    def ask(self) -> None:
        with self._cond:
            self._asked = True
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            self.failed = True
            return
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            while True:
                with self._cond:
                    while not (self._asked or self._stopping):
                        self._cond.wait()
                    if self._stopping:
                        return
                with self.running:
                    with self._cond:
                        self._asked = False  # an ask from now on gets the next checkpoint
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            self.failed = True  # the writer checkpoints by itself from now on
        finally:
            conn.close()


class SQLiteStore(JobStore):
    """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
            raise SyncError("SQLite URLs look like sqlite:///relative.db or sqlite:////abs.db")
        self.url = url
        self.path = unquote(parts.path[1:])
        if not self.path:
            raise SyncError("the SQLite URL names no file")
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._rows_per_statement = 1
        self._wal: _Checkpointer | None = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            raise SyncError("the store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # -- lifecycle --

    async def open(self) -> None:
        if self._pool is not None:
            return
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gladia-sqlite")
        try:
            await self._call(self._open)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, sqlite3.Error):  # e.g. a directory, or a missing parent folder
                raise SyncError(f"cannot open the SQLite database {self.path}: {exc}") from exc
            raise

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn = conn
        conn.execute("PRAGMA busy_timeout = 10000")
        # A new file only. Jobs are kilobytes to megabytes: with 64 KiB pages several small
        # jobs share a page instead of one 10 KB job per 16 KiB page (measured: 256 vs 321 MB
        # for 20,000 one-minute jobs, and the first sync 1.3x faster).
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # SQLite before 3.32 allows 999 parameters a statement, later ones 32,766.
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._rows_per_statement = min(1024, limit // _ROW_PARAMS)
        conn.executescript(SCHEMA)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the _Checkpointer's job
        conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")  # the WAL's size when reset
        self._wal = _Checkpointer(self.path)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(pool, self._close)
        finally:
            pool.shutdown(wait=False)

    def _close(self) -> None:
        wal, self._wal = self._wal, None
        if wal is not None:
            wal.stop()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock

    async def lock(self) -> None:
        await self._call(self._lock)

    def _lock(self) -> None:
        if self._lock_fd is not None:
            return
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _try_lock(fd)
        except OSError:
            os.close(fd)
            raise StoreLockedError(
                f"another sync is writing to {self.path} (lock file {self.path}.lock is held)"
            ) from None
        self._lock_fd = fd

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SyncError("the store is not open")
        return self._conn

    def _transaction(self, work: Callable[[sqlite3.Connection], None]) -> None:
        conn = self._db
        conn.execute("BEGIN IMMEDIATE")
        try:
            work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        wal = self._wal
        if wal is None:
            return
        if wal.failed:  # back to checkpoints by the writer, at SQLite's default interval
            self._wal = None
            wal.stop()
            conn.execute("PRAGMA wal_autocheckpoint = 1000")
            return
        if _size(self.path + "-wal") > WAL_LIMIT:
            # The checkpoints fell behind the commits (the WAL is reset only once one of them
            # has copied every frame): wait for the running one and copy the rest now.
            with wal.running:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        wal.ask()

    # -- state --

    async def load_state(self, scope: str) -> dict[str, Any] | None:
        return await self._call(self._load_state, scope)

    def _load_state(self, scope: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT state FROM gladia_sync_state WHERE scope = ?", (scope,)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    async def save_state(self, scope: str, state: dict[str, Any]) -> None:
        await self._call(self._transaction, lambda c: _put_state(c, scope, state))

    async def save_windows(
        self, scope: str, windows: Sequence[tuple[int | None, int, int]]
    ) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM gladia_sync_windows WHERE scope = ?", (scope,))
            c.executemany(
                "INSERT INTO gladia_sync_windows VALUES (?, ?, ?, ?)",
                [(scope, lo, hi, n) for lo, hi, n in windows],
            )

        await self._call(self._transaction, work)

    # -- jobs --

    async def upsert(
        self, rows: Sequence[Row], run: int, state: tuple[str, dict[str, Any]] | None = None
    ) -> None:
        def work(c: sqlite3.Connection) -> None:
            now = now_iso()
            _upsert_rows(
                c,
                self._rows_per_statement,
                [
                    (
                        r.id,
                        r.kind,
                        r.status,
                        r.created_at,
                        r.completed_at,
                        r.audio_duration,
                        r.billing_time,
                        r.languages,
                        r.error_code,
                        r.custom_metadata,
                        r.data,
                        now,
                        r.created_ms,
                        run,
                    )
                    for r in rows
                ],
            )
            if state is not None:
                _put_state(c, *state)

        await self._call(self._transaction, work)

    async def mark_deleted(self, ids: Sequence[str], run: int) -> None:
        def work(c: sqlite3.Connection) -> None:
            now = now_iso()
            c.executemany(
                "UPDATE jobs SET deleted_at = ?, synced_at = ?, sync_base = CASE WHEN "
                "sync_run = ? AND sync_base IS NOT NULL THEN sync_base ELSE 'live' END, "
                "sync_run = ? WHERE id = ? AND deleted_at IS NULL",
                [(now, now, run, run, i) for i in ids],
            )

        await self._call(self._transaction, work)

    async def scan(
        self,
        kind: str,
        lo: int | None,
        hi: int | None,
        statuses: Sequence[str],
        after: tuple[int, str] | None,
        limit: int,
        deleted: bool = False,
    ) -> list[StoredJob]:
        where, args = _range_sql(kind, lo, hi, statuses, after, deleted)
        sql = (
            "SELECT id, created_ms, custom_metadata, sync_run, deleted_at IS NOT NULL "
            f"FROM jobs WHERE {where} ORDER BY created_ms DESC, id LIMIT ?"
        )

        def work() -> list[StoredJob]:
            rows = self._db.execute(sql, [*args, limit])
            return [StoredJob(i, ms, meta, run, bool(gone)) for i, ms, meta, run, gone in rows]

        return await self._call(work)

    async def run_counts(self, run: int) -> dict[str, int]:
        def work() -> dict[str, int]:
            counts = {"new": 0, "changed": 0, "deleted": 0}
            for base, live, n in self._db.execute(
                "SELECT sync_base, deleted_at IS NULL, count(*) FROM jobs WHERE sync_run = ? "
                "GROUP BY 1, 2",
                (run,),
            ):
                key = change_of(base, bool(live))
                if key is not None:
                    counts[key] += n
            return counts

        return await self._call(work)

    async def export_rows(
        self,
        kind: str | None,
        lo: int | None,
        hi: int | None,
        statuses: Sequence[str],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        where, args = _range_sql(kind, lo, hi, statuses, after)
        sql = (
            f"SELECT {', '.join(EXPORT_COLUMNS)}, created_ms FROM jobs WHERE {where} "
            "ORDER BY created_ms DESC, id LIMIT ?"
        )
        return await self._call(lambda: self._db.execute(sql, [*args, limit]).fetchall())


def _put_state(c: sqlite3.Connection, scope: str, state: dict[str, Any]) -> None:
    c.execute(
        "INSERT INTO gladia_sync_state VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET "
        "state = excluded.state",
        (scope, json.dumps(state)),
    )


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _try_lock(fd: int) -> None:
    """Lock ``fd`` exclusively or raise OSError at once."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
