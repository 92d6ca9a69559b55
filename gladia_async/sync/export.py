"""``export(store, out, format=...)``: the mirrored jobs as a flat table, written in row groups
of bounded size (Parquet needs pyarrow: the ``export`` extra; JSON lines and CSV need nothing).

Columns: id, kind, status, created_at, completed_at, audio_duration, billing_time, languages,
error_code, custom_metadata (JSON text). Jobs marked deleted are left out.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from .._errors import GladiaConfigError
from ..resources._listing import DateLike, StatusFilter
from ._errors import SyncError
from ._model import Scope
from ._store import EXPORT_COLUMNS, JobStore, open_store

__all__ = ["EXPORT_FORMATS", "export"]

EXPORT_FORMATS = ("parquet", "jsonl", "csv")
_PATHS = {"pre-recorded": "/v2/pre-recorded", "live": "/v2/live"}


async def export(
    store: str | JobStore,
    out: str | os.PathLike[str],
    *,
    format: Literal["parquet", "jsonl", "csv"] = "parquet",
    kind: str | None = "pre-recorded",
    status: StatusFilter | None = None,
    date: DateLike | None = None,
    before_date: DateLike | None = None,
    after_date: DateLike | None = None,
    custom_metadata: Mapping[str, Any] | None = None,
    row_group: int = 10_000,
) -> int:
    """Write the stored jobs matching the filters to ``out``; return how many were written.

    ``kind`` is ``"pre-recorded"``, ``"live"`` or None (both). At most ``row_group`` jobs are
    held in memory at once.
    """
    if format not in EXPORT_FORMATS:
        raise GladiaConfigError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    if kind is not None and kind not in _PATHS:
        raise GladiaConfigError("kind must be 'pre-recorded', 'live' or None")
    scope = Scope(
        _PATHS[kind or "pre-recorded"],
        kind or "pre-recorded",
        status=status,
        date=date,
        before_date=before_date,
        after_date=after_date,
        custom_metadata=custom_metadata,
    )
    if isinstance(store, str) and store.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        path = SQLiteStore(store).path
        if not await asyncio.to_thread(os.path.exists, path):
            raise SyncError(f"no database at {path}: run a sync first")
    writer = await asyncio.to_thread(_writer, format, out)
    try:
        if isinstance(store, JobStore):
            await store.open()
            return await _copy(store, scope, kind, writer, row_group)
        async with open_store(store) as opened:
            return await _copy(store=opened, scope=scope, kind=kind, writer=writer, size=row_group)
    finally:
        await asyncio.to_thread(writer.close)


async def _copy(store: JobStore, scope: Scope, kind: str | None, writer: _Writer, size: int) -> int:
    after: tuple[int, str] | None = None
    total = 0
    while True:
        chunk = await store.export_rows(kind, scope.lo, scope.hi, scope.statuses, after, size)
        if not chunk:
            return total
        after = (chunk[-1][-1], chunk[-1][0])
        rows = [r[:-1] for r in chunk if scope.matches_metadata(r[9])]
        if rows:
            await asyncio.to_thread(writer.write, rows)  # files and Parquet off the event loop
            total += len(rows)
        if len(chunk) < size:
            return total


def _languages(text: str | None) -> list[str] | None:
    return None if text is None else list(msgspec.json.decode(text))


class _Writer:
    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _JsonLines(_Writer):
    def __init__(self, out: str | os.PathLike[str]) -> None:
        self._file = open(out, "wb")
        self._enc = msgspec.json.Encoder()

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        buf = bytearray()
        for row in rows:
            item = dict(zip(EXPORT_COLUMNS, row, strict=True))
            item["languages"] = _languages(item["languages"])
            self._enc.encode_into(item, buf, len(buf))
            buf += b"\n"
        self._file.write(buf)

    def close(self) -> None:
        self._file.close()


class _Csv(_Writer):
    def __init__(self, out: str | os.PathLike[str]) -> None:
        self._file = open(out, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(EXPORT_COLUMNS)

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        for row in rows:
            langs = _languages(row[7])
            self._csv.writerow([*row[:7], "" if langs is None else ",".join(langs), *row[8:]])

    def close(self) -> None:
        self._file.close()


def _instant(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


class _Parquet(_Writer):
    def __init__(self, out: str | os.PathLike[str]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise SyncError(
                "Parquet export needs pyarrow: pip install 'gladia-async[export]'"
            ) from None
        self._pa = pa
        ts = pa.timestamp("ms", tz="UTC")
        self._schema = pa.schema(
            [
                ("id", pa.string()),
                ("kind", pa.string()),
                ("status", pa.string()),
                ("created_at", ts),
                ("completed_at", ts),
                ("audio_duration", pa.float64()),
                ("billing_time", pa.float64()),
                ("languages", pa.list_(pa.string())),
                ("error_code", pa.int64()),
                ("custom_metadata", pa.string()),
            ]
        )
        self._writer = pq.ParquetWriter(str(out), self._schema)

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        columns = list(zip(*rows, strict=True))
        columns[3] = tuple(_instant(v) for v in columns[3])
        columns[4] = tuple(_instant(v) for v in columns[4])
        columns[7] = tuple(_languages(v) for v in columns[7])
        table = self._pa.Table.from_arrays(
            [self._pa.array(c, type=f.type) for c, f in zip(columns, self._schema, strict=True)],
            schema=self._schema,
        )
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def _writer(format: str, out: str | os.PathLike[str]) -> _Writer:
    if format == "parquet":
        return _Parquet(out)
    if format == "csv":
        return _Csv(out)
    return _JsonLines(out)
