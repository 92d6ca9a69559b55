"""Output formats for jobs: jsonl (the default), csv and aligned table, with --fields selection.

Fields are dotted paths in the API's own (wire) names, e.g. `file.audio_duration` or
`result.metadata.billing_time`; a missing step yields null rather than an error, because list
items and lean items carry fewer blocks than a full job.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections.abc import Iterable, Sequence
from functools import cache
from typing import IO, Any, Protocol

import msgspec

__all__ = [
    "DEFAULT_COLUMNS",
    "FORMATS",
    "RowWriter",
    "cell",
    "make_writer",
    "parse_fields",
    "resolve",
    "select",
]

FORMATS = ("jsonl", "csv", "table")
DEFAULT_COLUMNS = ("id", "status", "created_at", "completed_at", "file.audio_duration")
"""Columns for csv/table when --fields is not given (jsonl then writes whole objects)."""

TABLE_SAMPLE_ROWS = 100
"""Table widths come from the first rows, so a table streams instead of buffering everything."""
TABLE_MAX_WIDTH = 60

_MISSING = object()


def parse_fields(text: str | None) -> list[str] | None:
    """Split a --fields value ("id, status,file.audio_duration") into dotted paths."""
    if text is None:
        return None
    fields = [part.strip() for part in text.split(",") if part.strip()]
    for field in fields:
        if any(not step for step in field.split(".")):
            raise ValueError(f"invalid field path: {field!r}")
    return fields or None


@cache
def _wire_names(type_: type[msgspec.Struct]) -> dict[str, str]:
    """Map both the wire name and the attribute name of each Struct field to the attribute."""
    names: dict[str, str] = {}
    for field in msgspec.structs.fields(type_):
        names[field.name] = field.name
        names[field.encode_name] = field.name
    return names


def _step(value: Any, name: str) -> Any:
    if isinstance(value, msgspec.Raw):
        value = msgspec.json.decode(value) if len(value) else None
    if isinstance(value, msgspec.Struct):
        attr = _wire_names(type(value)).get(name)
        return _MISSING if attr is None else getattr(value, attr, _MISSING)
    if isinstance(value, dict):
        return value.get(name, _MISSING)
    if isinstance(value, list | tuple) and name.isdigit():
        index = int(name)
        return value[index] if index < len(value) else _MISSING
    return _MISSING


def resolve(obj: Any, path: str) -> Any:
    """The value at a dotted path of a job (Struct, dict, list or msgspec.Raw), or None."""
    value = obj
    for name in path.split("."):
        value = _step(value, name)
        if value is _MISSING or value is None:
            return None
    if isinstance(value, msgspec.Raw):
        return msgspec.json.decode(value) if len(value) else None
    return value


def select(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    """A dict of the requested dotted paths, keyed by the paths as written."""
    return {field: resolve(obj, field) for field in fields}


def cell(value: Any) -> str:
    """One value as csv/table text: scalars as is, null as empty, structures as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return msgspec.json.encode(value).decode()


class RowWriter(Protocol):
    """Writes jobs one at a time; `close()` writes whatever is still held back."""

    def write(self, obj: Any) -> None: ...

    def close(self) -> None: ...


def _is_regular_file(stream: IO[Any]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


class _Output:
    """Text output that flushes every line unless it goes to a regular file.

    Flushing per line is what makes `gladia-async list | head -1` answer at once and stop
    cleanly; a file gets ordinary block buffering.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.line_flush = not _is_regular_file(stream)
        self.binary: IO[bytes] | None = getattr(stream, "buffer", None)
        if self.binary is not None:
            stream.flush()  # anything written as text goes first

    def line(self, text: str) -> None:
        self.stream.write(text + "\n")
        if self.line_flush:
            self.stream.flush()

    def line_bytes(self, data: bytes) -> None:
        """A line of UTF-8 (JSON): straight to the byte layer, whatever the locale's encoding."""
        if self.binary is None:
            self.line(data.decode())
            return
        # A signal can cut a blocking write to a pipe short: write the rest rather than lose it
        # (the stream has already counted the item, so a lost line would be skipped on resume).
        view = memoryview(data + b"\n")
        while view:
            view = view[self.binary.write(view) :]
        if self.line_flush:
            self.binary.flush()

    def flush(self) -> None:
        self.stream.flush()
        if self.binary is not None:
            self.binary.flush()


class JsonlWriter:
    """One compact JSON object a line: the whole job, or the selected fields."""

    def __init__(self, out: _Output, fields: Sequence[str] | None) -> None:
        self.out = out
        self.fields = fields
        self.encoder = msgspec.json.Encoder()

    def write(self, obj: Any) -> None:
        data = select(obj, self.fields) if self.fields else obj
        self.out.line_bytes(self.encoder.encode(data))

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    """RFC 4180 csv with a header row made of the field paths."""

    def __init__(self, out: _Output, fields: Sequence[str]) -> None:
        self.out = out
        self.fields = list(fields)
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer, lineterminator="")
        self._row(self.fields)

    def _row(self, values: Iterable[str]) -> None:
        self.csv.writerow(values)
        self.out.line(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()

    def write(self, obj: Any) -> None:
        self._row(cell(resolve(obj, field)) for field in self.fields)

    def close(self) -> None:
        self.out.flush()


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


class TableWriter:
    """Aligned columns for people. Widths are set by the first rows, then rows stream."""

    def __init__(self, out: _Output, fields: Sequence[str]) -> None:
        self.out = out
        self.fields = list(fields)
        self.pending: list[list[str]] | None = []
        self.widths: list[int] = []

    def _emit(self, row: Sequence[str]) -> None:
        parts = [
            _clip(text, width).ljust(width) for text, width in zip(row, self.widths, strict=True)
        ]
        self.out.line("  ".join(parts).rstrip())

    def _start(self) -> None:
        rows = self.pending or []
        self.pending = None
        self.widths = [
            min(TABLE_MAX_WIDTH, max([len(field)] + [len(row[i]) for row in rows]))
            for i, field in enumerate(self.fields)
        ]
        self._emit(self.fields)
        self._emit(["-" * width for width in self.widths])
        for row in rows:
            self._emit(row)

    def write(self, obj: Any) -> None:
        row = [cell(resolve(obj, field)) for field in self.fields]
        if self.pending is None:
            self._emit(row)
            return
        self.pending.append(row)
        if len(self.pending) >= TABLE_SAMPLE_ROWS:
            self._start()

    def close(self) -> None:
        if self.pending is not None:
            self._start()
        self.out.flush()


def make_writer(fmt: str, stream: IO[str], fields: Sequence[str] | None) -> RowWriter:
    """The writer for a --format value; csv and table use DEFAULT_COLUMNS without --fields."""
    out = _Output(stream)
    if fmt == "jsonl":
        return JsonlWriter(out, fields)
    columns = list(fields) if fields else list(DEFAULT_COLUMNS)
    if fmt == "csv":
        return CsvWriter(out, columns)
    if fmt == "table":
        return TableWriter(out, columns)
    raise ValueError(f"unknown format: {fmt!r}")
