"""An in-memory fake of the Gladia v2 API (REST + live WebSocket) on loopback, for tests.

Run your code against a real HTTP/WebSocket server with realistic, seeded data: no network,
no key, no cost. Used by this project's end-to-end tests, benchmarks and ``gladia-async demo``.
It imports nothing from gladia_async but ``_config``; it works with any HTTP client (the
official ``gladiaio-sdk`` runs against it too).

Quick start
-----------
::

    from gladia_async import GladiaClient
    from gladia_async.testing import FakeGladia

    async with FakeGladia(api_key="test-key", jobs=1_000, seed=7) as fake:
        # fake.url == "http://127.0.0.1:<free port>"
        async with GladiaClient(api_key="test-key", base_url=fake.url) as gladia:
            async for job in gladia.pre_recorded.list():
                ...

Only ``api_key`` is accepted (``x-gladia-key`` header); anything else gets 401.

FakeGladia
----------
``FakeGladia(*, api_key="test-key", jobs=0, live_jobs=0, seed=0, transcript_seconds=None,
data=None, store=None, lifecycle=None, latency_ms=0.0, host="127.0.0.1", port=0,
allow_non_loopback=False, next_on_full_last_page=False, live_utterance_seconds=2.0,
max_offset=None, offset_latency_ms=0.0, before_inclusive=False, after_inclusive=False,
oldest_first=False, ties=0, delete_rate=0.0, delete_max=None)``

- ``jobs`` / ``live_jobs``: historical pre-recorded / live jobs generated with ``seed``.
- ``transcript_seconds``: ``None`` (default: realistic mix, about 3% empty, most a few
  minutes, some up to an hour), a number (every job has exactly that much speech, e.g. ``60``
  or ``600``; ``0`` = empty transcripts, the cheapest), or a ``(low, high)`` range.
- ``data``: a full :class:`DataSpec` (replaces jobs/live_jobs/seed/transcript_seconds).
- ``store``: a prebuilt :class:`Store` (see :func:`build_store`) — build the data once and
  share it between several fakes (its cached JSON bytes too).
- ``lifecycle``: :class:`Lifecycle` ``(queued=0.1, processing=0.4, error_rate=0.0,
  error_code=500, auto=True)`` — seconds a created pre-recorded job stays ``queued``, then
  ``processing``, then ``done`` (or ``error`` with ``error_code``, chance ``error_rate``,
  seeded); ``auto=False``: jobs stay queued until ``fake.store.set_status(...)``.
- ``latency_ms``: added to every HTTP response.
- ``next_on_full_last_page``: the real API's behaviour is unknown when the last page is exactly
  full. Default ``False``: ``next`` is ``null`` on it. ``True``: ``next`` points at one more,
  empty page (whose ``next`` is ``null``), to test clients against that variant.
- ``host`` must be loopback unless ``allow_non_loopback=True`` (else ``ValueError``).
- ``live_utterance_seconds``: one live utterance per this much audio received.

What the API leaves undocumented about listings, each way (the defaults are the fake's usual
behaviour), so that clients can be tested against all of them:

- ``max_offset``: a list request with ``offset`` above it gets 400 ("offset must not be greater
  than N"), as servers that cap offset paging do. ``None``: no cap.
- ``offset_latency_ms``: extra latency per 1,000 of ``offset`` on list requests (deep pages
  get slower, as on a database that scans past the offset).
- ``before_inclusive`` / ``after_inclusive``: ``before_date`` / ``after_date`` include a job
  created at exactly that instant (default: exclusive). The ``date`` filter is unchanged.
- ``oldest_first``: lists oldest first (ties by id descending) instead of newest first.
- ``ties``: timestamp ties: runs of consecutive generated jobs (random lengths averaging
  ``ties``, seeded) share one millisecond.
- ``delete_rate``: deletions during a walk: before serving each list request, delete this
  many random finished jobs of the listed kind on average (seeded by ``seed``), at most
  ``delete_max`` in all; their ids are appended to ``fake.deleted``. For deletions at chosen
  moments use a ``"hook"`` fault (below), e.g. ``hook=lambda f: f.store.remove(job_id)``, or
  ``fake.store.delete_random(n, kind, rng)``.

Attributes: ``fake.url`` (``http://127.0.0.1:PORT``), ``fake.ws_url`` (``ws://127.0.0.1:PORT``),
``fake.port``, ``fake.api_key``, ``fake.store``, ``fake.faults``, ``fake.requests``,
``fake.stats`` (``{"requests": n, "faults_injected": n, "ws_connections": n}``),
``fake.live.sessions`` (token -> LiveSession). ``await fake.start()`` / ``await fake.close()``
work without ``async with``. ``fake.inject(route, kind, **fault_fields) -> Fault``.
Jobs are generated at start (in a thread above 20,000 jobs).

Endpoints (REFERENCE.md sections 5-8), with the route names used by faults and the log:

============================================  ==========================================
``POST /v2/upload`` (multipart part ``audio``   ``upload``
or JSON ``{"audio_url"}``) -> 200
``GET /file/{id}`` (an upload's audio_url)      ``file``
``POST /v2/pre-recorded`` -> 201                ``pre_recorded.create``
``GET /v2/pre-recorded`` -> 200                 ``pre_recorded.list``
``GET /v2/pre-recorded/{id}`` -> 200 / 404      ``pre_recorded.get``
``GET /v2/pre-recorded/{id}/file`` -> 200       ``pre_recorded.file``
``DELETE /v2/pre-recorded/{id}`` -> 202         ``pre_recorded.delete``
``POST /v2/live?region=`` -> 201                ``live.create``
``GET /v2/live``, ``/{id}``, ``/{id}/file``     ``live.list``, ``live.get``, ``live.file``
``DELETE /v2/live/{id}``, ``PATCH`` (204)       ``live.delete``, ``live.patch``
WebSocket ``GET /v2/live?token=...``            ``live.ws``
``/v2/transcription...`` (deprecated alias)      ``transcription.create/list/get/file/delete``
anything else -> 404                            ``unknown``
============================================  ==========================================

Errors use the documented envelope ``{timestamp, path, request_id: "G-xxxxxxxx", statusCode,
message}`` (+ ``validation_errors`` on 400) and an ``x-aipi-call-id`` header. Delete is 403
until the job is ``done``/``error``, 404 for an unknown id (and for the other kind's id).
File downloads are ``application/octet-stream``: the uploaded bytes, the recorded WAV of a live
session, else a short silent WAV. Bodies are validated lightly (400): ``audio_url`` required
(http/https), flags must be booleans, known language codes, ``translation`` needs
``translation_config.target_languages``, ``custom_metadata`` an object of at most 2000
characters, live ``encoding``/``bit_depth``/``sample_rate``/``channels`` (1-8) and ``region``;
unknown fields are ignored. An ``audio_url`` naming an unknown upload of this fake -> 422.
Created jobs echo the body in ``request_params`` (minus ``custom_metadata``) and get the result
blocks of the add-ons requested (diarization speakers, translation, summarization, NER,
sentiment, sentences, subtitles, audio_to_llm); the transcript length is the upload's WAV
duration (or derived from the URL).

Lists
-----
Order: newest first by ``created_at``, ties by ``id`` ascending. ``offset``/``limit``
(default 20, no maximum). ``first``/``current``/``next`` are absolute URLs on the fake's
own origin carrying every filter as received; ``next`` is ``null`` on the last page. Filters:
``status`` (repeated keys ``status=done&status=error``; comma-joined ``status=done,error``
also accepted), ``date=YYYY-MM-DD`` (the UTC day of ``created_at``), ``before_date`` /
``after_date`` (ISO date-times, UTC when naive, compared with ``created_at``, EXCLUSIVE
bounds; a bare date means midnight UTC), ``custom_metadata`` (a JSON object; a job matches
when the filter is a subset of its metadata, recursively for nested objects). Bad values ->
400. List items are full job objects (the same bytes as ``GET /{id}``, ``result`` included).
Cost: a page is a bisection plus a join of cached per-job bytes (filtered selections are
cached per store version), so 100,000 jobs page in about a millisecond after first use;
``store.warm()`` pre-encodes every job so every client pays the same.

Store (``fake.store``) and data
-------------------------------
``add_job(kind="pre-recorded", *, status="done", created_at=None, custom_metadata=None,
transcript_seconds=30.0, features=(), error_code=None, job_id=None) -> JobRecord``
(``created_at``: an aware ``datetime``, default now), ``add_jobs(n, kind="pre-recorded",
**same) -> list[JobRecord]``, ``remove(job_id) -> bool``, ``get(job_id) -> JobRecord | None``,
``set_status(job_id, status, *, error_code=None) -> JobRecord``, ``ids(kind="pre-recorded") ->
list[str]`` (list order), ``job_json(job_id) -> dict`` (as served), ``count(kind=None)``,
``len(store)``, ``warm()``, ``delete_random(n, kind, rng) -> list[str]`` (finished jobs
only), ``tie(size, seed=0)`` (see ``ties``), ``files`` (uploads by id), ``jobs`` (all
records by id). After
changing a ``JobRecord`` by hand call ``store.touch(record)``. ``features`` are names from
``FEATURES``: ``"diarization"``, ``"translation"``, ``"summarization"``,
``"named_entity_recognition"``, ``"sentiment_analysis"``, ``"sentences"``, ``"subtitles"``,
``"audio_to_llm"``, ``"chapterization"``.

``DataSpec(jobs=0, live_jobs=0, seed=0, statuses={"done": .92, "error": .04,
"processing": .02, "queued": .02}, end=datetime(2026, 11, 1, tzinfo=UTC), days=365.0,
transcript_seconds=None, feature_rate=0.15, features=None, tenants=5)``: deterministic for a
seed (same ids, dates, texts, bytes). Dates are uniform in ``[end - days, end)``;
``custom_metadata`` is ``{"tenant_id": "tenant-<k>", "batch": <n>}`` (k < tenants);
``features`` given = every job has exactly those add-ons. Results are generated lazily and
cached. ``build_store(spec) -> Store`` (or ``build_store(jobs=..., seed=...)``). Benchmark
presets: ``DataSpec.full_pages(100)`` (10-minute transcripts with add-ons, about 16 MB per
100 jobs), ``DataSpec.short(10_000)`` (8-second transcripts, about 2.5 KB per job),
``DataSpec.lean(100_000)`` (empty transcripts, about 1 KB per job; built in ~2 s),
``DataSpec(jobs=..., transcript_seconds=60.0)`` (one-minute transcripts, about 13 KB).

Faults (``fake.faults``)
------------------------
``Fault(route="*", kind="status", status=503, retry_after=None, headers={}, message=None,
delay=0.0, on=None, times=1, probability=1.0, size=600 MiB, foreign_origin="http://evil.example",
redirect_status=307, hook=None, after_frames=1, close_code=1011)``; add with
``fake.faults.add(fault) -> Fault`` or ``fake.inject(route, kind, **fields)``; remove with
``fake.faults.remove(fault)`` / ``fake.faults.clear()``. ``route`` is a route name or an
``fnmatch`` pattern (``"*"``, ``"pre_recorded.*"``, ``"*.list"``). Each fault counts the
requests matching its route from 1 (``fault.seen``) and which of them it hits: ``on={2, 3}``
(request numbers), ``times=N`` (at most N injections, default 1; ``None`` = unlimited),
``probability=p`` (drawn from a RNG seeded by ``FakeGladia(seed=...)``: reproducible).
``fault.fired`` counts injections. Several faults may hit one request: latency/hook ones run
first in order, the first terminal one answers. Faults run before the key check. Kinds:

- ``"latency"``: sleep ``delay`` seconds, then serve normally (``delay`` also applies before
  any other kind).
- ``"status"``: ``status`` (default 503) with the error envelope (``message`` overrides the
  text); ``retry_after`` (seconds, or an HTTP-date string) sets ``Retry-After``; ``headers``
  adds headers. ``Fault.rate_limit(route="*", retry_after=1, **fields)`` is a 429.
- ``"reset"``: close the connection without any response. (aiohttp's client retries an
  idempotent request once on a dropped pooled connection: use ``times=2`` to see the error.)
- ``"truncate"``: the real body's headers (full ``Content-Length``), half the body, close.
- ``"malformed_json"``: 200 ``application/json`` whose body is cut JSON.
- ``"html"``: 200 ``text/html`` page (a proxy's error page).
- ``"huge"``: 200 JSON ``{"items": [], "pad": "xxx..."}`` of ``size`` bytes (default
  600 MiB, more than the client's 512 MiB cap), streamed with a true Content-Length.
- ``"foreign_next"`` (list routes): the real page, but ``next`` (unless ``null``) points
  at ``foreign_origin`` with the same path and query.
- ``"redirect"``: ``redirect_status`` (307) with ``Location`` = ``foreign_origin`` + the same
  path and query.
- ``"hook"``: call ``hook(fake)`` (sync or async) before serving normally — e.g. insert or
  delete jobs while a client is paging.
- ``"ws_drop"`` (route ``"live.ws"``): after ``after_frames`` client frames on that connection,
  close it with ``close_code`` (default 1011, non-final); the session stays open so the
  client can reconnect to the same URL and resume.

Examples::

    fake.inject("pre_recorded.list", "status", status=503, times=2)      # 2 x 503, then OK
    fake.inject("*", "status", status=429, retry_after=2, on={1})        # first request only
    fake.faults.add(Fault.rate_limit("pre_recorded.get", retry_after=1, times=3))
    fake.inject("pre_recorded.get", "reset", probability=0.3, times=None)
    fake.inject("pre_recorded.list", "truncate", on={3})
    fake.inject("pre_recorded.list", "foreign_next")
    fake.inject("pre_recorded.get", "redirect", foreign_origin="https://evil.example")
    fake.inject("pre_recorded.list", "hook", on={2},
                hook=lambda f: f.store.add_jobs(5))                      # before page 2
    fake.inject("live.ws", "ws_drop", after_frames=10)                  # once, close 1011
    f = fake.faults.add(Fault(route="*.list", kind="latency", delay=0.5, times=None))
    f.fired, f.seen      # injections so far, matching requests so far
    fake.faults.remove(f); fake.faults.clear()

Request log (``fake.requests``)
-------------------------------
A sequence of :class:`RecordedRequest` (``method``, ``path``, ``query``: list of
``(key, value)`` pairs with repeated keys kept, ``headers``: a case-insensitive copy, excluded
from ``repr`` so a failing test never prints the key, ``route``, ``status`` (``None`` when
reset), ``fault`` (the kind injected, or ``None``), ``body_size``; ``rec.param(key)``).
Helpers: ``fake.requests.for_route("*.list") -> list``, ``fake.requests.count("*")``,
``fake.requests.last``, ``fake.requests.clear()``. Example: assert the key went only to the
fake: ``all(r.headers.get("x-gladia-key") == "test-key" for r in fake.requests)``.

Live WebSocket
--------------
``POST /v2/live`` returns ``{id, created_at, url}`` with ``url`` =
``ws://127.0.0.1:PORT/v2/live?token=...`` (the job is ``queued``; ``processing`` once a socket
connects). The socket accepts binary frames and JSON
``{"type": "audio_chunk", "data": {"chunk": "<base64>"}}`` (bad base64 -> a rejected ack),
acknowledges chunks (``receive_acknowledgments``: ``byte_range`` [start, end) and
``time_range`` in seconds, over the whole session), and per ``live_utterance_seconds`` of
audio (from sample_rate, bit_depth, channels) sends ``speech_start``, a partial
``transcript`` (``receive_partial_transcripts``; same ``data.id`` as its final), the final
one, ``speech_end`` (``receive_speech_events``) and the realtime add-ons requested
(translation, named_entity_recognition, sentiment_analysis). On
``{"type": "stop_recording"}``: the ack (``recording_duration``), a last utterance for a
remaining half second or more, ``end_recording``, post-processing messages
(``post_transcript``, ``post_final_transcript``, then ``post_summarization`` /
``post_chapterization`` when requested), ``end_session``, then close 1000. Lifecycle
messages (``start_session`` on first connect, ``start_recording`` on first audio,
``end_recording``, ``end_session``) only with ``receive_lifecycle_events``; messages_config
defaults follow REFERENCE 7.1. A client closing with 1000 without stop_recording also ends the
session. The live job is then ``done`` with ``result.messages`` (the JSON texts sent, acks
excluded) and its file is the received audio as a WAV. A socket dropped any other way leaves
the session open: reconnecting to the same URL resumes it (byte counts continue, no second
``start_session``; a newer connection replaces an older one). After the end a connection is
accepted then closed with 4403; an unknown token gets 4401.

Pytest
------
``pytest_plugins = ["gladia_async.testing.pytest_plugin"]`` in your ``conftest.py`` gives an
async fixture ``fake_gladia`` (default ``FakeGladia(api_key="test-key", jobs=20, seed=0)``).
Configure it per test with ``@pytest.mark.fake_gladia(jobs=100, seed=3, ...)`` (any FakeGladia
keyword) or override the ``fake_gladia_options`` fixture (returns the kwargs dict).

CLI
---
``serve(host="127.0.0.1", port=8080, *, jobs=1000, seed=0, latency_ms=0.0,
api_key="test-key", allow_non_loopback=False, live_jobs=0) -> None`` prints
``Fake Gladia API listening on http://HOST:PORT (N jobs)`` and blocks until Ctrl-C: the
one-line way to serve the fake from a script. ``port=0`` picks a free port. ``ValueError``
for a non-loopback host unless ``allow_non_loopback``; ``OSError`` if the port is taken.
``gladia-async fake-server`` runs a FakeGladia inside its own event loop instead (it also
takes ``--transcript-seconds`` and handles SIGTERM).
"""

from __future__ import annotations

from .data import FEATURES, DataSpec
from .faults import Fault, FaultKind, FaultSet, RecordedRequest, RequestLog
from .server import FakeGladia, Lifecycle, serve
from .store import JobRecord, Store, UploadedFile, build_store

__all__ = [
    "FEATURES",
    "DataSpec",
    "FakeGladia",
    "Fault",
    "FaultKind",
    "FaultSet",
    "JobRecord",
    "Lifecycle",
    "RecordedRequest",
    "RequestLog",
    "Store",
    "UploadedFile",
    "build_store",
    "serve",
]
