"""Lean job summaries for fast listings: every job field except ``result`` and ``request_params``,
which are kept as undecoded JSON (``msgspec.Raw``) and decoded only when asked for.

Decoding a list page without the transcripts is about five times faster than decoding full jobs
(ARCHITECTURE.md). Yielded by ``gladia.pre_recorded.list(lean=True)`` and
``gladia.live.list(lean=True)``.

Memory trade-off: a ``msgspec.Raw`` is a view into the page's response buffer, so a summary that
is kept alive keeps its whole page body (transcripts included) alive. Streaming summaries and
dropping them costs nothing; to keep many summaries for long, keep only the fields you need, or
call ``summary.detach()`` (drops the raw JSON) or ``summary.detach(keep_raw=True)`` (copies only
this job's JSON out of the page buffer).
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from .._decode import JSON_ERRORS, decoder_for
from .._errors import DecodeError
from .common import RAW_JSON_KEY, BaseJob, TranscriptionResult
from .live import LiveJob, LiveRequestParams, LiveResult
from .pre_recorded import PreRecordedJob, PreRecordedRequestParams

__all__ = ["JobSummary", "LiveJobSummary", "PreRecordedJobSummary"]

T = TypeVar("T")
S = TypeVar("S", bound="JobSummary")
J = TypeVar("J", bound=BaseJob)


def _decode_raw(raw: msgspec.Raw | bytes, type_: type[T]) -> T | None:
    """``raw`` decoded as ``type_`` or null; bad JSON raises DecodeError."""
    try:
        value: T | None = decoder_for(type_ | None).decode(raw)
    except JSON_ERRORS as exc:
        name = getattr(type_, "__name__", repr(type_))
        raise DecodeError(f"stored JSON does not match {name}: {exc}", detail=str(exc)) from exc
    return value


def _null() -> msgspec.Raw:
    return msgspec.Raw(b"null")


class JobSummary(BaseJob, kw_only=True):
    """A job with ``result`` and ``request_params`` left as raw JSON (see the module docstring).

    Both are ``msgspec.Raw`` (raw JSON bytes; ``null`` when the API sent null or nothing).
    """

    request_params: msgspec.Raw = msgspec.field(default_factory=_null)
    result: msgspec.Raw = msgspec.field(default_factory=_null)

    def detach(self: S, *, keep_raw: bool = False) -> S:
        """A copy that no longer references the page buffer: raw JSON dropped (``null``, and
        no ``raw_json``), or copied (``keep_raw=True``; ``raw_json`` kept too)."""
        if keep_raw:
            copy = msgspec.structs.replace(
                self, request_params=self.request_params.copy(), result=self.result.copy()
            )
            return _with_raw_json(copy, self.raw_json)
        return msgspec.structs.replace(self, request_params=_null(), result=_null())


def _with_raw_json(job: J, raw: bytes | None) -> J:
    """`job`, carrying `raw` as its ``raw_json`` (when there is one)."""
    if raw is not None:
        job.__dict__[RAW_JSON_KEY] = raw
    return job


class PreRecordedJobSummary(JobSummary, kw_only=True):
    """A pre-recorded job from a lean listing; decode the rest with the methods below."""

    def decode_result(self) -> TranscriptionResult | None:
        """The transcription result, decoded now (None when the job has none)."""
        return _decode_raw(self.result, TranscriptionResult)

    def decode_request_params(self) -> PreRecordedRequestParams | None:
        """The job's request parameters, decoded now."""
        return _decode_raw(self.request_params, PreRecordedRequestParams)

    def to_job(self) -> PreRecordedJob:
        """The full PreRecordedJob (decodes everything, as a non-lean listing would; from
        ``raw_json`` when kept, so nothing is lost)."""
        job = _decode_raw(self.raw_json or msgspec.json.encode(self), PreRecordedJob)
        assert job is not None
        return _with_raw_json(job, self.raw_json)


class LiveJobSummary(JobSummary, kw_only=True):
    """A live job from a lean listing; decode the rest with the methods below."""

    def decode_result(self) -> LiveResult | None:
        """The live session result, decoded now (None when the job has none)."""
        return _decode_raw(self.result, LiveResult)

    def decode_request_params(self) -> LiveRequestParams | None:
        """The session's request parameters, decoded now."""
        return _decode_raw(self.request_params, LiveRequestParams)

    def to_job(self) -> LiveJob:
        """The full LiveJob (decodes everything, as a non-lean listing would; from
        ``raw_json`` when kept, so nothing is lost)."""
        job = _decode_raw(self.raw_json or msgspec.json.encode(self), LiveJob)
        assert job is not None
        return _with_raw_json(job, self.raw_json)
