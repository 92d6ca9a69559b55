"""What sync keeps of a job (a Row: the flat columns plus the exact JSON), the scope of a sync
(its filters as a time range plus a local predicate), and millisecond time helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from .._errors import DecodeError, GladiaConfigError
from .._streams import Checkpoint
from ..resources._listing import DateLike, StatusFilter, build_checkpoint
from ..types.common import RAW_JSON_KEY

__all__ = [
    "UNFINISHED",
    "Listed",
    "Row",
    "Scope",
    "decode_item",
    "decode_page",
    "format_ms",
    "parse_ms",
    "row_of",
]

UNFINISHED = ("queued", "processing")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)


def parse_ms(text: str) -> int:
    """Milliseconds since the epoch of an ISO instant (UTC when naive), floored."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // _MS


def format_ms(ms: int) -> str:
    """An instant as the API writes it: ``2026-06-12T21:00:09.947Z``."""
    value = _EPOCH + ms * _MS
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


class Row(msgspec.Struct, gc=False):
    """One job as stored: the flat columns, and ``data``, its JSON bytes exactly as the API
    sent them (stored as text)."""

    id: str
    kind: str
    status: str
    created_at: str
    created_ms: int
    completed_at: str | None
    audio_duration: float | None
    billing_time: float | None
    languages: str | None
    error_code: int | None
    custom_metadata: str | None
    data: bytes


# Only the fields the columns need: msgspec skips the rest (transcripts) without building them.
class _File(msgspec.Struct, gc=False):
    audio_duration: float | None = None


class _Metadata(msgspec.Struct, gc=False):
    audio_duration: float | None = None
    billing_time: float | None = None


class _Transcription(msgspec.Struct, gc=False):
    languages: list[str] | None = None


class _Result(msgspec.Struct, gc=False):
    metadata: _Metadata | None = None
    transcription: _Transcription | None = None


class Listed(msgspec.Struct, dict=True):
    """What sync decodes of a listed job: the columns' fields (msgspec skips the rest of the
    transcript without building it), plus what a listing checks (id, status, created_at,
    custom_metadata). Listings keep the job's bytes in ``__dict__`` (``raw_json``)."""

    id: str
    status: str
    created_at: str
    kind: str | None = None
    completed_at: str | None = None
    error_code: int | None = None
    custom_metadata: Any = None
    file: _File | None = None
    result: _Result | None = None

    @property
    def raw_json(self) -> bytes | None:
        raw = self.__dict__.get(RAW_JSON_KEY)
        return raw if isinstance(raw, bytes) else None


class _Page(msgspec.Struct, gc=False):
    items: list[msgspec.Raw]
    next: str | None = None


_item_decoder = msgspec.json.Decoder(Listed)
_page_decoder = msgspec.json.Decoder(_Page)
_encode = msgspec.json.encode


def decode_item(raw: bytes | msgspec.Raw, kind: str, url: str = "") -> Row:
    """A Row from one job's JSON bytes; malformed JSON raises DecodeError."""
    try:
        item = _item_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"unexpected job JSON from {url}: {exc}", url=url) from exc
    return row_of(item, kind, bytes(raw), url)


def row_of(item: Listed, kind: str, data: bytes, url: str = "") -> Row:
    """The Row of a decoded job whose JSON bytes are ``data``."""
    try:
        created_ms = parse_ms(item.created_at)
    except ValueError as exc:
        raise DecodeError(f"unexpected job JSON from {url}: {exc}", url=url) from exc
    meta = item.result.metadata if item.result else None
    trans = item.result.transcription if item.result else None
    duration = meta.audio_duration if meta and meta.audio_duration is not None else None
    if duration is None and item.file is not None:
        duration = item.file.audio_duration
    custom = item.custom_metadata
    return Row(
        id=item.id,
        kind=item.kind or kind,
        status=item.status,
        created_at=item.created_at,
        created_ms=created_ms,
        completed_at=item.completed_at,
        audio_duration=duration,
        billing_time=meta.billing_time if meta else None,
        languages=_encode(trans.languages).decode() if trans and trans.languages else None,
        error_code=item.error_code,
        custom_metadata=None if custom is None else _encode(custom).decode(),
        data=data,
    )


def decode_page(body: bytes, kind: str, url: str = "") -> tuple[list[Row], str | None]:
    """The Rows of a list page and its ``next`` link."""
    try:
        page = _page_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"unexpected list page from {url}: {exc}", url=url) from exc
    return [decode_item(raw, kind, url) for raw in page.items], page.next


def _subset(want: Any, have: Any) -> bool:
    """The API's custom_metadata match: ``want`` is a (recursive) subset of ``have``."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and _subset(v, have[k]) for k, v in want.items()
        )
    return bool(want == have)


class Scope:
    """The jobs one sync mirrors: a collection and its filters.

    Dates become an inclusive millisecond range ``[lo, hi]`` (None = open); status and
    custom_metadata stay API filters, and are also checked locally on stored rows.
    """

    def __init__(
        self,
        path: str,
        kind: str,
        *,
        status: StatusFilter | None = None,
        date: DateLike | None = None,
        before_date: DateLike | None = None,
        after_date: DateLike | None = None,
        custom_metadata: Mapping[str, Any] | None = None,
    ) -> None:
        cp = build_checkpoint(
            path,
            status=status,
            date=date,
            before_date=before_date,
            after_date=after_date,
            custom_metadata=custom_metadata,
        )
        self.path, self.kind = path, kind
        self.statuses: tuple[str, ...] = cp.status
        self.metadata_text = cp.custom_metadata
        self.metadata: Any = (
            None if cp.custom_metadata is None else msgspec.json.decode(cp.custom_metadata)
        )
        lo = None if cp.after_date is None else parse_ms(cp.after_date) + 1
        hi = None if cp.before_date is None else parse_ms(cp.before_date) - 1
        if cp.date is not None:
            day = parse_ms(cp.date + "T00:00:00")
            lo = day if lo is None else max(lo, day)
            hi = day + 86_400_000 - 1 if hi is None else min(hi, day + 86_400_000 - 1)
        self.lo, self.hi = lo, hi
        self.key = msgspec.json.encode([path, self.statuses, lo, hi, self.metadata_text]).decode()

    def __repr__(self) -> str:
        return f"Scope({self.key})"

    def statuses_with(self, wanted: Iterable[str]) -> tuple[str, ...]:
        """``wanted`` statuses that this scope includes."""
        return tuple(s for s in wanted if not self.statuses or s in self.statuses)

    def matches_metadata(self, custom_metadata: str | None) -> bool:
        """True when a stored row's custom_metadata passes this scope's filter."""
        if self.metadata is None:
            return True
        have = None if custom_metadata is None else msgspec.json.decode(custom_metadata)
        return _subset(self.metadata, have)

    def checkpoint(
        self,
        lo: int | None,
        hi: int | None,
        *,
        statuses: tuple[str, ...] | None = None,
        page_size: int = 100,
    ) -> Checkpoint:
        """The listing of this scope's jobs created in ``[lo, hi]`` (inclusive milliseconds)."""
        if lo is not None and hi is not None and lo > hi:
            raise GladiaConfigError("empty time range")
        return build_checkpoint(
            self.path,
            status=(self.statuses if statuses is None else statuses) or None,
            after_date=None if lo is None else format_ms(lo - 1),
            before_date=None if hi is None else format_ms(hi + 1),
            custom_metadata=None if self.metadata is None else self.metadata,
            page_size=page_size,
        )
