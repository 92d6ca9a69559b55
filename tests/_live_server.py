"""A tiny loopback live server for what gladia_async.testing.FakeGladia cannot do.

The fake acknowledges every frame it reads, with exclusive ``byte_range`` ends, and fills
defaults into the stored request. This server instead records the exact ``POST /v2/live`` bodies
and queries, can acknowledge inclusively (``inclusive_acks``), and ``drop_after_frames`` closes
the socket with 1011 right after reading that many binary frames WITHOUT acknowledging the last
one (once per entry), so that audio received but unacknowledged is resent. On stop_recording it
sends the ack, post_final_transcript and end_session, then closes with 1000.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

SESSION_ID = "5a1f8e3b-9c2d-4e7a-8b6f-2d0c4a9e7f13"
NOW = "2026-07-14T10:02:11.901Z"
RATE = 32000  # bytes per second (16 kHz, 16-bit, mono)


@dataclass
class LiveServer:
    """State and knobs of the test server."""

    api_key: str = "test-key"
    drop_after_frames: list[int] = field(default_factory=list)
    inclusive_acks: bool = False
    received: bytearray = field(default_factory=bytearray)
    segments: list[bytearray] = field(default_factory=list)
    frames: int = 0
    create_bodies: list[dict[str, Any]] = field(default_factory=list)
    create_queries: list[dict[str, str]] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    url: str = ""
    _runner: web.AppRunner | None = None
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    async def start(self) -> LiveServer:
        app = web.Application()
        app.router.add_post("/v2/live", self._create)
        app.router.add_get("/v2/live", self._ws)
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

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("token") != self.token:
            return web.Response(status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
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
                end = len(self.received) - (1 if self.inclusive_acks else 0)
                await ws.send_str(self._message(
                    "audio_chunk", acknowledged=True, error=None,
                    data={"byte_range": [start, end],
                          "time_range": [start / RATE, len(self.received) / RATE]},
                ))  # fmt: skip
            elif msg.type is WSMsgType.TEXT and json.loads(msg.data)["type"] == "stop_recording":
                await self._finish(ws)
                return

    async def _finish(self, ws: web.WebSocketResponse) -> None:
        duration = len(self.received) / RATE
        await ws.send_str(self._message(
            "stop_recording", acknowledged=True, error=None,
            data={"recording_duration": duration, "recording_left_to_process": 0.0},
        ))  # fmt: skip
        result = {
            "metadata": {"audio_duration": duration, "number_of_distinct_channels": 1,
                         "billing_time": duration, "transcription_time": 0.1},
        }  # fmt: skip
        await ws.send_str(self._message("post_final_transcript", data=result))
        await ws.send_str(self._message("end_session"))
        await ws.close(code=1000)
