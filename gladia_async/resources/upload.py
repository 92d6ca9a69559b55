"""`POST /v2/upload`: send a local file (streamed, never read whole) or have Gladia fetch a URL.

The multipart body is built by hand (one part named `audio`, filename, application/octet-stream)
so its Content-Length is known whenever the source size is, and so a replayable source (path,
bytes, seekable file) can be re-sent on a retry; a one-shot source (pipe, async iterator) is sent
once and never retried.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import PurePath
from typing import IO, Any, NamedTuple
from urllib.parse import quote

from .._decode import decode
from .._errors import GladiaConfigError
from .._transport import Headers, Query, Transport
from ..types.upload import UploadResult, UploadUrlRequest

__all__ = ["UploadResource", "UploadSource", "is_url"]

UPLOAD_PATH = "/v2/upload"
CHUNK_SIZE = 256 * 1024

UploadSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)
"""What `upload()` accepts: an http(s) URL string, a path, bytes, a binary file, or async chunks."""


def is_url(source: object) -> bool:
    """True for a str that is an http:// or https:// URL (a Path is always a local file)."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


class UploadResource:
    """`await gladia.upload(source)`: upload audio/video and get the `audio_url` to transcribe."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def __call__(
        self,
        source: UploadSource,
        *,
        filename: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> UploadResult:
        """Upload `source`; see `upload()`."""
        return await self.upload(
            source, filename=filename, extra_headers=extra_headers, extra_query=extra_query
        )

    async def upload(
        self,
        source: UploadSource,
        *,
        filename: str | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> UploadResult:
        """Upload `source` and return its UploadResult (`audio_url`, `audio_metadata`).

        - a `str` starting with `http://` or `https://`: Gladia fetches that URL (JSON variant);
        - any other `str` or an `os.PathLike`: a local file, streamed from disk;
        - `bytes`: sent as is; a binary file object: streamed from its current position;
        - an async iterable of `bytes`: streamed once (chunked), never retried.

        `filename` overrides the name sent to Gladia (default: the file's base name, or "audio").
        """
        extra = _Extra(extra_headers, extra_query)
        if is_url(source):
            assert isinstance(source, str)
            return await self.upload_url(
                source, extra_headers=extra_headers, extra_query=extra_query
            )
        if isinstance(source, str | os.PathLike):
            return await self._upload_path(source, filename, extra)
        if isinstance(source, bytes | bytearray | memoryview):
            data = bytes(source)
            return await self._send(
                filename or "audio", len(data), lambda: _gen_bytes(data), True, extra
            )
        if isinstance(source, AsyncIterable):
            return await self._send(filename or "audio", None, lambda: source, False, extra)
        if hasattr(source, "read"):
            return await self._upload_file(source, filename or _name_of(source), extra)
        raise GladiaConfigError(
            f"upload() takes a URL, a path, bytes, a binary file or an async iterable of bytes, "
            f"not {type(source).__name__}"
        )

    async def upload_url(
        self,
        url: str,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> UploadResult:
        """Have Gladia fetch and store the audio at `url` (an http(s) URL)."""
        if not is_url(url):
            raise GladiaConfigError(f"audio URL must be http(s): {url!r}")
        resp = await self._transport.request(
            "POST",
            UPLOAD_PATH,
            json=UploadUrlRequest(audio_url=url),
            idempotent=True,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        return decode(resp.body, UploadResult, url=resp.url)

    async def _upload_path(
        self, path: str | os.PathLike[str], filename: str | None, extra: _Extra
    ) -> UploadResult:
        loop = asyncio.get_running_loop()
        try:
            fh: IO[bytes] = await loop.run_in_executor(None, open, os.fspath(path), "rb")
        except OSError as exc:
            raise GladiaConfigError(f"cannot open {os.fspath(path)!r}: {exc.strerror}") from exc
        try:
            return await self._upload_file(fh, filename or PurePath(os.fspath(path)).name, extra)
        finally:
            await loop.run_in_executor(None, fh.close)

    async def _upload_file(self, fh: IO[bytes], filename: str, extra: _Extra) -> UploadResult:
        loop = asyncio.get_running_loop()
        start, size = await loop.run_in_executor(None, _position_and_size, fh)
        if start is None:
            return await self._send(filename, None, lambda: _gen_stream(fh), False, extra)
        lock = threading.Lock()  # an abandoned attempt's read may still run in its thread
        return await self._send(filename, size, lambda: _gen_file(fh, start, lock), True, extra)

    async def _send(
        self,
        filename: str,
        size: int | None,
        content: Callable[[], AsyncIterable[bytes]],
        replayable: bool,
        extra: _Extra,
    ) -> UploadResult:
        boundary = uuid.uuid4().hex
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="audio"; filename="{_quote_name(filename)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if size is not None:
            headers["Content-Length"] = str(len(head) + size + len(tail))

        async def body() -> AsyncIterator[bytes]:
            yield head
            async for chunk in content():
                yield chunk
            yield tail

        if replayable:
            data: Any = body
        else:
            data = body()
        resp = await self._transport.request(
            "POST",
            UPLOAD_PATH,
            data=data,
            headers=headers,
            idempotent=True,
            timeout=self._transport.file_timeout,
            extra_headers=extra.headers,
            extra_query=extra.query,
        )
        return decode(resp.body, UploadResult, url=resp.url)


class _Extra(NamedTuple):
    """The caller's extra_headers / extra_query, carried to the request."""

    headers: Headers | None
    query: Query | None


def _quote_name(name: str) -> str:
    """A filename safe inside a quoted multipart header (quotes, backslashes, CR/LF escaped)."""
    return quote(name, safe=" !#$&'()*+,-./:;<=>?@[]^_`{|}~")


def _name_of(fh: object) -> str:
    name = getattr(fh, "name", None)
    return PurePath(name).name if isinstance(name, str) and name else "audio"


def _position_and_size(fh: IO[bytes]) -> tuple[int | None, int | None]:
    """(start position, remaining size) of a seekable file, or (None, None) when not seekable."""
    try:
        if not fh.seekable():
            return None, None
        start = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(start)
    except (OSError, AttributeError, ValueError):
        return None, None
    return start, end - start


async def _gen_bytes(data: bytes) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(view), CHUNK_SIZE):
        yield bytes(view[i : i + CHUNK_SIZE])


async def _gen_stream(fh: IO[bytes]) -> AsyncIterator[bytes]:
    """Read a non-seekable file in chunks off the event loop."""
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, fh.read, CHUNK_SIZE):
        yield chunk


async def _gen_file(fh: IO[bytes], start: int, lock: threading.Lock) -> AsyncIterator[bytes]:
    """Read a seekable file from `start` in chunks off the event loop.

    Each chunk is a seek + read under `lock` at this generator's own offset, so several
    generators over one file (a retry while the abandoned attempt's read is still running in
    its thread) never move each other's position.
    """
    loop = asyncio.get_running_loop()
    position = start
    while chunk := await loop.run_in_executor(None, _read_at, fh, position, lock):
        position += len(chunk)
        yield chunk


def _read_at(fh: IO[bytes], position: int, lock: threading.Lock) -> bytes:
    """One chunk at `position` (runs in a worker thread)."""
    with lock:
        fh.seek(position)
        return fh.read(CHUNK_SIZE)
