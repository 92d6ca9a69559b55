"""The fake live WebSocket (REFERENCE.md section 8): audio in, acks and transcripts out.

One utterance is emitted per `utterance_seconds` of audio received (computed from the
session's sample_rate, bit_depth and channels). Sessions survive a dropped socket so a
client can reconnect to the same URL and resume; after the end a socket is closed with 4403.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import WSMsgType, web

from . import data
from .faults import WS_DROP, Fault
from .store import JobRecord, Store, now_us

if TYPE_CHECKING:
    from .server import FakeGladia

__all__ = ["LiveHub", "LiveSession"]

_encode = msgspec.json.encode
CLOSE_ENDED = 4403
CLOSE_UNKNOWN_TOKEN = 4401


class LiveSession:
    """The server-side state of one live session, across reconnections."""

    def __init__(self, job: JobRecord, token: str, utterance_seconds: float, store: Store) -> None:
        self.job = job
        self.store = store
        self.token = token
        p = job.params or {}
        self.params = p
        self.messages_config: dict[str, Any] = {
            **data.MESSAGES_DEFAULTS,
            **(p.get("messages_config") or {}),
        }
        bits = int(p.get("bit_depth", 16))
        if p.get("encoding") in ("wav/alaw", "wav/ulaw"):
            bits = 8
        self.sample_rate = int(p.get("sample_rate", 16000))
        self.bit_depth = bits
        self.channels = int(p.get("channels", 1))
        self.bytes_per_second = self.sample_rate * bits // 8 * self.channels
        self.utterance_bytes = max(1, int(self.bytes_per_second * utterance_seconds))
        self.received = 0
        self.pcm = bytearray()
        self.emitted_bytes = 0
        self.utterances: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.stopped = False
        self.ended = False
        self.started_recording = False
        self.connections = 0
        self.ws: web.WebSocketResponse | None = None
        self.rng = random.Random(job.seed)
        self.languages = (p.get("language_config") or {}).get("languages") or ["en"]

    def flag(self, name: str) -> bool:
        """A messages_config flag (REFERENCE 7.1 defaults)."""
        return bool(self.messages_config.get(name))

    def seconds(self, nbytes: int) -> float:
        """Audio duration of a byte count."""
        return round(nbytes / self.bytes_per_second, 3)

    async def send(self, type_: str, **fields: Any) -> None:
        """Send one server message (if a socket is attached) and keep it for result.messages."""
        msg: dict[str, Any] = {
            "session_id": self.job.id,
            "created_at": data.format_time(now_us()),
            "type": type_,
            **fields,
        }
        text = _encode(msg).decode()
        if type_ not in ("audio_chunk", "stop_recording"):
            self.messages.append(text)
        ws = self.ws
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(text)
            except ConnectionError:
                pass

    async def reject(self, message: str) -> None:
        """A refused audio chunk: a negative ack (when acknowledgments are on)."""
        if self.flag("receive_acknowledgments"):
            await self.send(
                "audio_chunk", acknowledged=False, error={"message": message}, data=None
            )

    async def audio(self, chunk: bytes) -> None:
        """Accept audio: ack it, then emit every utterance it completes."""
        if self.stopped:
            await self.reject("Audio chunk received after stop_recording")
            return
        if not self.started_recording:
            self.started_recording = True
            if self.flag("receive_lifecycle_events"):
                await self.send("start_recording")
        start = self.received
        self.received += len(chunk)
        self.pcm += chunk
        if self.flag("receive_acknowledgments"):
            await self.send(
                "audio_chunk",
                acknowledged=True,
                error=None,
                data={
                    "byte_range": [start, self.received],
                    "time_range": [self.seconds(start), self.seconds(self.received)],
                },
            )
        while self.received - self.emitted_bytes >= self.utterance_bytes:
            await self.utterance(self.emitted_bytes, self.emitted_bytes + self.utterance_bytes)

    async def utterance(self, start_b: int, end_b: int) -> None:
        """Emit speech events, partial and final transcripts and add-ons for one window."""
        self.emitted_bytes = end_b
        t0, t1 = self.seconds(start_b), self.seconds(end_b)
        utt = data.make_window_utterance(self.rng, t0, t1, language=self.languages[0])
        words = utt["words"]
        self.utterances.append(utt)
        uid = f"00-{len(self.utterances):08d}"
        speech = self.flag("receive_speech_events")
        if speech:
            await self.send("speech_start", data={"time": utt["start"], "channel": 0})
        if self.flag("receive_partial_transcripts") and len(words) > 1:
            half = words[: len(words) // 2]
            partial = {
                **utt,
                "end": half[-1]["end"],
                "words": half,
                "text": " ".join(w["word"] for w in half),
            }
            await self.send("transcript", data={"id": uid, "is_final": False, "utterance": partial})
        if self.flag("receive_final_transcripts"):
            await self.send("transcript", data={"id": uid, "is_final": True, "utterance": utt})
        if speech:
            await self.send("speech_end", data={"time": utt["end"], "channel": 0})
        if self.flag("receive_realtime_processing_events"):
            await self.realtime_addons(uid, utt)

    async def realtime_addons(self, uid: str, utt: dict[str, Any]) -> None:
        """translation / named_entity_recognition / sentiment_analysis messages, if enabled."""
        rt = self.params.get("realtime_processing") or {}
        if rt.get("translation"):
            targets = (rt.get("translation_config") or {}).get("target_languages") or ["fr"]
            for target in targets:
                tr = data.make_result(0, 0, ("translation",), utterances=[utt])
                t_utt = tr["translation"]["results"][0]["utterances"][0]
                t_utt["language"] = target
                await self.send(
                    "translation",
                    error=None,
                    data={
                        "utterance_id": uid,
                        "utterance": utt,
                        "original_language": utt["language"],
                        "target_language": target,
                        "translated_utterance": t_utt,
                    },
                )
        if rt.get("named_entity_recognition"):
            res = data.make_result(0, 0, ("named_entity_recognition",), utterances=[utt])
            await self.send(
                "named_entity_recognition",
                error=None,
                data={
                    "utterance_id": uid,
                    "utterance": utt,
                    "results": res["named_entity_recognition"]["results"],
                },
            )
        if rt.get("sentiment_analysis"):
            await self.send(
                "sentiment_analysis",
                error=None,
                data={
                    "utterance_id": uid,
                    "utterance": utt,
                    "results": [
                        {
                            "sentiment": self.rng.choice(("positive", "neutral", "negative")),
                            "emotion": "neutral",
                            "text": utt["text"],
                            "start": utt["start"],
                            "end": utt["end"],
                            "channel": 0,
                        }
                    ],
                },
            )

    async def stop(self, *, send_ack: bool = True) -> None:
        """stop_recording: ack, flush the last partial window, post-process, end, close 1000."""
        if self.stopped:
            return
        self.stopped = True
        duration = self.seconds(self.received)
        if send_ack and self.flag("receive_acknowledgments"):
            await self.send(
                "stop_recording",
                acknowledged=True,
                error=None,
                data={"recording_duration": duration, "recording_left_to_process": 0},
            )
        if self.received - self.emitted_bytes >= self.bytes_per_second // 2:
            await self.utterance(self.emitted_bytes, self.received)
        await self.finish(duration)

    async def finish(self, duration: float) -> None:
        """Post-processing and lifecycle messages; the job becomes done; the socket closes."""
        self.stopped = True
        lifecycle = self.flag("receive_lifecycle_events")
        if lifecycle and self.started_recording:
            await self.send("end_recording", data={"recording_duration": duration})
        result = data.make_result(
            self.job.seed,
            duration,
            self.job.features,
            kind="live",
            utterances=self.utterances,
            language=self.languages[0],
        )
        result["metadata"]["audio_duration"] = duration
        result["metadata"]["billing_time"] = round(duration * self.channels, 3)
        result["metadata"]["number_of_distinct_channels"] = self.channels
        if self.flag("receive_post_processing_events"):
            await self.send("post_transcript", data=result["transcription"])
            await self.send("post_final_transcript", data=result)
            if "summarization" in result:
                await self.send(
                    "post_summarization",
                    error=None,
                    data={"results": result["summarization"]["results"]},
                )
            if "chapterization" in result:
                await self.send(
                    "post_chapterization",
                    error=None,
                    data={"results": result["chapterization"]["results"]},
                )
        if lifecycle:
            await self.send("end_session")
        result["messages"] = list(self.messages)
        job = self.job
        job.result = result
        job.seconds = max(0.0, duration - 0.5)
        job.file_bytes = data.synth_wav(
            pcm=bytes(self.pcm),
            sample_rate=self.sample_rate,
            bit_depth=self.bit_depth,
            channels=self.channels,
        )
        self.ended = True
        if job.id in self.store.jobs:
            self.store.set_status(job.id, "done")
        ws = self.ws
        if ws is not None and not ws.closed:
            await ws.close(code=1000, message=b"session ended")


class LiveHub:
    """All live sessions of one fake, by token; serves the WebSocket route."""

    def __init__(self, fake: FakeGladia) -> None:
        self.fake = fake
        self.sessions: dict[str, LiveSession] = {}
        self.sockets: set[web.WebSocketResponse] = set()

    def open_session(self, job: JobRecord, token: str) -> LiveSession:
        """Register a session created by POST /v2/live."""
        s = LiveSession(job, token, self.fake.live_utterance_seconds, self.fake.store)
        self.sessions[token] = s
        return s

    def session_for(self, job_id: str) -> LiveSession | None:
        """The session of a live job id, if it was created on this fake."""
        return next((s for s in self.sessions.values() if s.job.id == job_id), None)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /v2/live?token=... with a WebSocket upgrade."""
        fake = self.fake
        session = self.sessions.get(request.query.get("token", ""))
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        fake.stats["ws_connections"] += 1
        if session is None:
            await ws.close(code=CLOSE_UNKNOWN_TOKEN, message=b"invalid token")
            return ws
        if session.ended or session.job.id not in fake.store.jobs:
            await ws.close(code=CLOSE_ENDED, message=b"session already ended")
            return ws
        old = session.ws
        session.ws = ws
        self.sockets.add(ws)
        if old is not None and not old.closed:
            await old.close(code=1001, message=b"replaced by a new connection")
        session.connections += 1
        if session.connections == 1:
            if session.job.status == "queued":
                fake.store.set_status(session.job.id, "processing")
            if session.flag("receive_lifecycle_events"):
                await session.send("start_session")
        drop: Fault | None = request.get(WS_DROP)
        frames = 0
        try:
            async for msg in ws:
                frames += 1
                if msg.type == WSMsgType.BINARY:
                    await session.audio(msg.data)
                elif msg.type == WSMsgType.TEXT:
                    await self.on_text(session, msg.data)
                if session.ended:
                    break
                if drop is not None and frames >= drop.after_frames:
                    await ws.close(code=drop.close_code, message=b"fault injected")
                    return ws
            if not session.ended and ws.close_code == 1000 and session.ws is ws:
                # A client closing with 1000 ends the session (post-processing still runs).
                session.ws = None
                await session.finish(session.seconds(session.received))
        finally:
            self.sockets.discard(ws)
        return ws

    async def on_text(self, session: LiveSession, text: str) -> None:
        """A JSON action: audio_chunk (base64 in data.chunk) or stop_recording."""
        try:
            msg = json.loads(text)
        except ValueError:
            return
        if not isinstance(msg, dict):
            return
        if msg.get("type") == "audio_chunk":
            chunk = (
                (msg.get("data") or {}).get("chunk") if isinstance(msg.get("data"), dict) else None
            )
            try:
                raw = base64.b64decode(chunk or "", validate=True)
            except (binascii.Error, ValueError):
                await session.reject("data.chunk must be base64")
                return
            await session.audio(raw)
        elif msg.get("type") == "stop_recording":
            await session.stop()

    async def close_all(self) -> None:
        """Close every open socket (server shutdown)."""
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.close(code=1001, message=b"server shutdown")
