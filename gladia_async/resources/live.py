"""`gladia.live`: create, get, delete and download live sessions, and `connect()` to stream audio.

Listing (`list`, `list_page`, `get_many`) comes from ListingMixin over `GET /v2/live`.
The WebSocket side lives in live_session.py.
"""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

import msgspec

from .._decode import decode
from .._errors import GladiaConfigError
from .._transport import ByteStream, Transport
from ..types.lean import LiveJobSummary
from ..types.live import LiveJob, LiveRequest, LiveSession, MessagesConfig
from . import job_path
from ._listing import ListingMixin
from .live_session import AudioFormat, LiveConnection

__all__ = ["LiveResource", "build_live_request"]

_OPTION_NAMES = frozenset(LiveRequest.__struct_fields__)
_FORMAT_NAMES = frozenset({"encoding", "bit_depth", "sample_rate", "channels"})


def build_live_request(request: LiveRequest | None, options: dict[str, Any]) -> LiveRequest:
    """A LiveRequest from a ready request or keyword options, validated before any I/O."""
    if request is not None:
        if options:
            raise GladiaConfigError("pass a LiveRequest or keyword options, not both")
        if not isinstance(request, LiveRequest):
            raise GladiaConfigError(f"expected a LiveRequest, not {type(request).__name__}")
        return _check_callback(request)
    for name in options:
        if name not in _OPTION_NAMES:
            hint = difflib.get_close_matches(name, _OPTION_NAMES, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise GladiaConfigError(f"unknown live option {name!r}{suggestion}")
    try:
        return _check_callback(msgspec.convert(options, LiveRequest))
    except msgspec.ValidationError as exc:
        raise GladiaConfigError(f"invalid live option: {exc}") from exc


def _check_callback(request: LiveRequest) -> LiveRequest:
    """`callback=True` needs `callback_config.url`: the schema leaves it optional, but without it
    no callback can be delivered (REFERENCE section 2 row 23), so refuse it before any I/O."""
    if request.callback and not (request.callback_config and request.callback_config.url):
        raise GladiaConfigError("callback=True needs callback_config={'url': ...}")
    return request


def _with_acknowledgments(request: LiveRequest) -> LiveRequest:
    config = request.messages_config or MessagesConfig()
    if config.receive_acknowledgments is True:
        return request
    config = msgspec.structs.replace(config, receive_acknowledgments=True)
    return msgspec.structs.replace(request, messages_config=config)


def _region_params(region: str | None) -> list[tuple[str, str]] | None:
    if region is None:
        return None
    if not isinstance(region, str) or not region.strip():
        raise GladiaConfigError(f"invalid region: {region!r} (known: 'us-west', 'eu-west')")
    return [("region", region)]


class LiveResource(ListingMixin[LiveJob, LiveJobSummary]):
    """Live sessions (`/v2/live`): REST calls, and `connect()` for the WebSocket."""

    _path: ClassVar[str] = "/v2/live"
    _item_type: ClassVar[type[LiveJob]] = LiveJob
    _lean_type: ClassVar[type[LiveJobSummary]] = LiveJobSummary

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create(
        self, request: LiveRequest | None = None, /, *, region: str | None = None, **options: Any
    ) -> LiveSession:
        """Initiate a session (`POST /v2/live`): returns its `id` and WebSocket `url`.

        `create(sample_rate=16000, language_config={"languages": ["en"]}, ...)` or
        `create(LiveRequest(...))`; `region` ("us-west", "eu-west") is a query parameter.
        The `url` carries the session token: hand it to an untrusted client rather than the key.
        Use `connect()` to create and open in one step.
        """
        body = build_live_request(request, options)
        resp = await self._transport.request(
            "POST", self._path, params=_region_params(region), json=body, idempotent=False
        )
        return decode(resp.body, LiveSession, url=resp.url)

    async def get(self, job_id: str | LiveSession | LiveJob) -> LiveJob:
        """The live job with this id (its `result` once post-processing is done)."""
        resp = await self._transport.request("GET", job_path(self._path, job_id))
        return decode(resp.body, LiveJob, url=resp.url)

    async def delete(self, job_id: str | LiveSession | LiveJob) -> None:
        """Delete a finished live job (403 until it is done or failed)."""
        await self._transport.request("DELETE", job_path(self._path, job_id))

    async def download_file(self, job_id: str | LiveSession | LiveJob) -> bytes:
        """The session's recording (WAV) as bytes (bounded by max_response_size)."""
        resp = await self._transport.request(
            "GET", job_path(self._path, job_id, "/file"), timeout=self._transport.file_timeout
        )
        return resp.body

    def stream_file(
        self, job_id: str | LiveSession | LiveJob, *, chunk_size: int = 256 * 1024
    ) -> ByteStream:
        """The session's recording as an async iterator of byte chunks (`async with` it)."""
        return self._transport.byte_stream(
            "GET", job_path(self._path, job_id, "/file"), chunk_size=chunk_size
        )

    def connect(
        self,
        request: LiveRequest | None = None,
        /,
        *,
        session: LiveSession | None = None,
        region: str | None = None,
        resend: bool = True,
        yield_acknowledgments: bool | None = None,
        max_queued_messages: int = 256,
        max_unacknowledged_bytes: int | None = None,
        max_reconnects: int = 5,
        heartbeat: float | None = 30.0,
        **options: Any,
    ) -> LiveConnection:
        """A live WebSocket connection: `async with gladia.live.connect(...) as live:`.

        Without `session`, the session is created on entry from `request` or the keyword options
        (as `create()`), with `messages_config.receive_acknowledgments` forced on so that audio
        lost with a dropped socket can be resent. With `session` (a `LiveSession` from
        `create()`, e.g. made by your backend), its `url` is used as is; only the audio format
        options (`encoding`, `bit_depth`, `sample_rate`, `channels`) may be given, to pace and
        align audio, and `resend=False` is needed if the session was created without
        acknowledgments. `yield_acknowledgments` (default: only if you set
        `receive_acknowledgments=True` yourself) yields `audio_chunk` acks to the iterator.
        See `LiveConnection` for the other bounds.
        """
        limits: dict[str, Any] = {
            "max_queued_messages": max_queued_messages,
            "max_unacknowledged_bytes": max_unacknowledged_bytes,
            "max_reconnects": max_reconnects,
            "heartbeat": heartbeat,
            "resend": resend,
        }
        if session is not None:
            if request is not None or region is not None or set(options) - _FORMAT_NAMES:
                raise GladiaConfigError(
                    "with an existing session, only encoding, bit_depth, sample_rate and "
                    "channels may be given"
                )
            if not isinstance(session, LiveSession):
                raise GladiaConfigError("session must be a LiveSession (id and url)")
            fmt = build_live_request(None, options)
            return LiveConnection(
                http=lambda: self._transport.session,
                session=session,
                get_job=self.get,
                audio_format=_audio_format(fmt),
                yield_acknowledgments=bool(yield_acknowledgments),
                **limits,
            )
        body = build_live_request(request, options)
        asked = body.messages_config is not None and body.messages_config.receive_acknowledgments
        if resend:
            body = _with_acknowledgments(body)
        _region_params(region)  # checked now, before any I/O
        return LiveConnection(
            http=lambda: self._transport.session,
            create=lambda: self.create(body, region=region),
            get_job=self.get,
            audio_format=_audio_format(body),
            yield_acknowledgments=bool(asked) if yield_acknowledgments is None
            else yield_acknowledgments,
            **limits,
        )  # fmt: skip


def _audio_format(request: LiveRequest) -> AudioFormat:
    return AudioFormat(
        encoding=request.encoding or "wav/pcm",
        bit_depth=request.bit_depth or 16,
        sample_rate=request.sample_rate or 16000,
        channels=request.channels or 1,
    )
