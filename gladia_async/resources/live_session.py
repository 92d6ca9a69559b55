"""A live session's WebSocket: send audio, read typed messages, survive dropped sockets.

``LiveConnection`` is what ``gladia.live.connect(...)`` returns: an async context manager (or an
awaitable: ``conn = await gladia.live.connect(...)`` then ``await conn.aclose()``).

Guarantees and bounds:

- **Auth**: the WebSocket URL's token authenticates; the API key is never sent on the socket.
  The URL comes from the server, so only ``wss://`` is accepted (``ws://`` only for loopback
  hosts), and it is never logged nor shown in a repr or an error (the token is a credential).
- **Frames**: audio is sent as binary frames of at most 512 KiB (the server rejects frames over
  1 MiB with close code 1009).
- **Back-pressure, reading**: messages wait in a queue of ``max_queued_messages``; when it is
  full the reader stops reading the socket, so a slow consumer pauses the server (TCP flow
  control) instead of growing memory. Read messages while you send: if nobody reads, the queue
  fills and, with it, acknowledgments stop being processed and ``send_audio`` eventually waits.
- **Back-pressure, sending**: audio stays in a resend buffer until the server acknowledges it;
  ``send_audio`` waits while the buffer holds more than ``max_unacknowledged_bytes`` (default:
  30 seconds of audio in the session's format, at least 1 MiB).
- **Reconnection**: a socket closed with a non-final code (anything but 1000, 1001 and
  4400-4499, REFERENCE.md section 1) or dropped without a close is reopened on the same URL
  with exponential backoff. Only progress resets the count: after ``max_reconnects`` drops in a
  row without newly acknowledged audio (other messages do not count) the iteration raises
  APIConnectionError. The handshake never follows a redirect. Then the unacknowledged audio
  is sent again, then ``stop_recording`` again if it was sent but not acknowledged. Resending
  needs acknowledgments, so ``connect()`` turns ``messages_config.receive_acknowledgments`` on
  when it creates the session. Acknowledged audio is dropped from the buffer by
  ``data.byte_range[1]`` read as an exclusive end (what the SDK and the examples do); should a
  server mean it inclusively, an end one byte short of a frame boundary is rounded up to it, so
  a resend never starts mid-sample. Ack offsets are read relative to the first ack of each
  socket (its ``byte_range[0]`` is where that socket's audio began), because the server's byte
  count runs on across reconnects and may count resent audio again: trusting absolute offsets
  could drop audio the server never acknowledged. Audio the server received but had not
  acknowledged when the socket dropped is sent twice: the protocol cannot tell the two apart.
- **End**: a final close code, or ``end_session``, ends the iteration cleanly (``close_code``
  says which). ``await final_result()`` then fetches the live job (``GET /v2/live/{id}``).
  Leaving the ``async with`` block closes the socket with code 1000: Gladia still finishes the
  session and its post-processing; to receive the post-processing messages, ``await stop()``
  and iterate until the iteration ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import struct
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Final, TypeAlias
from urllib.parse import urlsplit

import aiohttp

from .._config import is_loopback_host
from .._errors import APIConnectionError, GladiaConfigError, GladiaError, UnsafeURLError
from .._streams import check_int
from ..types.common import TranscriptionResult
from ..types.live import LiveJob, LiveSession
from ..types.ws import (
    AudioChunkAck,
    EndSessionMessage,
    LiveServerMessage,
    PostFinalTranscriptMessage,
    StopRecordingAck,
    UnknownMessage,
)
from ..webhooks import parse_live_message

__all__ = [
    "MAX_FRAME_BYTES",
    "AudioFormat",
    "AudioSource",
    "LiveConnection",
    "LiveSessionError",
    "is_final_close_code",
]

log = logging.getLogger("gladia_async.live")

MAX_FRAME_BYTES: Final = 512 * 1024
"""Largest binary frame sent (the server closes with 1009 above 1 MiB)."""
_STOP_FRAME: Final = '{"type":"stop_recording"}'
_FINAL_HANDSHAKE_STATUSES: Final = frozenset({400, 401, 403, 404, 410, 422})

AudioSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]"
)
"""What ``stream_audio`` accepts: a path, bytes, a binary file object or an async byte iterator."""


class LiveSessionError(GladiaError):
    """The live session cannot go on: used after it ended or was closed, or the server refused
    the socket. ``close_code`` is the WebSocket close code when there was one."""

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code


def is_final_close_code(code: int | None) -> bool:
    """True for close codes that end a session (1000, 1001, 4400-4499); others are retried."""
    return code is not None and (code in (1000, 1001) or 4400 <= code <= 4499)


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """The raw audio format of a session, for pacing and frame alignment."""

    encoding: str = "wav/pcm"
    bit_depth: int = 16
    sample_rate: int = 16000
    channels: int = 1

    @property
    def frame_size(self) -> int:
        """Bytes per sample frame (one sample of every channel)."""
        bits = 8 if self.encoding in ("wav/alaw", "wav/ulaw") else self.bit_depth
        return max(1, bits // 8) * max(1, self.channels)

    @property
    def bytes_per_second(self) -> int:
        """Bytes of audio per second of sound."""
        return self.frame_size * self.sample_rate


class _End:
    """Queue sentinel: the session is over (or failed)."""


_END: Final = _End()


def check_ws_url(url: str) -> None:
    """Refuse a server-provided WebSocket URL that is not wss:// (ws:// only on loopback)."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # both parse (and may raise) lazily
    except ValueError:
        raise UnsafeURLError("the live session URL is malformed") from None
    scheme = parts.scheme.lower()
    if not host or scheme not in ("ws", "wss"):
        raise UnsafeURLError("the live session URL is not a ws:// or wss:// URL")
    if scheme == "ws" and not is_loopback_host(host):
        raise UnsafeURLError("refusing a plain ws:// live session URL off loopback")


class LiveConnection:
    """One live session's WebSocket: ``send_audio``, ``stop``, ``async for message in conn``.

    Built by ``gladia.live.connect(...)``; see the module docstring for bounds and guarantees.
    ``id`` is the session (live job) id, known once the connection is open.
    """

    def __init__(
        self,
        *,
        http: Callable[[], aiohttp.ClientSession],
        create: Callable[[], Awaitable[LiveSession]] | None = None,
        session: LiveSession | None = None,
        get_job: Callable[[str], Awaitable[LiveJob]] | None = None,
        audio_format: AudioFormat = AudioFormat(),
        resend: bool = True,
        yield_acknowledgments: bool = False,
        max_queued_messages: int = 256,
        max_unacknowledged_bytes: int | None = None,
        max_reconnects: int = 5,
        reconnect_delay: float = 0.25,
        max_reconnect_delay: float = 4.0,
        heartbeat: float | None = 30.0,
        connect_timeout: float | None = 10.0,
    ) -> None:
        if (create is None) == (session is None):
            raise TypeError("give exactly one of create or session")
        check_int(max_queued_messages, "max_queued_messages", 1)
        check_int(max_reconnects, "max_reconnects", 0)
        if max_unacknowledged_bytes is not None:
            check_int(max_unacknowledged_bytes, "max_unacknowledged_bytes", 1)
        self._http = http
        self._create = create
        self._session = session
        self._get_job = get_job
        self.audio_format = audio_format
        self._resend = resend
        self._yield_acks = yield_acknowledgments
        self.max_unacknowledged_bytes = max_unacknowledged_bytes or max(
            30 * audio_format.bytes_per_second, 1024 * 1024
        )
        self._max_reconnects = max_reconnects
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        """Backoff sleep; tests may replace it."""

        self._queue: asyncio.Queue[LiveServerMessage | _End] = asyncio.Queue(max_queued_messages)
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._own_http: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self._room = asyncio.Event()
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._sent = 0
        self._acked = 0
        self._connected = False
        self._opened = False
        self._stop_sent = False
        self._stop_acked = False
        self._stop_ws: aiohttp.ClientWebSocketResponse | None = None
        self._drops = 0  # drops in a row without acknowledged audio in between
        self._progress: tuple[int, bool] = (0, False)  # (acked, stop acked) at the last drop
        self._conn_base = 0
        self._conn_server_start: int | None = None
        self._ended = False
        self._closed = False
        self._error: BaseException | None = None
        self.close_code: int | None = None
        """The close code that ended the session (None while it runs)."""
        self.reconnects = 0
        """How many times the socket was reopened after a drop."""
        self.result: TranscriptionResult | None = None
        """The session's final result from the ``post_final_transcript`` message, once received."""

    # -- state

    @property
    def id(self) -> str:
        """The live session (job) id."""
        if self._session is None:
            raise LiveSessionError("the live session is not created yet: open the connection")
        return self._session.id

    @property
    def session(self) -> LiveSession | None:
        """The created session (``id``, ``created_at``, ``url``); ``url`` holds the token."""
        return self._session

    @property
    def ended(self) -> bool:
        """True once the session ended (final close code or ``end_session``) or failed."""
        return self._ended or self._error is not None

    @property
    def bytes_sent(self) -> int:
        """Audio bytes accepted by ``send_audio`` so far."""
        return self._sent

    @property
    def bytes_acknowledged(self) -> int:
        """Audio bytes the server acknowledged (or, without resending, sent) so far."""
        return self._acked

    @property
    def unacknowledged_bytes(self) -> int:
        """Audio bytes held for a possible resend."""
        return self._buffered

    def __repr__(self) -> str:
        sid = self._session.id if self._session else None
        state = "closed" if self._closed else "ended" if self.ended else "open"
        return f"LiveConnection(id={sid!r}, {state}, sent={self._sent}, acked={self._acked})"

    # -- lifecycle

    async def open(self) -> LiveConnection:
        """Create the session if needed, open the socket and start reading. Returns self."""
        if self._opened:
            raise RuntimeError("a LiveConnection can be opened only once")
        self._opened = True
        try:
            if self._session is None:
                assert self._create is not None
                self._session = await self._create()
            check_ws_url(self._session.url)
            self._ws = await self._connect(first=True)
            self._connected = True
            self._reader = asyncio.create_task(self._read_loop(), name=f"gladia-live-{self.id}")
        except BaseException:
            await self.aclose()
            raise
        return self

    async def aclose(self) -> None:
        """Stop reading and close the socket (code 1000). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._connected = False
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            await asyncio.wait([reader])
        ws, self._ws = self._ws, None
        try:
            await _close_quietly(ws)
        finally:
            own, self._own_http = self._own_http, None
            if own is not None:
                await own.close()
            self._room.set()
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_END)

    async def __aenter__(self) -> LiveConnection:
        return await self.open()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __await__(self) -> Generator[Any, None, LiveConnection]:
        return self.open().__await__()

    # -- sending

    async def send_audio(self, chunk: bytes | bytearray | memoryview) -> None:
        """Send audio in the session's format, as binary frames of at most 512 KiB.

        Waits while more than ``max_unacknowledged_bytes`` are unacknowledged, and while the
        socket is being reopened. Call it from one task at a time.
        """
        data = memoryview(chunk).cast("B")
        for start in range(0, len(data), MAX_FRAME_BYTES):
            piece = bytes(data[start : start + MAX_FRAME_BYTES])
            self._check_can_send()
            while self._buffered and self._buffered + len(piece) > self.max_unacknowledged_bytes:
                self._room.clear()
                await self._room.wait()
                self._check_can_send()
            async with self._send_lock:
                self._check_can_send()
                self._buffer.append(piece)
                self._buffered += len(piece)
                self._sent += len(piece)
                if self._connected and await self._send(piece) and not self._resend:
                    self._trim(self._sent)

    async def stop(self) -> None:
        """Send ``stop_recording``: the server finishes, post-processes, then closes (1000).

        Keep iterating to receive the remaining messages. Calling it twice is harmless.
        """
        if self._stop_sent or self.ended or self._closed:
            return
        self._stop_sent = True
        async with self._send_lock:
            if self._connected and self._stop_ws is not self._ws:
                self._stop_ws = self._ws
                await self._send(_STOP_FRAME)

    async def stream_audio(
        self,
        source: AudioSource,
        *,
        realtime: bool = True,
        chunk_duration: float = 0.1,
        stop: bool = True,
        skip_wav_header: bool = True,
    ) -> int:
        """Send a whole source: a path, bytes, a binary file object or an async byte iterator.

        ``realtime`` paces sending at the speed of sound (bytes per second from the session's
        encoding, bit depth, sample rate and channels), as a microphone would; otherwise audio
        goes as fast as the unacknowledged-audio bound allows. Chunks are ``chunk_duration``
        seconds (100 ms is what Gladia recommends). A WAV header (RIFF/WAVE) at the start of a
        path, bytes or file is skipped, after checking that its format matches the session's.
        Sends ``stop_recording`` at the end when ``stop``. Returns the audio bytes sent.
        """
        fmt = self.audio_format
        chunk_size = max(fmt.frame_size, int(fmt.bytes_per_second * chunk_duration))
        chunk_size -= chunk_size % fmt.frame_size
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = 0
        async for piece in _rechunk(_read_source(source, fmt, skip_wav_header), chunk_size):
            if realtime:
                delay = started + sent / fmt.bytes_per_second - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.send_audio(piece)
            sent += len(piece)
        if stop:
            await self.stop()
        return sent

    # -- receiving

    def __aiter__(self) -> AsyncIterator[LiveServerMessage]:
        return self

    async def __anext__(self) -> LiveServerMessage:
        if not self._opened:
            raise RuntimeError("open the connection first (async with gladia.live.connect(...))")
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, _End):
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(_END)
            if self._error is not None:
                raise self._error
            raise StopAsyncIteration
        return item

    async def final_result(
        self,
        *,
        wait: bool = True,
        poll_interval: float = 1.0,
        timeout: float | None = 600.0,  # noqa: ASYNC109
    ) -> LiveJob:
        """Fetch the live job (``GET /v2/live/{id}``), by default once it is ``done``/``error``.

        Post-processing may still run for a moment after the socket closed: with ``wait`` the
        job is polled every ``poll_interval`` seconds until it finishes (at most ``timeout``).
        """
        if self._get_job is None:
            raise LiveSessionError("this connection has no REST client to fetch the job with")
        get_job, job_id = self._get_job, self.id
        async with asyncio.timeout(timeout if wait else None):
            while True:
                job = await get_job(job_id)
                if not wait or job.status in ("done", "error"):
                    return job
                await asyncio.sleep(poll_interval)

    # -- internals

    def _check_can_send(self) -> None:
        """Raise why audio cannot be sent any more, if it cannot."""
        if self._error is not None:
            raise self._error
        if self._closed:
            raise LiveSessionError("the live connection is closed")
        if self._ended:
            raise LiveSessionError("the live session has ended", close_code=self.close_code)
        if self._stop_sent:
            raise LiveSessionError("stop_recording was sent: no more audio is accepted")

    async def _send(self, frame: bytes | str) -> bool:
        """Send one frame on the current socket; False (not raised) when it is gone."""
        ws = self._ws
        if ws is None or ws.closed:
            return False
        try:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            log.debug("live %s: send failed (%s); the reader will reconnect", self.id, exc)
            return False
        return True

    def _trim(self, end: int) -> None:
        """Drop buffered audio below session offset ``end`` and wake waiting senders."""
        end = min(end, self._sent)
        if end <= self._acked:
            return
        drop = end - self._acked
        self._acked = end
        while drop and self._buffer:
            head = self._buffer[0]
            if len(head) <= drop:
                self._buffer.popleft()
                drop -= len(head)
                self._buffered -= len(head)
            else:
                self._buffer[0] = head[drop:]
                self._buffered -= drop
                drop = 0
        self._room.set()

    def _on_ack(self, ack: AudioChunkAck) -> None:
        """Drop acknowledged audio from the resend buffer (see the module docstring)."""
        if not ack.acknowledged or ack.data is None:
            if ack.error is not None:
                log.warning("live %s: audio chunk rejected: %s", self.id, ack.error.message)
            return
        start, end = (int(x) for x in ack.data.byte_range)
        if self._conn_server_start is None:
            self._conn_server_start = start
        # Offsets relative to this connection's first ack: a server that counts resent bytes
        # again (as its session byte count continues) cannot make us trim audio it never got.
        end = self._conn_base + end - self._conn_server_start
        frame = self.audio_format.frame_size
        if frame > 1 and end % frame and (end + 1) % frame == 0:
            end += 1  # an inclusive end: round up to the frame boundary it stands for
        self._trim(end)

    def _http_session(self) -> aiohttp.ClientSession:
        """A session of this connection's own over the client's connection pool: none of the
        client session's default headers (which may hold the API key) nor cookies reach the
        socket, and a redirect of the handshake is refused rather than followed."""
        if self._own_http is None:
            http = self._http()
            self._own_http = aiohttp.ClientSession(
                connector=http.connector,
                connector_owner=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=http.trust_env,
                middlewares=(_refuse_redirects,),
            )
        return self._own_http

    async def _connect(self, *, first: bool) -> aiohttp.ClientWebSocketResponse:
        """Open the socket, retrying connection failures with backoff."""
        assert self._session is not None
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(self._connect_timeout):  # a stalled handshake retries
                    return await self._http_session().ws_connect(
                        self._session.url,
                        heartbeat=self._heartbeat,
                        timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=10.0),
                        max_msg_size=64 * 1024 * 1024,
                        autoping=True,
                    )
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in _FINAL_HANDSHAKE_STATUSES:
                    raise LiveSessionError(
                        f"the server refused the live socket of session {self.id}: {exc.status}"
                    ) from None
                failure: str = f"handshake status {exc.status}"
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                failure = type(exc).__name__
            attempt += 1
            if attempt > self._max_reconnects:
                what = "open" if first else "reopen"
                raise APIConnectionError(
                    f"could not {what} the live socket of session {self.id} "
                    f"after {attempt} attempts ({failure})"
                )
            delay = min(self._max_reconnect_delay, self._reconnect_delay * 2 ** (attempt - 1))
            log.info("live %s: connecting failed (%s), retrying in %.2fs", self.id, failure, delay)
            await self.sleep(delay * (0.5 + random.random() / 2))

    async def _reconnect(self, code: int | None) -> None:
        """Reopen the socket, then resend the unacknowledged audio and an unacknowledged stop."""
        delay = min(self._max_reconnect_delay, self._reconnect_delay * 2 ** (self._drops - 1))
        log.info("live %s: socket closed (code %s), reconnecting in %.2fs", self.id, code, delay)
        await self.sleep(delay * (0.5 + random.random() / 2))
        ws = await self._connect(first=False)
        async with self._send_lock:
            old, self._ws = self._ws, ws
            self._conn_base, self._conn_server_start = self._acked, None
            await _close_quietly(old)
            ok = True
            for piece in list(self._buffer):
                if not (ok := await self._send(piece)):
                    break
            if ok and self._stop_sent and not self._stop_acked:
                ok = await self._send(_STOP_FRAME)
                self._stop_ws = ws
            if ok and not self._resend:
                self._trim(self._sent)
            self._connected = True
        self.reconnects += 1

    async def _read_loop(self) -> None:
        """Read the socket into the queue; reconnect on a non-final close; end on a final one."""
        try:
            while True:
                ws = self._ws
                assert ws is not None
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    continue
                else:  # CLOSE, CLOSING, CLOSED, ERROR
                    code = ws.close_code
                    if self._ended or is_final_close_code(code):
                        self._finish(code)
                        await self._queue.put(_END)
                        return
                    self._connected = False
                    progress = (self._acked, self._stop_acked)
                    if progress != self._progress:  # acknowledged audio since the last drop
                        self._progress, self._drops = progress, 0
                    self._drops += 1
                    if self._drops > self._max_reconnects:
                        raise APIConnectionError(
                            f"the live socket of session {self.id} dropped {self._drops} times "
                            f"in a row (last close code {code}) without acknowledging any audio "
                            "in between"
                        )
                    await self._reconnect(code)
        except Exception as exc:  # not CancelledError: aclose() cancels the reader
            self._error = exc
            self._connected = False
            self._room.set()
            await self._queue.put(_END)

    async def _on_text(self, data: str) -> None:
        """Decode one server message, update the session state, queue it for the iterator."""
        try:
            message = parse_live_message(data, strict=False)
        except GladiaError as exc:  # not JSON at all
            log.warning("live %s: undecodable message ignored: %s", self.id, exc)
            return
        if isinstance(message, AudioChunkAck):
            self._on_ack(message)
            if not self._yield_acks:
                return
        elif isinstance(message, StopRecordingAck):
            self._stop_acked = True
        elif isinstance(message, PostFinalTranscriptMessage):
            self.result = message.data
        elif isinstance(message, EndSessionMessage):
            self._ended = True
        elif isinstance(message, UnknownMessage) and message.decode_error:
            log.warning("live %s: %r message not understood: %s", self.id, message.type,
                        message.decode_error)  # fmt: skip
        await self._queue.put(message)

    def _finish(self, code: int | None) -> None:
        """The session ended with close ``code``: release waiting senders."""
        self.close_code = code
        self._ended = True
        self._connected = False
        self._room.set()
        if code not in (1000, None):
            log.warning("live %s: the session ended with close code %s", self.id, code)


async def _refuse_redirects(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Client middleware of the live socket: a redirected handshake is refused, never followed
    (a hop could lead off the checked origin or to plain ws://, with the token in its URL)."""
    response = await handler(request)
    if response.status in (301, 302, 303, 307, 308):
        response.release()
        raise UnsafeURLError(
            f"the live socket handshake was redirected ({response.status}); "
            "redirects are not followed on the live socket"
        )
    return response


async def _close_quietly(ws: aiohttp.ClientWebSocketResponse | None) -> None:
    """Close a socket (code 1000) if it is open, ignoring a connection already gone."""
    if ws is not None and not ws.closed:
        with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
            await ws.close(code=1000)


# --- audio sources --------------------------------------------------------------------------


async def _rechunk(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """Regroup arbitrary chunks into pieces of exactly ``size`` bytes (the last may be short)."""
    pending = bytearray()
    async for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


_READ_SIZE: Final = 256 * 1024


async def _read_source(
    source: AudioSource, fmt: AudioFormat, skip_wav_header: bool
) -> AsyncIterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        offset = _wav_data_offset(data[:65536], fmt) if skip_wav_header else 0
        for start in range(offset, len(data), _READ_SIZE):
            yield data[start : start + _READ_SIZE]
        return
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            yield bytes(chunk)
        return
    if isinstance(source, str | os.PathLike):
        file: IO[bytes] = await asyncio.to_thread(open, source, "rb")
        owned = True
    else:
        file, owned = source, False
    try:
        first = await asyncio.to_thread(file.read, 65536)
        offset = _wav_data_offset(first, fmt) if skip_wav_header else 0
        if first[offset:]:
            yield first[offset:]
        while chunk := await asyncio.to_thread(file.read, _READ_SIZE):
            yield chunk
    finally:
        if owned:
            await asyncio.to_thread(file.close)


_WAV_ENCODINGS: Final = {1: "wav/pcm", 6: "wav/alaw", 7: "wav/ulaw"}


def _wav_data_offset(head: bytes, fmt: AudioFormat) -> int:
    """Offset of the audio in a RIFF/WAVE header (0 when ``head`` is not WAV).

    Raises GladiaConfigError (a ValueError) when the WAV format differs from the session's.
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    pos = 12
    while pos + 8 <= len(head):
        chunk_id, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt " and body + 16 <= len(head):
            code, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, body)
            found = (_WAV_ENCODINGS.get(code, f"format {code}"), bits, rate, channels)
            bits_expected = fmt.frame_size // max(1, fmt.channels) * 8
            expected = (fmt.encoding, bits_expected, fmt.sample_rate, fmt.channels)
            if code != 0xFFFE and found != expected:
                raise GladiaConfigError(
                    f"the WAV file is (encoding, bit_depth, sample_rate, channels) {found}, "
                    f"the session expects {expected}"
                )
        if chunk_id == b"data":
            return body
        pos = body + size + (size & 1)
    raise GladiaConfigError("WAV header too long or without a data chunk")
