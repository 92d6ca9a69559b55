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
_NULL = object()


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


def _lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path; _MISSING if a step names nothing there, _NULL if the path
    ran into null before its end (which proves neither way that the path exists)."""
    value = obj
    for name in path.split("."):
        if value is None:
            return _NULL
        value = _step(value, name)
        if value is _MISSING:
            return _MISSING
    if isinstance(value, msgspec.Raw):
        return msgspec.json.decode(value) if len(value) else None
    return value


def resolve(obj: Any, path: str) -> Any:
    """The value at a dotted path of a job (Struct, dict, list or msgspec.Raw), or None."""
    value = _lookup(obj, path)
    return None if value is _MISSING or value is _NULL else value


def select(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    """A dict of the requested dotted paths, keyed by the paths as written."""
    return {field: resolve(obj, field) for field in fields}


class _Fields:
    """The --fields paths, and which of them no item has shown yet (to refuse a path that
    matches nothing: a typo would otherwise print empty columns)."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self.unseen = {field: False for field in self.fields}  # path -> missing in some item

    def values(self, obj: Any) -> list[Any]:
        """The item's value for each path (None where missing)."""
        found = [_lookup(obj, field) for field in self.fields]
        if self.unseen:
            for field, value in zip(self.fields, found, strict=True):
                if field not in self.unseen:
                    continue
                if value is _MISSING:
                    self.unseen[field] = True
                elif value is not _NULL:
                    del self.unseen[field]
        return [None if v is _MISSING or v is _NULL else v for v in found]

    def unmatched(self) -> list[str]:
        """Paths missing from some item and found in none."""
        return [field for field, missing in self.unseen.items() if missing]


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

    def unmatched(self) -> list[str]:
        """The --fields paths that matched nothing in any item written."""
        ...


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


@cache
def _decoded_fields(type_: type[msgspec.Struct]) -> tuple[tuple[str, str], ...] | None:
    """(wire name, attribute) of a Struct's fields that are not undecoded JSON (msgspec.Raw);
    None when it has no such field."""
    fields = msgspec.structs.fields(type_)
    kept = tuple((f.encode_name, f.name) for f in fields if f.type is not msgspec.Raw)
    return kept if len(kept) < len(fields) else None


def _without_raw(obj: Any) -> Any:
    """A lean summary without its undecoded fields (``result``, ``request_params``): the lean
    listing prints what it decoded, not the transcripts it skipped. Other objects as they are."""
    names = _decoded_fields(type(obj)) if isinstance(obj, msgspec.Struct) else None
    return obj if names is None else {wire: getattr(obj, attr) for wire, attr in names}


class JsonlWriter:
    """One compact JSON object a line: the whole job (a lean summary without its undecoded
    fields), or the selected fields."""

    def __init__(self, out: _Output, fields: Sequence[str] | None) -> None:
        self.out = out
        self.fields = _Fields(fields) if fields else None
        self.encoder = msgspec.json.Encoder()

    def write(self, obj: Any) -> None:
        if self.fields is None:
            data = _without_raw(obj)
        else:
            data = dict(zip(self.fields.fields, self.fields.values(obj), strict=True))
        self.out.line_bytes(self.encoder.encode(data))

    def close(self) -> None:
        self.out.flush()

    def unmatched(self) -> list[str]:
        return self.fields.unmatched() if self.fields else []


class CsvWriter:
    """RFC 4180 csv with a header row made of the field paths (none with ``header=False``, for
    output appended to an earlier run's)."""

    def __init__(self, out: _Output, fields: Sequence[str], *, header: bool = True) -> None:
        self.out = out
        self.fields = _Fields(fields)
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer, lineterminator="")
        if header:
            self._row(self.fields.fields)

    def _row(self, values: Iterable[str]) -> None:
        self.csv.writerow(values)
        self.out.line(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()

    def write(self, obj: Any) -> None:
        self._row(cell(value) for value in self.fields.values(obj))

    def close(self) -> None:
        self.out.flush()

    def unmatched(self) -> list[str]:
        return self.fields.unmatched()


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


class TableWriter:
    """Aligned columns for people. Widths are set by the first rows, then rows stream."""

    def __init__(self, out: _Output, fields: Sequence[str]) -> None:
        self.out = out
        self.fields = _Fields(fields)
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
            for i, field in enumerate(self.fields.fields)
        ]
        self._emit(self.fields.fields)
        self._emit(["-" * width for width in self.widths])
        for row in rows:
            self._emit(row)

    def write(self, obj: Any) -> None:
        row = [cell(value) for value in self.fields.values(obj)]
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

    def unmatched(self) -> list[str]:
        return self.fields.unmatched()


def make_writer(
    fmt: str, stream: IO[str], fields: Sequence[str] | None, *, header: bool = True
) -> RowWriter:
    """The writer for a --format value; csv and table use DEFAULT_COLUMNS without --fields.
    ``header=False``: no csv header (the output continues an earlier run's)."""
    out = _Output(stream)
    if fmt == "jsonl":
        return JsonlWriter(out, fields)
    columns = list(fields) if fields else list(DEFAULT_COLUMNS)
    if fmt == "csv":
        return CsvWriter(out, columns, header=header)
    if fmt == "table":
        return TableWriter(out, columns)
    raise ValueError(f"unknown format: {fmt!r}")
