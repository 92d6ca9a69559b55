"""gladia.pre_recorded: create, get, delete, wait, transcribe, download_file and stream_file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from gladia_async import GladiaClient
from gladia_async._errors import (
    GladiaConfigError,
    InternalServerError,
    JobFailedError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from gladia_async.types.pre_recorded import (
    CreatedJob,
    DiarizationConfig,
    PreRecordedJob,
    PreRecordedRequest,
)

from ._servers import KEY, Server, fixture, json_response, serve

AUDIO = b"RIFF" + bytes(300_000)


def job_with(status: str) -> bytes:
    job = json.loads(fixture("prerecorded_job_queued.json"))
    job["status"] = status
    return json.dumps(job).encode()


class Api:
    """A scripted pre-recorded API: job statuses to serve in order, then the last one forever."""

    def __init__(self, statuses: list[bytes]) -> None:
        self.statuses = statuses
        self.polls = 0
        self.on_poll: Callable[[int], object] = lambda n: None

    async def __call__(self, request: web.Request, server: Server) -> web.StreamResponse:
        path = request.path
        if request.method == "POST" and path == "/v2/upload":
            return json_response(fixture("upload_response.json"))
        if request.method == "POST" and path == "/v2/pre-recorded":
            return json_response(fixture("prerecorded_init_response.json"), status=201)
        if path.endswith("/file"):
            return web.Response(body=AUDIO, content_type="application/octet-stream")
        if request.method == "DELETE":
            if "queued" in path:
                return json_response(fixture("error_403_not_deletable.json"), status=403)
            return web.Response(status=202)
        body = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        self.on_poll(self.polls)
        return json_response(body)


async def no_sleep(delay: float) -> None:
    await asyncio.sleep(0)


def client(server: Server) -> GladiaClient:
    gladia = GladiaClient(KEY, base_url=server.url)
    gladia._transport.sleep = no_sleep
    return gladia


async def test_create_sends_only_set_options() -> None:
    async with serve(Api([])) as server:
        async with client(server) as gladia:
            created = await gladia.pre_recorded.create(
                audio_url="https://a.test/x.mp3",
                diarization=True,
                diarization_config={"min_speakers": 1},
                custom_metadata={"tenant": "t"},
            )
            request = PreRecordedRequest(
                audio_url="https://a.test/y.mp3",
                diarization_config=DiarizationConfig(max_speakers=2),
            )
            await gladia.pre_recorded.create(request)
    assert isinstance(created, CreatedJob) and created.id
    assert json.loads(server.requests[0].body) == {
        "audio_url": "https://a.test/x.mp3",
        "diarization": True,
        "diarization_config": {"min_speakers": 1},
        "custom_metadata": {"tenant": "t"},
    }
    assert json.loads(server.requests[1].body)["diarization_config"] == {"max_speakers": 2}
    assert server.requests[0].headers["Content-Type"] == "application/json"


async def test_bad_options_and_ids_fail_before_io() -> None:
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    pr = gladia.pre_recorded
    with pytest.raises(GladiaConfigError, match="did you mean 'diarization'"):
        await pr.create(audio_url="https://a.test/x", diarisation=True)
    with pytest.raises(GladiaConfigError, match="audio_url"):
        await pr.create(diarization=True)
    with pytest.raises(GladiaConfigError, match="diarization"):
        await pr.create(audio_url="https://a.test/x", diarization="yes")
    with pytest.raises(GladiaConfigError):
        await pr.create(PreRecordedRequest(audio_url="x"), diarization=True)
    for bad in ("", " ", "../live", "a/b", ".", "..", "a?b", "a\nb", None):
        with pytest.raises(GladiaConfigError):
            await pr.get(bad)  # type: ignore[arg-type]
        with pytest.raises(GladiaConfigError):
            await pr.delete(bad)  # type: ignore[arg-type]
    with pytest.raises(GladiaConfigError):
        await pr.transcribe("https://a.test/x", diarisation=True)
    await gladia.aclose()


async def test_get_quotes_ids_and_delete() -> None:
    async with serve(Api([fixture("prerecorded_job_done.json")])) as server:
        async with client(server) as gladia:
            job = await gladia.pre_recorded.get("id with space")
            assert isinstance(job, PreRecordedJob)
            assert await gladia.pre_recorded.delete(job) is None
            with pytest.raises(PermissionDeniedError):
                await gladia.pre_recorded.delete("queued-job")
    assert server.requests[0].path == "/v2/pre-recorded/id with space"
    assert server.requests[1].method == "DELETE"


async def test_wait_polls_until_done() -> None:
    api = Api([job_with("queued"), job_with("processing"), job_with("processing"),
               fixture("prerecorded_job_done.json")])  # fmt: skip
    async with serve(api) as server:
        async with client(server) as gladia:
            job = await gladia.pre_recorded.wait("j1", poll_interval=0.01)
    assert job.status == "done" and job.result is not None
    assert server.count("GET", "/v2/pre-recorded/j1") == 4


async def test_wait_raises_job_failed() -> None:
    api = Api([job_with("processing"), fixture("prerecorded_job_error.json")])
    async with serve(api) as server:
        async with client(server) as gladia:
            with pytest.raises(JobFailedError) as info:
                await gladia.pre_recorded.wait("j1", poll_interval=0.01)
    assert info.value.error_code == 422
    assert info.value.job.status == "error"


async def test_wait_timeout_and_cancellation() -> None:
    api = Api([job_with("processing")])
    async with serve(api) as server:
        async with client(server) as gladia:
            gladia._transport.sleep = asyncio.sleep
            with pytest.raises(WaitTimeoutError, match="processing"):
                await gladia.pre_recorded.wait("j1", poll_interval=0.01, timeout=0.2)
            polled = asyncio.Event()
            api.on_poll = lambda n: polled.set() if n >= 3 else None
            task = asyncio.create_task(gladia.pre_recorded.wait("j1", poll_interval=0.01))
            await polled.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            job = await gladia.pre_recorded.get("j1")  # the client is still usable
    assert job.status == "processing"


async def test_transcribe_path_uploads_creates_and_waits(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(AUDIO)
    async with serve(Api([fixture("prerecorded_job_done.json")])) as server:
        async with client(server) as gladia:
            job = await gladia.pre_recorded.transcribe(path, diarization=True, poll_interval=0.01)
            await gladia.pre_recorded.transcribe("https://a.test/x.mp3", poll_interval=0.01)
    assert job.status == "done"
    methods = [(r.method, r.path) for r in server.requests]
    job_path = "/v2/pre-recorded/7f3c2a1e-5b8d-4c2f-9e6a-1d4b8c0f2a93"
    expected = [("POST", "/v2/upload"), ("POST", "/v2/pre-recorded"), ("GET", job_path)]
    assert methods[:3] == expected
    create = json.loads(server.requests[1].body)
    assert create == {"audio_url": "https://api.gladia.io/file/b41e9d27-0c5a-4f6e-8a13-62d9f0c7e5a4",
                      "diarization": True}  # fmt: skip
    assert methods[3][1] == "/v2/pre-recorded"  # a URL source is not uploaded
    assert json.loads(server.requests[3].body) == {"audio_url": "https://a.test/x.mp3"}


async def test_create_is_not_repeated_after_5xx() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(b"{}", status=500)

    async with serve(handler) as server:
        async with client(server) as gladia:
            with pytest.raises(InternalServerError):
                await gladia.pre_recorded.create(audio_url="https://a.test/x")
    assert server.count("POST") == 1


async def test_download_and_stream_file() -> None:
    async with serve(Api([])) as server:
        async with client(server) as gladia:
            assert await gladia.pre_recorded.download_file("j1") == AUDIO
            chunks = [c async for c in gladia.pre_recorded.stream_file("j1", chunk_size=65536)]
            assert b"".join(chunks) == AUDIO and all(len(c) <= 65536 for c in chunks)
            async with gladia.pre_recorded.stream_file("j1", chunk_size=1024) as stream:
                async for chunk in stream:
                    assert chunk.startswith(b"RIFF")
                    break
            assert await gladia.pre_recorded.download_file("j1") == AUDIO
    assert server.requests[0].path == "/v2/pre-recorded/j1/file"


async def test_listing_mixin_is_wired() -> None:
    async def handler(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(fixture("prerecorded_list_last_page.json"))

    async with serve(handler) as server:
        async with client(server) as gladia:
            page = await gladia.pre_recorded.list_page(offset=0, limit=5)
    assert all(isinstance(item, PreRecordedJob) for item in page.items)
    assert server.requests[0].path == "/v2/pre-recorded"
    assert "limit=5" in server.requests[0].query


async def test_stream_file_rejects_a_non_positive_chunk_size() -> None:
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    for size in (0, -1):
        with pytest.raises(GladiaConfigError):
            gladia.pre_recorded.stream_file("j1", chunk_size=size)
    await gladia.aclose()


async def test_wait_interval_grows_to_its_cap() -> None:
    api = Api([job_with("queued")] * 5 + [fixture("prerecorded_job_done.json")])
    slept: list[float] = []

    async def record(delay: float) -> None:
        slept.append(delay)

    async with serve(api) as server:
        async with client(server) as gladia:
            gladia._transport.sleep = record
            await gladia.pre_recorded.wait("j1", poll_interval=1.0, max_poll_interval=3.0)
    assert slept == [1.0, 1.5, 2.25, 3.0, 3.0]
