"""`gladia.live`: create, get, delete and download live sessions, and `connect()` to stream audio.

`get`, `delete`, `download_file`, `stream_file` and the listing come from JobCollection.
The WebSocket side lives in live_session.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

from .._decode import decode
from .._errors import GladiaConfigError
from .._transport import Headers, Query, Transport, check_headers, merge_query
from ..types.lean import LiveJobSummary
from ..types.live import LiveJob, LiveRequest, LiveSession, MessagesConfig
from . import build_body, with_extra_body
from ._listing import JobCollection
from .live_session import AudioFormat, LiveConnection

__all__ = ["LiveResource", "build_live_request"]

_FORMAT_NAMES = frozenset({"encoding", "bit_depth", "sample_rate", "channels"})


def build_live_request(
    request: LiveRequest | Mapping[str, Any] | None, options: dict[str, Any]
) -> LiveRequest:
    """A LiveRequest from a ready request, a dict or keyword options, checked before any I/O."""
    return _check_callback(build_body(LiveRequest, request, options, "live"))


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


class LiveResource(JobCollection[LiveJob, LiveJobSummary]):
    """Live sessions (`/v2/live`): REST calls, and `connect()` for the WebSocket."""

    _path: ClassVar[str] = "/v2/live"
    _item_type: ClassVar[type[LiveJob]] = LiveJob
    _lean_type: ClassVar[type[LiveJobSummary]] = LiveJobSummary

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create(
        self,
        request: LiveRequest | Mapping[str, Any] | None = None,
        /,
        *,
        region: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        **options: Any,
    ) -> LiveSession:
        """Initiate a session (`POST /v2/live`): returns its `id` and WebSocket `url`.

        `create(sample_rate=16000, language_config={"languages": ["en"]}, ...)`,
        `create(LiveRequest(...))` or `create({...})`; `region` ("us-west", "eu-west") is a
        query parameter; `extra_body` keys are merged over the JSON as given (API fields newer
        than this client).
        The `url` carries the session token: hand it to an untrusted client rather than the key.
        Use `connect()` to create and open in one step.
        """
        body = with_extra_body(build_live_request(request, options), extra_body)
        resp = await self._transport.request(
            "POST",
            self._path,
            params=_region_params(region),
            json=body,
            idempotent=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        return decode(resp.body, LiveSession, url=resp.url)

    def connect(
        self,
        request: LiveRequest | Mapping[str, Any] | None = None,
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
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
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
        See `LiveConnection` for the other bounds. `extra_body` is passed to `create()`;
        `extra_headers`/`extra_query` go with the REST calls (the session's creation), not the
        WebSocket handshake.
        """
        limits: dict[str, Any] = {
            "max_queued_messages": max_queued_messages,
            "max_unacknowledged_bytes": max_unacknowledged_bytes,
            "max_reconnects": max_reconnects,
            "heartbeat": heartbeat,
            "resend": resend,
            "connect_timeout": self._transport.connect_timeout,  # the client's, for the handshake
        }
        check_headers(extra_headers)
        merge_query(_region_params(region), extra_query)
        if session is not None:
            if (
                request is not None
                or region is not None
                or extra_body is not None
                or set(options) - _FORMAT_NAMES
            ):
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
        with_extra_body(body, extra_body)
        return LiveConnection(
            http=lambda: self._transport.session,
            create=lambda: self.create(
                body,
                region=region,
                extra_body=extra_body,
                extra_headers=extra_headers,
                extra_query=extra_query,
            ),
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
