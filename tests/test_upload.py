"""gladia.upload: multipart part `audio` streamed from paths, bytes, files and async iterators."""

from __future__ import annotations

import email
import email.policy
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gladia_async import GladiaClient
from gladia_async._errors import GladiaConfigError, InternalServerError
from gladia_async._transport import Response
from gladia_async.types.upload import UploadResult

from ._servers import KEY, Seen, Server, fixture, json_response, serve

PAYLOAD = bytes(range(256)) * 4096 + b"\r\n--not-a-boundary\r\n"  # ~1 MB, binary


def parse_audio_part(seen: Seen) -> tuple[str | None, str, bytes]:
    """(filename, content type, bytes) of the multipart part named `audio`."""
    head = f"Content-Type: {seen.headers['Content-Type']}\r\n\r\n".encode()
    msg = email.message_from_bytes(head + seen.body, policy=email.policy.HTTP)
    parts = [p for p in msg.iter_parts() if p.get_param("name", header="content-disposition")]
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["audio"]
    part = parts[0]
    return part.get_filename(), part.get_content_type(), part.get_payload(decode=True)


def ok_handler(fail_first: int = 0):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        if len(server.requests) <= fail_first:
            return json_response(b"{}", status=503)
        return json_response(fixture("upload_response.json"))

    return handler


async def instant(delay: float) -> None:
    return None


async def test_upload_path_streams_multipart(tmp_path: Path) -> None:
    path = tmp_path / 'weekly sync "é".wav'
    path.write_bytes(PAYLOAD)
    async with serve(ok_handler(fail_first=1)) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            gladia._transport.sleep = instant
            result = await gladia.upload(path)
    assert isinstance(result, UploadResult)
    assert result.audio_metadata.extension == "mp3"
    assert server.count("POST", "/v2/upload") == 2  # a path is replayable: retried after 503
    for seen in server.requests:
        assert seen.headers["x-gladia-key"] == KEY
        assert int(seen.headers["Content-Length"]) == len(seen.body)
        filename, ctype, data = parse_audio_part(seen)
        assert filename == "weekly sync %22%C3%A9%22.wav"  # percent-encoded, ASCII-safe
        assert ctype == "application/octet-stream"
        assert data == PAYLOAD


async def test_upload_bytes_and_seekable_file() -> None:
    async with serve(ok_handler()) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            await gladia.upload(PAYLOAD)
            buf = io.BytesIO(b"skip" + PAYLOAD)
            buf.seek(4)
            await gladia.upload(buf, filename="x.wav")
    assert parse_audio_part(server.requests[0]) == ("audio", "application/octet-stream", PAYLOAD)
    assert parse_audio_part(server.requests[1]) == ("x.wav", "application/octet-stream", PAYLOAD)


async def test_upload_async_iterator_is_chunked_and_not_retried() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(PAYLOAD), 100_000):
            yield PAYLOAD[i : i + 100_000]

    async with serve(ok_handler(fail_first=1)) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            gladia._transport.sleep = instant
            with pytest.raises(InternalServerError):
                await gladia.upload(chunks(), filename="live.raw")
    assert server.count() == 1
    seen = server.requests[0]
    assert "Content-Length" not in seen.headers
    assert parse_audio_part(seen) == ("live.raw", "application/octet-stream", PAYLOAD)


async def test_upload_url_sends_json() -> None:
    url = "https://storage.example.com/recordings/weekly-sync-2026-07-14.mp3"
    async with serve(ok_handler()) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            result = await gladia.upload(url)
    assert result.audio_metadata.source == url
    assert json.loads(server.requests[0].body) == json.loads(fixture("upload_by_url_request.json"))
    assert server.requests[0].headers["Content-Type"] == "application/json"


async def test_upload_bad_sources_fail_before_io(tmp_path: Path) -> None:
    async with GladiaClient(KEY, base_url="http://127.0.0.1:9") as gladia:
        with pytest.raises(GladiaConfigError):
            await gladia.upload(tmp_path / "missing.wav")
        with pytest.raises(GladiaConfigError):
            await gladia.upload(12345)  # type: ignore[arg-type]
        with pytest.raises(GladiaConfigError):
            await gladia.upload.upload_url("file:///etc/passwd")


async def test_retry_body_is_correct_even_if_a_stale_attempt_still_reads(tmp_path: Path) -> None:
    """An abandoned attempt's in-flight file read must not move the retry's read position."""
    path = tmp_path / "a.wav"
    path.write_bytes(PAYLOAD)
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    bodies: list[bytes] = []

    async def fake_request(method: str, url: str, *, data: Any, **kw: Any) -> Response:
        first, second = data(), data()  # attempt 1 (abandoned), then its retry
        await first.__anext__()
        await first.__anext__()
        parts = [await second.__anext__(), await second.__anext__()]  # head, first chunk
        await first.__anext__()  # the stale attempt reads once more, mid-retry
        parts += [chunk async for chunk in second]
        await first.aclose()
        bodies.append(b"".join(parts))
        return Response(200, {}, fixture("upload_response.json"), url)

    gladia._transport.request = fake_request  # type: ignore[method-assign, assignment]
    await gladia.upload(path)
    await gladia.upload(io.BytesIO(PAYLOAD))
    await gladia.aclose()
    for body in bodies:
        boundary = body[2:34]
        assert body.split(b"\r\n\r\n", 1)[1] == PAYLOAD + b"\r\n--" + boundary + b"--\r\n"


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ('a"b.wav', "a%22b.wav"),
        ("a\r\nX-Evil: 1.wav", "a%0D%0AX-Evil: 1.wav"),
        ("back\\slash.wav", "back%5Cslash.wav"),
        ("100%.wav", "100%25.wav"),
        ("é.wav", "%C3%A9.wav"),
    ],
)
async def test_filenames_are_escaped_in_the_part_header(name: str, sent: str) -> None:
    async with serve(ok_handler()) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            await gladia.upload(b"abc", filename=name)
    head = server.requests[0].body.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f'filename="{sent}"' in head
    assert parse_audio_part(server.requests[0])[2] == b"abc"
