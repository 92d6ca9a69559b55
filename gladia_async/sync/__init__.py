"""A local mirror of the job history: ``await sync(gladia.pre_recorded, "sqlite:///jobs.db")``.

Keeps a database table ``jobs`` equal to Gladia's history of one collection (and filters) and
says what changed since the last run (``SyncReport``), at a small fraction of a full walk's
cost. Stores: ``sqlite:///PATH`` (standard library) and ``postgresql://...`` (the ``postgres``
extra, asyncpg). ``export`` writes the table as Parquet (the ``export`` extra), JSON lines or
CSV. See the README section "Sync and export".
"""

from __future__ import annotations

from ._engine import SyncReport, sync
from ._errors import StoreLockedError, SyncError
from ._store import JobStore, open_store
from .export import export

__all__ = [
    "JobStore",
    "StoreLockedError",
    "SyncError",
    "SyncReport",
    "export",
    "open_store",
    "sync",
]
