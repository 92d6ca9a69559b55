"""PostgresStore: the ``jobs`` table in PostgreSQL, through asyncpg (the ``postgres`` extra).

Instants are ``timestamptz``, JSON columns ``json`` (the API's text kept as sent; cast to
``jsonb`` to use ``@>``). The sync lock is a session advisory lock on the schema: PostgreSQL
releases it when the connection ends, even if the process was killed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from ._errors import StoreLockedError, SyncError
from ._model import Row
from ._store import (
    EXPORT_COLUMNS,
    UPSERT_SET,
    JobStore,
    StoredJob,
    change_of,
)

__all__ = ["PostgresStore"]

_LOCK_KEY = 0x676C_7379  # "glsy": with hashtext(current_schema()), one lock per jobs table

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id text PRIMARY KEY,
    kind text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    completed_at timestamptz,
    audio_duration double precision,
    billing_time double precision,
    languages json,
    error_code integer,
    custom_metadata json,
    data json NOT NULL,
    deleted_at timestamptz,
    synced_at timestamptz NOT NULL,
    created_ms bigint NOT NULL,
    sync_run bigint,
    sync_base text
);
CREATE INDEX IF NOT EXISTS jobs_order ON jobs (kind, created_ms DESC, id);
CREATE INDEX IF NOT EXISTS jobs_run ON jobs (sync_run);
CREATE TABLE IF NOT EXISTS gladia_sync_state (scope text PRIMARY KEY, state text NOT NULL);
CREATE TABLE IF NOT EXISTS gladia_sync_windows (
    scope text NOT NULL, lo_ms bigint, hi_ms bigint NOT NULL, count integer NOT NULL,
    PRIMARY KEY (scope, hi_ms)
);
"""

_UPSERT = f"""
INSERT INTO jobs (id, kind, status, created_at, completed_at, audio_duration, billing_time,
    languages, error_code, custom_metadata, data, deleted_at, synced_at, created_ms, sync_run,
    sync_base)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, $14, 'absent')
ON CONFLICT (id) DO UPDATE SET {UPSERT_SET}
WHERE jobs.deleted_at IS NOT NULL OR jobs.data::text IS DISTINCT FROM excluded.data::text
"""

_STATE = (
    "INSERT INTO gladia_sync_state VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET "
    "state = excluded.state"
)


def _instant(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


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

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if kind is not None:
        where.append(f"kind = {arg(kind)}")
    if lo is not None:
        where.append(f"created_ms >= {arg(lo)}")
    if hi is not None:
        where.append(f"created_ms <= {arg(hi)}")
    if statuses:
        clause = f"status = ANY({arg(list(statuses))}::text[])"
        where.append(f"(deleted_at IS NOT NULL OR {clause})" if deleted else clause)
    if after is not None:
        ms, last = arg(after[0]), arg(after[1])
        where.append(f'(created_ms < {ms} OR (created_ms = {ms} AND id COLLATE "C" > {last}))')
    return " AND ".join(where), args


class PostgresStore(JobStore):
    """``postgresql://user:password@host:port/database`` (any URL asyncpg accepts)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._mutex = asyncio.Lock()  # one asyncpg connection serves one query at a time

    def __repr__(self) -> str:
        return "PostgresStore(<url hidden>)"

    async def open(self) -> None:
        if self._conn is not None:
            return
        try:
            import asyncpg
        except ImportError:
            raise SyncError(
                "PostgreSQL stores need asyncpg: pip install 'gladia-async[postgres]'"
            ) from None
        try:
            self._conn = await asyncpg.connect(self.url)
        except (OSError, asyncpg.PostgresError) as exc:
            raise SyncError(f"cannot connect to PostgreSQL: {type(exc).__name__}") from None
        async with self._mutex:
            await self._conn.execute(
                f"SELECT pg_advisory_xact_lock({_LOCK_KEY + 1}, hashtext(current_schema()));"
                + SCHEMA
            )

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    @property
    def _db(self) -> Any:
        if self._conn is None:
            raise SyncError("the store is not open")
        return self._conn

    async def lock(self) -> None:
        async with self._mutex:
            got = await self._db.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", _LOCK_KEY
            )
        if not got:
            raise StoreLockedError("another sync is writing to this PostgreSQL jobs table")

    async def load_state(self, scope: str) -> dict[str, Any] | None:
        async with self._mutex:
            text = await self._db.fetchval(
                "SELECT state FROM gladia_sync_state WHERE scope = $1", scope
            )
        return None if text is None else dict(json.loads(text))

    async def save_state(self, scope: str, state: dict[str, Any]) -> None:
        async with self._mutex:
            await self._db.execute(_STATE, scope, json.dumps(state))

    async def save_windows(
        self, scope: str, windows: Sequence[tuple[int | None, int, int]]
    ) -> None:
        async with self._mutex, self._db.transaction():
            await self._db.execute("DELETE FROM gladia_sync_windows WHERE scope = $1", scope)
            await self._db.executemany(
                "INSERT INTO gladia_sync_windows VALUES ($1, $2, $3, $4)",
                [(scope, lo, hi, n) for lo, hi, n in windows],
            )

    async def upsert(
        self, rows: Sequence[Row], run: int, state: tuple[str, dict[str, Any]] | None = None
    ) -> None:
        async with self._mutex, self._db.transaction():
            db = self._db
            now = dt.datetime.now(dt.UTC)
            await db.executemany(
                _UPSERT,
                [
                    (
                        r.id,
                        r.kind,
                        r.status,
                        _instant(r.created_at),
                        _instant(r.completed_at),
                        r.audio_duration,
                        r.billing_time,
                        r.languages,
                        r.error_code,
                        r.custom_metadata,
                        r.data.decode(),
                        now,
                        r.created_ms,
                        run,
                    )
                    for r in rows
                ],
            )
            if state is not None:
                await db.execute(_STATE, state[0], json.dumps(state[1]))

    async def mark_deleted(self, ids: Sequence[str], run: int) -> None:
        async with self._mutex, self._db.transaction():
            await self._db.execute(
                "UPDATE jobs SET deleted_at = $1, synced_at = $1, sync_base = CASE WHEN "
                "sync_run = $2 AND sync_base IS NOT NULL THEN sync_base ELSE 'live' END, "
                "sync_run = $2 WHERE id = ANY($3::text[]) AND deleted_at IS NULL",
                dt.datetime.now(dt.UTC),
                run,
                list(ids),
            )

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
            "SELECT id, created_ms, custom_metadata::text, sync_run, deleted_at IS NOT NULL "
            f'FROM jobs WHERE {where} ORDER BY created_ms DESC, id COLLATE "C" LIMIT {int(limit)}'
        )
        async with self._mutex:
            records = await self._db.fetch(sql, *args)
        return [StoredJob(*r) for r in records]

    async def run_counts(self, run: int) -> dict[str, int]:
        counts = {"new": 0, "changed": 0, "deleted": 0}
        async with self._mutex:
            records = await self._db.fetch(
                "SELECT sync_base, deleted_at IS NULL, count(*) FROM jobs WHERE sync_run = $1 "
                "GROUP BY 1, 2",
                run,
            )
        for base, live, n in records:
            key = change_of(base, live)
            if key is not None:
                counts[key] += n
        return counts

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
        cols = ", ".join(
            f"{c}::text" if c in ("languages", "custom_metadata") else c for c in EXPORT_COLUMNS
        )
        sql = (
            f"SELECT {cols}, created_ms FROM jobs WHERE {where} "
            f'ORDER BY created_ms DESC, id COLLATE "C" LIMIT {int(limit)}'
        )
        async with self._mutex:
            records = await self._db.fetch(sql, *args)
        return [(*r[:3], _iso(r[3]), _iso(r[4]), *r[5:]) for r in records]
