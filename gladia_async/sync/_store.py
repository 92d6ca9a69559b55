"""The store interface a sync writes through, and ``open_store(url)``.

A store is the database side of a mirror: the ``jobs`` table, plus ``gladia_sync_state`` (one
JSON state per scope: the pin, an unfinished run) and ``gladia_sync_windows`` (the time windows
of the last run with their job counts). Every write is one transaction. Two implementations:
``SQLiteStore`` (standard library, the default) and ``PostgresStore`` (asyncpg).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import Any, NamedTuple, Self

from ._errors import SyncError
from ._model import Row

__all__ = [
    "EXPORT_COLUMNS",
    "UPSERT_SET",
    "JobStore",
    "StoredJob",
    "Window",
    "change_of",
    "open_store",
]

EXPORT_COLUMNS = (
    "id",
    "kind",
    "status",
    "created_at",
    "completed_at",
    "audio_duration",
    "billing_time",
    "languages",
    "error_code",
    "custom_metadata",
)
"""The flat columns of an export, in order."""


Window = tuple[int | None, int, int]
"""A saved time window: ``(lo, hi, count)``, inclusive milliseconds (lo None = open)."""


class StoredJob(NamedTuple):
    """What a scan returns of a stored job: enough to plan and check windows."""

    id: str
    created_ms: int
    custom_metadata: str | None
    sync_run: int | None
    deleted: bool


UPSERT_SET = """kind = excluded.kind, status = excluded.status,
    created_at = excluded.created_at, completed_at = excluded.completed_at,
    audio_duration = excluded.audio_duration, billing_time = excluded.billing_time,
    languages = excluded.languages, error_code = excluded.error_code,
    custom_metadata = excluded.custom_metadata, data = excluded.data, deleted_at = NULL,
    synced_at = excluded.synced_at, created_ms = excluded.created_ms,
    sync_run = excluded.sync_run,
    sync_base = CASE WHEN jobs.sync_run = excluded.sync_run AND jobs.sync_base IS NOT NULL
        THEN jobs.sync_base WHEN jobs.deleted_at IS NOT NULL THEN 'dead' ELSE 'live' END"""
"""The ``ON CONFLICT (id) DO UPDATE SET`` of both stores' upsert (inserted rows carry
``sync_base = 'absent'``). ``sync_base`` is what the job was when this run first touched it
(``absent``, ``live`` or ``dead``), so that the report of a run resumed after a crash still
counts from the state before the run began. Each store adds a ``WHERE`` that skips a live row
whose JSON did not change: the comparison happens in the database, in one statement."""


def change_of(base: str | None, live: bool) -> str | None:
    """What a run did to a job (new, changed, deleted or None), from what the job was before
    the run (``base``) and whether it is live now."""
    if base == "absent":
        return "new" if live else None
    if base == "live":
        return "changed" if live else "deleted"
    if base == "dead":
        return "changed" if live else None
    return None


class JobStore(abc.ABC):
    """A database holding the ``jobs`` table. Use ``async with store:`` (or ``open``/``close``).

    Methods are coroutines; none blocks the event loop. Callers hold ``lock()`` while writing.
    """

    url: str

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the tables if they do not exist."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the lock and the connection (closing twice is harmless)."""

    @abc.abstractmethod
    async def lock(self) -> None:
        """Take this store's sync lock until ``close``, or raise StoreLockedError at once."""

    @abc.abstractmethod
    async def load_state(self, scope: str) -> dict[str, Any] | None:
        """The saved state of a scope, or None."""

    @abc.abstractmethod
    async def save_state(self, scope: str, state: dict[str, Any]) -> None:
        """Replace a scope's state (one transaction)."""

    @abc.abstractmethod
    async def upsert(
        self, rows: Sequence[Row], run: int, state: tuple[str, dict[str, Any]] | None = None
    ) -> None:
        """Insert or update rows that differ from the stored ones (restoring deleted ones),
        and save ``state`` if given, in one transaction."""

    @abc.abstractmethod
    async def mark_deleted(self, ids: Sequence[str], run: int) -> None:
        """Set ``deleted_at`` on these jobs (those still live), in one transaction."""

    @abc.abstractmethod
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
        """Live jobs of ``kind`` created in ``[lo, hi]`` (with one of ``statuses``, if any) in
        the API's order (newest first, then id), starting after the key ``after``; with
        ``deleted``, also the jobs marked deleted (any status), flagged ``deleted``."""

    @abc.abstractmethod
    async def run_counts(self, run: int) -> dict[str, int]:
        """``new``, ``changed`` and ``deleted`` job counts of a run."""

    @abc.abstractmethod
    async def save_windows(
        self, scope: str, windows: Sequence[tuple[int | None, int, int]]
    ) -> None:
        """Replace a scope's windows: ``(lo, hi, count)`` in milliseconds, newest first."""

    @abc.abstractmethod
    async def export_rows(
        self,
        kind: str | None,
        lo: int | None,
        hi: int | None,
        statuses: Sequence[str],
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """Live jobs as tuples of ``EXPORT_COLUMNS`` + ``created_ms`` (for paging), in order."""


def open_store(url: str) -> JobStore:
    """A store for a URL: ``sqlite:///PATH`` (relative), ``sqlite:////abs/path``, or
    ``postgresql://user@host:port/db`` (needs the ``postgres`` extra). Not yet opened."""
    if not isinstance(url, str):
        raise SyncError("store must be a database URL or a JobStore")
    if url.startswith("sqlite://"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    scheme = url.partition(":")[0][:20]
    raise SyncError(
        f"unsupported store URL scheme {scheme!r} (use sqlite:///PATH or postgresql://...)"
    )
