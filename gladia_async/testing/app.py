"""The fake's aiohttp application: routes, auth, fault middleware, REST handlers.

Handlers follow REFERENCE.md sections 3 and 5-7 (status codes, error envelope, list links).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import msgspec
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict

from . import data
from .faults import FAULT_KEYS, FOREIGN_NEXT, Fault, RecordedRequest
from .schema import query_check
from .store import JobRecord, UploadedFile, now_us, parse_time
from .validate import Invalid, parse_list_query, validate_live, validate_prerecorded

if TYPE_CHECKING:
    from .server import FakeGladia

__all__ = ["build_app"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_encode = msgspec.json.encode
MAX_UPLOAD = 1000 * 1024 * 1024
_FEATURE_FLAGS = tuple(f for f in data.PRERECORDED_FLAGS if f in data.FEATURES)
"""Request flags that add a result block."""
_MESSAGES = {
    400: "Invalid parameter(s). See validation_errors for more details.",
    401: "gladia key not found",
    403: "Transcription is not in a deletable state",
    404: "Not found",
    413: "Payload too large",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class FakeApp:
    """Request handling for one FakeGladia (state lives on the fake)."""

    def __init__(self, fake: FakeGladia) -> None:
        self.fake = fake

    # --- plumbing -----------------------------------------------------------------------

    def error(
        self,
        request: web.Request,
        status: int,
        message: str | None = None,
        validation_errors: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        """The documented error envelope."""
        rid = data.request_id(self.fake.rng)
        body: dict[str, Any] = {
            "timestamp": data.format_time(now_us()),
            "path": request.path,
            "request_id": rid,
            "statusCode": status,
            "message": message or _MESSAGES.get(status, "Error"),
        }
        if validation_errors is not None:
            body["validation_errors"] = validation_errors
        hdrs = CIMultiDict(headers or {})
        hdrs["x-aipi-call-id"] = rid
        return web.Response(
            status=status, body=_encode(body), content_type="application/json", headers=hdrs
        )

    def route_name(self, request: web.Request) -> str:
        """The route name used by faults and the request log."""
        route = request.match_info.route
        name = route.name or "unknown"
        if name == "live.list" and request.headers.get("Upgrade", "").lower() == "websocket":
            return "live.ws"
        return name

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log the request, apply latency and faults, check the key, then serve."""
        fake = self.fake
        route = self.route_name(request)
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            query=list(request.query.items()),
            route=route,
            headers=CIMultiDict(request.headers),
            body_size=request.content_length or 0,
        )
        fake.requests.append(rec)
        fake.stats["requests"] += 1
        if fake.latency_ms:
            await asyncio.sleep(fake.latency_ms / 1000)
        for fault in fake.faults.pick(route):
            fake.stats["faults_injected"] += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            rec.fault = fault.kind
            if fault.kind == "latency":
                continue
            if fault.kind == "hook":
                assert fault.hook is not None
                out = fault.hook(fake)
                if inspect.isawaitable(out):
                    await out
                continue
            if fault.kind in ("ws_drop", "foreign_next"):
                request[FAULT_KEYS[fault.kind]] = fault
                continue
            resp = await self.apply_fault(request, fault)
            rec.status = None if fault.kind == "reset" else resp.status
            return resp
        if route not in ("live.ws", "unknown"):
            key = request.headers.get("x-gladia-key")
            if key != fake.api_key:
                resp = self.error(request, 401)
                rec.status = 401
                return resp
        try:
            self.check_query(request)
            resp = await handler(request)
        except Invalid as exc:
            resp = self.error(request, 400, validation_errors=exc.errors)
        except web.HTTPException as exc:
            resp = self.error(request, exc.status)
        if not resp.prepared and "x-aipi-call-id" not in resp.headers:
            # Every answer names its call, as Gladia's does (errors draw theirs above).
            resp.headers["x-aipi-call-id"] = f"G-{fake.stats['requests']:08x}"
        rec.status = resp.status
        return resp

    def check_query(self, request: web.Request) -> None:
        """Raise Invalid when the query breaks the OpenAPI document's rules for the route."""
        resource = request.match_info.route.resource
        template = getattr(resource, "canonical", None)
        check = query_check(template, request.method) if template else None
        if check is not None and (errors := check(request.query)):
            raise Invalid(*errors)

    async def apply_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        """Produce the response (or the lack of one) a terminal fault describes."""
        kind = fault.kind
        if kind == "status":
            hdrs = dict(fault.headers)
            if fault.retry_after is not None:
                ra = fault.retry_after
                hdrs["Retry-After"] = (
                    str(int(ra)) if isinstance(ra, float | int) and ra == int(ra) else str(ra)
                )
            return self.error(request, fault.status, fault.message, headers=hdrs)
        if kind == "reset":
            _close_transport(request)
            return web.Response(status=500)
        if kind == "redirect":
            target = fault.foreign_origin.rstrip("/") + request.path_qs
            return web.Response(status=fault.redirect_status, headers={"Location": target})
        if kind == "html":
            html = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
            return web.Response(status=200, body=html, content_type="text/html")
        if kind == "malformed_json":
            body = b'{"first": "x", "items": [{"id": "abc", "status": "do'
            return web.Response(status=200, body=body, content_type="application/json")
        if kind == "truncate":
            full = await self.fake_body(request)
            resp = web.StreamResponse(status=200)
            resp.content_type = "application/json"
            resp.content_length = len(full)
            await resp.prepare(request)
            await resp.write(full[: len(full) // 2])
            _close_transport(request)
            return resp
        if kind == "huge":
            resp = web.StreamResponse(status=200)
            resp.content_type = "application/json"
            resp.content_length = max(fault.size, 16)
            await resp.prepare(request)
            head = b'{"items": [], "pad": "'
            chunk = b"x" * (1 << 20)
            left = max(fault.size, 16) - len(head) - 2
            try:
                await resp.write(head)
                while left > 0:
                    part = chunk[: min(left, len(chunk))]
                    await resp.write(part)
                    left -= len(part)
                await resp.write(b'"}')
            except (ConnectionError, RuntimeError):
                _close_transport(request)
            return resp
        raise ValueError(f"unhandled fault kind {kind}")  # pragma: no cover

    async def fake_body(self, request: web.Request) -> bytes:
        """The body the route would normally return (for 'truncate'), without side effects."""
        route = self.route_name(request)
        if route.endswith(".list"):
            kind = "live" if route.startswith("live") else "pre-recorded"
            return self.list_body(request, kind)
        rec = self.fake.store.get(request.match_info.get("id", ""))
        if rec is not None:
            return rec.encoded()
        return _encode({"id": "00000000-0000-4000-a000-000000000000", "status": "done"})

    # --- helpers ------------------------------------------------------------------------

    def origin(self) -> str:
        """This fake's own origin (http://127.0.0.1:PORT)."""
        return self.fake.url

    async def json_body(self, request: web.Request) -> Any:
        """The request's JSON body; 400 when it is not JSON."""
        raw = await request.read()
        try:
            return json.loads(raw) if raw else None
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise Invalid("body must be valid JSON") from exc

    def new_job(self, kind: str, **fields: Any) -> JobRecord:
        """Store a queued job created now, its ids and seed drawn from the fake's seeded RNG."""
        rng = self.fake.rng
        rec = JobRecord(
            id=data.random_id(rng),
            kind=kind,
            request_id=data.request_id(rng),
            created_us=now_us(),
            status="queued",
            seed=rng.getrandbits(32),
            **fields,
        )
        return self.fake.store.insert(rec)

    def job_or_404(self, request: web.Request, kind: str | None) -> JobRecord | None:
        rec = self.fake.store.get(request.match_info["id"])
        if rec is None or (kind is not None and rec.kind != kind):
            return None
        return rec

    # --- upload ---------------------------------------------------------------------------

    async def upload(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/upload: multipart part 'audio', or JSON {"audio_url"}."""
        fake = self.fake
        ctype = request.content_type
        source: str | None = None
        if ctype.startswith("multipart/"):
            try:
                found = await _audio_part(request)
            except (ValueError, HttpProcessingError, AssertionError) as exc:
                # (aiohttp before 3.13 asserts on a body cut short: "Reading after EOF")
                # No boundary, no start boundary, a control character in a part header, a
                # body cut short: the client's mistake, so the documented 400, never a 500.
                reason = str(exc).strip().splitlines()[0][:200]
                raise Invalid(
                    f"audio must be a file: malformed multipart body ({reason})"
                ) from None
            if found is None:
                return self.error(request, 413)
            payload, filename = found
            if payload is None:
                raise Invalid("audio must be a file (multipart part named 'audio')")
        elif ctype == "application/json":
            body = await self.json_body(request)
            url = body.get("audio_url") if isinstance(body, dict) else None
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                raise Invalid("audio_url must be a URL address")
            source = url
            filename = urlsplit(url).path.rsplit("/", 1)[-1] or "audio"
            secs = 5 + int(hashlib.sha256(url.encode()).hexdigest()[:4], 16) % 116
            payload = data.synth_wav(secs, sample_rate=8000, bit_depth=8)
        else:
            raise Invalid("Content-Type must be multipart/form-data or application/json")
        info = data.wav_duration(payload)
        duration, channels = info if info else (round(len(payload) / 32000, 3), 1)
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "wav"
        fid = data.random_id(fake.rng)
        fake.store.files[fid] = UploadedFile(
            id=fid,
            filename=filename,
            data=payload,
            extension=ext,
            source=source,
            audio_duration=duration,
            number_of_channels=channels,
        )
        meta: dict[str, Any] = {"id": fid, "filename": filename}
        if source is not None:
            meta["source"] = source
        meta |= {
            "extension": ext,
            "size": len(payload),
            "audio_duration": duration,
            "number_of_channels": channels,
        }
        return _json({"audio_url": f"{self.origin()}/file/{fid}", "audio_metadata": meta}, 200)

    async def get_upload(self, request: web.Request) -> web.StreamResponse:
        """GET /file/{id}: the bytes of an upload (the audio_url returned by /v2/upload)."""
        f = self.fake.store.files.get(request.match_info["id"])
        if f is None:
            return self.error(request, 404)
        return _octets(f.data, f.filename)

    def uploaded_file(self, audio_url: str) -> UploadedFile | None:
        """The upload an audio_url names when it is one of this fake's /file/{id} URLs."""
        prefix = f"{self.origin()}/file/"
        if audio_url.startswith(prefix):
            return self.fake.store.files.get(audio_url[len(prefix) :])
        return None

    # --- pre-recorded ---------------------------------------------------------------------

    async def pr_create(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/pre-recorded -> 201 {id, result_url}; the job then runs its lifecycle."""
        fake = self.fake
        body = await self.json_body(request)
        errors = validate_prerecorded(body)
        if errors:
            raise Invalid(*errors)
        url: str = body["audio_url"]
        upload = self.uploaded_file(url)
        if url.startswith(f"{self.origin()}/file/") and upload is None:
            return self.error(request, 422, "audio_url could not be fetched")
        if upload is not None:
            seconds = max(0.0, upload.audio_duration - 0.5)
        else:
            seconds = float(5 + int(hashlib.sha256(url.encode()).hexdigest()[:4], 16) % 116)
        feats = tuple(f for f in _FEATURE_FLAGS if body.get(f) is True)
        params = data.prerecorded_params(url, ())
        params.update({k: v for k, v in body.items() if k != "custom_metadata"})
        rec = self.new_job(
            "pre-recorded",
            seconds=seconds,
            features=feats,
            custom_metadata=body.get("custom_metadata"),
            params=params,
            audio_url=url,
            file_id=upload.id if upload else None,
            filename=upload.filename if upload else None,
        )
        if upload is not None:
            rec.file_bytes = upload.data
        fake.schedule(rec)
        return _json({"id": rec.id, "result_url": f"{self.origin()}/v2/pre-recorded/{rec.id}"}, 201)

    async def job_get(self, request: web.Request, kind: str | None) -> web.StreamResponse:
        rec = self.job_or_404(request, kind)
        if rec is None:
            return self.error(request, 404)
        return web.Response(body=rec.encoded(), content_type="application/json")

    async def job_file(self, request: web.Request, kind: str | None) -> web.StreamResponse:
        rec = self.job_or_404(request, kind)
        if rec is None or rec.status == "error":
            return self.error(
                request, 404, "The job or its audio file doesn't exist or has been deleted"
            )
        payload = rec.file_bytes
        if payload is None:
            payload = data.synth_wav(min(rec.seconds, 1.0) or 0.1)
        return _octets(payload, rec.filename or f"{rec.id}.wav")

    async def job_delete(self, request: web.Request, kind: str | None) -> web.StreamResponse:
        rec = self.job_or_404(request, kind)
        if rec is None:
            return self.error(request, 404)
        if rec.status not in ("done", "error"):
            return self.error(request, 403)
        self.fake.store.remove(rec.id)
        return web.Response(status=202)

    # --- lists ----------------------------------------------------------------------------

    def list_body(self, request: web.Request, kind: str) -> bytes:
        """The list page for a request (raises Invalid on bad parameters)."""
        fake = self.fake
        lq = parse_list_query(request.query)
        offset, limit = lq.offset, lq.limit
        if fake.max_offset is not None and offset > fake.max_offset:
            raise Invalid(f"offset must not be greater than {fake.max_offset}")
        table = fake.store.tables[kind]
        recs, lo, hi = table.select(
            statuses=lq.statuses,
            after_us=_bound(lq.after_us, request.query.get("after_date"), -fake.after_inclusive),
            before_us=_bound(lq.before_us, request.query.get("before_date"), fake.before_inclusive),
            metadata=lq.metadata,
            metadata_key=lq.metadata_key,
        )
        page: Sequence[JobRecord]
        if fake.oldest_first:  # the same selection read from its other end
            stop = hi - offset
            start = max(lo, stop - limit)
            page = list(reversed(recs[start:stop])) if stop > lo else []
            more = start > lo
        else:
            start = lo + offset
            stop = min(start + limit, hi)
            page = recs[start:stop] if start < hi else []
            more = stop < hi
        if not more and self.fake.next_on_full_last_page and len(page) == limit:
            more = True
        filters = [(k, v) for k, v in request.query.items() if k not in ("offset", "limit")]
        foreign = request.get(FOREIGN_NEXT)
        base = self.origin() + request.path

        def link(off: int, origin: str = base) -> str:
            pairs = [("offset", str(off)), ("limit", str(limit)), *filters]
            return origin + "?" + urlencode(pairs, safe=",:", quote_via=quote)

        nxt: str | None = link(offset + limit) if more else None
        if foreign is not None and nxt is not None:
            nxt = link(offset + limit, foreign.foreign_origin.rstrip("/") + request.path)
        parts = [
            b'{"first":',
            _encode(link(0)),
            b',"current":',
            _encode(link(offset)),
            b',"next":',
            _encode(nxt),
            b',"items":[',
            b",".join(r.encoded() for r in page),
            b"]}",
        ]
        return b"".join(parts)

    async def job_list(self, request: web.Request, kind: str) -> web.StreamResponse:
        if kind == "pre-recorded" and request.match_info.route.name == "transcription.list":
            kinds = {k for raw in request.query.getall("kind", []) for k in raw.split(",")}
            if kinds == {"live"}:
                kind = "live"
        fake = self.fake
        if fake.offset_latency_ms:
            offset = request.query.get("offset", "0")
            depth = int(offset) if offset.isdigit() else 0
            await asyncio.sleep(depth * fake.offset_latency_ms / 1e6)
        fake.delete_during_list(kind)
        return web.Response(body=self.list_body(request, kind), content_type="application/json")

    # --- live -----------------------------------------------------------------------------

    async def live_create(self, request: web.Request) -> web.StreamResponse:
        """POST /v2/live -> 201 {id, created_at, url}; the socket URL carries a token."""
        fake = self.fake
        region = request.query.get("region")
        errors = []
        if region is not None and region not in ("us-west", "eu-west"):
            errors.append("region must be one of the following values: us-west, eu-west")
        # No body at all means every default; a JSON null is not an object.
        body = await self.json_body(request) if (await request.read()).strip() else {}
        if not isinstance(body, dict):
            raise Invalid("body must be a JSON object")
        errors += validate_live(body)
        if errors:
            raise Invalid(*errors)
        params = data.live_params(body)
        rec = self.new_job(
            "live",
            seconds=0.0,
            features=data.live_features(params),
            custom_metadata=body.get("custom_metadata"),
            params=params,
        )
        token = data.random_id(fake.rng)
        fake.live.open_session(rec, token)
        url = f"{fake.ws_url}/v2/live?token={token}"
        return _json({"id": rec.id, "created_at": rec.created_at, "url": url}, 201)

    async def live_list_or_ws(self, request: web.Request) -> web.StreamResponse:
        if self.route_name(request) == "live.ws":
            return await self.fake.live.handle(request)
        return await self.job_list(request, "live")

    async def live_patch(self, request: web.Request) -> web.StreamResponse:
        """PATCH /v2/live/{id} (debug): a JSON object of at most 100 kB -> 204."""
        rec = self.job_or_404(request, "live")
        if rec is None:
            return self.error(request, 404)
        raw = await request.read()
        if len(raw) > 100_000:
            return self.error(request, 413)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise Invalid("body must be a JSON object")
        return web.Response(status=204)

    async def unknown(self, request: web.Request) -> web.StreamResponse:
        """Any other path: 404 with the envelope."""
        return self.error(request, 404, f"Cannot {request.method} {request.path}")


def _bound(merged: int | None, raw: str | None, shift: int) -> int | None:
    """A date bound moved by ``shift`` microseconds when it is the request's own
    ``before_date``/``after_date`` (not the ``date`` filter's day): makes it inclusive."""
    if merged is None or raw is None or not shift:
        return merged
    try:
        explicit = parse_time(raw)
    except ValueError:
        return merged
    return merged + shift if merged == explicit else merged


async def _audio_part(request: web.Request) -> tuple[bytes | None, str] | None:
    """The bytes and filename of the multipart part named "audio" (None, "audio" when there is
    none); None when it is larger than MAX_UPLOAD. Malformed bodies raise ValueError or
    HttpProcessingError (aiohttp's)."""
    reader = await request.multipart()
    payload: bytes | None = None
    filename = "audio"
    async for part in reader:
        if part is None:  # pragma: no cover - the iterator stops before
            break
        for key, value in part.headers.items():
            # Newer aiohttp refuses these itself; older releases let them through.
            if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in key + value):
                raise ValueError(f"control character in the part header {key!r}")
        if getattr(part, "name", None) == "audio":
            buf = bytearray()
            while chunk := await part.read_chunk(1 << 16):  # type: ignore[union-attr]
                buf += chunk
                if len(buf) > MAX_UPLOAD:
                    return None
            payload = bytes(buf)
            filename = getattr(part, "filename", None) or "audio"
    return payload, filename


def _json(obj: Any, status: int) -> web.Response:
    return web.Response(status=status, body=_encode(obj), content_type="application/json")


def _octets(payload: bytes, filename: str) -> web.Response:
    safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
    return web.Response(
        body=payload,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


def _close_transport(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def build_app(fake: FakeGladia) -> web.Application:
    """The aiohttp application serving one fake."""
    h = FakeApp(fake)
    app = web.Application(middlewares=[h.middleware], client_max_size=MAX_UPLOAD)
    r = app.router
    r.add_post("/v2/upload", h.upload, name="upload")
    r.add_get("/file/{id}", h.get_upload, name="file")
    for prefix, name, kind in (
        ("/v2/pre-recorded", "pre_recorded", "pre-recorded"),
        ("/v2/transcription", "transcription", None),
    ):
        r.add_post(prefix, h.pr_create, name=f"{name}.create")
        r.add_get(prefix, _bind(h.job_list, kind or "pre-recorded"), name=f"{name}.list")
        r.add_get(prefix + "/{id}", _bind(h.job_get, kind), name=f"{name}.get")
        r.add_get(prefix + "/{id}/file", _bind(h.job_file, kind), name=f"{name}.file")
        r.add_delete(prefix + "/{id}", _bind(h.job_delete, kind), name=f"{name}.delete")
    r.add_post("/v2/live", h.live_create, name="live.create")
    r.add_get("/v2/live", h.live_list_or_ws, name="live.list")
    r.add_get("/v2/live/{id}", _bind(h.job_get, "live"), name="live.get")
    r.add_get("/v2/live/{id}/file", _bind(h.job_file, "live"), name="live.file")
    r.add_delete("/v2/live/{id}", _bind(h.job_delete, "live"), name="live.delete")
    r.add_patch("/v2/live/{id}", h.live_patch, name="live.patch")
    r.add_route("*", "/{tail:.*}", h.unknown, name="unknown")
    return app


def _bind(fn: Callable[[web.Request, Any], Awaitable[web.StreamResponse]], arg: Any) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await fn(request, arg)

    return handler
