"""A small, fully controlled loopback Gladia live server for the live session tests.

It speaks just enough of REFERENCE.md sections 7-8: POST/GET /v2/live, and the WebSocket with
acks (byte_range [start, end), or inclusive with ``inclusive_acks``), one partial and one final
transcript per ``utterance_bytes``, stop_recording -> ack, post_transcript, post_final_transcript,
end_session, close 1000. ``drop_after_frames`` closes the socket with 1011 right after receiving
that many binary frames (without acknowledging the last one), once per entry.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

SESSION_ID = "5a1f8e3b-9c2d-4e7a-8b6f-2d0c4a9e7f13"
NOW = "2026-07-14T10:02:11.901Z"


def utterance(text: str, start: float, end: float) -> dict[str, Any]:
    words = [{"word": w, "start": start, "end": end, "confidence": 0.9} for w in text.split()]
    return {
        "start": start, "end": end, "confidence": 0.9, "channel": 0,
        "words": words, "text": text, "language": "en",
    }  # fmt: skip


@dataclass
class LiveServer:
    """State and knobs of the test server."""

    api_key: str = "test-key"
    utterance_bytes: int = 32000
    drop_after_frames: list[int] = field(default_factory=list)
    inclusive_acks: bool = False
    ack: bool = True
    received: bytearray = field(default_factory=bytearray)
    segments: list[bytearray] = field(default_factory=list)
    frames: int = 0
    connections: int = 0
    ws_headers: list[dict[str, str]] = field(default_factory=list)
    create_bodies: list[dict[str, Any]] = field(default_factory=list)
    create_queries: list[dict[str, str]] = field(default_factory=list)
    ended: bool = False
    deleted: list[str] = field(default_factory=list)
    stops: int = 0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    url: str = ""
    _runner: web.AppRunner | None = None
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    async def start(self) -> LiveServer:
        app = web.Application()
        app.router.add_post("/v2/live", self._create)
        app.router.add_get("/v2/live", self._ws)
        app.router.add_get("/v2/live/{id}", self._get)
        app.router.add_delete("/v2/live/{id}", self._delete)
        app.router.add_get("/v2/live/{id}/file", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + f"/v2/live?token={self.token}"

    def _message(self, type_: str, **extra: Any) -> str:
        return json.dumps({"session_id": SESSION_ID, "created_at": NOW, "type": type_, **extra})

    async def _create(self, request: web.Request) -> web.Response:
        if request.headers.get("x-gladia-key") != self.api_key:
            return web.json_response({"statusCode": 401, "message": "no"}, status=401)
        self.create_bodies.append(await request.json())
        self.create_queries.append(dict(request.query))
        body = {"id": SESSION_ID, "created_at": NOW, "url": self.ws_url}
        return web.json_response(body, status=201)

    async def _delete(self, request: web.Request) -> web.Response:
        self.deleted.append(request.match_info["id"])
        return web.Response(status=202)

    async def _file(self, request: web.Request) -> web.Response:
        return web.Response(body=b"RIFF" + bytes(self.received), content_type="audio/wav")

    def job(self, job_id: str) -> dict[str, Any]:
        return {
            "id": job_id, "request_id": "G-0a1bf42e", "version": 2,
            "status": "done" if self.ended else "processing", "created_at": NOW,
            "completed_at": None, "kind": "live", "file": None, "request_params": None,
            "result": None, "custom_metadata": None, "error_code": None,
        }  # fmt: skip

    async def _get(self, request: web.Request) -> web.Response:
        if request.headers.get("x-gladia-key") != self.api_key:
            return web.json_response({"statusCode": 401, "message": "no"}, status=401)
        return web.json_response(self.job(request.match_info["id"]))

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if "token" not in request.query:  # GET /v2/live without a token: the job list
            page = {"first": None, "current": None, "next": None, "items": [self.job(SESSION_ID)]}
            return web.json_response(page)
        if request.query.get("token") != self.token:
            return web.Response(status=401)
        self.ws_headers.append({k.lower(): v for k, v in request.headers.items()})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self._sockets.add(ws)
        try:
            if self.ended:
                await ws.close(code=4403, message=b"session ended")
                return ws
            await self._serve(ws)
        finally:
            self._sockets.discard(ws)
        return ws

    async def _serve(self, ws: web.WebSocketResponse) -> None:
        segment = bytearray()
        self.segments.append(segment)
        async for msg in ws:
            if msg.type is WSMsgType.BINARY:
                start = len(self.received)
                self.received += msg.data
                segment += msg.data
                self.frames += 1
                if self.drop_after_frames and self.frames >= self.drop_after_frames[0]:
                    self.drop_after_frames.pop(0)
                    await ws.close(code=1011, message=b"dropped by test")
                    return
                if self.ack:
                    end = len(self.received) - (1 if self.inclusive_acks else 0)
                    rate = 32000
                    await ws.send_str(self._message(
                        "audio_chunk", acknowledged=True, error=None,
                        data={"byte_range": [start, end],
                              "time_range": [start / rate, len(self.received) / rate]},
                    ))  # fmt: skip
                await self._maybe_transcript(start, len(self.received), ws)
            elif msg.type is WSMsgType.TEXT:
                if json.loads(msg.data).get("type") == "stop_recording":
                    self.stops += 1
                    await self._finish(ws)
                    return

    async def _maybe_transcript(self, start: int, end: int, ws: web.WebSocketResponse) -> None:
        size = self.utterance_bytes
        for n in range(start // size + 1, end // size + 1):
            t0, t1 = (n - 1) * size / 32000, n * size / 32000
            uid = f"00-{n:08d}"
            for final in (False, True):
                data = {"id": uid, "is_final": final,
                        "utterance": utterance(f"utterance {n}", t0, t1)}  # fmt: skip
                await ws.send_str(self._message("transcript", data=data))

    async def _finish(self, ws: web.WebSocketResponse) -> None:
        duration = len(self.received) / 32000
        await ws.send_str(self._message(
            "stop_recording", acknowledged=True, error=None,
            data={"recording_duration": duration, "recording_left_to_process": 0.0},
        ))  # fmt: skip
        transcription = {
            "full_transcript": "all of it", "languages": ["en"],
            "utterances": [utterance("all of it", 0.0, duration)],
        }  # fmt: skip
        await ws.send_str(self._message("post_transcript", data=transcription))
        result = {
            "metadata": {"audio_duration": duration, "number_of_distinct_channels": 1,
                         "billing_time": duration, "transcription_time": 0.1},
            "transcription": transcription,
        }  # fmt: skip
        await ws.send_str(self._message("post_final_transcript", data=result))
        await ws.send_str(self._message("end_session"))
        self.ended = True
        await asyncio.sleep(0)
        await ws.close(code=1000)
